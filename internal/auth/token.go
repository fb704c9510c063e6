// Package auth holds posthub's credentials: API tokens, passwords and sessions. Tokens
// are shown to their owner once and stored only as a SHA-256 digest; a token is 160
// random bits, so a fast digest is enough (no password stretching is needed).
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// TokenPrefix starts every posthub API token so secret scanners and people can
// recognise one.
const TokenPrefix = "ph_"

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// Token is a freshly generated API token.
type Token struct {
	Plain  string // shown once to its owner, never stored
	Prefix string // the first characters, stored to tell tokens apart
	Hash   []byte // stored and looked up
}

// NewToken generates a random token.
func NewToken() Token {
	b := make([]byte, 20)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	plain := TokenPrefix + strings.ToLower(enc.EncodeToString(b))
	return Token{Plain: plain, Prefix: plain[:len(TokenPrefix)+6], Hash: HashToken(plain)}
}

// HashToken is the digest under which a token is stored.
func HashToken(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// LooksLikeToken reports whether s has the shape of a posthub token, so malformed
// credentials are refused without a database round trip.
func LooksLikeToken(s string) bool {
	if !strings.HasPrefix(s, TokenPrefix) || len(s) != len(TokenPrefix)+32 {
		return false
	}
	for _, c := range s[len(TokenPrefix):] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
