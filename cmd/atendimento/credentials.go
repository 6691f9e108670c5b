package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/internal/account"
	"github.com/atendimento/atendimento/internal/store"
)

// printDemoAgain tells, on a start that found the demo account already there, how to get its
// credentials: the password and the API key were printed once, on the first start, and are
// stored only hashed.
func printDemoAgain(ctx context.Context, w io.Writer, cfg app.Config, a *app.App) error {
	users, err := a.Accounts.UsersByEmail(ctx, app.DemoAdminEmail)
	if err != nil {
		return fmt.Errorf("look up the demo admin: %w", err)
	}
	if len(users) == 0 {
		return nil // a database of real accounts: nothing demo to tell about
	}
	fmt.Fprintf(w, `
Atendimento demo account exists (its password and API key were printed on its first start only).
  Open:      %s/
  Login:     %s
  New password:  atendimento admin reset-password --email %s
  New API key:   atendimento api-key create --email %s
  (atendimento is ./bin/atendimento after make build, or go run ./cmd/atendimento)

`, baseURL(cfg), app.DemoAdminEmail, app.DemoAdminEmail, app.DemoAdminEmail)
	return nil
}

// resetPassword sets a user's password, found by email across accounts (--account picks one
// when several accounts have that email); it prints a generated password unless one is given.
func resetPassword(ctx context.Context, args []string, cfg app.Config, log *slog.Logger, stdout io.Writer) error {
	fs := flag.NewFlagSet("admin reset-password", flag.ContinueOnError)
	email := fs.String("email", "", "the user's login email")
	password := fs.String("password", "", "the new password, 8 to 72 characters (default: generated and printed)")
	accountID := fs.String("account", "", "the user's account id, when several accounts have a user with this email")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" || fs.NArg() > 0 {
		return usageError{"admin reset-password: --email is required\n" + usage}
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := userByEmail(ctx, a, *email, *accountID)
	if err != nil {
		return err
	}
	pw := *password
	if pw == "" {
		pw = app.RandomPassword()
	}
	if _, err := a.Accounts.UpdateUser(store.WithAccount(ctx, u.AccountID), u.ID, account.UserInput{Password: &pw}); err != nil {
		return fmt.Errorf("reset the password of %s: %w", u.Email, err)
	}
	fmt.Fprintf(stdout, "password of %s (account %s) changed; their other sessions are ended\n", u.Email, u.AccountID)
	if *password == "" {
		fmt.Fprintf(stdout, "password: %s\n", pw)
	}
	return nil
}

// userByEmail finds the one user with this email, in accountID when it is given.
func userByEmail(ctx context.Context, a *app.App, email, accountID string) (account.User, error) {
	users, err := a.Accounts.UsersByEmail(ctx, email)
	if err != nil {
		return account.User{}, err
	}
	var found []account.User
	for _, u := range users {
		if accountID == "" || u.AccountID == accountID {
			found = append(found, u)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0 && accountID != "":
		return account.User{}, fmt.Errorf("no user with email %q in account %s", email, accountID)
	case len(found) == 0:
		return account.User{}, fmt.Errorf("no user with email %q (in any account)", email)
	}
	ids := make([]string, len(found))
	for i, u := range found {
		ids[i] = u.AccountID
	}
	return account.User{}, fmt.Errorf("%d accounts have a user with email %q: choose one with --account (%s)", len(found), email, strings.Join(ids, ", "))
}

// createAPIKey adds an admin API key to an account, named by one of its users' email or by its
// id (with neither, the database's only account), and prints the key alone on the last line.
func createAPIKey(ctx context.Context, args []string, cfg app.Config, log *slog.Logger, stdout io.Writer) error {
	fs := flag.NewFlagSet("api-key create", flag.ContinueOnError)
	name := fs.String("name", "cli", "the key's name, shown in the key list")
	email := fs.String("email", "", "an email of a user of the account (the key is recorded as created by them)")
	accountID := fs.String("account", "", "the account id (instead of --email)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"api-key create: unexpected arguments " + strings.Join(fs.Args(), " ") + "\n" + usage}
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	acc, createdBy, err := keyAccount(ctx, a, *email, *accountID)
	if err != nil {
		return err
	}
	k, key, err := a.Accounts.CreateAPIKey(store.WithAccount(ctx, acc.ID), *name, account.RoleAdmin, createdBy)
	if err != nil {
		return fmt.Errorf("create the API key: %w", err)
	}
	fmt.Fprintf(stdout, "API key %s (%s, admin) created for account %s (%s)\n%s\n", k.ID, k.Name, acc.ID, acc.Name, key)
	return nil
}

// keyAccount resolves the account a new key belongs to, and the user recorded as its creator.
func keyAccount(ctx context.Context, a *app.App, email, accountID string) (account.Account, string, error) {
	createdBy := ""
	switch {
	case email != "":
		u, err := userByEmail(ctx, a, email, accountID)
		if err != nil {
			return account.Account{}, "", err
		}
		accountID, createdBy = u.AccountID, u.ID
	case accountID == "":
		accs, err := a.Accounts.Accounts(ctx, 2)
		if err != nil {
			return account.Account{}, "", err
		}
		switch len(accs) {
		case 0:
			return account.Account{}, "", errors.New("the database has no account yet: start the server once (demo data) or run atendimento account create")
		case 1:
			return accs[0], "", nil
		}
		return account.Account{}, "", errors.New("the database has several accounts: choose one with --email or --account")
	}
	if !store.ValidID(accountID) {
		return account.Account{}, "", fmt.Errorf("no account %q", accountID)
	}
	acc, err := a.Accounts.Current(store.WithAccount(ctx, accountID))
	if err != nil {
		return account.Account{}, "", fmt.Errorf("account %s: %w", accountID, err)
	}
	return acc, createdBy, nil
}
