package whatsapp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// SignatureHeader is the header Meta signs webhook deliveries in.
const SignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// Sign returns the X-Hub-Signature-256 value for body: "sha256=" and the hex HMAC-SHA256 of the
// bytes with appSecret. Simulators and tests use it to sign what they deliver.
func Sign(body []byte, appSecret string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature reports whether header (the X-Hub-Signature-256 value) is the HMAC-SHA256 of
// the raw body bytes with appSecret. Hash the body exactly as received: Meta escapes non-ASCII as
// \uXXXX, so a re-serialised body does not match. It is false for an empty secret and for a
// missing or malformed header; hex digits may be in either case. The comparison is constant-time.
func VerifySignature(body []byte, header, appSecret string) bool {
	if appSecret == "" {
		return false
	}
	header = strings.TrimSpace(header)
	if len(header) <= len(signaturePrefix) || !strings.EqualFold(header[:len(signaturePrefix)], signaturePrefix) {
		return false
	}
	got, err := hex.DecodeString(header[len(signaturePrefix):])
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// VerifyChallenge answers Meta's subscription handshake
// (GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…): ok is true, with the challenge
// to echo as the plain-text body, only when the mode is subscribe, the configured verifyToken is
// not empty and the request's token equals it (compared in constant time).
func VerifyChallenge(query url.Values, verifyToken string) (challenge string, ok bool) {
	if verifyToken == "" || query.Get("hub.mode") != "subscribe" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(query.Get("hub.verify_token")), []byte(verifyToken)) != 1 {
		return "", false
	}
	return query.Get("hub.challenge"), true
}

// ErrMalformed is returned, wrapped, by ParseWebhook for a body that is not a JSON object.
var ErrMalformed = errors.New("whatsapp: malformed webhook body")

// Notification is one webhook delivery flattened: Meta batches many entries and changes per POST,
// and this lists what they carry in order of appearance. Changes of fields this package does not
// read (account updates, …) are left out.
type Notification struct {
	// Messages are the contacts' inbound messages.
	Messages []InboundMessage
	// Statuses are the delivery states of messages we sent.
	Statuses []StatusUpdate
	// TemplateUpdates are review decisions on the account's templates.
	TemplateUpdates []TemplateStatusUpdate
	// QualityUpdates are Meta's new quality ratings of templates.
	QualityUpdates []TemplateQualityUpdate
	// CategoryUpdates are Meta's reclassifications of templates.
	CategoryUpdates []TemplateCategoryUpdate
	// Preferences are contacts' marketing preferences (stop / resume).
	Preferences []UserPreference
}

// TemplateQualityUpdate is Meta's new quality rating of a template
// (field message_template_quality_update).
type TemplateQualityUpdate struct {
	// WABAID is the WhatsApp Business Account id (entry.id).
	WABAID string
	// TemplateID is message_template_id as a decimal string (Meta sends a number).
	TemplateID string
	// Name and Language identify the template when its id is unknown here.
	Name, Language string
	// Previous and New are the quality scores: GREEN, YELLOW, RED or UNKNOWN.
	Previous, New string
}

// TemplateCategoryUpdate is Meta's reclassification of a template (field
// template_category_update).
type TemplateCategoryUpdate struct {
	// WABAID is the WhatsApp Business Account id (entry.id).
	WABAID string
	// TemplateID is message_template_id as a decimal string.
	TemplateID string
	// Name and Language identify the template when its id is unknown here.
	Name, Language string
	// Previous is previous_category when Meta sends it; New is new_category (MARKETING, UTILITY, …).
	Previous, New string
}

// UserPreference is one item of a user_preferences change: a user stopped or resumed marketing
// messages from the business.
type UserPreference struct {
	// PhoneNumberID is the business number's id (metadata.phone_number_id).
	PhoneNumberID string
	// WABAID is the WhatsApp Business Account id (entry.id).
	WABAID string
	// WaID is the user's WhatsApp id (digits).
	WaID string
	// Category is what the preference is about: marketing_messages.
	Category string
	// Value is stop, resume, or another value Meta may add (signup, …).
	Value string
	// Detail is Meta's explanation ("User requested to stop marketing messages").
	Detail string
	// Timestamp is when the user chose; zero when Meta's value was unreadable.
	Timestamp time.Time
}

// InboundMessage is one message a contact sent to a business number.
type InboundMessage struct {
	// PhoneNumberID is the business number's id (metadata.phone_number_id): the channel.
	PhoneNumberID string
	// DisplayPhoneNumber is the business number as digits.
	DisplayPhoneNumber string
	// WABAID is the WhatsApp Business Account id (entry.id).
	WABAID string
	// From is the sender's number as Meta gives it: digits, no '+', and for Brazilian mobiles
	// possibly without the ninth digit.
	From string
	// ContactName is the sender's WhatsApp profile name, "" if Meta sent none.
	ContactName string
	// WaID is the sender's WhatsApp id from contacts[].wa_id, else From.
	WaID string
	// UserID is the sender's username-era id (contacts[].user_id, such as BR.1502576394655843),
	// "" when there is none.
	UserID string
	// ID is the message's wamid, the key that makes processing idempotent.
	ID string
	// Timestamp is when the contact sent it; zero when Meta's value was unreadable.
	Timestamp time.Time
	// Type is Meta's message type: text, image, button, interactive, reaction, … as given.
	Type string
	// Text is a human-readable rendering: the text body, a button or reply title, a media caption,
	// a reaction emoji, a location's name and address, shared contacts' names…; "" when the
	// message has none (a sticker, an audio, an unsupported type).
	Text string
	// Raw is the message object exactly as received, for whatever the fields above leave out.
	Raw json.RawMessage
	// Media is the file of an image, audio, video, document or sticker message; nil otherwise.
	Media *InboundMedia
	// Content is the type's object of a location, contacts ({"contacts": […]}), interactive,
	// button or reaction message, as Meta sent it; nil for other types.
	Content json.RawMessage
}

// InboundMedia is a file a contact sent: Meta's media id to fetch it by, and what Meta says of it.
type InboundMedia struct {
	ID       string
	MimeType string
	// SHA256 is Meta's declared checksum, in the form Meta gave it (base64 in its examples, hex at times).
	SHA256   string
	Filename string
	Caption  string
	// Voice marks an audio recorded as a voice note.
	Voice    bool
	Animated bool
}

// StatusUpdate is a change in the delivery state of a message we sent.
type StatusUpdate struct {
	// PhoneNumberID is the business number the message was sent from.
	PhoneNumberID string
	// WABAID is the WhatsApp Business Account id (entry.id).
	WABAID string
	// ID is the wamid returned when the message was sent.
	ID string
	// Status is sent, delivered, read, failed or played. Updates arrive duplicated and out of
	// order: never move a message's status backward.
	Status string
	// Timestamp is when the state changed; zero when Meta's value was unreadable.
	Timestamp time.Time
	// RecipientID is the recipient's WhatsApp id (digits).
	RecipientID string
	// RecipientUserID is the recipient's username-era id, "" when there is none.
	RecipientUserID string
	// Errors explain a failed status (131047, 131026, 131049, …).
	Errors []StatusError
	// Pricing is what Meta will bill for the message, on sent and one of delivered/read; nil when
	// absent.
	Pricing *Pricing
}

// StatusError is one error of a failed message status.
type StatusError struct {
	// Code is Meta's error code.
	Code int
	// Title is Meta's short title.
	Title string
	// Message is Meta's message, often equal to Title.
	Message string
	// Details is error_data.details, the longer explanation.
	Details string
}

// Pricing is the pricing block of a status webhook.
type Pricing struct {
	// Billable says whether Meta charges for the message.
	Billable bool
	// PricingModel is PMP (per message) since July 2025; CBP in older payloads.
	PricingModel string
	// Category is marketing, utility, authentication, service, ….
	Category string
	// Type is regular, free_customer_service or free_entry_point.
	Type string
}

// TemplateStatusUpdate is Meta's review decision on a template.
type TemplateStatusUpdate struct {
	// WABAID is the WhatsApp Business Account id (entry.id).
	WABAID string
	// Event is APPROVED, REJECTED, PAUSED, DISABLED, REINSTATED, ….
	Event string
	// TemplateID is message_template_id as a decimal string (Meta sends a number).
	TemplateID string
	// Name is the template's name.
	Name string
	// Language is the template's language code.
	Language string
	// Reason is Meta's reason (NONE, INVALID_FORMAT, …).
	Reason string
}

// The webhook wire shapes. Every leaf is a flex type, so the only decoding errors left are type
// mismatches of containers, which ParseWebhook ignores field by field.
type (
	wEnvelope struct {
		Entry []wEntry `json:"entry"`
	}
	wEntry struct {
		ID      flexString `json:"id"`
		Changes []wChange  `json:"changes"`
	}
	wChange struct {
		Field flexString      `json:"field"`
		Value json.RawMessage `json:"value"`
	}
	wMessagesValue struct {
		Metadata struct {
			DisplayPhoneNumber flexString `json:"display_phone_number"`
			PhoneNumberID      flexString `json:"phone_number_id"`
		} `json:"metadata"`
		Contacts []wContact        `json:"contacts"`
		Messages []json.RawMessage `json:"messages"`
		Statuses []wStatus         `json:"statuses"`
	}
	wContact struct {
		Profile struct {
			Name flexString `json:"name"`
		} `json:"profile"`
		WaID   flexString `json:"wa_id"`
		UserID flexString `json:"user_id"`
	}
	wMessage struct {
		From       flexString `json:"from"`
		FromUserID flexString `json:"from_user_id"`
		ID         flexString `json:"id"`
		Timestamp  flexTime   `json:"timestamp"`
		Type       flexString `json:"type"`
		Text       struct {
			Body flexString `json:"body"`
		} `json:"text"`
		Button struct {
			Text    flexString `json:"text"`
			Payload flexString `json:"payload"`
		} `json:"button"`
		Interactive struct {
			ButtonReply struct {
				Title flexString `json:"title"`
			} `json:"button_reply"`
			ListReply struct {
				Title flexString `json:"title"`
			} `json:"list_reply"`
			NFMReply struct {
				Body flexString `json:"body"`
			} `json:"nfm_reply"`
		} `json:"interactive"`
		Image    wMedia `json:"image"`
		Video    wMedia `json:"video"`
		Document wMedia `json:"document"`
		Audio    wMedia `json:"audio"`
		Sticker  wMedia `json:"sticker"`
		Reaction struct {
			Emoji flexString `json:"emoji"`
		} `json:"reaction"`
		Location struct {
			Latitude  flexString `json:"latitude"`
			Longitude flexString `json:"longitude"`
			Name      flexString `json:"name"`
			Address   flexString `json:"address"`
		} `json:"location"`
		Contacts []struct {
			Name struct {
				FormattedName flexString `json:"formatted_name"`
				FirstName     flexString `json:"first_name"`
				LastName      flexString `json:"last_name"`
			} `json:"name"`
		} `json:"contacts"`
		Order struct {
			Text flexString `json:"text"`
		} `json:"order"`
		System struct {
			Body flexString `json:"body"`
		} `json:"system"`
		Edit struct {
			Message json.RawMessage `json:"message"`
		} `json:"edit"`
	}
	wMedia struct {
		ID       flexString `json:"id"`
		MimeType flexString `json:"mime_type"`
		SHA256   flexString `json:"sha256"`
		Caption  flexString `json:"caption"`
		Filename flexString `json:"filename"`
		Voice    flexBool   `json:"voice"`
		Animated flexBool   `json:"animated"`
	}
	wStatus struct {
		ID              flexString `json:"id"`
		Status          flexString `json:"status"`
		Timestamp       flexTime   `json:"timestamp"`
		RecipientID     flexString `json:"recipient_id"`
		RecipientUserID flexString `json:"recipient_user_id"`
		Errors          []wError   `json:"errors"`
		Pricing         *wPricing  `json:"pricing"`
	}
	wError struct {
		Code      flexInt    `json:"code"`
		Title     flexString `json:"title"`
		Message   flexString `json:"message"`
		ErrorData struct {
			Details flexString `json:"details"`
		} `json:"error_data"`
	}
	wPricing struct {
		Billable     flexBool   `json:"billable"`
		PricingModel flexString `json:"pricing_model"`
		Category     flexString `json:"category"`
		Type         flexString `json:"type"`
	}
	// wTemplateSignal is the value of a quality or category update: each fills its own pair.
	wTemplateSignal struct {
		ID               flexString `json:"message_template_id"`
		Name             flexString `json:"message_template_name"`
		Language         flexString `json:"message_template_language"`
		PreviousQuality  flexString `json:"previous_quality_score"`
		NewQuality       flexString `json:"new_quality_score"`
		PreviousCategory flexString `json:"previous_category"`
		NewCategory      flexString `json:"new_category"`
	}
	wPreferencesValue struct {
		Metadata struct {
			PhoneNumberID flexString `json:"phone_number_id"`
		} `json:"metadata"`
		UserPreferences []wPreference `json:"user_preferences"`
	}
	wPreference struct {
		WaID      flexString `json:"wa_id"`
		Detail    flexString `json:"detail"`
		Category  flexString `json:"category"`
		Value     flexString `json:"value"`
		Timestamp flexTime   `json:"timestamp"`
	}
	wTemplateStatus struct {
		Event    flexString `json:"event"`
		ID       flexString `json:"message_template_id"`
		Name     flexString `json:"message_template_name"`
		Language flexString `json:"message_template_language"`
		Reason   flexString `json:"reason"`
	}
)

// ParseWebhook flattens a webhook delivery. A body that is not a JSON object is ErrMalformed.
// Everything else is read leniently: unknown fields, message types and change fields are skipped,
// a value of an unexpected type leaves its field empty, ids may be strings or numbers, and
// timestamps may be strings or numbers (unreadable ones become the zero time). Messages keep the
// order Meta sent them in.
func ParseWebhook(body []byte) (*Notification, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return nil, fmt.Errorf("parse webhook: %w", ErrMalformed)
	}
	var env wEnvelope
	if err := lenientUnmarshal(trimmed, &env); err != nil {
		return nil, fmt.Errorf("parse webhook: %w: %v", ErrMalformed, err)
	}
	n := &Notification{}
	for _, e := range env.Entry {
		for _, ch := range e.Changes {
			switch ch.Field {
			case "messages":
				parseMessagesValue(n, string(e.ID), ch.Value)
			case "message_template_status_update":
				var v wTemplateStatus
				if !isObject(ch.Value) || lenientUnmarshal(ch.Value, &v) != nil {
					continue
				}
				n.TemplateUpdates = append(n.TemplateUpdates, TemplateStatusUpdate{
					WABAID:     string(e.ID),
					Event:      string(v.Event),
					TemplateID: string(v.ID),
					Name:       string(v.Name),
					Language:   string(v.Language),
					Reason:     string(v.Reason),
				})
			case "message_template_quality_update", "template_category_update":
				parseTemplateSignal(n, string(e.ID), string(ch.Field), ch.Value)
			case "user_preferences":
				parsePreferences(n, string(e.ID), ch.Value)
			}
		}
	}
	return n, nil
}

