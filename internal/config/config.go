// Package config reads posthub's configuration from the environment and the command
// line, validates it once at start, and prints it with its secrets redacted.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is everything a posthub process needs to start. Flags override the environment.
type Config struct {
	// DatabaseURL is the PostgreSQL connection string (DATABASE_URL or DATABASE_URL_FILE).
	// Empty means: `dev` starts its own PostgreSQL.
	DatabaseURL string
	// Addr is where the HTTP server listens (POSTHUB_ADDR).
	Addr string
	// DataDir is where `dev` keeps its PostgreSQL cluster and demo tokens (POSTHUB_DATA_DIR).
	DataDir string
	// Fresh makes `dev` throw its data directory away and start over.
	Fresh bool
	// LogLevel is debug, info, warn or error (POSTHUB_LOG_LEVEL).
	LogLevel slog.Level
	// PublicURL is the address people reach the hub at, used in links (POSTHUB_PUBLIC_URL).
	PublicURL string
	// ShutdownTimeout bounds the graceful drain of HTTP and River on SIGTERM.
	ShutdownTimeout time.Duration
	// Workers is how many River jobs one process works at once per queue. The jobs wait
	// on SMTP and HTTP far more than they compute, and River fetches at most this many
	// every 100 ms, so it bounds a queue's throughput (10 workers: about 100 jobs/s).
	Workers int
	// SMTPURL is where mail goes (POSTHUB_SMTP_URL, smtp://user:pass@host:port?tls=…);
	// empty means mail is logged, not sent.
	SMTPURL string
	// MailFrom is the sender of posthub's mail (POSTHUB_MAIL_FROM).
	MailFrom string
	// TrustedProxies are the load balancers whose X-Forwarded-For is believed
	// (POSTHUB_TRUSTED_PROXIES, comma-separated CIDRs).
	TrustedProxies []netip.Prefix
	// MetricsAddr, for `worker`, is where it serves /metrics (POSTHUB_METRICS_ADDR);
	// empty serves none.
	MetricsAddr string
	// WebhookAllowPrivate lets webhooks reach non-public addresses
	// (POSTHUB_WEBHOOK_ALLOW_PRIVATE): on in dev mode, for a local receiver; off
	// elsewhere, so an organisation's webhook cannot reach the hub's own network.
	WebhookAllowPrivate bool
	// RatePerToken and RatePerUser are the API's rate limits in requests a minute per
	// credential and per user and process (POSTHUB_RATE_PER_TOKEN, POSTHUB_RATE_PER_USER);
	// zero takes the defaults (600, 1200). Load drills raise them: they measure posthub,
	// not its limiter.
	RatePerToken, RatePerUser int
}

// Getenv is how Load reads the environment; tests pass a map's lookup.
type Getenv func(string) string

