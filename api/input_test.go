package api_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// rawDo sends a request as the demo admin with full control of the body and its headers (a
// body of unknown length goes out chunked); the response is still checked against openapi.yaml.
func rawDo(t *testing.T, env *apptest.Env, method, path, contentType string, body io.Reader) *apptest.Response {
	t.Helper()
	req, err := http.NewRequest(method, env.Server.URL+path, body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+env.Demo.APIKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := &apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	apptest.ValidateResponse(t, req, out)
	return out
}

// bodyRoute is a route that reads a JSON body.
type bodyRoute struct{ method, path string }

// bodyRoutes lists every route that binds a JSON body, with ids of the demo data.
func bodyRoutes(t *testing.T, env *apptest.Env) []bodyRoute {
	t.Helper()
	conv := start(t, env.Admin, startBody(env, "11 91234-5501"))
	users := items(t, env.Admin.Get("/api/v1/users"))
	user := users[0]["id"].(string)
	tpl := env.Demo.TemplateIDs["boas_vindas"]
	return []bodyRoute{
		{"POST", "/api/v1/auth/login"},
		{"POST", "/api/v1/users"},
		{"PATCH", "/api/v1/users/" + user},
		{"POST", "/api/v1/api-keys"},
		{"POST", "/api/v1/contacts"},
		{"PATCH", "/api/v1/contacts/" + env.Demo.ContactID},
		{"POST", "/api/v1/channels"},
		{"PATCH", "/api/v1/channels/" + env.Demo.ChannelID},
		{"POST", "/api/v1/teams"},
		{"PATCH", "/api/v1/teams/" + env.Demo.TeamIDs[0]},
		{"POST", "/api/v1/templates"},
		{"PATCH", "/api/v1/templates/" + tpl},
		{"POST", "/api/v1/templates/" + tpl + "/preview"},
		{"POST", "/api/v1/conversations"},
		{"POST", "/api/v1/conversations/" + conv + "/messages"},
		{"POST", "/api/v1/sandbox/channels/" + env.Demo.ChannelID + "/inbound"},
		{"PATCH", "/api/v1/account"},
		{"POST", "/api/v1/contacts/" + env.Demo.ContactID + "/consent"},
		{"POST", "/api/v1/webhook-subscriptions"},
	}
}

func nested(depth int) string {
	return `{"name":` + strings.Repeat(`{"a":`, depth-1) + `1` + strings.Repeat(`}`, depth-1) + `}`
}

// TestMalformedBodies sends every kind of broken body to every route that reads one: each gets a
// 400 or 413 problem with a clear code, never a 500, and nothing changes.
func TestMalformedBodies(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		big := `{"name":"` + strings.Repeat("a", 1<<20) + `"}`
		bodies := []struct {
			name        string
			contentType string
			body        string
			chunked     bool
			status      int
			code        string
		}{
			{"empty", "application/json", "", false, 400, "malformed_json"},
			{"whitespace only", "application/json", " \n\t ", false, 400, "malformed_json"},
			{"truncated", "application/json", `{"name": "x",`, false, 400, "malformed_json"},
			{"syntax error", "application/json", `{"name" "x"}`, false, 400, "malformed_json"},
			{"single quotes", "application/json", `{'name': 'x'}`, false, 400, "malformed_json"},
			{"trailing comma", "application/json", `{"name": "x",}`, false, 400, "malformed_json"},
			{"unknown field", "application/json", `{"campo_que_nao_existe": 1}`, false, 400, "unknown_field"},
			{"top-level array", "application/json", `[]`, false, 400, "wrong_type"},
			{"top-level string", "application/json", `"texto"`, false, 400, "wrong_type"},
			{"top-level number", "application/json", `42`, false, 400, "wrong_type"},
			{"invalid UTF-8", "application/json", "{\"name\": \"Jo\xe3o\"}", false, 400, "malformed_json"},
			{"100 levels deep", "application/json", nested(100), false, 400, "malformed_json"},
			{"10000 levels deep", "application/json", strings.Repeat("[", 10000), false, 400, "malformed_json"},
			{"trailing garbage", "application/json", `{} xyz`, false, 400, "malformed_json"},
			{"two objects", "application/json", `{}{}`, false, 400, "malformed_json"},
			{"trailing brace", "application/json", `{}}`, false, 400, "malformed_json"},
			{"trailing bracket", "application/json", `{}]`, false, 400, "malformed_json"},
			{"text/plain", "text/plain", `{}`, false, 415, "unsupported_media_type"},
			{"form", "application/x-www-form-urlencoded", `name=x`, false, 415, "unsupported_media_type"},
			{"multipart", "multipart/form-data; boundary=x", "--x--", false, 415, "unsupported_media_type"},
			{"JSON-like type", "application/jsonx", `{}`, false, 415, "unsupported_media_type"},
			{"unparseable type", "application/json; =", `{}`, false, 415, "unsupported_media_type"},
			{"over 1 MiB", "application/json", big, false, 413, "body_too_large"},
			{"over 1 MiB chunked", "application/json", big, true, 413, "body_too_large"},
		}
		for _, route := range bodyRoutes(t, env) {
			t.Run(route.method+" "+route.path, func(t *testing.T) {
				for _, b := range bodies {
					var rd io.Reader = strings.NewReader(b.body)
					if b.chunked {
						rd = io.MultiReader(rd) // hides the length: sent chunked
					}
					r := rawDo(t, env, route.method, route.path, b.contentType, rd)
					require.Equal(t, b.status, r.Status, "%s: %s", b.name, r.Body)
					require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), b.name)
					require.Equal(t, b.code, r.Str("code"), "%s: %s", b.name, r.Body)
				}
			})
		}
		// Nothing was created or changed by any of it.
		require.Len(t, items(t, env.Admin.Get("/api/v1/contacts")), 3)
		require.Len(t, items(t, env.Admin.Get("/api/v1/conversations")), 1)
		require.Equal(t, "João da Silva", env.Admin.Get("/api/v1/contacts/"+env.Demo.ContactID).Str("name"))
	})
}