func parseMessagesValue(n *Notification, wabaID string, raw json.RawMessage) {
	var v wMessagesValue
	if !isObject(raw) || lenientUnmarshal(raw, &v) != nil {
		return
	}
	phoneID := string(v.Metadata.PhoneNumberID)
	for _, rm := range v.Messages {
		var m wMessage
		if !isObject(rm) || lenientUnmarshal(rm, &m) != nil {
			continue
		}
		im := InboundMessage{
			PhoneNumberID:      phoneID,
			DisplayPhoneNumber: string(v.Metadata.DisplayPhoneNumber),
			WABAID:             wabaID,
			From:               string(m.From),
			WaID:               string(m.From),
			UserID:             string(m.FromUserID),
			ID:                 string(m.ID),
			Timestamp:          time.Time(m.Timestamp),
			Type:               string(m.Type),
			Text:               messageText(&m, 0),
			Raw:                rm,
			Media:              messageMedia(&m),
			Content:            messageContent(string(m.Type), rm),
		}
		if c := matchContact(v.Contacts, string(m.From), string(m.FromUserID)); c != nil {
			im.ContactName = string(c.Profile.Name)
			if c.WaID != "" {
				im.WaID = string(c.WaID)
			}
			if c.UserID != "" {
				im.UserID = string(c.UserID)
			}
		}
		n.Messages = append(n.Messages, im)
	}
	for _, s := range v.Statuses {
		su := StatusUpdate{
			PhoneNumberID:   phoneID,
			WABAID:          wabaID,
			ID:              string(s.ID),
			Status:          string(s.Status),
			Timestamp:       time.Time(s.Timestamp),
			RecipientID:     string(s.RecipientID),
			RecipientUserID: string(s.RecipientUserID),
		}
		for _, e := range s.Errors {
			su.Errors = append(su.Errors, StatusError{
				Code:    int(e.Code),
				Title:   string(e.Title),
				Message: string(e.Message),
				Details: string(e.ErrorData.Details),
			})
		}
		if s.Pricing != nil {
			su.Pricing = &Pricing{
				Billable:     bool(s.Pricing.Billable),
				PricingModel: string(s.Pricing.PricingModel),
				Category:     string(s.Pricing.Category),
				Type:         string(s.Pricing.Type),
			}
		}
		n.Statuses = append(n.Statuses, su)
	}
}

