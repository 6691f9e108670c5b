package e2e

import (
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// dbProxy is a TCP proxy between the App and Postgres that a test can break: Pause holds every
// byte (existing and new connections stall, like a frozen server or a network black hole),
// Cut resets every connection and refuses new ones (like a restarting server), Strand leaves
// the current connections stalled forever while new ones work (like a failover behind a
// stateful firewall), Restore forwards again.
type dbProxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	paused   chan struct{} // non-nil while paused; closed to resume
	refusing bool
	conns    map[*proxyConn]bool
	done     chan struct{}
}

type proxyConn struct {
	client, server net.Conn
	stranded       bool
}

// newDBProxy starts a proxy to target (host:port), closed when the test ends.
func newDBProxy(t *testing.T, target string) *dbProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &dbProxy{ln: ln, target: target, conns: map[*proxyConn]bool{}, done: make(chan struct{})}
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// proxiedURL returns dbURL with its host and port replaced by the proxy's.
func (p *dbProxy) proxiedURL(t *testing.T, dbURL string) string {
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	u.Host = p.ln.Addr().String()
	return u.String()
}

func (p *dbProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refusing := p.refusing
		p.mu.Unlock()
		if refusing {
			reset(c)
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			reset(c)
			continue
		}
		pc := &proxyConn{client: c, server: s}
		p.mu.Lock()
		p.conns[pc] = true
		p.mu.Unlock()
		go p.pump(pc, c, s)
		go p.pump(pc, s, c)
	}
}

// pump copies src to dst, holding each chunk while the proxy is paused or the connection stranded.
func (p *dbProxy) pump(pc *proxyConn, src, dst net.Conn) {
	defer p.drop(pc)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.gate(pc) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// gate waits until the connection may forward; false when the proxy is closing.
func (p *dbProxy) gate(pc *proxyConn) bool {
	for {
		p.mu.Lock()
		paused, stranded := p.paused, pc.stranded
		p.mu.Unlock()
		switch {
		case stranded:
			<-p.done
			return false
		case paused != nil:
			select {
			case <-paused:
			case <-p.done:
				return false
			}
		default:
			return true
		}
	}
}

func (p *dbProxy) drop(pc *proxyConn) {
	p.mu.Lock()
	stranded := pc.stranded
	if !stranded {
		delete(p.conns, pc)
	}
	p.mu.Unlock()
	if stranded {
		return // a black hole neither answers nor closes
	}
	_ = pc.client.Close()
	_ = pc.server.Close()
}

// Pause holds every byte in both directions until Restore.
func (p *dbProxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused == nil {
		p.paused = make(chan struct{})
	}
}

// Cut resets every connection and refuses new ones until Restore.
func (p *dbProxy) Cut() {
	p.mu.Lock()
	p.refusing = true
	conns := p.conns
	p.conns = map[*proxyConn]bool{}
	p.mu.Unlock()
	for pc := range conns {
		reset(pc.client)
		_ = pc.server.Close()
	}
}

// Strand leaves the current connections stalled for good on the App's side (they neither
// answer nor close) while their server sessions end, as after a failover, and lets new
// connections through.
func (p *dbProxy) Strand() {
	p.mu.Lock()
	var servers []net.Conn
	for pc := range p.conns {
		pc.stranded = true
		servers = append(servers, pc.server)
	}
	p.mu.Unlock()
	for _, s := range servers {
		_ = s.Close() // the old server's sessions (and their locks) are gone
	}
	p.Restore()
}

// Restore forwards again (stranded connections stay stalled).
func (p *dbProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refusing = false
	if p.paused != nil {
		close(p.paused)
		p.paused = nil
	}
}

func (p *dbProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	conns := p.conns
	p.conns = map[*proxyConn]bool{}
	p.mu.Unlock()
	for pc := range conns {
		_ = pc.client.Close()
		_ = pc.server.Close()
	}
}

// reset closes c with a TCP RST rather than a FIN, as a dead server's host would answer.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
