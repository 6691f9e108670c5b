package media

import (
	"context"
	"io"
	"time"

	"gorm.io/gorm/clause"

	"github.com/atendimento/atendimento/internal/store"
	"github.com/atendimento/atendimento/internal/whatsapp"
)

// Uploader uploads a file to a number's media; *whatsapp.Client implements it.
type Uploader interface {
	UploadMedia(ctx context.Context, cr whatsapp.Credentials, file io.Reader, filename, mimeType string) (string, error)
}

var _ Uploader = (*whatsapp.Client)(nil)

// ProviderIDLife is how long an uploaded media id is reused: Meta keeps it 30 days; a day's
// margin keeps a send from racing its expiry.
const ProviderIDLife = 29 * 24 * time.Hour

type uploadRow struct {
	AccountID       string
	ChannelID       string
	SHA256          string `gorm:"column:sha256"`
	ProviderMediaID string
	UploadedAt      time.Time
}

func (uploadRow) TableName() string { return "media_uploads" }

// ProviderID returns Meta's id for a file on a channel: the one uploaded earlier to that
// channel (the same blob, within ProviderIDLife), or a fresh upload, streamed from the store,
// recorded for the next send. ctx carries the account.
func (s *Service) ProviderID(ctx context.Context, up Uploader, cr whatsapp.Credentials, channelID string, m Media) (string, error) {
	var rows []uploadRow
	if err := s.db.Tenant(ctx, "media_uploads").Where("channel_id = ? AND sha256 = ? AND uploaded_at > ?", channelID, m.SHA256,
		s.now().Add(-ProviderIDLife)).Limit(1).Find(&rows).Error; err != nil {
		return "", store.Translate(err, nil, nil)
	}
	if len(rows) == 1 {
		return rows[0].ProviderMediaID, nil
	}
	_, body, err := s.Open(ctx, m.ID)
	if err != nil {
		return "", err
	}
	defer body.Close()
	id, err := up.UploadMedia(ctx, cr, body, m.Filename, m.MimeType)
	if err != nil {
		return "", err
	}
	r := uploadRow{AccountID: store.AccountID(ctx), ChannelID: channelID, SHA256: m.SHA256, ProviderMediaID: id, UploadedAt: s.now()}
	err = s.db.Conn(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "account_id"}, {Name: "channel_id"}, {Name: "sha256"}},
		DoUpdates: clause.AssignmentColumns([]string{"provider_media_id", "uploaded_at"})}).Create(&r).Error
	return id, store.Translate(err, nil, nil)
}
