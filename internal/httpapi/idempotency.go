package httpapi

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"

	"github.com/posthub/posthub/internal/booking"
)

// replayedHeaders are the answer headers kept with an idempotent answer.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

// idempotent makes a POST honour Idempotency-Key: the first answer to a key is stored
// and given again to a retry with the same body; the same key with another body is
// refused with 422. Without the header the request runs as usual.
func (s *Server) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		a, ok := ActorFrom(r.Context())
		if key == "" || s.Idempotency == nil || !ok {
			next(w, r)
			return
		}
		if len(key) > 255 {
			writeError(w, r, s.Logger, booking.Errorf(booking.EINVALID, "Idempotency-Key must be at most 255 characters."))
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		if err != nil {
			writeError(w, r, s.Logger, booking.Errorf(booking.EINVALID, "The request body could not be read."))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
		h.Write(body)
		stored, err := s.Idempotency.BeginIdempotent(r.Context(), a.UserID, key, h.Sum(nil))
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		if stored != nil {
			for k, v := range stored.Headers {
				w.Header().Set(k, v)
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(stored.Status)
			_, _ = w.Write(stored.Body)
			return
		}
		rec := &recorder{header: http.Header{}, Code: http.StatusOK}
		next(rec, r)
		res := booking.StoredResponse{Status: rec.Code, Headers: map[string]string{}, Body: rec.Body.Bytes()}
		for _, k := range replayedHeaders {
			if v := rec.Header().Get(k); v != "" {
				res.Headers[k] = v
			}
		}
		if err := s.Idempotency.CompleteIdempotent(r.Context(), a.UserID, key, res); err != nil {
			s.Logger.ErrorContext(r.Context(), "storing an idempotent answer", "err", err)
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
}

// recorder buffers an answer so it can be stored before it is sent.
type recorder struct {
	header http.Header
	Code   int
	Body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.Code, r.wrote = code, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.Body.Write(b)
}
