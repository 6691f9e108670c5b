package conversation

import (
	"context"
	"strings"
	"time"

	"github.com/atendimento/atendimento/internal/apperr"
	"github.com/atendimento/atendimento/internal/media"
)

// postKind is what a posted message carries.
type postKind int

const (
	postEmpty postKind = iota
	postText
	postTemplate
	postMedia
)

// kind tells what the input carries; a template id wins over text (which is then refused).
func (in PostInput) kind() postKind {
	switch {
	case in.TemplateID != nil && *in.TemplateID != "":
		return postTemplate
	case in.MediaID != nil && *in.MediaID != "":
		return postMedia
	case in.Text != nil && strings.TrimSpace(*in.Text) != "":
		return postText
	}
	return postEmpty
}

// errTemplateRequired refuses free text on an active conversation whose window has closed.
var errTemplateRequired = apperr.Invalid(apperr.FieldError{Field: "template_id", Code: "template_required",
	Message: "the 24-hour window has closed: send a template to re-engage the contact"})

// postDecision is what becomes of a posted message: its status, whether it re-engages the
// contact (the conversation waits again), or why it is refused.
type postDecision struct {
	status   MessageStatus
	reengage bool
	err      *apperr.Error
}

// decidePost is the rule of a posted message (DESIGN.md, POST …/messages). A closed conversation
// takes nothing. A template goes out at once and, on an active conversation whose window has
// closed, re-engages the contact. Free text waits in the queue while the conversation waits for
// the contact (or its scheduled start), goes out inside the window, and is refused after it.
func decidePost(st Status, windowOpen bool, kind postKind) postDecision {
	switch {
	case !st.Open():
		return postDecision{err: errClosed}
	case kind == postTemplate:
		return postDecision{status: MsgPending, reengage: st == StatusActive && !windowOpen}
	case st == StatusWaiting || st == StatusScheduled:
		return postDecision{status: MsgQueued}
	case windowOpen:
		return postDecision{status: MsgPending}
	}
	return postDecision{err: errTemplateRequired}
}

// checkPost checks a posted message against the conversation as read before writing, reporting
// every failing field at once; the decision is taken again under the row's lock.
func (s *Service) checkPost(ctx context.Context, c Conversation, in PostInput, now time.Time) (plan, error) {
	var p plan
	d := decidePost(c.Status, c.WindowOpen(now), in.kind())
	if d.err == errClosed {
		return p, errClosed
	}
	var f apperr.Fields
	switch in.kind() {
	case postTemplate:
		fs, err := s.checkTemplate(ctx, *in.TemplateID, in.Text, in.Parameters, c.ChannelID, &p)
		if err != nil {
			return p, err
		}
		ct, err := s.contacts.Get(ctx, c.ContactID)
		if err != nil {
			return p, err
		}
		f = append(fs, consentFields(ct.MarketingOptedOut, p.tpl)...)
	case postText:
		f = textFields(*in.Text)
		if d.err != nil {
			f = append(f, d.err.Fields...)
		}
	case postMedia:
		f = s.mediaFields(ctx, in, &p)
		if d.err != nil {
			f = append(f, d.err.Fields...)
		}
	default:
		f = fieldErr("text", "text_required", "text, media_id or template_id is required")
	}
	return p, f.Err()
}

// mediaFields checks a file to send: one of the account's, ready, with a caption its kind takes.
func (s *Service) mediaFields(ctx context.Context, in PostInput, p *plan) apperr.Fields {
	var f apperr.Fields
	if s.media == nil {
		f.Add("media_id", "media_not_found", "media_id is not a file of this account")
		return f
	}
	m, err := s.media.Get(ctx, *in.MediaID)
	switch {
	case err != nil:
		f.Add("media_id", "media_not_found", "media_id is not a file of this account")
		return f
	case m.Status != media.StatusReady:
		f.Add("media_id", "media_not_ready", "the file is not ready to send")
	}
	p.media = &m
	if in.Caption != nil && *in.Caption != "" {
		switch {
		case m.Kind == media.KindAudio || m.Kind == media.KindSticker:
			f.Add("caption", "caption_not_allowed", "WhatsApp sends audio and stickers without a caption")
		case len([]rune(*in.Caption)) > 1024:
			f.Add("caption", "caption_too_long", "a caption has at most 1024 characters")
		}
	}
	return f
}
