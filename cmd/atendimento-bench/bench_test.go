package main

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func numeric(ndigits, weight int, sign uint16, dscale int, digits ...int16) []byte {
	b := make([]byte, 8+2*len(digits))
	binary.BigEndian.PutUint16(b[0:], uint16(ndigits))
	binary.BigEndian.PutUint16(b[2:], uint16(int16(weight)))
	binary.BigEndian.PutUint16(b[4:], sign)
	binary.BigEndian.PutUint16(b[6:], uint16(dscale))
	for i, d := range digits {
		binary.BigEndian.PutUint16(b[8+2*i:], uint16(d))
	}
	return b
}

func TestDecodeBinary(t *testing.T) {
	for _, c := range []struct {
		oid  uint32
		v    []byte
		want string
	}{
		{oidNumeric, numeric(2, 0, 0, 2, 123, 4500), "123.45"},
		{oidNumeric, numeric(1, -1, 0, 1, 5000), "0.5"},
		{oidNumeric, numeric(1, 1, 0, 0, 1), "10000"},
		{oidNumeric, numeric(1, 0, 0x4000, 0, 7), "-7"},
		{oidUUID, []byte{0x01, 0x9a, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 0x01}, "019a0000-0000-7000-8000-000000000001"},
		{oidInt8, []byte{0, 0, 0, 0, 0, 0, 0x01, 0x00}, "256"},
		{oidBool, []byte{1}, "true"},
		{oidJSONB, append([]byte{1}, `{"a":1}`...), `{"a":1}`},
		{oidTimestamptz, []byte{0, 0, 0, 0, 0, 0, 0, 0}, "2000-01-01 00:00:00Z"},
	} {
		got, err := decodeBinary(c.oid, c.v)
		if err != nil || got != c.want {
			t.Errorf("decodeBinary(%d, %x) = %q, %v; want %q", c.oid, c.v, got, err, c.want)
		}
	}
	if _, err := decodeBinary(9999, []byte{1}); err == nil {
		t.Error("an unknown binary type must be an error")
	}
}

