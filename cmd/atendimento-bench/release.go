package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// rowRelease: a signed inbound webhook → the first queued message of that conversation at the
// fake, p50/p99, beside one HTTP round trip to the fake; one server, and on Postgres two servers
// on one database (webhooks alternate between them; either dispatcher may send).
func (b *bench) rowRelease(ctx context.Context, engine string, base *benchDB, s seeded) error {
	instances := []int{1}
	if engine == pg {
		instances = append(instances, 2)
	}
	for _, n := range instances {
		label := engine
		goal := 20.0
		if n == 2 {
			label, goal = engine+" ×2 servers", 50
		}
		p50 := &figure{Row: "2", Name: "webhook → first release p50", Engine: label, Unit: "ms", BaseName: "fake RTT"}
		p99 := &figure{Row: "2", Name: "webhook → first release p99", Engine: label, Unit: "ms", BaseName: "fake RTT",
			Goal: fmt.Sprintf("≤ %.0f ms", goal), met: func(v, _ float64) bool { return v <= goal }}
		b.add(p50, p99)
		for run := range b.cfg.Runs {
			b.logf("%s row 2 run %d/%d: %d samples", label, run+1, b.cfg.Runs, b.cfg.Samples)
			lat, rtt, _, err := b.releaseRun(ctx, base, s, n, nil)
			if err != nil {
				return fail(err, p50, p99)
			}
			p50.Values, p99.Values = append(p50.Values, pct(lat, 50)), append(p99.Values, pct(lat, 99))
			p50.Base, p99.Base = append(p50.Base, pct(rtt, 50)), append(p99.Base, pct(rtt, 99))
			b.logf("  p50 %.2f ms p99 %.2f ms; fake RTT p50 %.3f ms p99 %.3f ms", pct(lat, 50), pct(lat, 99), pct(rtt, 50), pct(rtt, 99))
		}
		p50.Notes = append(p50.Notes, fmt.Sprintf("%d conversations per run, each waiting with one queued text; one webhook at a time, timed from the POST to the text's arrival at the fake; CHANNEL_RATE=100000", b.cfg.Samples))
		if engine == pg && n == 1 && !b.cfg.Smoke {
			u, err := url.Parse(base.URL)
			if err != nil {
				return err
			}
			proxy, err := newPGProxy(u.Host)
			if err != nil {
				return err
			}
			_, _, steps, err := b.releaseRun(ctx, base, s, 1, proxy)
			proxy.Close()
			if err != nil {
				return fail(err, p50, p99)
			}
			p50.Notes = append(p50.Notes, b.saveCount("release", sqlCount{Steps: steps, Units: b.cfg.Samples, What: "release (the webhook, then claim, send and record)"}))
		}
	}
	return nil
}

// releaseRun measures the samples on a copy of base with instances servers; with a proxy, the
// servers connect through it and the statements of the timed part are returned.
func (b *bench) releaseRun(ctx context.Context, base *benchDB, s seeded, instances int, proxy *pgProxy) (lat, rtt []time.Duration, steps []sqlStep, err error) {
	db, err := b.dbs.clone(ctx, base)
	if err != nil {
		return nil, nil, nil, err
	}
	defer b.dbs.drop(ctx, db)
	n := b.cfg.Samples
	a, err := openApp(ctx, db, b.fake.URL)
	if err != nil {
		return nil, nil, nil, err
	}
	c := &apiClient{handler: a.Handler, base: "http://bench.local", key: s.APIKey}
	_, err = seedConversations(ctx, c, s, backlogSpec{Convs: n, PerConv: 1, Tag: "r"})
	_ = a.Close()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("seed: %w", err)
	}
	b.fake.Reset()
	var srvs []*serverProc
	defer func() {
		for _, s := range srvs {
			s.Stop()
		}
	}()
	serverDB := db
	if proxy != nil {
		u, _ := url.Parse(db.URL)
		u.Host = proxy.Addr()
		serverDB = &benchDB{Engine: db.Engine, URL: u.String(), Name: db.Name + "-proxied"}
	}
	for range instances {
		srv, err := b.startServer(ctx, serverDB, serverOpts{ChannelRate: 100000})
		if err != nil {
			return nil, nil, nil, err
		}
		srvs = append(srvs, srv)
	}
	// The opening templates go first; the queued texts wait for the replies.
	if !b.fake.WaitFor(ctx, n, 2*time.Minute) {
		return nil, nil, nil, fmt.Errorf("only %d of %d opening templates reached the fake", b.fake.Count(), n)
	}
	if rtt, err = b.fake.roundTrips(n); err != nil {
		return nil, nil, nil, err
	}
	clients := make([]*apiClient, len(srvs))
	for i, srv := range srvs {
		clients[i] = &apiClient{base: srv.URL, http: newHTTPClient(1)}
		// One untimed webhook per server (a duplicate of nothing: an unknown message id of a status)
		// warms its connection, as Meta's keep-alive connections are.
		if err := clients[i].webhook(ctx, s.ChannelID, webhookBody(statusValue("wamid.warmup", "delivered", "5511900000001", time.Now()))); err != nil {
			return nil, nil, nil, err
		}
	}
	if proxy != nil {
		proxy.record()
	}
	for i := range n {
		text := queuedText("r", i, 0)
		arrived := b.fake.expect(text)
		from := strings.TrimPrefix(benchPhone(i), "+")
		body := webhookBody(inboundValue(from, fmt.Sprintf("wamid.in.r%d", i), "oi", time.Now()))
		t0 := time.Now()
		if err := clients[i%len(clients)].webhook(ctx, s.ChannelID, body); err != nil {
			return nil, nil, nil, srvs[i%len(srvs)].explain(err)
		}
		select {
		case at := <-arrived:
			lat = append(lat, at.Sub(t0))
		case <-time.After(10 * time.Second):
			return nil, nil, nil, fmt.Errorf("the queued text of conversation %d did not reach the fake within 10 s", i)
		case <-ctx.Done():
			return nil, nil, nil, ctx.Err()
		}
	}
	if proxy != nil {
		steps = proxy.take()
	}
	return lat, rtt, steps, nil
}

// statusValue is one status notification as Meta posts it.
func statusValue(wamid, status, recipient string, at time.Time) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "metadata": metadata(), "statuses": []any{statusItem(wamid, status, recipient, at)}}
}

func statusItem(wamid, status, recipient string, at time.Time) map[string]any {
	st := map[string]any{"id": wamid, "status": status, "timestamp": fmt.Sprint(at.Unix()), "recipient_id": recipient}
	if status == "sent" || status == "delivered" {
		st["conversation"] = map[string]any{"id": "conv-" + recipient, "origin": map[string]any{"type": "utility"}}
		st["pricing"] = map[string]any{"billable": true, "pricing_model": "PMP", "category": "utility", "type": "regular"}
	}
	return st
}
