package main

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pgProxy sits between a client and Postgres on loopback and records the statements the client
// runs, with their parameters decoded: simple queries (Q) as they are, and extended-protocol
// executions (Parse/Bind) as the prepared text and the bound values. It is how the bench learns
// which SQL one conversation start runs, to replay the same statements with pgbench.
type pgProxy struct {
	ln       net.Listener
	upstream string // host:port of Postgres

	mu        sync.Mutex
	recording bool
	steps     []sqlStep
	trips     int // round trips since record: Syncs and simple queries, each awaits a ReadyForQuery
}

// sqlStep is one statement executed by the client.
type sqlStep struct {
	SQL    string
	Simple bool      // a simple query (no parameters)
	Params []sqlParm // the bound values of an extended-protocol execution
}

// sqlParm is one bound value: its type OID and its value in Postgres' text form (Null for NULL).
type sqlParm struct {
	OID  uint32
	Text string
	Null bool
}

func newPGProxy(upstream string) (*pgProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &pgProxy{ln: ln, upstream: upstream}
	go p.accept()
	return p, nil
}

func (p *pgProxy) Addr() string { return p.ln.Addr().String() }
func (p *pgProxy) Close()       { _ = p.ln.Close() }

// record starts recording; take stops it and returns what was recorded.
func (p *pgProxy) record() {
	p.mu.Lock()
	p.recording, p.steps, p.trips = true, nil, 0
	p.mu.Unlock()
}

// recorded is how many statements were recorded since record.
func (p *pgProxy) recorded() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.steps)
}

// roundTrips is how many round trips were recorded since record (also after take).
func (p *pgProxy) roundTrips() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.trips
}

// trip counts one round trip.
func (p *pgProxy) trip() {
	p.mu.Lock()
	if p.recording {
		p.trips++
	}
	p.mu.Unlock()
}

func (p *pgProxy) take() []sqlStep {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.recording = false
	out := p.steps
	p.steps = nil
	return out
}

func (p *pgProxy) add(s sqlStep) {
	p.mu.Lock()
	if p.recording {
		p.steps = append(p.steps, s)
	}
	p.mu.Unlock()
}

func (p *pgProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

// proxyConn is the per-connection state: prepared statements by name and the parameter types
// Postgres described for them.
type proxyConn struct {
	mu        sync.Mutex
	stmts     map[string]string   // name → SQL
	oids      map[string][]uint32 // name → parameter types (from ParameterDescription)
	describes []string            // statements described, waiting for their ParameterDescription
}

func (p *pgProxy) serve(client net.Conn) {
	defer client.Close()
	server, err := net.DialTimeout("tcp", p.upstream, 10*time.Second)
	if err != nil {
		return
	}
	defer server.Close()
	// Startup: answer SSL and GSS encryption requests with 'N' and forward the startup message.
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(client, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		code := binary.BigEndian.Uint32(hdr[4:])
		if n < 8 || n > 1<<16 {
			return
		}
		rest := make([]byte, n-8)
		if _, err := io.ReadFull(client, rest); err != nil {
			return
		}
		if code == 80877103 || code == 80877104 { // SSLRequest, GSSENCRequest
			if _, err := client.Write([]byte{'N'}); err != nil {
				return
			}
			continue
		}
		if _, err := server.Write(append(hdr[:], rest...)); err != nil {
			return
		}
		break
	}
	pc := &proxyConn{stmts: map[string]string{}, oids: map[string][]uint32{}}
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client, pc.backend); done <- struct{}{} }()
	go func() { p.pipe(client, server, func(t byte, b []byte) { p.frontend(pc, t, b) }); done <- struct{}{} }()
	<-done
}

