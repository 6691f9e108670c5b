// Command atendimento runs the Atendimento server and its operator commands:
//
//	atendimento serve [--demo]                       start the HTTP server (and the dispatcher)
//	atendimento account create --name N --admin-email E [--admin-password P]
//	                                                 add a company; prints its admin API key last
//	atendimento start --csv FILE --channel C --team T --template M [flags]
//	                                                 start a conversation per row, through the API
//	atendimento consent --csv FILE [--dry-run] [--out result.csv]
//	                                                 record each row's marketing opt-out or opt-in, through the API
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
	if err := run(ctx, os.Args[1:], cfg, log, os.Stdout); err != nil {
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
  atendimento start --csv FILE --channel ID|NAME --team ID|NAME --template ID|NAME [--dry-run] [flags]
  atendimento consent --csv FILE [--dry-run] [--out result.csv]`

func run(ctx context.Context, args []string, cfg app.Config, log *slog.Logger, stdout io.Writer) error {
	if len(args) == 0 {
		args = []string{"serve"}
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], cfg, log, stdout)
	case "account":
		if len(args) < 2 || args[1] != "create" {
			return errors.New(usage)
		}
		return createAccount(ctx, args[2:], cfg, log, stdout)
	case "start":
		return startCSV(ctx, args[1:], os.Getenv, stdout)
	case "consent":
		return consentCSV(ctx, args[1:], os.Getenv, stdout)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

func serve(ctx context.Context, args []string, cfg app.Config, log *slog.Logger, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	demo := fs.String("demo", "auto", "seed demo data: true, false, or auto (when the database is empty and no BOOTSTRAP_* is set)")
	if err := fs.Parse(args); err != nil {
		return err
	}
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
	}
	if *demo == "true" || (*demo == "auto" && !cfg.Bootstrapping()) {
		seeded, err := a.Demo(ctx)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if seeded != nil {
			printDemo(stdout, cfg, seeded)
		}
	}
	return a.Serve(ctx)
}

func printDemo(w io.Writer, cfg app.Config, s *app.Seeded) {
	addr := cfg.HTTPAddr
	if addr != "" && addr[0] == ':' {
		addr = "localhost" + addr
	}
	fmt.Fprintf(w, `
Atendimento demo data is ready (sandbox channel, teams Vendas and Suporte, pt-BR templates).
  Open:      http://%s/
  Login:     %s
  Password:  %s
  API key:   %s

  export ATENDIMENTO_URL=http://%s ATENDIMENTO_API_KEY=%s

`, addr, s.AdminEmail, s.AdminPassword, s.APIKey, addr, s.APIKey)
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