func TestPGBenchScript(t *testing.T) {
	step := func(id, phone, at string) []sqlStep {
		return []sqlStep{
			{SQL: "begin", Simple: true},
			{SQL: "INSERT INTO t (id, phone, account, at, note) VALUES ($1, $2, $3, $4, $5)", Params: []sqlParm{
				{OID: oidUUID, Text: id}, {OID: oidText, Text: phone}, {OID: oidUUID, Text: "acc"}, {OID: oidTimestamptz, Text: at}, {OID: oidText}}},
			{SQL: "UPDATE t SET x = $1 WHERE id = $2", Params: []sqlParm{{OID: oidInt4, Null: true}, {OID: oidUUID, Text: id}}},
			{SQL: "commit", Simple: true},
		}
	}
	a := step("id-1", "+5511960000001", "2026-01-01 10:00:00Z")
	b := step("id-2", "+5511960000002", "2026-01-01 10:00:01Z")
	cs, err := pgbenchScript(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Varying != 4 || cs.Statement != 4 {
		t.Errorf("varying %d statements %d", cs.Varying, cs.Statement)
	}
	// The new id is one random uuid used by both statements; the phone a random text of its length.
	if n := strings.Count(cs.Script, "CAST(:u1a AS bigint)"); n != 2 {
		t.Errorf("the new id appears %d times:\n%s", n, cs.Script)
	}
	if strings.Contains(cs.Script, "u2a") || !strings.Contains(cs.Script, "rpad(CAST(:t1 AS text), 19, 'x')") {
		t.Errorf("script:\n%s", cs.Script)
	}
	// Constants (the timestamp has colons) go through -D, never as literals; the empty text and
	// the NULL are literals.
	if !strings.Contains(cs.Script, "CAST(:c1 AS uuid)") || !strings.Contains(cs.Script, "CAST(:c2 AS timestamptz)") ||
		!strings.Contains(cs.Script, "CAST('' AS text)") || !strings.Contains(cs.Script, "CAST(NULL AS integer)") {
		t.Errorf("script:\n%s", cs.Script)
	}
	if strings.Join(cs.Defines, "|") != "c1=acc|c2=2026-01-01 10:00:00Z" {
		t.Errorf("defines %q", cs.Defines)
	}
	if !sameShape(a, b) || sameShape(a, b[:3]) {
		t.Error("sameShape")
	}
}

func TestCheckOrder(t *testing.T) {
	ok := []sentMsg{{To: "+1", Type: "template"}, {To: "+2", Type: "template"}, {To: "+1", Type: "text", Text: "dc1-m0"},
		{To: "+2", Type: "text", Text: "dc2-m0"}, {To: "+1", Type: "text", Text: "dc1-m1"}}
	if got := checkOrder(ok, "d"); got != "" {
		t.Errorf("in order: %s", got)
	}
	swapped := []sentMsg{{To: "+1", Type: "template"}, {To: "+1", Type: "text", Text: "dc1-m1"}, {To: "+1", Type: "text", Text: "dc1-m0"}}
	if got := checkOrder(swapped, "d"); !strings.Contains(got, "m1 when m0") {
		t.Errorf("swapped: %q", got)
	}
	early := []sentMsg{{To: "+1", Type: "text", Text: "dc1-m0"}}
	if got := checkOrder(early, "d"); got == "" {
		t.Error("a text before its template must be reported")
	}
}

func TestStats(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if pct(d, 50) != 50 || pct(d, 99) != 99 || pct(d, 100) != 100 {
		t.Errorf("pct: %v %v %v", pct(d, 50), pct(d, 99), pct(d, 100))
	}
	if median([]float64{3, 1, 2}) != 2 || median([]float64{4, 1, 2, 3}) != 2.5 {
		t.Error("median")
	}
	if count(1_000_000) != "1M" || count(100_000) != "100k" || count(400) != "400" {
		t.Error("count")
	}
}

func TestRatio(t *testing.T) {
	// Runs' ratios 0.25, 1 and 1.5: their median is 1, where the medians' ratio would be 3/4.
	f := &figure{Values: []float64{1, 5, 3}, Base: []float64{4, 5, 2}}
	if r := f.Ratio(); r != 1 {
		t.Errorf("ratio %v", r)
	}
	f = &figure{Values: []float64{1, 3}, Base: []float64{2}}
	if r := f.Ratio(); r != 1 {
		t.Errorf("ratio of medians %v", r)
	}
}

// TestOpenLoopCountsTheQueue: a server that answers one request at a time in 1 ms stalls once
// for 200 ms. A closed loop would wait with it and record one slow request; the open loop keeps
// sending on schedule, so the ~20 requests scheduled during the stall wait behind it and the p99
// shows the stall, while the p50 stays near the service time and the achieved rate near 100/s.
func TestOpenLoopCountsTheQueue(t *testing.T) {
	var mu sync.Mutex
	var n atomic.Int64
	op := openOp{name: "test", want: 200, post: func(context.Context, int) (int, []byte, error) {
		mu.Lock()
		defer mu.Unlock()
		d := time.Millisecond
		if n.Add(1) == 40 {
			d = 200 * time.Millisecond
		}
		time.Sleep(d)
		return 200, nil, nil
	}}
	r := openLoop(context.Background(), op, 0, 100, 100*time.Millisecond, time.Second)
	if len(r.lat) < 95 || r.errors != 0 {
		t.Fatalf("%d measured, %d errors", len(r.lat), r.errors)
	}
	if p99 := pct(r.lat, 99); p99 < 150 {
		t.Errorf("p99 %.1f ms: the requests queued behind the stall are not counted", p99)
	}
	if p50 := pct(r.lat, 50); p50 > 20 {
		t.Errorf("p50 %.1f ms", p50)
	}
	if r.achieved < 70 || r.achieved > 110 {
		t.Errorf("achieved %.0f/s", r.achieved)
	}
	if r.warmOK < 8 {
		t.Errorf("warm-up answered %d", r.warmOK)
	}
}

func TestParseOpenMax(t *testing.T) {
	m, err := parseOpenMax("starts=400, text=600.5")
	if err != nil || m["starts"] != 400 || m["text"] != 600.5 || len(m) != 2 {
		t.Errorf("%v %v", m, err)
	}
	for _, bad := range []string{"start=1", "text=0", "webhooks", "webhooks=x"} {
		if _, err := parseOpenMax(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestProxyCountsRoundTrips: a statement prepared and then executed twice through the extended
// protocol (three Syncs) and a simple BEGIN are three statements and four round trips; nothing
// is counted before record.
func TestProxyCountsRoundTrips(t *testing.T) {
	p := &pgProxy{}
	pc := &proxyConn{stmts: map[string]string{}, oids: map[string][]uint32{}}
	cstr := func(s string) []byte { return append([]byte(s), 0) }
	parse := append(append(cstr("s1"), cstr("SELECT $1")...), 0, 1, 0, 0, 0, oidInt4)
	bind := append(append(cstr(""), cstr("s1")...), 0, 0, 0, 1, 0, 0, 0, 1, '7', 0, 0)
	p.frontend(pc, 'Q', cstr("SELECT 1"))
	p.frontend(pc, 'S', nil)
	p.record()
	p.frontend(pc, 'P', parse)
	p.frontend(pc, 'S', nil)
	for range 2 {
		p.frontend(pc, 'B', bind)
		p.frontend(pc, 'E', nil)
		p.frontend(pc, 'S', nil)
	}
	p.frontend(pc, 'Q', cstr("begin"))
	if n := p.recorded(); n != 3 {
		t.Errorf("recorded %d", n)
	}
	steps := p.take()
	if len(steps) != 3 || steps[0].SQL != "SELECT $1" || steps[0].Params[0].Text != "7" || steps[2].SQL != "begin" {
		t.Errorf("steps %+v", steps)
	}
	if n := p.roundTrips(); n != 4 {
		t.Errorf("round trips %d", n)
	}
	p.frontend(pc, 'S', nil) // after take: not recording
	c := sqlCount{Steps: steps, Units: 2, What: "start", Trips: p.roundTrips()}
	if got := c.String(); !strings.HasPrefix(got, "1.5 statements and 2.0 round trips per start") {
		t.Errorf("%q", got)
	}
}

// TestSides: with a baseline, the runs alternate which server goes first.
func TestSides(t *testing.T) {
	b := &bench{serverBin: "new"}
	if s := b.sides(1); len(s) != 1 || s[0].name != "change" || s[0].base {
		t.Errorf("no baseline: %+v", s)
	}
	b.baselineBin, b.baselineRev = "old", "db36335"
	if s := b.sides(0); len(s) != 2 || s[0].bin != "new" || s[1].bin != "old" || !s[1].base || s[1].name != "db36335" {
		t.Errorf("run 0: %+v", s)
	}
	if s := b.sides(1); s[0].bin != "old" || s[1].bin != "new" {
		t.Errorf("run 1: %+v", s)
	}
}