func TestBodyErrorsNameTheField(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		tests := []struct {
			name, path string
			body       string
			code       string
			field      string
		}{
			{"unknown field", "/api/v1/contacts", `{"name": "X", "telefone": "11 98765-4321"}`, "unknown_field", "telefone"},
			{"unknown nested field", "/api/v1/conversations", `{"contact": {"phone": "11 98765-4321", "cpf": "1"}}`, "unknown_field", "cpf"},
			{"string for a string field given a number", "/api/v1/contacts", `{"name": 5, "phone": "11 98765-4399"}`, "wrong_type", "name"},
			{"object for a string", "/api/v1/contacts", `{"phone": {"ddd": 11}}`, "wrong_type", "phone"},
			{"string for an object", "/api/v1/contacts", `{"phone": "11 98765-4399", "attributes": "vip"}`, "wrong_type", "attributes"},
			{"string for a boolean", "/api/v1/channels/{channel}", `{"active": "false"}`, "wrong_type", "active"},
			{"string for a list", "/api/v1/teams", `{"name": "Nova", "channel_ids": "todos"}`, "wrong_type", "channel_ids"},
			{"nested wrong type", "/api/v1/conversations", `{"contact": {"phone": 11987654321}}`, "wrong_type", "contact.phone"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				method := http.MethodPost
				path := tc.path
				if strings.Contains(path, "{channel}") {
					method, path = http.MethodPatch, strings.ReplaceAll(path, "{channel}", env.Demo.ChannelID)
				}
				r := env.Admin.Do(method, path, tc.body)
				problem(t, r, http.StatusBadRequest, tc.code)
				require.Equal(t, []string{tc.field + ":" + tc.code}, r.FieldCodes())
			})
		}

		// A charset parameter and upper-case media type are still JSON.
		for _, ct := range []string{"application/json; charset=utf-8", "Application/JSON"} {
			r := rawDo(t, env, http.MethodPost, "/api/v1/contacts", ct, strings.NewReader(`{"name": "Teste", "phone": "11 95555-0000"}`))
			require.Equal(t, http.StatusCreated, r.Status, "%s: %s", ct, r.Body)
			require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/contacts/"+r.Str("id")).Status)
		}
		// Exactly 1 MiB is accepted as far as the body goes.
		head := `{"name": "X", "phone": "11 95555-0001"`
		body := head + strings.Repeat(" ", 1<<20-len(head)-1) + "}"
		require.Len(t, body, 1<<20)
		r := rawDo(t, env, http.MethodPost, "/api/v1/contacts", "application/json", bytes.NewReader([]byte(body)))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	})
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		for _, tc := range []struct {
			method, path string
			status       int
			code         string
		}{
			{"GET", "/api/v1/nada", 404, "route_not_found"},
			{"POST", "/api/v1/nada", 404, "route_not_found"},
			{"GET", "/api/v2/contacts", 404, "route_not_found"},
			{"GET", "/nada", 404, "route_not_found"},
			// Echo lets a trailing :id swallow the rest of the path, so these reach the handler
			// (as the id "<uuid>/extra", which no row has) or the group's not-found route: still
			// a 404 problem, with the handler's code.
			{"GET", "/api/v1/contacts/" + env.Demo.ContactID + "/extra", 404, ""},
			{"PUT", "/api/v1/contacts/" + env.Demo.ContactID, 404, ""},
			{"DELETE", "/api/v1/contacts", 404, ""},
		} {
			t.Run(tc.method+" "+tc.path, func(t *testing.T) {
				r := env.Admin.Do(tc.method, tc.path, nil)
				require.Equal(t, tc.status, r.Status, string(r.Body))
				require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
				require.Equal(t, float64(tc.status), r.JSON()["status"])
				require.NotEmpty(t, r.Str("code"))
				if tc.code != "" {
					require.Equal(t, tc.code, r.Str("code"))
				}
			})
		}
		// Without credentials an unknown route under /api/v1 is a 401 problem (outside the
		// contract, so not checked against it), never a 500.
		resp, err := http.Get(env.Server.URL + "/api/v1/nada")
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	})
}

