// Package idempotency makes a request with an Idempotency-Key safe to repeat: the first
// successful response is stored in the same transaction as the work it describes, and a repeat
// within 24 hours gets that response back instead of doing the work again.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm/clause"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/store"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// MaxKeyLength bounds the header value.
const MaxKeyLength = 255

// printable reports whether a key is valid UTF-8 without control characters: a header may carry
// other bytes, which PostgreSQL would refuse in the key's text column.
func printable(key string) bool {
	if !utf8.ValidString(key) {
		return false
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// Response is a stored response.
type Response struct {
	Status int
	Body   []byte
}

// Store runs idempotent work.
type Store struct{ db *store.DB }

// New returns the idempotency store.
func New(db *store.DB) *Store { return &Store{db: db} }

type row struct {
	AccountID      string
	Key            string
	RequestHash    string
	ResponseStatus int
	ResponseBody   string
	CreatedAt      time.Time
}

func (row) TableName() string { return "idempotency_keys" }

// Hash fingerprints a request (method, path and body) so a reused key can be told apart.
func Hash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Do runs fn once per key. The key is claimed first inside fn's transaction, so a concurrent
// request with the same key waits for the first to commit and then replays its response (or
// runs fn itself if the first failed and rolled back). A key reused with a different request →
// 422 idempotency_key_reused. Failed requests (fn returning an error) are not remembered.
func (s *Store) Do(ctx context.Context, key, requestHash string, fn func(ctx context.Context) (Response, error)) (resp Response, replayed bool, err error) {
	if len(key) > MaxKeyLength || !printable(key) {
		return Response{}, false, apperr.Invalid(apperr.FieldError{Field: "Idempotency-Key", Code: "idempotency_key_invalid",
			Message: "Idempotency-Key must have at most 255 printable characters (UTF-8)"})
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		now := store.Now()
		claim := row{AccountID: store.AccountID(ctx), Key: key, RequestHash: requestHash, ResponseStatus: 0, ResponseBody: "", CreatedAt: now}
		res := s.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&claim)
		if res.Error != nil {
			return store.Translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 0 {
			var prev row
			if err := s.db.Tenant(ctx, "idempotency_keys").Where("key = ?", key).Take(&prev).Error; err != nil {
				return store.Translate(err, nil, nil)
			}
			if now.Sub(prev.CreatedAt) < TTL {
				if prev.RequestHash != requestHash {
					return &apperr.Error{Kind: apperr.KindInvalid, Code: "idempotency_key_reused", Message: "this Idempotency-Key was used with a different request",
						Fields: []apperr.FieldError{{Field: "Idempotency-Key", Code: "idempotency_key_reused", Message: "this Idempotency-Key was used with a different request"}}}
				}
				resp, replayed = Response{Status: prev.ResponseStatus, Body: []byte(prev.ResponseBody)}, true
				return nil
			}
			// Expired: the key starts over.
			if err := s.db.Tenant(ctx, "idempotency_keys").Where("key = ?", key).
				Updates(map[string]any{"request_hash": requestHash, "created_at": now}).Error; err != nil {
				return store.Translate(err, nil, nil)
			}
		}
		r, err := fn(ctx)
		if err != nil {
			return err
		}
		resp = r
		return store.Translate(s.db.Tenant(ctx, "idempotency_keys").Where("key = ?", key).
			Updates(map[string]any{"response_status": r.Status, "response_body": string(r.Body)}).Error, nil, nil)
	})
	return resp, replayed, err
}
