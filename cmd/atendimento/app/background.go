package app

import (
	"context"
	"time"

	"github.com/atendimento/atendimento/internal/worker"
)

// startJobs runs the periodic background work until ctx ends or Stop: the template sync of every
// whatsapp_cloud channel (TEMPLATE_SYNC_INTERVAL), the sweeper that expires waits for a
// first reply (WAITING_TIMEOUT) and the measure of the queues for /metrics (METRICS_INTERVAL).
// A zero interval or timeout leaves the job off.
func (a *App) startJobs(ctx context.Context) {
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
	if timeout := a.Config.WaitingTimeout; timeout > 0 {
		a.every(ctx, sweepInterval(timeout), func(ctx context.Context) {
			for ctx.Err() == nil {
				done, err := a.Conversations.ExpireWaiting(ctx, a.clock.Now().Add(-timeout), a.Accounts.AutoClosesWaiting)
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
		})
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
