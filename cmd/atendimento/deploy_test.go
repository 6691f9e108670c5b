package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
	"github.com/atendimento/atendimento/internal/store"
)

// No Docker engine runs in CI: these tests read the Dockerfile and docker-compose.yml and check
// them against the code (the variables FromEnv reads, the default paths, the listen port), and
// `make docker-steps` runs the Dockerfile's build steps as plain commands.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, COPY…
	Args string
}

// stage is one FROM and what follows it.
type stage struct {
	Name, From string
	Lines      []instruction
}

func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.Lines {
		if in.Cmd == cmd {
			out = append(out, in.Args)
		}
	}
	return out
}

func (s stage) one(t *testing.T, cmd string) string {
	t.Helper()
	all := s.all(cmd)
	require.Len(t, all, 1, "stage %s: one %s", s.Name, cmd)
	return all[0]
}

func parseDockerfile(t *testing.T, file string) []stage {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	var (
		stages []stage
		line   string
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if line == "" && (text == "" || strings.HasPrefix(text, "#")) {
			continue
		}
		if rest, ok := strings.CutSuffix(text, `\`); ok {
			line += rest + " "
			continue
		}
		line += text
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		line = ""
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			st := stage{From: f[0], Name: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.Name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		require.NotEmpty(t, stages, "%s before the first FROM", in.Cmd)
		stages[len(stages)-1].Lines = append(stages[len(stages)-1].Lines, in)
	}
	require.NoError(t, sc.Err())
	require.Empty(t, line, "a continuation at the end of the file")
	return stages
}

// copyFrom parses "COPY [--from=S] [--chown=U] SRC DEST".
func copyFrom(args string) (from, chown, src, dest string) {
	var rest []string
	for _, f := range strings.Fields(args) {
		switch {
		case strings.HasPrefix(f, "--from="):
			from = strings.TrimPrefix(f, "--from=")
		case strings.HasPrefix(f, "--chown="):
			chown = strings.TrimPrefix(f, "--chown=")
		default:
			rest = append(rest, f)
		}
	}
	return from, chown, strings.Join(rest[:len(rest)-1], " "), rest[len(rest)-1]
}

// defaults is the configuration of an empty environment.
func defaults(t *testing.T) app.Config {
	t.Helper()
	for _, k := range app.EnvVars() {
		t.Setenv(k, "")
	}
	cfg, err := app.FromEnv()
	require.NoError(t, err)
	return cfg
}

func TestDockerfile(t *testing.T) {
	cfg := defaults(t)
	stages := parseDockerfile(t, "../../Dockerfile")
	require.Len(t, stages, 3, "web (node), build (go), runtime")
	web, build, runtime := stages[0], stages[1], stages[2]
	require.Equal(t, "web", web.Name)
	require.True(t, strings.HasPrefix(web.From, "node:"), web.From)
	require.Equal(t, "build", build.Name)
	require.Equal(t, "golang:1.26", build.From)

	// The build stages call the Makefile's targets, which `make docker-steps` runs too: no
	// build command is written here a second time.
	var targets []string
	for _, st := range []stage{web, build} {
		require.Equal(t, "/src", st.one(t, "WORKDIR"), "docker-steps runs the RUN lines in the context's copy")
		for _, run := range st.all("RUN") {
			require.NotContains(t, run, "go build", "the Go build is `make build-static`")
			require.NotContains(t, run, "npm", "the SPA build is `make web-deps web-build`")
			require.NotContains(t, run, "&&", "one command a RUN line")
			if tgt, ok := strings.CutPrefix(run, "make "); ok {
				targets = append(targets, strings.Fields(tgt)[0])
			}
		}
	}
	require.Equal(t, []string{"web-deps", "web-build", "build-static"}, targets)
	makefile, err := os.ReadFile("../../Makefile")
	require.NoError(t, err)
	require.Regexp(t, `(?m)^build-static:\n\tCGO_ENABLED=0 \$\(GO\) build .*-o \$\(OUT\) ./cmd/atendimento$`, string(makefile))
	require.Regexp(t, `(?m)^docker-steps:\n\tscripts/docker-build-steps.sh$`, string(makefile))

	// The runtime stage: no toolchain, no shell, not root.
	for _, toolchain := range []string{"golang", "node", "alpine", "debian:", "ubuntu"} {
		require.NotContains(t, runtime.From, toolchain)
	}
	require.True(t, strings.HasPrefix(runtime.From, "gcr.io/distroless/static"), runtime.From)
	require.Empty(t, runtime.all("RUN"), "distroless has no shell")
	user := runtime.one(t, "USER")
	require.NotContains(t, []string{"root", "0", "0:0", "root:root"}, user)
	require.Equal(t, "65532:65532", user, "distroless's nonroot")

	workdir := runtime.one(t, "WORKDIR")
	entry := runtime.one(t, "ENTRYPOINT")
	var entrypoint []string
	require.NoError(t, json.Unmarshal([]byte(entry), &entrypoint), "exec form: %s", entry)
	copies := map[string]string{} // dest → stage:src
	for _, c := range runtime.all("COPY") {
		from, chown, src, dest := copyFrom(c)
		require.NotEmpty(t, from, "the runtime copies only what the build stages made: %s", c)
		require.NotEqual(t, "/src", src, "not the whole source")
		copies[dest] = from + ":" + src
		if dest == path.Join(workdir, path.Dir(store.DefaultSQLitePath)) {
			require.Equal(t, user, chown, "the data folder belongs to the user the server runs as")
		}
	}
	require.Equal(t, map[string]string{
		entrypoint[0]:                  "build:/src/out/atendimento",
		path.Join(workdir, cfg.WebDir): "web:/src/web/dist",
		path.Join(workdir, path.Dir(store.DefaultSQLitePath)): "build:/src/out/data",
	}, copies, "the binary, the SPA at WEB_DIR's default and the SQLite folder at its default, relative to WORKDIR")
	require.Equal(t, `["`+path.Join(workdir, path.Dir(store.DefaultSQLitePath))+`"]`, runtime.one(t, "VOLUME"))
	require.Equal(t, `["serve"]`, runtime.one(t, "CMD"))

	hc := runtime.one(t, "HEALTHCHECK")
	require.Contains(t, hc, `CMD ["`+entrypoint[0]+`", "healthcheck"]`, "`atendimento healthcheck` GETs /readyz (TestHealthcheck)")
	_, port, err := net.SplitHostPort(cfg.HTTPAddr)
	require.NoError(t, err)
	require.Equal(t, port, runtime.one(t, "EXPOSE"))
	require.Equal(t, "HTTP_ADDR="+cfg.HTTPAddr, runtime.one(t, "ENV"))

	ignore, err := os.ReadFile("../../.dockerignore")
	require.NoError(t, err)
	for _, want := range []string{".git", "**/node_modules", "web/dist", "bin", "data", "bench-out", "**/*.db", ".env"} {
		require.Contains(t, strings.Split(string(ignore), "\n"), want, ".dockerignore")
	}
}

// compose is the part of docker-compose.yml checked here.
type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       yaml.Node         `yaml:"build"`
		Restart     string            `yaml:"restart"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Command     []string          `yaml:"command"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestComposeFile(t *testing.T) {
	cfg := defaults(t)
	b, err := os.ReadFile("../../docker-compose.yml")
	require.NoError(t, err)
	var c compose
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	require.NoError(t, dec.Decode(&c))
	require.Len(t, c.Services, 2)
	pg, server := c.Services["postgres"], c.Services["server"]

	require.Equal(t, "postgres:15", pg.Image)
	require.NotNil(t, pg.Healthcheck)
	require.Contains(t, strings.Join(pg.Healthcheck.Test, " "), "pg_isready")

	var build string
	require.NoError(t, server.Build.Decode(&build), "build: . (the Dockerfile at the root)")
	require.Equal(t, ".", build)
	require.Equal(t, "service_healthy", server.DependsOn["postgres"].Condition)
	require.Nil(t, server.Healthcheck, "the image's HEALTHCHECK applies")
	for name, s := range map[string]string{"postgres": pg.Restart, "server": server.Restart} {
		require.Equal(t, "unless-stopped", s, name)
	}

	// Every variable the server is given is one it reads.
	known := app.EnvVars()
	for k := range server.Environment {
		require.True(t, slices.Contains(known, k), "docker-compose.yml sets %s, which the server does not read (app.EnvVars: %v)", k, known)
	}
	for _, k := range []string{"DATABASE_URL", "SECRET_KEY", "PUBLIC_URL", "BOOTSTRAP_ADMIN_EMAIL"} {
		require.Contains(t, server.Environment, k)
	}
	require.True(t, strings.HasPrefix(server.Environment["DATABASE_URL"], "postgres://"))
	require.Contains(t, server.Environment["DATABASE_URL"], "@postgres:5432/", "the postgres service")

	// Volumes are named and declared; the server's is the image's data folder.
	for name, s := range map[string][]string{"postgres": pg.Volumes, "server": server.Volumes} {
		for _, v := range s {
			vol, _, _ := strings.Cut(v, ":")
			require.Contains(t, c.Volumes, vol, "%s: %s is a named volume, declared", name, v)
		}
	}
	require.Equal(t, []string{"appdata:/app/" + path.Dir(store.DefaultSQLitePath)}, server.Volumes)
	require.Equal(t, []string{"pgdata:/var/lib/postgresql/data"}, pg.Volumes)

	_, port, err := net.SplitHostPort(cfg.HTTPAddr)
	require.NoError(t, err)
	require.Equal(t, []string{port + ":" + port}, server.Ports)
}