// parseTemplateSignal reads a message_template_quality_update or template_category_update value.
func parseTemplateSignal(n *Notification, wabaID, field string, raw json.RawMessage) {
	var v wTemplateSignal
	if !isObject(raw) || lenientUnmarshal(raw, &v) != nil {
		return
	}
	if field == "template_category_update" {
		n.CategoryUpdates = append(n.CategoryUpdates, TemplateCategoryUpdate{WABAID: wabaID, TemplateID: string(v.ID),
			Name: string(v.Name), Language: string(v.Language), Previous: string(v.PreviousCategory), New: string(v.NewCategory)})
		return
	}
	n.QualityUpdates = append(n.QualityUpdates, TemplateQualityUpdate{WABAID: wabaID, TemplateID: string(v.ID),
		Name: string(v.Name), Language: string(v.Language), Previous: string(v.PreviousQuality), New: string(v.NewQuality)})
}

func parsePreferences(n *Notification, wabaID string, raw json.RawMessage) {
	var v wPreferencesValue
	if !isObject(raw) || lenientUnmarshal(raw, &v) != nil {
		return
	}
	for _, p := range v.UserPreferences {
		n.Preferences = append(n.Preferences, UserPreference{PhoneNumberID: string(v.Metadata.PhoneNumberID), WABAID: wabaID,
			WaID: string(p.WaID), Category: string(p.Category), Value: string(p.Value), Detail: string(p.Detail),
			Timestamp: time.Time(p.Timestamp)})
	}
}

