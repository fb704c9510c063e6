package auth

import (
	"crypto/rand"
	"encoding/base64"
	"sync"

	"github.com/alexedwards/argon2id"
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// params are argon2id's recommended settings (RFC 9106, second choice): 64 MiB, one
// pass, two lanes.
var params = &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}

// HashPassword returns the argon2id hash of a password in PHC string form.
func HashPassword(password string) (string, error) {
	return argon2id.CreateHash(password, params)
}

var (
	dummyOnce sync.Once
	dummyHash string
)

// CheckPassword reports whether password matches hash. With an empty hash (unknown
// user, or one without a password) it still does the work of a comparison, so the
// answer's timing does not tell whether an account exists.
func CheckPassword(password, hash string) bool {
	if hash == "" {
		dummyOnce.Do(func() { dummyHash, _ = HashPassword("posthub-dummy-password") })
		_, _ = argon2id.ComparePasswordAndHash(password, dummyHash)
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return err == nil && ok
}

// NewSecret returns a random URL-safe secret of n bytes, for session ids and CSRF
// tokens.
func NewSecret(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// linkSecretBytes is the randomness of a password link's secret: 256 bits.
const linkSecretBytes = 32

// NewLinkSecret returns a password link's secret: random, URL-safe, 43 characters.
// Like an API token it is kept only as its SHA-256 (HashToken).
func NewLinkSecret() string { return NewSecret(linkSecretBytes) }

// LooksLikeLinkSecret reports whether s has the shape of a link secret, so a malformed
// one is refused without a database round trip.
func LooksLikeLinkSecret(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
