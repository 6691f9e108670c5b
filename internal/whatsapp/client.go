package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for Config.
const (
	// DefaultBaseURL is Meta's Graph API origin.
	DefaultBaseURL = "https://graph.facebook.com"
	// DefaultVersion is the Graph API version of Meta's 2026 examples.
	DefaultVersion = "v25.0"
	// DefaultTimeout bounds one request of the default HTTP client, response body included.
	DefaultTimeout = 15 * time.Second
	// DefaultMaxIdleConnsPerHost is how many keep-alive connections to the Graph API the
	// default client keeps: more than the dispatcher's default workers (32), so concurrent
	// sends reuse their connections instead of opening one each.
	DefaultMaxIdleConnsPerHost = 64
)

// maxResponseBytes bounds what is read from one Graph API response; a send's answer is a few
// hundred bytes and a page of templates a few hundred kilobytes.
const maxResponseBytes = 8 << 20

// Config is the server-wide configuration of a Client. Tenants never choose it: the base URL comes
// from server configuration (WHATSAPP_API_BASE_URL) so that tests can point it at a fake.
type Config struct {
	// BaseURL is the Graph API origin, default https://graph.facebook.com.
	BaseURL string
	// Version is the Graph API version in the path, default v25.0.
	Version string
	// HTTPClient makes the requests; the default has a 15 s timeout.
	HTTPClient *http.Client
}

// Credentials are one WhatsApp number's: the phone number id messages are sent from, the WhatsApp
// Business Account whose templates it uses, and the access token for both.
type Credentials struct {
	// PhoneNumberID is Meta's id of the sending number (not the number itself).
	PhoneNumberID string
	// WABAID is the WhatsApp Business Account id, which owns the templates.
	WABAID string
	// AccessToken is the system-user token sent as a bearer token. Never log it.
	AccessToken string
}

// Client calls the WhatsApp Cloud API. It holds no per-tenant state, so one Client serves every
// channel and is safe for concurrent use.
type Client struct {
	base    string
	version string
	http    *http.Client
	// download fetches media: no overall timeout (100 MB on a slow link is fine), but the
	// caller's context bounds it and a stall is cut by the transport's header timeout.
	download *http.Client
}

// NewClient returns a Client for cfg, filling in the defaults.
func NewClient(cfg Config) *Client {
	c := &Client{
		base:    strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/"),
		version: strings.Trim(strings.TrimSpace(cfg.Version), "/"),
		http:    cfg.HTTPClient,
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.version == "" {
		c.version = DefaultVersion
	}
	if c.http == nil {
		// Its own transport: http.DefaultTransport keeps 2 idle connections per host, so the
		// dispatcher's 32 concurrent sends to graph.facebook.com closed and reopened a TCP (and,
		// at Meta, TLS) connection for most sends.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = DefaultMaxIdleConnsPerHost * 2
		t.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
		c.http = &http.Client{Timeout: DefaultTimeout, Transport: t}
	}
	c.download = &http.Client{Transport: c.http.Transport}
	if c.download.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = DefaultTimeout
		c.download.Transport = t
	}
	return c
}

// SendResult is Meta's acceptance of a message. Accepted is not delivered: delivery arrives later
// as a status webhook keyed by MessageID.
type SendResult struct {
	// MessageID is the wamid that status webhooks will refer to.
	MessageID string
	// WaID is the recipient's WhatsApp id. For Brazilian numbers it may lack the ninth digit that
	// the number we sent to has: store it so later webhooks match directly.
	WaID string
	// Input is the recipient as we sent it.
	Input string
	// MessageStatus is the acceptance state Meta reports for templates (accepted,
	// held_for_quality_assessment, paused); often empty for text.
	MessageStatus string
}

// The request bodies. Field order is the order of Meta's examples, so bodies are byte-for-byte
// predictable.
type (
	sendRequest struct {
		MessagingProduct string        `json:"messaging_product"`
		RecipientType    string        `json:"recipient_type"`
		To               string        `json:"to"`
		Type             string        `json:"type"`
		Template         *templateBody `json:"template,omitempty"`
		Text             *textBody     `json:"text,omitempty"`
		Image            *mediaBody    `json:"image,omitempty"`
		Audio            *mediaBody    `json:"audio,omitempty"`
		Video            *mediaBody    `json:"video,omitempty"`
		Document         *mediaBody    `json:"document,omitempty"`
		Sticker          *mediaBody    `json:"sticker,omitempty"`
	}
	templateBody struct {
		Name       string          `json:"name"`
		Language   languageBody    `json:"language"`
		Components json.RawMessage `json:"components,omitempty"`
	}
	languageBody struct {
		Code string `json:"code"`
	}
	textBody struct {
		PreviewURL bool   `json:"preview_url"`
		Body       string `json:"body"`
	}
)

// sendResponse is Meta's answer to an accepted message.
type sendResponse struct {
	Contacts []struct {
		Input flexString `json:"input"`
		WaID  flexString `json:"wa_id"`
	} `json:"contacts"`
	Messages []struct {
		ID            flexString `json:"id"`
		MessageStatus flexString `json:"message_status"`
	} `json:"messages"`
}

