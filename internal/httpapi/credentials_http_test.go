package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/httpapi"
	"github.com/posthub/posthub/internal/postgres"
)

// doKey sends a JSON POST with an Idempotency-Key and returns the status, the
// Idempotent-Replayed header and the body.
func (b *testBundle) doKey(t *testing.T, path, token, key string, body any) (int, string, []byte) {
	t.Helper()
	j, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", b.srv.URL+path, bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res := doChecked(t, noRedirect, req)
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Idempotent-Replayed"), out
}

// TestSecretsAreNotReplayed: a creation whose answer carries a secret (a token, a
// feed's URL, a webhook's signing secret) keeps no secret in the idempotency store,
// and a retry with its key answers 409 naming the object, never the secret: neither
// before nor after the object is revoked.
func TestSecretsAreNotReplayed(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	producer := b.tokens["producer"]
	cases := []struct {
		name, path string
		body       map[string]any
		secrets    func(created map[string]any) []string
		// revoke ends the object; usable, if set, says whether its secret still works.
		revoke func(t *testing.T, id string)
		usable func(t *testing.T, secrets []string) bool
	}{{
		name: "token", path: "/api/v1/tokens", body: map[string]any{"name": "ci"},
		secrets: func(c map[string]any) []string { return []string{c["token"].(string)} },
		revoke: func(t *testing.T, id string) {
			if res := b.do(t, "DELETE", "/api/v1/tokens/"+id, producer, nil); res.StatusCode != 204 {
				t.Fatalf("revoking the token: %d", res.StatusCode)
			}
		},
		usable: func(t *testing.T, s []string) bool { return b.do(t, "GET", "/api/v1/me", s[0], nil).StatusCode == 200 },
	}, {
		name: "ical feed", path: "/api/v1/ical-feeds", body: map[string]any{"kind": "user", "id": b.users["producer"]},
		secrets: func(c map[string]any) []string { return []string{c["token"].(string), c["url"].(string)} },
		revoke: func(t *testing.T, id string) {
			if res := b.do(t, "DELETE", "/api/v1/ical-feeds/"+id, producer, nil); res.StatusCode != 204 {
				t.Fatalf("revoking the feed: %d", res.StatusCode)
			}
		},
		usable: func(t *testing.T, s []string) bool {
			res := getChecked(t, s[1])
			res.Body.Close()
			return res.StatusCode == 200
		},
	}, {
		name: "webhook", path: "/api/v1/webhooks", body: map[string]any{"url": "https://hooks.example.com/posthub"},
		secrets: func(c map[string]any) []string { return []string{c["secret"].(string)} },
		revoke: func(t *testing.T, id string) {
			if res := b.do(t, "DELETE", "/api/v1/webhooks/"+id, producer, nil); res.StatusCode != 204 {
				t.Fatalf("deleting the webhook: %d", res.StatusCode)
			}
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := "create-" + uuid.NewString()
			status, replayed, body := b.doKey(t, c.path, producer, key, c.body)
			if status != 201 || replayed != "" {
				t.Fatalf("%s: first answer %d (replayed %q): %s", c.name, status, replayed, body)
			}
			var created map[string]any
			if err := json.Unmarshal(body, &created); err != nil {
				t.Fatal(err)
			}
			id, secrets := created["id"].(string), c.secrets(created)
			if c.usable != nil && !c.usable(t, secrets) {
				t.Fatalf("%s: the new secret does not work", c.name)
			}
			var stored []byte
			if err := b.db.Pool.QueryRow(context.Background(), `SELECT body FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
				b.users["producer"], key).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if s == "" || bytes.Contains(stored, []byte(s)) {
					t.Errorf("%s: the idempotency store keeps the secret %.12s…", c.name, s)
				}
			}

			retry := func(when string) {
				t.Helper()
				status, replayed, body := b.doKey(t, c.path, producer, key, c.body)
				for _, s := range secrets {
					if bytes.Contains(body, []byte(s)) {
						t.Fatalf("%s: the retry %s hands out the secret again: %s", c.name, when, body)
					}
				}
				if status != http.StatusConflict || replayed != "true" {
					t.Fatalf("%s: the retry %s answered %d (replayed %q): %s", c.name, when, status, replayed, body)
				}
				var p httpapi.Problem
				if err := json.Unmarshal(body, &p); err != nil {
					t.Fatal(err)
				}
				if p.Code != booking.ECONFLICT || p.Details["reason"] != booking.ReasonSecretNotReplayed || p.Details["id"] != id {
					t.Fatalf("%s: the retry %s: %+v, want reason %s naming %s", c.name, when, p, booking.ReasonSecretNotReplayed, id)
				}
			}
			retry("before revocation")
			c.revoke(t, id)
			retry("after revocation")
			if c.usable != nil && c.usable(t, secrets) {
				t.Fatalf("%s: the retry resurrected the revoked secret", c.name)
			}
		})
	}
	// Only one token was made by the two retries' key.
	var named int
	for _, tok := range decode[listOf[booking.TokenInfo]](t, b.do(t, "GET", "/api/v1/tokens", producer, nil), 200).Items {
		if tok.Name == "ci" {
			named++
		}
	}
	if named != 1 {
		t.Fatalf("%d tokens named ci, want 1", named)
	}
	// An answer without a secret (a refusal) is still replayed as it was.
	key := "bad-" + uuid.NewString()
	first, _, firstBody := b.doKey(t, "/api/v1/tokens", producer, key, map[string]any{"name": " "})
	again, replayed, againBody := b.doKey(t, "/api/v1/tokens", producer, key, map[string]any{"name": " "})
	if first != 400 || again != 400 || replayed != "true" || !bytes.Equal(firstBody, againBody) {
		t.Fatalf("a refused creation: %d then %d (replayed %q)", first, again, replayed)
	}
}

// TestTokenCap: a user holds at most postgres.MaxActiveTokens active tokens; expired
// and revoked ones do not count, an admin asking for the user is refused alike, and
// another user is not affected.
func TestTokenCap(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	producer := b.tokens["producer"] // the producer's one active token (and a revoked one)
	create := func(token string, body map[string]any) *http.Response {
		return b.do(t, "POST", "/api/v1/tokens", token, body)
	}
	var ids []uuid.UUID
	for i := 1; i < postgres.MaxActiveTokens; i++ {
		ids = append(ids, decode[booking.TokenInfo](t, create(producer, map[string]any{"name": "script"}), 201).ID)
	}
	full := func(res *http.Response) {
		t.Helper()
		p := problem(t, res, http.StatusConflict, booking.ECONFLICT)
		if p.Details["reason"] != booking.ReasonTokenLimit || p.Details["limit"] != float64(postgres.MaxActiveTokens) ||
			!strings.Contains(p.Detail, "revoke") {
			t.Fatalf("the refusal: %+v", p)
		}
	}
	full(create(producer, map[string]any{"name": "one too many"}))
	full(create(b.tokens["admin"], map[string]any{"name": "for them", "user_id": b.users["producer"]}))

	// An expired token frees its slot.
	if _, err := b.db.Pool.Exec(context.Background(), `UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	decode[booking.TokenInfo](t, create(producer, map[string]any{"name": "after expiry"}), 201)
	full(create(producer, map[string]any{"name": "one too many"}))
	// So does a revoked one.
	if res := b.do(t, "DELETE", "/api/v1/tokens/"+ids[1].String(), producer, nil); res.StatusCode != 204 {
		t.Fatalf("revoking: %d", res.StatusCode)
	}
	decode[booking.TokenInfo](t, create(producer, map[string]any{"name": "after revocation"}), 201)
	full(create(producer, map[string]any{"name": "one too many"}))

	// The cap is per user.
	decode[booking.TokenInfo](t, create(b.tokens["producer_other"], map[string]any{"name": "mine"}), 201)
}

// TestRateLimitPerUser: all of a user's tokens share one budget per minute, on top of
// each token's own.
func TestRateLimitPerUser(t *testing.T) {
	t.Parallel()
	b := setup(t, &setupOpts{limits: httpapi.Limits{PerCredential: 100, PerUser: 4}})
	_, second, err := b.db.CreateToken(context.Background(), booking.System, b.users["producer"], "second", 0)
	if err != nil {
		t.Fatal(err)
	}
	first := b.tokens["producer"]
	for _, tok := range []string{first, second, first, second} {
		decode[map[string]any](t, b.do(t, "GET", "/api/v1/me", tok, nil), 200)
	}
	for _, tok := range []string{first, second} {
		res := b.do(t, "GET", "/api/v1/me", tok, nil)
		problem(t, res, http.StatusTooManyRequests, booking.ERATELIMITED)
		if res.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	// Another user has a budget of their own.
	decode[map[string]any](t, b.do(t, "GET", "/api/v1/me", b.tokens["producer_other"], nil), 200)
}
