package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the API's contract, OpenAPI 3.1. A test keeps it true: every API route
// registered is in it with its method, and nothing else is.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDoc)
}