// Load parses args (without the subcommand) over the environment and validates the
// result. Errors are single lines fit to show a person.
func Load(name string, args []string, getenv Getenv, stderr io.Writer) (*Config, error) {
	c := &Config{
		DatabaseURL:     getenv("DATABASE_URL"),
		Addr:            envOr(getenv, "POSTHUB_ADDR", "127.0.0.1:8080"),
		DataDir:         envOr(getenv, "POSTHUB_DATA_DIR", ".posthub"),
		PublicURL:       getenv("POSTHUB_PUBLIC_URL"),
		ShutdownTimeout: 20 * time.Second,
		Workers:         50,
		SMTPURL:         getenv("POSTHUB_SMTP_URL"),
		MailFrom:        envOr(getenv, "POSTHUB_MAIL_FROM", "posthub <noreply@posthub.localhost>"),
	}
	if f := getenv("DATABASE_URL_FILE"); f != "" && c.DatabaseURL == "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL_FILE: %w", err)
		}
		c.DatabaseURL = strings.TrimSpace(string(b))
	}
	level := envOr(getenv, "POSTHUB_LOG_LEVEL", "info")
	proxies := getenv("POSTHUB_TRUSTED_PROXIES")
	c.MetricsAddr = getenv("POSTHUB_METRICS_ADDR")
	if v := getenv("POSTHUB_WEBHOOK_ALLOW_PRIVATE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("POSTHUB_WEBHOOK_ALLOW_PRIVATE: %q is not true or false", v)
		}
		c.WebhookAllowPrivate = b
	} else {
		c.WebhookAllowPrivate = name == "dev"
	}
	for _, r := range []struct {
		env string
		to  *int
	}{{"POSTHUB_RATE_PER_TOKEN", &c.RatePerToken}, {"POSTHUB_RATE_PER_USER", &c.RatePerUser}} {
		if v := getenv(r.env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s: %q is not a positive whole number", r.env, v)
			}
			*r.to = n
		}
	}
	if v := getenv("POSTHUB_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("POSTHUB_WORKERS: %q is not a whole number", v)
		}
		c.Workers = n
	}

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL connection string (env DATABASE_URL)")
	fs.StringVar(&c.Addr, "addr", c.Addr, "HTTP listen address (env POSTHUB_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "dev mode: where the local PostgreSQL and demo tokens live (env POSTHUB_DATA_DIR)")
	fs.BoolVar(&c.Fresh, "fresh", false, "dev mode: delete the data directory and start over")
	fs.StringVar(&level, "log-level", level, "debug, info, warn or error (env POSTHUB_LOG_LEVEL)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "URL people reach the hub at (env POSTHUB_PUBLIC_URL)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long a graceful shutdown may take")
	fs.IntVar(&c.Workers, "workers", c.Workers, "River jobs worked at once per queue (env POSTHUB_WORKERS)")
	fs.StringVar(&c.SMTPURL, "smtp-url", c.SMTPURL, "SMTP server for mail, smtp://user:pass@host:port?tls=none|opportunistic|required; empty logs mail instead (env POSTHUB_SMTP_URL)")
	fs.StringVar(&c.MailFrom, "mail-from", c.MailFrom, "sender of posthub's mail (env POSTHUB_MAIL_FROM)")
	fs.StringVar(&proxies, "trusted-proxies", proxies, "comma-separated CIDRs of load balancers whose X-Forwarded-For is believed (env POSTHUB_TRUSTED_PROXIES)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr, "worker: host:port to serve /metrics on (env POSTHUB_METRICS_ADDR)")
	fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", c.WebhookAllowPrivate, "let webhooks reach loopback and private addresses; default on in dev only (env POSTHUB_WEBHOOK_ALLOW_PRIVATE)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	for _, p := range strings.Split(proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %q is not a CIDR like 10.0.0.0/8", p)
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix)
	}
	if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) validate() error {
	if c.DatabaseURL != "" {
		if _, err := pgxpool.ParseConfig(c.DatabaseURL); err != nil {
			return fmt.Errorf("DATABASE_URL is malformed: %s", redactErr(err, c.DatabaseURL))
		}
	}
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("listen address %q: want host:port", c.Addr)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("listen address %q: port must be 0-65535", c.Addr)
	}
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			return fmt.Errorf("SMTP URL %q: want smtp://[user:pass@]host:port", RedactURL(c.SMTPURL))
		}
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("public URL %q: want http(s)://host", c.PublicURL)
		}
	}
	if c.ShutdownTimeout <= 0 {
		return errors.New("shutdown timeout must be positive")
	}
	if c.Workers < 1 || c.Workers > 1000 {
		return fmt.Errorf("workers %d: want 1-1000", c.Workers)
	}
	return nil
}

// BaseURL is the URL people reach the hub at: PublicURL, or else derived from Addr.
func (c *Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	host, port, _ := net.SplitHostPort(c.Addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// String dumps the configuration for logs with the database password redacted.
func (c *Config) String() string {
	return fmt.Sprintf("database_url=%s addr=%s data_dir=%s log_level=%s public_url=%s shutdown_timeout=%s workers=%d smtp_url=%s mail_from=%s",
		RedactURL(c.DatabaseURL), c.Addr, c.DataDir, c.LogLevel, RedactURL(c.PublicURL), c.ShutdownTimeout, c.Workers, RedactURL(c.SMTPURL), c.MailFrom)
}

// LogValue makes slog print the redacted form.
func (c *Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// RedactURL hides the password of a connection URL (and of a key=value DSN).
func RedactURL(s string) string {
	if s == "" {
		return ""
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
		}
		q := u.Query()
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "REDACTED")
				u.RawQuery = q.Encode()
			}
		}
		return u.String()
	}
	// Not a URL net/url accepts (a key=value DSN, or a URL pgx still reads, such as one
	// ending in a newline): redact what looks like a password, quoted or not.
	s = urlPassword.ReplaceAllString(s, "${1}REDACTED@")
	return dsnPassword.ReplaceAllString(s, "${1}=REDACTED")
}

var (
	// urlPassword matches scheme://user: and the password after it, up to the last @
	// before the path.
	urlPassword = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9+.-]*://[^:@/]*:)[^/]*@`)
	// dsnPassword matches a password (or sslpassword) setting of a key=value DSN, with
	// its value quoted ('…', backslash escapes) or bare.
	dsnPassword = regexp.MustCompile(`(?i)\b((?:ssl)?password)\s*=\s*(?:'(?:[^'\\]|\\.)*'?|\S*)`)
)

// redactErr keeps a parse error from echoing the secret it failed to parse, and folds
// it to one line.
func redactErr(err error, secret string) string {
	msg := err.Error()
	if secret != "" {
		msg = strings.ReplaceAll(msg, secret, RedactURL(secret))
	}
	if u, perr := url.Parse(secret); perr == nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "REDACTED")
		}
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(msg)
}

func envOr(getenv Getenv, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