// matchContact finds the contacts[] entry of a message's sender: by wa_id, then by user_id, and
// failing both the only contact of a single-contact change (the usual case).
func matchContact(contacts []wContact, from, fromUserID string) *wContact {
	for i := range contacts {
		if from != "" && string(contacts[i].WaID) == from {
			return &contacts[i]
		}
	}
	for i := range contacts {
		if fromUserID != "" && string(contacts[i].UserID) == fromUserID {
			return &contacts[i]
		}
	}
	if len(contacts) == 1 {
		return &contacts[0]
	}
	return nil
}

// messageText renders what a person would read in the message. depth stops an edit of an edit
// from recursing further than Meta ever nests.
func messageText(m *wMessage, depth int) string {
	switch m.Type {
	case "text":
		return string(m.Text.Body)
	case "button":
		return firstNonEmpty(m.Button.Text, m.Button.Payload)
	case "interactive":
		return firstNonEmpty(m.Interactive.ButtonReply.Title, m.Interactive.ListReply.Title, m.Interactive.NFMReply.Body)
	case "image":
		return string(m.Image.Caption)
	case "video":
		return string(m.Video.Caption)
	case "document":
		return firstNonEmpty(m.Document.Caption, m.Document.Filename)
	case "audio":
		return string(m.Audio.Caption)
	case "sticker":
		return string(m.Sticker.Caption)
	case "reaction":
		return string(m.Reaction.Emoji)
	case "location":
		l := m.Location
		if s := joinNonEmpty(", ", l.Name, l.Address); s != "" {
			return s
		}
		if l.Latitude != "" && l.Longitude != "" {
			return string(l.Latitude) + ", " + string(l.Longitude)
		}
		return ""
	case "contacts":
		names := make([]flexString, 0, len(m.Contacts))
		for _, c := range m.Contacts {
			n := c.Name
			if n.FormattedName != "" {
				names = append(names, n.FormattedName)
			} else {
				names = append(names, flexString(joinNonEmpty(" ", n.FirstName, n.LastName)))
			}
		}
		return joinNonEmpty(", ", names...)
	case "order":
		return string(m.Order.Text)
	case "system":
		return string(m.System.Body)
	case "edit":
		if depth > 0 || !isObject(m.Edit.Message) {
			return ""
		}
		var inner wMessage
		if lenientUnmarshal(m.Edit.Message, &inner) != nil {
			return ""
		}
		return messageText(&inner, depth+1)
	}
	// An unknown type: a text body is still the best guess of what the contact wrote.
	return string(m.Text.Body)
}

