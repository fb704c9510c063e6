package config_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/config"
)

// env turns a map into the getenv Load takes.
func env(m map[string]string) config.Getenv {
	return func(k string) string { return m[k] }
}

// defaults is the configuration with nothing set.
func defaults() config.Config {
	return config.Config{
		Addr:            "127.0.0.1:8080",
		DataDir:         ".posthub",
		LogLevel:        slog.LevelInfo,
		ShutdownTimeout: 20 * time.Second,
		Workers:         50,
		MailFrom:        "posthub <noreply@posthub.localhost>",
	}
}

// writeFile writes content to a new file in a temporary directory and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "database-url")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	t.Parallel()
	urlFile := writeFile(t, "postgres://app:filepw@db.internal:5432/posthub?sslmode=require\n")
	fullEnv := map[string]string{
		"DATABASE_URL":       "postgres://app:envpw@envhost:5432/posthub",
		"POSTHUB_ADDR":       "0.0.0.0:9000",
		"POSTHUB_DATA_DIR":   "/var/lib/posthub",
		"POSTHUB_LOG_LEVEL":  "debug",
		"POSTHUB_PUBLIC_URL": "https://hub.example",
		"POSTHUB_WORKERS":    "3",
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(c *config.Config)
	}{
		{name: "defaults", want: func(*config.Config) {}},
		{
			name: "addr from env",
			env:  map[string]string{"POSTHUB_ADDR": "0.0.0.0:9000"},
			want: func(c *config.Config) { c.Addr = "0.0.0.0:9000" },
		},
		{
			name: "database url from env",
			env:  map[string]string{"DATABASE_URL": "postgres://app:pw@db:5432/posthub"},
			want: func(c *config.Config) { c.DatabaseURL = "postgres://app:pw@db:5432/posthub" },
		},
		{
			name: "log level from env",
			env:  map[string]string{"POSTHUB_LOG_LEVEL": "warn"},
			want: func(c *config.Config) { c.LogLevel = slog.LevelWarn },
		},
		{
			name: "workers from env",
			env:  map[string]string{"POSTHUB_WORKERS": "42"},
			want: func(c *config.Config) { c.Workers = 42 },
		},
		{
			name: "rate limits from env",
			env:  map[string]string{"POSTHUB_RATE_PER_TOKEN": "6000", "POSTHUB_RATE_PER_USER": "12000"},
			want: func(c *config.Config) { c.RatePerToken, c.RatePerUser = 6000, 12000 },
		},
		{
			name: "every variable from env",
			env:  fullEnv,
			want: func(c *config.Config) {
				c.DatabaseURL = "postgres://app:envpw@envhost:5432/posthub"
				c.Addr = "0.0.0.0:9000"
				c.DataDir = "/var/lib/posthub"
				c.LogLevel = slog.LevelDebug
				c.PublicURL = "https://hub.example"
				c.Workers = 3
			},
		},
		{
			name: "flags override env",
			env:  fullEnv,
			args: []string{
				"--database-url", "postgres://app:flagpw@flaghost/posthub",
				"--addr", "127.0.0.1:7000",
				"--data-dir", "/srv/posthub",
				"--log-level", "error",
				"--public-url", "http://flag.example:8000",
				"--workers", "5",
				"--shutdown-timeout", "3s",
				"--fresh",
			},
			want: func(c *config.Config) {
				c.DatabaseURL = "postgres://app:flagpw@flaghost/posthub"
				c.Addr = "127.0.0.1:7000"
				c.DataDir = "/srv/posthub"
				c.LogLevel = slog.LevelError
				c.PublicURL = "http://flag.example:8000"
				c.Workers = 5
				c.ShutdownTimeout = 3 * time.Second
				c.Fresh = true
			},
		},
		{
			name: "single-dash flags",
			args: []string{"-addr=:0", "-workers=1"},
			want: func(c *config.Config) { c.Addr = ":0"; c.Workers = 1 },
		},
		{
			name: "DATABASE_URL_FILE read and trimmed when DATABASE_URL is empty",
			env:  map[string]string{"DATABASE_URL_FILE": urlFile},
			want: func(c *config.Config) {
				c.DatabaseURL = "postgres://app:filepw@db.internal:5432/posthub?sslmode=require"
			},
		},
		{
			name: "DATABASE_URL wins over DATABASE_URL_FILE",
			env:  map[string]string{"DATABASE_URL": "postgres://app:pw@envhost/posthub", "DATABASE_URL_FILE": urlFile},
			want: func(c *config.Config) { c.DatabaseURL = "postgres://app:pw@envhost/posthub" },
		},
		{
			name: "DATABASE_URL_FILE not read at all when DATABASE_URL is set",
			env: map[string]string{
				"DATABASE_URL":      "postgres://app:pw@envhost/posthub",
				"DATABASE_URL_FILE": "/nonexistent/posthub-database-url",
			},
			want: func(c *config.Config) { c.DatabaseURL = "postgres://app:pw@envhost/posthub" },
		},
		{
			name: "flag overrides DATABASE_URL_FILE",
			env:  map[string]string{"DATABASE_URL_FILE": urlFile},
			args: []string{"--database-url", "postgres://app:pw@flaghost/posthub"},
			want: func(c *config.Config) { c.DatabaseURL = "postgres://app:pw@flaghost/posthub" },
		},
		{
			name: "key=value DSN accepted",
			env:  map[string]string{"DATABASE_URL": "host=db user=app password=pw dbname=posthub"},
			want: func(c *config.Config) { c.DatabaseURL = "host=db user=app password=pw dbname=posthub" },
		},
		{
			name: "port 0 accepted",
			args: []string{"--addr", "127.0.0.1:0"},
			want: func(c *config.Config) { c.Addr = "127.0.0.1:0" },
		},
		{
			name: "private webhook addresses allowed from env",
			env:  map[string]string{"POSTHUB_WEBHOOK_ALLOW_PRIVATE": "true"},
			want: func(c *config.Config) { c.WebhookAllowPrivate = true },
		},
		{
			name: "private webhook addresses allowed by flag",
			args: []string{"--webhook-allow-private"},
			want: func(c *config.Config) { c.WebhookAllowPrivate = true },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			got, err := config.Load("serve", tt.args, env(tt.env), &stderr)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := defaults()
			tt.want(&want)
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("Load:\n got %+v\nwant %+v", *got, want)
			}
			if stderr.Len() != 0 {
				t.Errorf("Load wrote to stderr on success: %q", stderr.String())
			}
		})
	}
}

