package event

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Retention is how long the log keeps an event: a stream that reconnects with the id of an
// older one is told to reset.
const Retention = 24 * time.Hour

// MaxReplay bounds what one reconnect replays: a client further behind is told to reset, and
// reloading is cheaper for it than thousands of events.
const MaxReplay = 1000

// ErrReset says that the events after an id cannot be replayed (the id is older than the
// retention, unknown to the account, or too far behind): the client reloads what it shows.
var ErrReset = errors.New("event: cannot replay from this id")

// logRow is one published event in the log. The database numbers the rows: on Postgres a
// sequence, on SQLite an AUTOINCREMENT key, so ids grow in the order the rows were inserted,
// whichever instance inserted them.
type logRow struct {
	ID        int64 `gorm:"primaryKey;autoIncrement"`
	AccountID string
	Kind      string
	SubjectID string
	CreatedAt time.Time
}

func (logRow) TableName() string { return "event_log" }

// record writes e in the log and returns its id (the SSE id).
func (b *Broker) record(ctx context.Context, e Event) (int64, error) {
	row := logRow{AccountID: e.AccountID, Kind: e.Kind, SubjectID: e.ID, CreatedAt: b.clock.Now().UTC().Truncate(time.Microsecond)}
	if err := b.db.Conn(ctx).Create(&row).Error; err != nil {
		return 0, fmt.Errorf("record event: %w", err)
	}
	return row.ID, nil
}

// recordAll writes events in the log with one statement and returns their ids, in order.
func (b *Broker) recordAll(ctx context.Context, events []Event) ([]int64, error) {
	at := b.clock.Now().UTC().Truncate(time.Microsecond)
	rows := make([]logRow, len(events))
	for i, e := range events {
		rows[i] = logRow{AccountID: e.AccountID, Kind: e.Kind, SubjectID: e.ID, CreatedAt: at}
	}
	if err := b.db.Conn(ctx).Create(&rows).Error; err != nil {
		return nil, fmt.Errorf("record events: %w", err)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}

// Since returns the account's events logged after the event numbered after, in order, for a
// stream that reconnects (after is the last id it received; 0: it received none yet). It
// returns ErrReset when after does not name a retained event of the account (swept, unknown or
// not a number the log gave), or when more than MaxReplay events followed it.
func (b *Broker) Since(ctx context.Context, accountID string, after int64) ([]Event, error) {
	q := b.db.Conn(ctx).Model(&logRow{})
	if after < 0 {
		return nil, ErrReset
	}
	if after > 0 {
		var n int64
		if err := q.Where("account_id = ? AND id = ?", accountID, after).Count(&n).Error; err != nil {
			return nil, fmt.Errorf("find event %d: %w", after, err)
		}
		if n == 0 {
			return nil, ErrReset
		}
	}
	var rows []logRow
	if err := b.db.Conn(ctx).Where("account_id = ? AND id > ?", accountID, after).Order("id").Limit(MaxReplay + 1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("replay events: %w", err)
	}
	if len(rows) > MaxReplay {
		return nil, ErrReset
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = Event{Seq: r.ID, AccountID: r.AccountID, Kind: r.Kind, ID: r.SubjectID}
	}
	return out, nil
}

// Latest returns the id of the account's newest logged event, 0 when there is none: the id a
// reset carries, from which the client's next reconnect replays.
func (b *Broker) Latest(ctx context.Context, accountID string) (int64, error) {
	var id *int64
	if err := b.db.Conn(ctx).Model(&logRow{}).Where("account_id = ?", accountID).Select("MAX(id)").Scan(&id).Error; err != nil {
		return 0, fmt.Errorf("latest event: %w", err)
	}
	if id == nil {
		return 0, nil
	}
	return *id, nil
}

// Sweep deletes up to limit events logged before before, oldest first, and returns how many it
// deleted (a full batch means more may be due).
func (b *Broker) Sweep(ctx context.Context, before time.Time, limit int) (int64, error) {
	res := b.db.Conn(ctx).Exec(`DELETE FROM event_log WHERE id IN
		(SELECT id FROM event_log WHERE created_at < ? ORDER BY id LIMIT ?)`, before.UTC(), limit)
	if res.Error != nil {
		return 0, fmt.Errorf("sweep event log: %w", res.Error)
	}
	return res.RowsAffected, nil
}
