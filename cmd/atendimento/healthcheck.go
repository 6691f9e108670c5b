package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
)

// healthcheck asks the server on this machine whether it is ready (GET /readyz on HTTP_ADDR's
// port) and fails unless it answers 200. It is the Docker image's HEALTHCHECK: the runtime image
// has no shell, curl or wget.
func healthcheck(ctx context.Context, cfg app.Config, stdout io.Writer) error {
	u, err := readyzURL(cfg.HTTPAddr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d: %s", u, resp.StatusCode, body)
	}
	_, err = fmt.Fprintf(stdout, "%s", body)
	return err
}

// readyzURL is the loopback URL of /readyz for a listen address: a server listening on every
// interface (":8080", "0.0.0.0:8080", "[::]:8080") is asked at 127.0.0.1.
func readyzURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("healthcheck: HTTP_ADDR=%s: %w", addr, err)
	}
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
