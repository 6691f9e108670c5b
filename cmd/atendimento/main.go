// Command atendimento runs the Atendimento server and its operator commands:
//
//	atendimento serve [--demo]                       start the HTTP server (and the dispatcher)
//	atendimento account create --name N --admin-email E [--admin-password P]
//	                                                 add a company; prints its admin API key last
//	atendimento admin reset-password --email E [--password P] [--account ID]
//	                                                 set a user's password; prints a generated one
//	atendimento api-key create [--name N] [--email E | --account ID]
//	                                                 add an admin API key to an account; prints it last
//	atendimento start --csv FILE --channel C --team T --template M [flags]
//	                                                 start a conversation per row, through the API
//	atendimento consent --csv FILE [--dry-run] [--out result.csv]
//	                                                 record each row's marketing opt-out or opt-in, through the API
//	atendimento backup --out FILE                    copy the SQLite database, consistent while the server runs
//
// With no command it prints this usage and exits with status 2, creating nothing: a server
// starts only when asked (`atendimento serve`), never as a side effect of a mistyped call.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/atendimento/atendimento/api"
	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := app.FromEnv()
	// The logger honours LOG_LEVEL; a configuration that cannot be read is reported at any level.
	log := newLogger(os.Stderr, cfg.LogLevel)
	if err != nil {
		// Before anything starts: a default in place of a mistyped setting would run a server
		// other than the one the operator configured.
		log.Error("fatal", "err", err.Error())
		os.Exit(1)
	}
	err = run(ctx, os.Args[1:], cfg, log, os.Stdout)
	var ue usageError
	if errors.As(err, &ue) {
		// A call the program does not understand: the usage on stderr and status 2, as the flag
		// package and the go command do, so a script can tell it from a failure of the work.
		fmt.Fprintln(os.Stderr, ue.Error())
		os.Exit(2)
	}
	if err != nil {
		log.Error("fatal", "err", err.Error())
		os.Exit(1)
	}
}

// newLogger is the server's logger: JSON lines on w from level up, each carrying the ids its
// context holds (request, conversation, message, wamid).
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(api.LogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

const usage = `usage:
  atendimento serve [--demo=true|false]
  atendimento account create --name NAME --admin-email EMAIL [--admin-password PASSWORD]
  atendimento admin reset-password --email EMAIL [--password PASSWORD] [--account ID]
  atendimento api-key create [--name NAME] [--email EMAIL | --account ID]
  atendimento start --csv FILE --channel ID|NAME --team ID|NAME --template ID|NAME [--dry-run] [flags]
  atendimento consent --csv FILE [--dry-run] [--out result.csv]
  atendimento backup --out FILE   (SQLite; on PostgreSQL use pg_dump)
  atendimento help`

// usageError is a call without a command, or with one the program does not know: main prints
// its message (which ends with the usage) and exits with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, cfg app.Config, log *slog.Logger, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"atendimento: no command given (`atendimento serve` starts the server)\n" + usage}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], cfg, log, stdout)
	case "account":
		if len(args) < 2 || args[1] != "create" {
			return usageError{usage}
		}
		return createAccount(ctx, args[2:], cfg, log, stdout)
	case "admin":
		if len(args) < 2 || args[1] != "reset-password" {
			return usageError{usage}
		}
		return resetPassword(ctx, args[2:], cfg, log, stdout)
	case "api-key":
		if len(args) < 2 || args[1] != "create" {
			return usageError{usage}
		}
		return createAPIKey(ctx, args[2:], cfg, log, stdout)
	case "start":
		return startCSV(ctx, args[1:], os.Getenv, stdout)
	case "consent":
		return consentCSV(ctx, args[1:], os.Getenv, stdout)
	case "backup":
		return backup(ctx, args[1:], cfg, log, stdout)
	case "healthcheck": // hidden: the Docker image's HEALTHCHECK
		return healthcheck(ctx, cfg, stdout)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n%s", args[0], usage)}
}

func serve(ctx context.Context, args []string, cfg app.Config, log *slog.Logger, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	demo := fs.String("demo", "auto", "seed demo data: true, false, or auto (when the database is empty and no BOOTSTRAP_* is set)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The address first: one in use stops the start before the database is opened, seeded or
	// anything printed.
	ln, err := app.Listen(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	defer ln.Close()
	log.Info("starting", "config", cfg)
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if cfg.Bootstrapping() {
		seeded, err := a.Bootstrap(ctx)
		if err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		if seeded != nil {
			log.Info("bootstrapped the first account", "account_id", seeded.AccountID, "admin_email", seeded.AdminEmail)
		}
		connected, err := a.Channels.AnyWhatsApp(ctx)
		if err != nil {
			return err
		}
		if !connected {
			printConnectNumber(stdout, log, cfg)
		}
	}
	if *demo == "true" || (*demo == "auto" && !cfg.Bootstrapping()) {
		seeded, err := a.Demo(ctx)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if seeded != nil {
			printDemo(stdout, cfg, seeded)
		} else if err := printDemoAgain(ctx, stdout, cfg, a); err != nil {
			return err
		}
	}
	return a.Serve(ctx, ln)
}

func printDemo(w io.Writer, cfg app.Config, s *app.Seeded) {
	base := baseURL(cfg)
	fmt.Fprintf(w, `
Atendimento demo data is ready (sandbox channel, teams Vendas and Suporte, pt-BR templates).
  Open:      %s/
  Login:     %s
  Password:  %s
  API key:   %s

  export ATENDIMENTO_URL=%s ATENDIMENTO_API_KEY=%s

`, base, s.AdminEmail, s.AdminPassword, s.APIKey, base, s.APIKey)
}

func createAccount(ctx context.Context, args []string, cfg app.Config, log *slog.Logger, stdout io.Writer) error {
	fs := flag.NewFlagSet("account create", flag.ContinueOnError)
	name := fs.String("name", "", "company name")
	email := fs.String("admin-email", "", "the first admin's email")
	password := fs.String("admin-password", "", "the first admin's password (default: generated and printed)")
	region := fs.String("region", "BR", "default phone region")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || *email == "" {
		return errors.New("--name and --admin-email are required\n" + usage)
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	pw := *password
	if pw == "" {
		pw = app.RandomPassword()
	}
	var key string
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		acc, err := a.Accounts.CreateAccount(ctx, *name, *region)
		if err != nil {
			return err
		}
		ctx = store.WithAccount(ctx, acc.ID)
		role := account.RoleAdmin
		adminName := "Admin"
		u, err := a.Accounts.CreateUser(ctx, account.UserInput{Name: &adminName, Email: email, Password: &pw, Role: &role})
		if err != nil {
			return err
		}
		_, key, err = a.Accounts.CreateAPIKey(ctx, "admin", account.RoleAdmin, u.ID)
		if err == nil {
			fmt.Fprintf(stdout, "account %s created (%s)\nadmin: %s\n", acc.ID, acc.Name, *email)
			if *password == "" {
				fmt.Fprintf(stdout, "password: %s\n", pw)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, key)
	return nil
}
