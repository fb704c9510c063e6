package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the API's contract, OpenAPI 3.1. Tests keep it true: every API route
// registered is in it with its method, and nothing else is (TestOpenAPIMatchesRoutes);
// and every request the HTTP tests send, and every answer, is validated against it
// (openapi_validate_test.go), so a field, status or header the server uses but the
// document lacks, or one the document promises but the server refuses, fails a test.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDoc)
}