// pipe copies typed messages from src to dst, showing each to inspect first.
func (p *pgProxy) pipe(src, dst net.Conn, inspect func(t byte, body []byte)) {
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(src, hdr[:]); err != nil {
			_ = dst.Close()
			return
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n < 4 {
			_ = dst.Close()
			return
		}
		msg := make([]byte, 5+n-4)
		copy(msg, hdr[:])
		if _, err := io.ReadFull(src, msg[5:]); err != nil {
			_ = dst.Close()
			return
		}
		inspect(hdr[0], msg[5:])
		if _, err := dst.Write(msg); err != nil {
			_ = src.Close()
			return
		}
	}
}

func (pc *proxyConn) backend(t byte, b []byte) {
	if t != 't' { // ParameterDescription
		return
	}
	r := reader{b: b}
	n := int(r.int16())
	oids := make([]uint32, n)
	for i := range oids {
		oids[i] = uint32(r.int32())
	}
	pc.mu.Lock()
	if len(pc.describes) > 0 {
		name := pc.describes[0]
		pc.describes = pc.describes[1:]
		pc.oids[name] = oids
	}
	pc.mu.Unlock()
}

func (p *pgProxy) frontend(pc *proxyConn, t byte, b []byte) {
	r := reader{b: b}
	switch t {
	case 'Q':
		p.add(sqlStep{SQL: r.cstring(), Simple: true})
		p.trip()
	case 'S': // Sync: the end of an extended-protocol exchange, answered by ReadyForQuery
		p.trip()
	case 'P':
		name, query := r.cstring(), r.cstring()
		n := int(r.int16())
		oids := make([]uint32, n)
		for i := range oids {
			oids[i] = uint32(r.int32())
		}
		pc.mu.Lock()
		pc.stmts[name] = query
		if n > 0 {
			pc.oids[name] = oids
		} else {
			delete(pc.oids, name)
		}
		pc.mu.Unlock()
	case 'D':
		kind, name := r.byte(), r.cstring()
		if kind == 'S' {
			pc.mu.Lock()
			pc.describes = append(pc.describes, name)
			pc.mu.Unlock()
		}
	case 'B':
		_, stmt := r.cstring(), r.cstring()
		nf := int(r.int16())
		formats := make([]int16, nf)
		for i := range formats {
			formats[i] = r.int16()
		}
		np := int(r.int16())
		pc.mu.Lock()
		query, oids := pc.stmts[stmt], pc.oids[stmt]
		pc.mu.Unlock()
		step := sqlStep{SQL: query, Params: make([]sqlParm, np)}
		for i := range np {
			l := r.int32()
			var oid uint32
			if i < len(oids) {
				oid = oids[i]
			}
			if l < 0 {
				step.Params[i] = sqlParm{OID: oid, Null: true}
				continue
			}
			v := r.bytes(int(l))
			format := int16(0)
			switch {
			case nf == 1:
				format = formats[0]
			case i < nf:
				format = formats[i]
			}
			if format == 0 {
				step.Params[i] = sqlParm{OID: oid, Text: string(v)}
				continue
			}
			text, err := decodeBinary(oid, v)
			if err != nil {
				text = "<" + err.Error() + ">"
			}
			step.Params[i] = sqlParm{OID: oid, Text: text}
		}
		p.add(step)
	}
}

// reader reads the fields of a protocol message; a short message reads as zeros.
type reader struct {
	b   []byte
	off int
}

func (r *reader) byte() byte {
	if r.off >= len(r.b) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *reader) int16() int16 {
	if r.off+2 > len(r.b) {
		r.off = len(r.b)
		return 0
	}
	v := int16(binary.BigEndian.Uint16(r.b[r.off:]))
	r.off += 2
	return v
}

