package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Notify sends a Postgres NOTIFY on channel (a no-op on SQLite, where one process owns the file).
// Without a deadline in ctx it gives up after 2 s: callers notify after committing, often from
// a request, which must not hang on a database that stopped answering.
func (d *DB) Notify(ctx context.Context, channel, payload string) error {
	if d.dialect != Postgres {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
	}
	return d.Conn(ctx).Exec("SELECT pg_notify(?, ?)", channel, payload).Error
}

// listenPing is how long a listening connection may stay quiet before it is pinged: a connection
// the network black-holed never fails on its own, and its listener would hear nothing again.
const listenPing = 10 * time.Second

// Listen calls fn for every NOTIFY on the channels until ctx ends, on a dedicated connection
// outside the pool, reconnecting after errors. After each (re)connect it calls fn with an empty
// payload, so listeners catch up on anything missed while disconnected. No-op on SQLite.
func (d *DB) Listen(ctx context.Context, log *slog.Logger, channels []string, fn func(channel, payload string)) {
	if d.dialect != Postgres {
		return
	}
	d.listen(ctx, log, channels, fn, nil)
}

// listen is Listen that also calls down (when not nil) each time the connection is lost or ctx
// ends: from then until the next empty-payload call, notifications may be missed.
func (d *DB) listen(ctx context.Context, log *slog.Logger, channels []string, fn func(channel, payload string), down func()) {
	go func() {
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := d.listenOnce(ctx, channels, fn)
			if down != nil {
				down()
			}
			if ctx.Err() != nil {
				return
			}
			if log != nil {
				log.Warn("listen: connection lost, reconnecting", "err", err, "in", backoff.String())
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}()
}

func (d *DB) listenOnce(ctx context.Context, channels []string, fn func(channel, payload string)) error {
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, ch := range channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	for _, ch := range channels {
		fn(ch, "")
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil || !pgconn.Timeout(err) {
				return err
			}
			// Quiet for listenPing: make sure the server still answers (a timeout leaves the
			// connection usable).
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
			continue
		}
		fn(n.Channel, n.Payload)
	}
}