// SendTemplate sends the approved template name in language (such as pt_BR) to the phone number
// to, with components in Meta's shape
// (`[{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]`, with "parameter_name" on
// each parameter of a NAMED template); empty or null components are left out. to gets a leading
// '+' if it has none, so Meta never prefixes the business's own country code.
func (c *Client) SendTemplate(ctx context.Context, cr Credentials, to string, name, language string, components json.RawMessage) (SendResult, error) {
	if strings.TrimSpace(name) == "" || strings.TrimSpace(language) == "" {
		return SendResult{}, fmt.Errorf("send template: %w: template name and language are required", ErrInvalidArgument)
	}
	comps := bytes.TrimSpace(components)
	switch string(comps) {
	case "", "null", "[]":
		comps = nil
	default:
		if !json.Valid(comps) {
			return SendResult{}, fmt.Errorf("send template: %w: components are not valid JSON", ErrInvalidArgument)
		}
	}
	req := sendRequest{
		Type: "template",
		Template: &templateBody{
			Name:       name,
			Language:   languageBody{Code: language},
			Components: json.RawMessage(comps),
		},
	}
	res, err := c.send(ctx, cr, to, req)
	if err != nil {
		return SendResult{}, fmt.Errorf("send template %s: %w", name, err)
	}
	return res, nil
}

// SendText sends a free-text message, which Meta accepts only inside the contact's 24-hour
// customer-service window (else error 131047). Link previews are off.
func (c *Client) SendText(ctx context.Context, cr Credentials, to, body string) (SendResult, error) {
	if body == "" {
		return SendResult{}, fmt.Errorf("send text: %w: body is required", ErrInvalidArgument)
	}
	res, err := c.send(ctx, cr, to, sendRequest{Type: "text", Text: &textBody{Body: body}})
	if err != nil {
		return SendResult{}, fmt.Errorf("send text: %w", err)
	}
	return res, nil
}

func (c *Client) send(ctx context.Context, cr Credentials, to string, req sendRequest) (SendResult, error) {
	if cr.PhoneNumberID == "" || cr.AccessToken == "" {
		return SendResult{}, fmt.Errorf("%w: phone number id and access token are required", ErrInvalidArgument)
	}
	to = strings.TrimSpace(to)
	if strings.Trim(to, "+") == "" {
		return SendResult{}, fmt.Errorf("%w: recipient is required", ErrInvalidArgument)
	}
	if !strings.HasPrefix(to, "+") {
		to = "+" + to
	}
	req.MessagingProduct = "whatsapp"
	req.RecipientType = "individual"
	req.To = to
	body, err := marshal(req)
	if err != nil {
		return SendResult{}, fmt.Errorf("%w: %v", ErrInvalidArgument, err)
	}

	u := c.base + "/" + c.version + "/" + url.PathEscape(cr.PhoneNumberID) + "/messages"
	status, _, respBody, err := c.do(ctx, http.MethodPost, u, cr.AccessToken, body)
	if err != nil {
		return SendResult{}, err
	}
	var sr sendResponse
	// A type mismatch leaves the other fields decoded; only the message id matters below.
	_ = json.Unmarshal(respBody, &sr)
	if len(sr.Messages) == 0 || sr.Messages[0].ID == "" {
		// Meta said yes without an id. The message may well have been accepted, so retrying could
		// send it twice: report it as permanent and let a person look.
		return SendResult{}, &Error{
			HTTPStatus: status,
			Message:    "success response without a message id: " + excerpt(respBody),
			Title:      "Unexpected response",
		}
	}
	res := SendResult{
		MessageID:     string(sr.Messages[0].ID),
		MessageStatus: string(sr.Messages[0].MessageStatus),
		Input:         to,
	}
	if len(sr.Contacts) > 0 {
		res.WaID = string(sr.Contacts[0].WaID)
		if sr.Contacts[0].Input != "" {
			res.Input = string(sr.Contacts[0].Input)
		}
	}
	return res, nil
}

// marshal encodes v without Go's HTML escaping (a "&" in a parameter stays "&") and without the
// encoder's trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// do makes one Graph API request. It returns the status, headers and body of a 2xx response, and
// an *Error for anything else: Meta's error, or a transient one when no usable response arrived.
func (c *Client) do(ctx context.Context, method, u, token string, body []byte) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%w: build request: %v", ErrInvalidArgument, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")

	resp, err := c.http.Do(req)
	if err != nil {
		// No response: connection refused or reset, DNS, TLS, client timeout, cancelled context.
		// The request may or may not have reached Meta; a retry is the only way forward.
		return 0, nil, nil, &Error{Message: "no response", Title: "Network error", Transient: true, cause: err}
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return resp.StatusCode, resp.Header, nil, &Error{
			HTTPStatus: resp.StatusCode,
			Message:    "reading response",
			Title:      "Network error",
			Transient:  true,
			RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			cause:      err,
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, resp.Header, respBody, responseError(resp.StatusCode, resp.Header, respBody)
	}
	return resp.StatusCode, resp.Header, respBody, nil
}
