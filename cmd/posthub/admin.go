package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/postgres"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// openForAdmin parses the common flags of the bootstrapping commands and opens the
// database named by DATABASE_URL.
func openForAdmin(ctx context.Context, name string, fs *flag.FlagSet, args []string, getenv func(string) string, stderr io.Writer) (*postgres.DB, error) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err.Error()}
	}
	cfg, err := loadWithDB(name, nil, getenv, stderr)
	if err != nil {
		return nil, err
	}
	return postgres.Open(ctx, cfg.DatabaseURL)
}

// runOrg is `posthub org add`: create an organisation on a real installation, for
// `posthub user add --org` to put its first users in.
func runOrg(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError{"want 'org add --slug … --name … --country …'"}
	}
	fs := flag.NewFlagSet("org add", flag.ContinueOnError)
	var in booking.OrganisationInput
	fs.StringVar(&in.Slug, "slug", "", "the organisation's slug, as --org names it (required)")
	fs.StringVar(&in.Name, "name", "", "the organisation's name (required)")
	fs.StringVar(&in.Country, "country", "", "ISO 3166-1 alpha-2 code in capitals, e.g. SN (required)")
	fs.StringVar(&in.Kind, "kind", booking.OrgProductionCompany, "production_company or hub")
	db, err := openForAdmin(ctx, "org add", fs, args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	if in.Slug == "" || in.Name == "" || in.Country == "" {
		return usageError{"--slug, --name and --country are required"}
	}
	o, err := db.CreateOrganisation(ctx, booking.System, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "organisation %s created: %s (%s)\n", o.ID, o.Slug, o.Kind)
	return nil
}

// runUser is `posthub user add`: create a user on a real installation.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError{"want 'user add --email … --name … --role … --org …'"}
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	var in booking.UserInput
	var role, org string
	var sites stringList
	var passwordStdin bool
	fs.StringVar(&in.Email, "email", "", "the user's email (required)")
	fs.StringVar(&in.Name, "name", "", "the user's name (required)")
	fs.StringVar(&role, "role", "", "admin, manager, operator or producer (required)")
	fs.StringVar(&org, "org", "", "the organisation's slug (required)")
	fs.StringVar(&in.Locale, "locale", "en", "en or fr")
	fs.Var(&sites, "site", "a site the manager manages, by slug (repeatable)")
	fs.BoolVar(&passwordStdin, "password-stdin", false, "read a password for web login from the first line of standard input")
	db, err := openForAdmin(ctx, "user add", fs, args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	if in.Email == "" || in.Name == "" || role == "" || org == "" {
		return usageError{"--email, --name, --role and --org are required"}
	}
	in.Role = booking.Role(role)
	if in.OrganisationID, err = db.IDBySlug(ctx, "organisations", org); err != nil {
		return fmt.Errorf("organisation %q: %w", org, err)
	}
	for _, s := range sites {
		id, err := db.IDBySlug(ctx, "sites", s)
		if err != nil {
			return fmt.Errorf("site %q: %w", s, err)
		}
		in.SiteIDs = append(in.SiteIDs, id)
	}
	if passwordStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		in.Password = strings.TrimRight(line, "\r\n")
	}
	u, err := db.CreateUser(ctx, booking.System, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %s created: %s (%s)\n", u.ID, u.Email, u.Role)
	return nil
}

// runToken is `posthub token create|revoke`.
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "revoke") {
		return usageError{"want 'token create --email … --name …' or 'token revoke --id …'"}
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	var email, name, id string
	var ttl time.Duration
	if args[0] == "create" {
		fs.StringVar(&email, "email", "", "the user the token is for (required)")
		fs.StringVar(&name, "name", "", "what the token is for (required)")
		fs.DurationVar(&ttl, "ttl", 0, "lifetime, e.g. 720h; 0 means no expiry")
	} else {
		fs.StringVar(&id, "id", "", "the token's id (required)")
	}
	db, err := openForAdmin(ctx, "token "+args[0], fs, args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	if args[0] == "revoke" {
		tid, err := uuid.Parse(id)
		if err != nil {
			return usageError{"--id must be a token id (a UUID)"}
		}
		if err := db.RevokeToken(ctx, booking.System, tid); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %s revoked\n", tid)
		return nil
	}
	if email == "" || name == "" {
		return usageError{"--email and --name are required"}
	}
	u, err := db.FindUserByEmail(ctx, booking.System, email)
	if err != nil {
		return fmt.Errorf("user %q: %w", email, err)
	}
	info, plain, err := db.CreateToken(ctx, booking.System, u.ID, name, ttl)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "token %s (%s) created for %s; it is shown once:\n", info.ID, info.Prefix, u.Email)
	fmt.Fprintln(stdout, plain)
	return nil
}
