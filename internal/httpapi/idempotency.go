package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
)

// replayedHeaders are the answer headers kept with an idempotent answer.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

// idempotent makes a POST honour Idempotency-Key: the first answer to a key is stored
// for booking.IdempotencyRetention and given again to a retry with the same body; the
// same key with another body is refused with 422. Without the header the request runs
// as usual.
//
// A route whose answer carries a secret (secret, Policy.SecretAnswer) never has the
// secret stored: of a successful answer only the new object's id is kept, and a retry
// answers 409 (details.reason secret_not_replayed, details.id) rather than the first
// answer. A retry cannot get the secret back, whatever became of the object since (a
// revoked token stays revoked); a client that lost the first answer revokes the object
// and creates another. 409, not the object without its secret, so that a client that
// reads the answer as a new secret fails loudly instead of keeping an empty one.
func (s *Server) idempotent(secret bool, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		// An over-long key is refused even where it would not be used (a public POST,
		// whose answers are not kept: there is no user to keep them for).
		if len(key) > 255 {
			writeError(w, r, s.Logger, booking.Errorf(booking.EINVALID, "Idempotency-Key must be at most 255 characters."))
			return
		}
		a, ok := ActorFrom(r.Context())
		if key == "" || s.Idempotency == nil || !ok {
			next(w, r)
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
		if stored != nil && secret && stored.Status >= 200 && stored.Status < 300 {
			w.Header().Set("Idempotent-Replayed", "true")
			writeError(w, r, s.Logger, &booking.Error{Code: booking.ECONFLICT,
				Message: "This Idempotency-Key already created the object named in details.id; its secret was shown once, in the first answer, and is not kept. If that answer was lost, revoke the object and create another.",
				Details: map[string]any{"reason": booking.ReasonSecretNotReplayed, "id": createdID(stored.Body)}})
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
		if secret && rec.Code >= 200 && rec.Code < 300 {
			res.Body, _ = json.Marshal(map[string]uuid.UUID{"id": createdID(rec.Body.Bytes())})
		}
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

// createdID is the id of the object a creation's JSON answer describes (nil if it has
// none): all the idempotency store keeps of an answer that carries a secret.
func createdID(body []byte) uuid.UUID {
	var v struct {
		ID uuid.UUID `json:"id"`
	}
	_ = json.Unmarshal(body, &v)
	return v.ID
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
