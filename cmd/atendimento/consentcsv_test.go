package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// TestConsentCSV imports a file with an opt-out of an existing contact, an opt-out of a new
// number (the contact is created), an opt-in with its own time and a bad row; the history shows
// source csv, marketing_opted_out follows, and re-running the file records nothing again.
func TestConsentCSV(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		ctx := context.Background()
		dir := t.TempDir()
		write := func(name, content string) string {
			p := filepath.Join(dir, name)
			require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
			return p
		}
		run := func(args ...string) (string, error) {
			var out bytes.Buffer
			vars := map[string]string{"ATENDIMENTO_URL": env.Server.URL, "ATENDIMENTO_API_KEY": env.Demo.APIKey}
			err := consentCSV(ctx, args, func(k string) string { return vars[k] }, &out)
			return out.String(), err
		}
		history := func(id string) []map[string]any {
			t.Helper()
			var l struct{ Items []map[string]any }
			r := env.Admin.Get("/api/v1/contacts/" + id + "/consent")
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			r.Decode(t, &l)
			return l.Items
		}
		lookup := func(phone string) map[string]any {
			t.Helper()
			r := env.Admin.Get("/api/v1/contacts/lookup?phone=" + phone)
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			return r.JSON()
		}
		r := env.Admin.Post("/api/v1/contacts", map[string]any{"phone": "11 95555-0001", "name": "Existente"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		existing := r.Str("id")
		r = env.Admin.Post("/api/v1/contacts", map[string]any{"phone": "11 95555-0003", "name": "Volta"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		returning := r.Str("id")
		r = env.Admin.Post("/api/v1/contacts/"+returning+"/consent", map[string]any{"opted_out": true})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))

		// A bad row: dry-run lists every one with its line and records nothing.
		bad := write("ruim.csv", "\ufeffTelefone;Opted_Out;Detail\n11 95555-0001;SIM;ok\n123;talvez;x\n11 95555-0001;não;dup\n11 95555-0009;nao;\n11 95555-0010;sim;\n11 95555-0011;sim\n")
		out, err := run("--csv", bad, "--dry-run")
		require.ErrorContains(t, err, "3 invalid rows", out)
		require.Contains(t, out, "line 3: phone_invalid opted_out_invalid: ")
		require.Contains(t, out, "line 4: duplicate_phone: ")
		require.Contains(t, out, "line 7: row_malformed: ")
		require.Contains(t, out, "6 rows, 3 valid, 3 invalid")
		require.Len(t, history(existing), 0)
		out, err = run("--csv", write("at.csv", "phone,opted_out,at\n11 95555-0001,sim,31/02/2026 10:00\n11 95555-0002,sim,2999-01-01T00:00:00Z\n"), "--dry-run")
		require.ErrorContains(t, err, "2 invalid rows", out)
		require.Contains(t, out, "line 2: at_invalid: ")
		require.Contains(t, out, "line 3: at_invalid: ")
		_, err = run("--csv", write("nocol.csv", "phone,detail\n11 95555-0001,x\n"), "--dry-run")
		require.ErrorContains(t, err, "needs the columns phone and opted_out")

		// The import: an opt-out of an existing contact, one of a new number, an opt-in at a given time.
		file := write("consent.csv", "phone,opted_out,detail,name,at\n"+
			"11 95555-0001,Sair,pediu na loja,,\n"+
			"(11) 95555-0002,true,,Nova Pessoa,\n"+
			"11 95555-0003,Não,voltou pelo site,,02/01/2026 10:30\n")
		result := filepath.Join(dir, "result.csv")
		out, err = run("--csv", file, "--out", result)
		require.NoError(t, err, out)
		require.Contains(t, out, "recorded: 3 (1 new contacts)\nalready recorded: 0\nfailed: 0\ninvalid: 0\n")
		res := readResultColumns(t, result, "contact_id")
		require.Equal(t, []string{"2", "11 95555-0001", "recorded", existing, ""}, res[2])
		require.Equal(t, "recorded", res[3][2])
		require.Equal(t, []string{"4", "11 95555-0003", "recorded", returning, ""}, res[4])

		h := history(existing)
		require.Len(t, h, 1)
		require.Equal(t, "csv", h[0]["source"])
		require.Equal(t, true, h[0]["opted_out"])
		require.Equal(t, "pediu na loja", h[0]["detail"])
		require.Equal(t, true, lookup("11955550001")["marketing_opted_out"])

		created := lookup("11955550002")
		require.Equal(t, res[3][3], created["id"])
		require.Equal(t, "Nova Pessoa", created["name"])
		require.Equal(t, true, created["marketing_opted_out"])

		// The opt-in happened on 2 January 2026, before the API opt-out recorded now: it is history,
		// and the contact stays opted out (the state follows the latest fact by at).
		h = history(returning)
		require.Len(t, h, 2)
		require.Equal(t, "csv", h[1]["source"])
		require.Equal(t, false, h[1]["opted_out"])
		require.Equal(t, time.Date(2026, 1, 2, 13, 30, 0, 0, time.UTC).Format(time.RFC3339), h[1]["at"])
		require.Equal(t, true, lookup("11955550003")["marketing_opted_out"])

		// Re-running the same file records nothing again.
		out, err = run("--csv", file, "--out", result)
		require.NoError(t, err, out)
		require.Contains(t, out, "recorded: 0 (0 new contacts)\nalready recorded: 3\n")
		require.Len(t, history(existing), 1)
		require.Len(t, history(returning), 2)
		require.Equal(t, "already_recorded", readResultColumns(t, result, "contact_id")[2][2])

		// An opt-in without a time is the latest fact: the contact is opted in again.
		out, err = run("--csv", write("volta.csv", "phone,opted_out\n11 95555-0001,voltar\n"))
		require.NoError(t, err, out)
		h = history(existing)
		require.Len(t, h, 2)
		require.Equal(t, false, h[0]["opted_out"])
		require.Equal(t, "csv", h[0]["source"])
		require.Equal(t, false, lookup("11955550001")["marketing_opted_out"])
	})
}
