package web

import (
	"net/http"
	"strings"
)

// messages holds the UI's words in English and French. A key missing in French falls
// back to English; a key missing everywhere shows itself, so a test can catch it.
var messages = map[string]map[string]string{
	"en": {
		"app.tagline":        "Post-production booking and capacity",
		"login.title":        "Sign in",
		"login.email":        "Email",
		"login.password":     "Password",
		"login.submit":       "Sign in",
		"login.failed":       "The email or password is wrong.",
		"login.bad_form":     "The form could not be read; try again.",
		"login.csrf":         "The form expired; please sign in again.",
		"login.rate_limited": "Too many attempts; wait a minute and try again.",
		"login.unavailable":  "posthub cannot sign you in right now; try again shortly.",
		"nav.logout":         "Sign out",
		"nav.lang":           "Français",
		"home.welcome":       "Welcome",
		"home.signed_in_as":  "Signed in as",
		"role.admin":         "administrator",
		"role.manager":       "studio manager",
		"role.operator":      "operator",
		"role.producer":      "producer",
	},
	"fr": {
		"app.tagline":        "Réservation et capacité de post-production",
		"login.title":        "Connexion",
		"login.email":        "Adresse e-mail",
		"login.password":     "Mot de passe",
		"login.submit":       "Se connecter",
		"login.failed":       "L’adresse e-mail ou le mot de passe est incorrect.",
		"login.bad_form":     "Le formulaire est illisible ; réessayez.",
		"login.csrf":         "Le formulaire a expiré ; reconnectez-vous.",
		"login.rate_limited": "Trop de tentatives ; patientez une minute.",
		"login.unavailable":  "posthub ne peut pas vous connecter pour l’instant ; réessayez bientôt.",
		"nav.logout":         "Se déconnecter",
		"nav.lang":           "English",
		"home.welcome":       "Bienvenue",
		"home.signed_in_as":  "Connecté en tant que",
		"role.admin":         "administrateur",
		"role.manager":       "responsable de studio",
		"role.operator":      "opérateur",
		"role.producer":      "producteur",
	},
}

func translate(lang, key string) string {
	if m, ok := messages[lang][key]; ok {
		return m
	}
	if m, ok := messages["en"][key]; ok {
		return m
	}
	return key
}

// language picks the UI language: ?lang= or the lang cookie (the switch sets both),
// else the first of Accept-Language that posthub speaks, else English.
func language(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "fr" {
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && (c.Value == "en" || c.Value == "fr") {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "fr"):
			return "fr"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}
