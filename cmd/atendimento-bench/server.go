package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// buildServer builds ./cmd/atendimento (the product's main, unchanged) into dir.
func buildServer(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "atendimento")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/atendimento/atendimento/cmd/atendimento")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/atendimento: %v\n%s", err, out)
	}
	return bin, nil
}

// serverProc is one running server process.
type serverProc struct {
	cmd     *exec.Cmd
	URL     string
	Ready   time.Duration // exec → first /readyz 200
	logPath string
	done    chan struct{}
}

// serverOpts are the environment knobs a measurement sets on top of the defaults.
type serverOpts struct {
	ChannelRate int    // CHANNEL_RATE; 0 keeps the product's default (80/s)
	Bin         string // the server binary; "" is the one built from the working tree
	Env         []string
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startServer runs `atendimento serve --demo=false` on db with the fake Graph API, and waits for
// /readyz to answer 200.
func (b *bench) startServer(ctx context.Context, db *benchDB, o serverOpts) (*serverProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	b.logSeq++
	logPath := filepath.Join(b.outDir, "server-logs", fmt.Sprintf("%03d-%s.log", b.logSeq, db.Name))
	_ = os.MkdirAll(filepath.Dir(logPath), 0o755)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	bin := b.serverBin
	if o.Bin != "" {
		bin = o.Bin
	}
	cmd := exec.Command(bin, "serve", "--demo=false")
	env := append(os.Environ(), "DATABASE_URL="+db.URL, "SECRET_KEY="+benchSecret, "WHATSAPP_API_BASE_URL="+b.fake.URL,
		"HTTP_ADDR="+addr, "WEB_DIR=", "TEMPLATE_SYNC_INTERVAL=0",
		// The per-API-key rate limit (default 50/s) would measure the limiter, not the server.
		"API_KEY_RATE=0")
	if o.ChannelRate > 0 {
		env = append(env, "CHANNEL_RATE="+strconv.Itoa(o.ChannelRate))
	}
	cmd.Env = append(env, o.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &serverProc{cmd: cmd, URL: "http://" + addr, logPath: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(s.done) }()
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := c.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.Ready = time.Since(t0)
				break
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("server exited before /readyz: see %s", logPath)
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("server not ready within 60 s: see %s", logPath)
		}
		time.Sleep(2 * time.Millisecond)
	}
	c.CloseIdleConnections()
	return s, nil
}

// Stop sends SIGTERM (a graceful shutdown) and kills the process after 15 s.
func (s *serverProc) Stop() {
	if s == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *serverProc) Pid() int { return s.cmd.Process.Pid }

// explain adds to err that the server process is gone, when it is (on a shared machine something
// else may have signalled it), with its log.
func (s *serverProc) explain(err error) error {
	select {
	case <-s.done:
		return fmt.Errorf("%w (the server process exited: see %s)", err, s.logPath)
	case <-time.After(100 * time.Millisecond):
		return err
	}
}

// memStatus reads VmRSS and VmHWM (peak RSS) of the process in bytes from /proc/<pid>/status.
func memStatus(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		for _, k := range []struct {
			name string
			dst  *int64
		}{{"VmRSS:", &rss}, {"VmHWM:", &hwm}} {
			if rest, ok := strings.CutPrefix(line, k.name); ok {
				fields := strings.Fields(rest)
				if len(fields) >= 1 {
					kb, _ := strconv.ParseInt(fields[0], 10, 64)
					*k.dst = kb << 10
				}
			}
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("no VmRSS in /proc status")
	}
	return rss, hwm, sc.Err()
}
