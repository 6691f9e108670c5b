package api_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// The SPA's build writes a brotli and a gzip copy beside each large file; the server sends the
// copy the browser accepts, as it is, and the file itself to anyone else.
func TestSPAServesPrecompressedCopies(t *testing.T) {
	t.Parallel()
	dir := spaDir(t)
	js := filepath.Join(dir, "assets", "index-AbC123.js")
	require.NoError(t, os.WriteFile(js+".br", []byte("BROTLI BYTES"), 0o600))
	require.NoError(t, os.WriteFile(js+".gz", []byte("GZIP BYTES"), 0o600))
	apptest.EachWith(t, apptest.Options{Configure: func(c *app.Config) { c.WebDir = dir; c.NoDispatcher = true }}, func(t *testing.T, env *apptest.Env) {
		get := func(path, accept string, header ...string) (*http.Response, string) {
			t.Helper()
			req, err := http.NewRequest(http.MethodGet, env.Server.URL+path, nil)
			require.NoError(t, err)
			req.Header.Set("Accept-Encoding", accept) // set, so Go's client does not add gzip and decode
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return resp, string(b)
		}
		for _, c := range []struct{ accept, encoding, body string }{
			{"gzip, deflate, br, zstd", "br", "BROTLI BYTES"}, // Chromium's
			{"gzip, deflate", "gzip", "GZIP BYTES"},
			{"br;q=0, gzip;q=0.5", "gzip", "GZIP BYTES"},
			{"*", "br", "BROTLI BYTES"},
			{"*, br;q=0", "gzip", "GZIP BYTES"},
			{"identity", "", "console.log(1)"},
			{"", "", "console.log(1)"},
		} {
			resp, body := get("/assets/index-AbC123.js", c.accept)
			require.Equal(t, http.StatusOK, resp.StatusCode, c.accept)
			require.Equal(t, c.encoding, resp.Header.Get("Content-Encoding"), c.accept)
			require.Equal(t, c.body, body, c.accept)
			require.Contains(t, resp.Header.Get("Content-Type"), "text/javascript", c.accept)
			require.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"), c.accept)
			require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"), c.accept)
			require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), c.accept)
		}
		// A revalidation of the compressed copy is answered by its modification time.
		resp, _ := get("/assets/index-AbC123.js", "br")
		resp, body := get("/assets/index-AbC123.js", "br", "If-Modified-Since", resp.Header.Get("Last-Modified"))
		require.Equal(t, http.StatusNotModified, resp.StatusCode)
		require.Empty(t, body)

		// A file without copies is served as it is, with no Vary.
		resp, body = get("/favicon.svg", "br, gzip")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Empty(t, resp.Header.Get("Content-Encoding"))
		require.Empty(t, resp.Header.Get("Vary"))
		require.Equal(t, "<svg/>", body)
	})
}