func (r *reader) int32() int32 {
	if r.off+4 > len(r.b) {
		r.off = len(r.b)
		return 0
	}
	v := int32(binary.BigEndian.Uint32(r.b[r.off:]))
	r.off += 4
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || r.off+n > len(r.b) {
		r.off = len(r.b)
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

func (r *reader) cstring() string {
	i := r.off
	for i < len(r.b) && r.b[i] != 0 {
		i++
	}
	s := string(r.b[r.off:i])
	r.off = min(i+1, len(r.b))
	return s
}

// Type OIDs the decoder and the script writer know.
const (
	oidBool        = 16
	oidBytea       = 17
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidVarchar     = 1043
	oidDate        = 1082
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// decodeBinary renders a binary-format parameter in Postgres' text form.
func decodeBinary(oid uint32, v []byte) (string, error) {
	switch oid {
	case oidBool:
		if len(v) == 1 {
			return strconv.FormatBool(v[0] != 0), nil
		}
	case oidInt2:
		if len(v) == 2 {
			return strconv.Itoa(int(int16(binary.BigEndian.Uint16(v)))), nil
		}
	case oidInt4:
		if len(v) == 4 {
			return strconv.Itoa(int(int32(binary.BigEndian.Uint32(v)))), nil
		}
	case oidInt8:
		if len(v) == 8 {
			return strconv.FormatInt(int64(binary.BigEndian.Uint64(v)), 10), nil
		}
	case oidFloat4:
		if len(v) == 4 {
			return strconv.FormatFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(v))), 'g', -1, 32), nil
		}
	case oidFloat8:
		if len(v) == 8 {
			return strconv.FormatFloat(math.Float64frombits(binary.BigEndian.Uint64(v)), 'g', -1, 64), nil
		}
	case oidText, oidVarchar, oidJSON, 19, 18, 1042:
		return string(v), nil
	case oidJSONB:
		if len(v) >= 1 && v[0] == 1 {
			return string(v[1:]), nil
		}
	case oidBytea:
		return `\x` + hex.EncodeToString(v), nil
	case oidUUID:
		if len(v) == 16 {
			h := hex.EncodeToString(v)
			return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
		}
	case oidTimestamptz, oidTimestamp:
		if len(v) == 8 {
			us := int64(binary.BigEndian.Uint64(v))
			t := pgEpoch.Add(time.Duration(us) * time.Microsecond)
			if oid == oidTimestamp {
				return t.Format("2006-01-02 15:04:05.999999"), nil
			}
			return t.Format("2006-01-02 15:04:05.999999Z07:00"), nil
		}
	case oidDate:
		if len(v) == 4 {
			return pgEpoch.AddDate(0, 0, int(int32(binary.BigEndian.Uint32(v)))).Format("2006-01-02"), nil
		}
	case oidNumeric:
		return decodeNumeric(v)
	}
	return "", fmt.Errorf("undecodable binary parameter (oid %d, %d bytes)", oid, len(v))
}

// decodeNumeric renders Postgres' binary numeric (base-10000 digits) as decimal text.
func decodeNumeric(v []byte) (string, error) {
	if len(v) < 8 {
		return "", errors.New("short numeric")
	}
	r := reader{b: v}
	ndigits, weight, sign, dscale := int(r.int16()), int(r.int16()), uint16(r.int16()), int(r.int16())
	if sign == 0xC000 {
		return "NaN", nil
	}
	n := new(big.Int)
	for range ndigits {
		n.Mul(n, big.NewInt(10000))
		n.Add(n, big.NewInt(int64(r.int16())))
	}
	// value = n × 10000^(weight - ndigits + 1)
	exp := 4 * (weight - ndigits + 1)
	s := n.String()
	if exp >= 0 {
		s += strings.Repeat("0", exp)
	} else {
		if len(s) <= -exp {
			s = strings.Repeat("0", -exp-len(s)+1) + s
		}
		s = s[:len(s)+exp] + "." + s[len(s)+exp:]
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		frac := s[i+1:]
		if len(frac) > dscale {
			frac = frac[:dscale]
		}
		for len(frac) < dscale {
			frac += "0"
		}
		s = s[:i]
		if frac != "" {
			s += "." + frac
		}
	} else if dscale > 0 {
		s += "." + strings.Repeat("0", dscale)
	}
	if sign == 0x4000 {
		s = "-" + s
	}
	return s, nil
}