// Webhooks may reach private addresses in dev mode unless told otherwise, and
// nowhere else unless told so.
func TestWebhookAllowPrivateDefaults(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cmd  string
		env  map[string]string
		want bool
	}{
		{"dev", nil, true},
		{"dev", map[string]string{"POSTHUB_WEBHOOK_ALLOW_PRIVATE": "false"}, false},
		{"serve", nil, false},
		{"worker", nil, false},
	} {
		got, err := config.Load(c.cmd, nil, env(c.env), io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", c.cmd, err)
		}
		if got.WebhookAllowPrivate != c.want {
			t.Errorf("%s %v: WebhookAllowPrivate %t, want %t", c.cmd, c.env, got.WebhookAllowPrivate, c.want)
		}
	}
	if _, err := config.Load("serve", nil, env(map[string]string{"POSTHUB_WEBHOOK_ALLOW_PRIVATE": "maybe"}), io.Discard); err == nil ||
		!strings.Contains(err.Error(), "POSTHUB_WEBHOOK_ALLOW_PRIVATE") {
		t.Errorf("a malformed POSTHUB_WEBHOOK_ALLOW_PRIVATE: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	badFile := writeFile(t, "postgres://u:s3cret@host:notaport/db\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // a part of the message
	}{
		{
			name: "malformed DATABASE_URL",
			env:  map[string]string{"DATABASE_URL": "postgres://u:s3cret@host:notaport/db"},
			want: "DATABASE_URL is malformed",
		},
		{
			name: "malformed --database-url",
			args: []string{"--database-url", "postgres://u:s3cret@host:notaport/db"},
			want: "DATABASE_URL is malformed",
		},
		{
			name: "malformed URL in DATABASE_URL_FILE",
			env:  map[string]string{"DATABASE_URL_FILE": badFile},
			want: "DATABASE_URL is malformed",
		},
		{
			name: "malformed DATABASE_URL with a bad percent escape in the password",
			env:  map[string]string{"DATABASE_URL": "postgres://u:s3cret%ZZ@host/db"},
			want: "DATABASE_URL is malformed",
		},
		{
			name: "malformed DATABASE_URL spanning two lines",
			env:  map[string]string{"DATABASE_URL": "postgres://u:s3cret@host:notaport/db\nsecond line"},
			want: "DATABASE_URL is malformed",
		},
		{
			name: "malformed key=value DSN",
			env:  map[string]string{"DATABASE_URL": "host=db password=s3cret port=abc"},
			want: "DATABASE_URL is malformed",
		},
		{
			name: "malformed key=value DSN with a quoted password",
			env:  map[string]string{"DATABASE_URL": "host=db password='s3cret s3cret' port=abc"},
			want: "DATABASE_URL is malformed",
		},
		{
			name: "missing DATABASE_URL_FILE",
			env:  map[string]string{"DATABASE_URL_FILE": "/nonexistent/posthub-database-url"},
			want: "DATABASE_URL_FILE",
		},
		{
			name: "addr without port",
			args: []string{"--addr", "localhost"},
			want: "want host:port",
		},
		{
			name: "addr from env without port",
			env:  map[string]string{"POSTHUB_ADDR": "8080"},
			want: "want host:port",
		},
		{
			name: "addr port out of range",
			args: []string{"--addr", "127.0.0.1:70000"},
			want: "port must be 0-65535",
		},
		{
			name: "addr port not a number",
			args: []string{"--addr", "127.0.0.1:http"},
			want: "port must be 0-65535",
		},
		{
			name: "bad log level from env",
			env:  map[string]string{"POSTHUB_LOG_LEVEL": "loud"},
			want: `log level "loud"`,
		},
		{
			name: "bad log level flag",
			args: []string{"--log-level", "verbose"},
			want: `log level "verbose"`,
		},
		{
			name: "unknown flag",
			args: []string{"--no-such-flag"},
			want: "flag provided but not defined: -no-such-flag",
		},
		{
			name: "stray argument",
			args: []string{"--addr", "127.0.0.1:0", "extra"},
			want: `unexpected argument "extra"`,
		},
		{
			name: "workers 0",
			args: []string{"--workers", "0"},
			want: "workers 0: want 1-1000",
		},
		{
			name: "workers 0 from env",
			env:  map[string]string{"POSTHUB_WORKERS": "0"},
			want: "workers 0: want 1-1000",
		},
		{
			name: "too many workers",
			args: []string{"--workers", "1001"},
			want: "workers 1001: want 1-1000",
		},
		{
			name: "workers not a number in env",
			env:  map[string]string{"POSTHUB_WORKERS": "ten"},
			want: `POSTHUB_WORKERS: "ten" is not a whole number`,
		},
		{
			name: "rate limit not positive",
			env:  map[string]string{"POSTHUB_RATE_PER_USER": "0"},
			want: `POSTHUB_RATE_PER_USER: "0" is not a positive whole number`,
		},
		{
			name: "workers not a number as flag",
			args: []string{"--workers", "ten"},
			want: "invalid value",
		},
		{
			name: "zero shutdown timeout",
			args: []string{"--shutdown-timeout", "0s"},
			want: "shutdown timeout must be positive",
		},
		{
			name: "public URL without http",
			args: []string{"--public-url", "hub.example"},
			want: "public URL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load("serve", tt.args, env(tt.env), io.Discard)
			if err == nil {
				t.Fatalf("Load succeeded with %+v, want an error containing %q", c, tt.want)
			}
			if c != nil {
				t.Errorf("Load returned a config with its error: %+v", c)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if strings.Contains(msg, "s3cret") {
				t.Errorf("error leaks the password: %q", msg)
			}
		})
	}
}