// messageMedia is the file of a media message, nil for other types or one without a media id.
func messageMedia(m *wMessage) *InboundMedia {
	var w *wMedia
	switch m.Type {
	case "image":
		w = &m.Image
	case "video":
		w = &m.Video
	case "audio":
		w = &m.Audio
	case "document":
		w = &m.Document
	case "sticker":
		w = &m.Sticker
	default:
		return nil
	}
	if w.ID == "" {
		return nil
	}
	return &InboundMedia{ID: string(w.ID), MimeType: string(w.MimeType), SHA256: string(w.SHA256), Filename: string(w.Filename),
		Caption: string(w.Caption), Voice: bool(w.Voice), Animated: bool(w.Animated)}
}

// messageContent keeps the type's own object of the messages whose fields a person reads
// (a map's pin, a contact card, a reply's ids, a reaction's target). Contacts, a list, is
// wrapped so content is always an object.
func messageContent(typ string, raw json.RawMessage) json.RawMessage {
	switch typ {
	case "location", "contacts", "interactive", "button", "reaction":
	default:
		return nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return nil
	}
	v, ok := fields[typ]
	if !ok {
		return nil
	}
	if typ == "contacts" {
		b, err := json.Marshal(map[string]json.RawMessage{"contacts": v})
		if err != nil {
			return nil
		}
		return b
	}
	if !isObject(v) {
		return nil
	}
	return v
}

func firstNonEmpty(vs ...flexString) string {
	for _, v := range vs {
		if v != "" {
			return string(v)
		}
	}
	return ""
}

func joinNonEmpty(sep string, vs ...flexString) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		if s := strings.TrimSpace(string(v)); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, sep)
}

// isObject reports whether raw holds a JSON object (as opposed to null, a string, an array…).
func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// lenientUnmarshal decodes valid JSON into v, ignoring type mismatches: encoding/json skips a
// mismatched field, decodes the rest and reports only the first mismatch, which is exactly the
// tolerance a webhook needs. Any other error is returned.
func lenientUnmarshal(data []byte, v any) error {
	err := json.Unmarshal(data, v)
	var te *json.UnmarshalTypeError
	if err != nil && asTypeError(err, &te) {
		return nil
	}
	return err
}

func asTypeError(err error, target **json.UnmarshalTypeError) bool {
	return errors.As(err, target)
}
