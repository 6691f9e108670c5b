package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// TestConsentImportFields checks source, import_key and at of POST /contacts/{id}/consent: only
// csv is accepted as a source, import_key and at only with it, and a replayed import_key records
// nothing and answers the first fact.
func TestConsentImportFields(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		r := env.Admin.Post("/api/v1/contacts", map[string]any{"phone": "11 97777-1234", "name": "Importada"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		path := "/api/v1/contacts/" + r.Str("id") + "/consent"
		history := func() []map[string]any {
			t.Helper()
			var l struct{ Items []map[string]any }
			h := env.Admin.Get(path)
			require.Equal(t, http.StatusOK, h.Status, string(h.Body))
			h.Decode(t, &l)
			return l.Items
		}

		for _, tc := range []struct {
			name string
			body map[string]any
			want []string
		}{
			{"source agent", map[string]any{"opted_out": true, "source": "agent"}, []string{"source:source_invalid"}},
			{"source keyword", map[string]any{"opted_out": true, "source": "keyword"}, []string{"source:source_invalid"}},
			{"source empty", map[string]any{"opted_out": true, "source": ""}, []string{"source:source_invalid"}},
			{"key without source", map[string]any{"opted_out": true, "import_key": "abc:2"}, []string{"import_key:import_key_invalid"}},
			{"key empty", map[string]any{"opted_out": true, "source": "csv", "import_key": ""}, []string{"import_key:import_key_invalid"}},
			{"key too long", map[string]any{"opted_out": true, "source": "csv", "import_key": strings.Repeat("k", 201)}, []string{"import_key:import_key_invalid"}},
			{"key control", map[string]any{"opted_out": true, "source": "csv", "import_key": "a\nb"}, []string{"import_key:import_key_invalid"}},
			{"bad source and key", map[string]any{"opted_out": true, "source": "meta", "import_key": "x"}, []string{"import_key:import_key_invalid", "source:source_invalid"}},
			{"at without source", map[string]any{"opted_out": true, "at": "2026-01-02T03:04:05Z"}, []string{"at:at_invalid"}},
			{"at malformed", map[string]any{"opted_out": true, "source": "csv", "at": "02/01/2026"}, []string{"at:at_invalid"}},
			{"at future", map[string]any{"opted_out": true, "source": "csv", "at": time.Now().Add(time.Hour).Format(time.RFC3339)}, []string{"at:at_invalid"}},
		} {
			r := env.Admin.Post(path, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", tc.name, r.Body)
			require.ElementsMatch(t, tc.want, r.FieldCodes(), tc.name)
		}
		require.Empty(t, history(), "a refused request records nothing")

		// A key of 200 characters is fine; the first request records, the replay answers the same fact.
		key := strings.Repeat("k", 198) + ":2"
		at := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
		first := env.Admin.Post(path, map[string]any{"opted_out": true, "source": "csv", "import_key": key, "detail": "planilha", "at": at.Format(time.RFC3339)})
		require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
		require.Empty(t, first.Header.Get("Idempotent-Replayed"))
		require.Equal(t, "csv", first.Str("source"))
		require.Equal(t, at.Format(time.RFC3339), first.Str("at"))
		again := env.Admin.Post(path, map[string]any{"opted_out": true, "source": "csv", "import_key": key, "detail": "planilha", "at": at.Format(time.RFC3339)})
		require.Equal(t, http.StatusCreated, again.Status, string(again.Body))
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		require.Equal(t, first.Str("id"), again.Str("id"))
		require.Len(t, history(), 1)
		c := env.Admin.Get(path[:strings.LastIndex(path, "/")])
		require.Equal(t, true, c.JSON()["marketing_opted_out"])

		// The same key on another contact is that contact's own row.
		r = env.Admin.Post("/api/v1/contacts", map[string]any{"phone": "11 97777-4321"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		other := env.Admin.Post("/api/v1/contacts/"+r.Str("id")+"/consent", map[string]any{"opted_out": true, "source": "csv", "import_key": key})
		require.Equal(t, http.StatusCreated, other.Status, string(other.Body))
		require.Empty(t, other.Header.Get("Idempotent-Replayed"))
		require.NotEqual(t, first.Str("id"), other.Str("id"))

		// Without source the fact is the API key's, as before.
		r = env.Admin.Post(path, map[string]any{"opted_out": false})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.Equal(t, "api", r.Str("source"))
	})
}