func TestLoadHelp(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	_, err := config.Load("serve", []string{"-h"}, env(nil), &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Load -h: err = %v, want flag.ErrHelp", err)
	}
	for _, f := range []string{"-addr", "-database-url", "-workers", "-log-level"} {
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("help output does not list %s:\n%s", f, stderr.String())
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		want   string   // exact result, when set
		keep   []string // parts that must survive
		secret []string // parts that must not
	}{
		{name: "empty", in: "", want: ""},
		{
			name: "URL password",
			in:   "postgres://app:s3cret@db.internal:5432/posthub?sslmode=disable",
			want: "postgres://app:REDACTED@db.internal:5432/posthub?sslmode=disable",
		},
		{
			name: "URL without password unchanged",
			in:   "postgres://app@db.internal:5432/posthub?sslmode=disable",
			want: "postgres://app@db.internal:5432/posthub?sslmode=disable",
		},
		{
			name: "percent-encoded URL password",
			in:   "postgresql://app:s3%40cr%2Fet@db/posthub",
			want: "postgresql://app:REDACTED@db/posthub",
		},
		{
			name: "query password",
			in:   "postgres://app@db/posthub?password=s3cret&sslmode=require",
			want: "postgres://app@db/posthub?password=REDACTED&sslmode=require",
		},
		{
			name:   "both URL and query password",
			in:     "postgres://app:s3cret@db/posthub?password=0ther",
			keep:   []string{"app:REDACTED@db", "password=REDACTED"},
			secret: []string{"s3cret", "0ther"},
		},
		{
			name:   "multi-host URL",
			in:     "postgres://app:s3cret@db1:5432,db2:5433/posthub",
			keep:   []string{"REDACTED", "db1", "db2"},
			secret: []string{"s3cret"},
		},
		{
			name: "key=value DSN",
			in:   "host=db user=app password=s3cret dbname=posthub",
			want: "host=db user=app password=REDACTED dbname=posthub",
		},
		{
			name: "key=value DSN without password unchanged",
			in:   "host=db user=app dbname=posthub",
			want: "host=db user=app dbname=posthub",
		},
		{
			name:   "key=value DSN with a quoted password holding a space",
			in:     "host=db password='s3cret w0rds' dbname=posthub",
			keep:   []string{"host=db", "REDACTED", "dbname=posthub"},
			secret: []string{"s3cret", "w0rds"},
		},
		{
			name:   "key=value DSN with spaces around =",
			in:     "host=db password = s3cret dbname=posthub",
			keep:   []string{"host=db", "REDACTED", "dbname=posthub"},
			secret: []string{"s3cret"},
		},
		{
			name:   "key=value DSN sslpassword",
			in:     "host=db sslpassword=s3cret sslkey=/k.pem",
			keep:   []string{"host=db", "REDACTED", "sslkey=/k.pem"},
			secret: []string{"s3cret"},
		},
		{
			// pgx accepts this (a secret mounted with a trailing newline), net/url does not.
			name:   "URL with a trailing newline",
			in:     "postgres://app:s3cret@db/posthub\n",
			keep:   []string{"REDACTED", "@db/posthub"},
			secret: []string{"s3cret"},
		},
		{
			name:   "URL net/url rejects",
			in:     "postgres://app:s3cret@db:notaport/posthub",
			keep:   []string{"REDACTED", "db:notaport/posthub"},
			secret: []string{"s3cret"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := config.RedactURL(tt.in)
			if tt.keep == nil && tt.secret == nil && got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, k := range tt.keep {
				if !strings.Contains(got, k) {
					t.Errorf("RedactURL(%q) = %q, want it to keep %q", tt.in, got, k)
				}
			}
			for _, s := range tt.secret {
				if strings.Contains(got, s) {
					t.Errorf("RedactURL(%q) = %q leaks %q", tt.in, got, s)
				}
			}
		})
	}
}