func TestContactNameControlCharacters(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		for i, name := range []string{"João\x00", "João\nSilva", "João\tSilva", "João\x1b[31m", "João\x7f", "João\rSilva"} {
			// A NUL is refused in every string of every body, before the contact's own rules.
			code := "name_invalid"
			if strings.Contains(name, "\x00") {
				code = "invalid_characters"
			}
			r := env.Admin.Post("/api/v1/contacts", map[string]any{"name": name, "phone": "11 95555-100" + string(rune('0'+i))})
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			require.Equal(t, []string{"name:" + code}, r.FieldCodes(), "%q", name)

			r = env.Admin.Patch("/api/v1/contacts/"+env.Demo.ContactID, map[string]any{"name": name})
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			require.Equal(t, []string{"name:" + code}, r.FieldCodes(), "%q", name)

			body := startBody(env, "11 95555-200"+string(rune('0'+i)))
			body["contact"].(map[string]any)["name"] = name
			r = env.Admin.Post("/api/v1/conversations", body)
			problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
			require.Equal(t, []string{"contact.name:" + code}, r.FieldCodes(), "%q", name)
		}
		r := env.Admin.Post("/api/v1/contacts", map[string]any{"name": strings.Repeat("a", 201), "phone": "11 95555-1100"})
		problem(t, r, http.StatusUnprocessableEntity, "validation_failed")
		require.Equal(t, []string{"name:name_invalid"}, r.FieldCodes())
		require.Len(t, items(t, env.Admin.Get("/api/v1/contacts")), 2)
		require.Empty(t, items(t, env.Admin.Get("/api/v1/conversations")))
	})
}

// TestUnknownAPIPathsWithSPA: with the SPA served (as in production), a path under /api/ that no
// route serves is still the API's 404 problem, never the SPA's index.html with 200.
func TestUnknownAPIPathsWithSPA(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, withSPA(t), func(t *testing.T, env *apptest.Env) {
		for _, tc := range []struct{ method, path string }{
			{"GET", "/api/v1/nada"},
			{"GET", "/api/v1/contatos/123"},
			{"POST", "/api/v1/nada"},
			{"PATCH", "/api/v1/nada"},
			{"GET", "/api/v2/contacts"},
			{"GET", "/api/"},
			{"GET", "/api"},
			{"GET", "/webhooks/nada"},
		} {
			r := env.Admin.Do(tc.method, tc.path, nil)
			problem(t, r, http.StatusNotFound, "route_not_found")
			require.NotContains(t, string(r.Body), "<!doctype", "%s %s", tc.method, tc.path)
		}
		// The SPA's own client-side routes still get index.html.
		for _, path := range []string{"/", "/atendimentos", "/apis", "/config/api-keys"} {
			resp, err := http.Get(env.Server.URL + path)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusOK, resp.StatusCode, path)
			require.Contains(t, string(body), "<!doctype html>", path)
		}
	})
}

// TestBodylessPostNeedsNoContentType: the 415 is for a body of another type on a route that reads
// JSON; a POST that takes no body (close, cancel, logout) works without any Content-Type, and a
// JSON body without one is still read as JSON.
func TestBodylessPostNeedsNoContentType(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		conv := start(t, env.Admin, startBody(env, "11 91234-5601"))
		r := rawDo(t, env, http.MethodPost, "/api/v1/conversations/"+conv+"/close", "", nil)
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		r = rawDo(t, env, http.MethodPost, "/api/v1/contacts", "", strings.NewReader(`{"name": "Sem tipo", "phone": "11 95555-0101"}`))
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		r = rawDo(t, env, http.MethodPost, "/api/v1/contacts", "text/plain; charset=utf-8", strings.NewReader(`{"name": "Texto", "phone": "11 95555-0102"}`))
		require.Equal(t, http.StatusUnsupportedMediaType, r.Status, string(r.Body))
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		require.Equal(t, "unsupported_media_type", r.Str("code"))
		require.Equal(t, float64(http.StatusUnsupportedMediaType), r.JSON()["status"])
	})
}
