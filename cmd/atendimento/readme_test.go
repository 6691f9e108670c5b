package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// readmeExamples returns the fenced blocks of README.md that follow a
// "<!-- readme-test: LANG" comment, by LANG (sh or go), in order.
func readmeExamples(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("../../README.md")
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	lang, in := "", false
	var block strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case in && strings.HasPrefix(line, "```"):
			out[lang] = append(out[lang], block.String())
			block.Reset()
			lang, in = "", false
		case in:
			block.WriteString(line + "\n")
		case lang != "":
			require.True(t, strings.HasPrefix(line, "```"), "a readme-test comment must be followed by a fenced block, not %q", line)
			in = true
		default:
			if rest, ok := strings.CutPrefix(line, "<!-- readme-test: "); ok {
				lang = strings.Fields(rest)[0]
			}
		}
	}
	require.NoError(t, sc.Err())
	require.False(t, in, "unclosed block")
	return out
}

// TestReadmeExamples runs the README's curl, Go client and CSV examples against the demo data,
// as a reader would after `make run`, so that they cannot rot.
func TestReadmeExamples(t *testing.T) {
	t.Parallel()
	examples := readmeExamples(t)
	require.Len(t, examples["sh"], 4, "the curl, CSV, CSV with header media and consent CSV examples")
	require.Len(t, examples["go"], 1, "the Go client example")
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the README examples need it", tool)
		}
	}
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)

	// The examples call ./bin/atendimento, where `make build` writes it, from the repository's
	// folder; here each example's folder has a bin/atendimento that is this test binary running
	// main (see TestMain). Nothing named atendimento is added to the PATH, so an example that
	// called the binary any other way would fail.
	self, err := filepath.Abs(os.Args[0])
	require.NoError(t, err)
	wrapper := []byte("#!/bin/sh\nATENDIMENTO_TEST_MAIN=1 exec '" + self + "' \"$@\"\n")

	// The Go example is built inside the module (testdata is no package of it).
	require.NoError(t, os.MkdirAll("testdata", 0o755))
	goDir, err := os.MkdirTemp("testdata", "readme-go-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(goDir); _ = os.Remove("testdata") })
	require.NoError(t, os.WriteFile(filepath.Join(goDir, "main.go"), []byte(examples["go"][0]), 0o644))

	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		environ := append(os.Environ(), "ATENDIMENTO_URL="+env.Server.URL, "ATENDIMENTO_API_KEY="+env.Demo.APIKey)
		sh := func(script string) string {
			t.Helper()
			dir := t.TempDir()
			require.NoError(t, os.Mkdir(filepath.Join(dir, "bin"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "bin", "atendimento"), wrapper, 0o755))
			cmd := exec.Command("bash", "-c", "set -euo pipefail\n"+script)
			cmd.Dir, cmd.Env = dir, environ
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			require.NoError(t, cmd.Run(), "%s\n---\n%s", script, out.String())
			return out.String()
		}

		// curl: the conversation with João starts and waits; the same key gives it back.
		out := sh(examples["sh"][0])
		require.Contains(t, out, `"status": "waiting"`, out)
		require.Contains(t, out, `"rendered_text": "Olá João, aqui é Ana da Loja Demo.`, out)
		again := sh(examples["sh"][0])
		require.Equal(t, jsonField(t, out, "id"), jsonField(t, again, "id"), "the Idempotency-Key replays the start")

		// The Go client.
		cmd := exec.Command(goBin, "run", "./"+filepath.ToSlash(goDir))
		cmd.Env = environ
		goOut, err := cmd.CombinedOutput()
		require.NoError(t, err, string(goOut))
		require.Regexp(t, `^[0-9a-f-]{36} waiting\n$`, string(goOut))

		// The CSV command, with the channel found by the curl example.
		out = sh(examples["sh"][0] + examples["sh"][1])
		require.Contains(t, out, "clientes.csv: 2 rows, 2 valid, 0 invalid")
		require.Contains(t, out, "started: 2\nalready open: 0\nfailed: 0\ninvalid: 0\n")
		require.Regexp(t, `\n2,11 91234-0001,started,[0-9a-f-]{36},\n3,\(21\) 99876-0002,started,[0-9a-f-]{36},\n`, out)

		// The CSV command with a header_media column: a local file uploaded, and a link.
		out = sh(examples["sh"][0] + examples["sh"][2])
		require.Contains(t, out, "promo_foto\n")
		require.Contains(t, out, "ofertas.csv: 2 rows, 2 valid, 0 invalid")
		require.Contains(t, out, "started: 2\nalready open: 0\nfailed: 0\ninvalid: 0\n")
		require.Regexp(t, `\n2,11 91234-0003,started,[0-9a-f-]{36},\n3,21 99876-0004,started,[0-9a-f-]{36},\n`, out)

		// The consent CSV command, twice: the second run records nothing again.
		out = sh(examples["sh"][3])
		require.Contains(t, out, "consentimento.csv: 2 rows, 2 valid, 0 invalid")
		require.Contains(t, out, "recorded: 2 ")
		require.Regexp(t, `\n2,11 91234-0001,recorded,[0-9a-f-]{36},\n3,\(21\) 99876-0002,recorded,[0-9a-f-]{36},\n`, out)
		out = sh(examples["sh"][3])
		require.Contains(t, out, "recorded: 0 (0 new contacts)\nalready recorded: 2\n")
	})
}

// jsonField finds `"name": "value"` in jq's pretty output.
func jsonField(t *testing.T, out, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), `"`+name+`": "`); ok {
			return strings.TrimSuffix(strings.TrimSuffix(v, ","), `"`)
		}
	}
	t.Fatalf("no %q in %s", name, out)
	return ""
}