func TestConfigStringRedactsPassword(t *testing.T) {
	t.Parallel()
	for _, dbURL := range []string{
		"postgres://app:s3cret@db.internal:5432/posthub?sslmode=disable",
		"postgres://app@db.internal/posthub?password=s3cret",
		"host=db.internal user=app password=s3cret dbname=posthub",
		"host=db.internal user=app password='s3cret s3cret' dbname=posthub",
		"postgres://app:s3cret@db.internal/posthub\n",
	} {
		t.Run(dbURL, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load("serve", nil, env(map[string]string{"DATABASE_URL": dbURL}), io.Discard)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			s := c.String()
			if strings.Contains(s, "s3cret") {
				t.Errorf("String() leaks the password: %s", s)
			}
			if !strings.Contains(s, "db.internal") || !strings.Contains(s, "REDACTED") {
				t.Errorf("String() = %s, want the host with the password REDACTED", s)
			}
			// The logs go through LogValue.
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("started", "config", c)
			if strings.Contains(buf.String(), "s3cret") || !strings.Contains(buf.String(), "REDACTED") {
				t.Errorf("logged config leaks the password or lacks REDACTED: %s", buf.String())
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{nil, "http://127.0.0.1:8080"},
		{[]string{"--addr", ":9000"}, "http://localhost:9000"},
		{[]string{"--addr", "0.0.0.0:9000"}, "http://localhost:9000"},
		{[]string{"--addr", "[::]:9000"}, "http://localhost:9000"},
		{[]string{"--addr", "[::1]:9000"}, "http://[::1]:9000"},
		{[]string{"--public-url", "https://hub.example/"}, "https://hub.example"},
	}
	for _, tt := range tests {
		c, err := config.Load("serve", tt.args, env(nil), io.Discard)
		if err != nil {
			t.Fatalf("Load %v: %v", tt.args, err)
		}
		if got := c.BaseURL(); got != tt.want {
			t.Errorf("BaseURL with %v = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestSMTPURL(t *testing.T) {
	t.Parallel()
	c, err := config.Load("serve", nil, env(map[string]string{"POSTHUB_SMTP_URL": "smtp://mailer:s3cret@mail.example:587?tls=required"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPURL == "" || strings.Contains(c.String(), "s3cret") || !strings.Contains(c.String(), "mail.example") {
		t.Fatalf("smtp url %q shown as %q", c.SMTPURL, c.String())
	}
	_, err = config.Load("serve", nil, env(map[string]string{"POSTHUB_SMTP_URL": "http://u:s3cret@mail.example"}), io.Discard)
	if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("bad SMTP URL: %v", err)
	}
}

func TestTrustedProxiesAndMetricsAddr(t *testing.T) {
	t.Parallel()
	c, err := config.Load("worker", []string{"--metrics-addr", "127.0.0.1:9100"}, env(map[string]string{"POSTHUB_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.10/32"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.168.1.10/32" || c.MetricsAddr != "127.0.0.1:9100" {
		t.Fatalf("config: %+v", c)
	}
	if _, err := config.Load("serve", nil, env(map[string]string{"POSTHUB_TRUSTED_PROXIES": "10.0.0.1"}), io.Discard); err == nil || !strings.Contains(err.Error(), "CIDR") {
		t.Fatalf("a bare address should be refused: %v", err)
	}
}
