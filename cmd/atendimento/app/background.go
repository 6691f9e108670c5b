package app

import (
	"context"
	"time"

	"github.com/atendimento/atendimento/internal/conversation"
	"github.com/atendimento/atendimento/internal/event"
	"github.com/atendimento/atendimento/internal/worker"
)

// startJobs runs the periodic background work until ctx ends or Stop: the template sync of every
// whatsapp_cloud channel (TEMPLATE_SYNC_INTERVAL), the sweeper that expires waits for a first
// reply (each account's own timeout, or WAITING_TIMEOUT) and the measure of the queues for
// /metrics (METRICS_INTERVAL). A zero interval leaves its job off. The waiting sweeper and the
// event log's retention sweep always run (NoWaitingSweep and NoEventLogSweep are for tests).
func (a *App) startJobs(ctx context.Context) {
	if !a.Config.NoEventLogSweep {
		a.every(ctx, eventLogSweep, a.sweepEventLog)
	}
	if every := a.Config.MetricsInterval; every > 0 {
		a.every(ctx, every, a.measure)
	}
	if every := a.Config.TemplateSyncInterval; every > 0 {
		a.every(ctx, every, func(ctx context.Context) {
			if _, _, err := a.TemplateSync.SyncAll(ctx); err != nil && ctx.Err() == nil {
				a.Log.Error("template sync", "err", err.Error())
			}
		})
	}
	// The waiting sweeper always runs: an account may choose a timeout of its own even when the
	// server's WAITING_TIMEOUT is 0 (never). Accounts' timeouts are whole hours, so a minute apart
	// is enough for them; a shorter server default sweeps more often.
	if a.Config.NoWaitingSweep {
		return
	}
	timeout := a.Config.WaitingTimeout
	if timeout <= 0 {
		timeout = time.Hour
	}
	a.every(ctx, sweepInterval(timeout), a.sweepWaiting)
}

// sweepWaiting expires the waits for a first reply that ran out, each by its account's rule
// (its own timeout, or the server's WAITING_TIMEOUT), a batch at a time.
func (a *App) sweepWaiting(ctx context.Context) {
	for ctx.Err() == nil {
		own, err := a.Accounts.WaitingTimeouts(ctx)
		if err != nil {
			if ctx.Err() == nil {
				a.Log.Error("waiting sweep", "err", err.Error())
			}
			return
		}
		rules := conversation.WaitingRules{Default: a.Config.WaitingTimeout, Accounts: own}
		done, err := a.Conversations.ExpireWaiting(ctx, a.clock.Now(), rules, a.Accounts.AutoClosesWaiting)
		if err != nil {
			if ctx.Err() == nil {
				a.Log.Error("waiting sweep", "err", err.Error())
			}
			return
		}
		if len(done) > 0 {
			a.Log.Info("waits expired", "conversations", len(done))
		}
		if len(done) < 500 {
			return // a full batch means more may be due
		}
	}
}

// eventLogSweep is how often the event log drops what is older than event.Retention: rows
// live at most that much longer than the retention.
const eventLogSweep = 10 * time.Minute

// eventLogBatch bounds one delete of the sweep, so it never holds a long lock.
const eventLogBatch = 1000

// sweepEventLog deletes the event log's rows older than event.Retention, a batch at a time.
func (a *App) sweepEventLog(ctx context.Context) {
	before := a.clock.Now().Add(-event.Retention)
	for ctx.Err() == nil {
		n, err := a.Events.Sweep(ctx, before, eventLogBatch)
		if err != nil {
			if ctx.Err() == nil {
				a.Log.Error("event log sweep", "err", err.Error())
			}
			return
		}
		if n < eventLogBatch {
			return // a full batch means more may be due
		}
	}
}

// sweepInterval checks a tenth as often as the timeout, between 50 ms and a minute, so an
// expiry is reported at most that late.
func sweepInterval(timeout time.Duration) time.Duration {
	return min(max(timeout/10, 50*time.Millisecond), time.Minute)
}

// every runs fn now and then every d, jittered, on the app's clock until ctx ends; Stop waits
// for a run in progress.
func (a *App) every(ctx context.Context, d time.Duration, fn func(ctx context.Context)) {
	w := worker.New(a.clock)
	w.Every(ctx, d, fn)
	a.jobs = append(a.jobs, w)
}
