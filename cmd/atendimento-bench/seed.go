package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/atendimento/atendimento/cmd/atendimento/app"
)

// The fixed credentials of the bench's WhatsApp Cloud channel.
const (
	benchSecret    = "bench-secret-key-0123456789abcdef"
	benchToken     = "EAAG-bench-access-token"
	benchAppSecret = "bench-app-secret"
	benchVerify    = "bench-verify-token"
	benchPNID      = "106540352242922"
	benchWABA      = "102290129340398"
)

// seeded names what seedBase created; clones of a seeded database keep the same ids.
type seeded struct {
	AccountID, APIKey, ChannelID, TeamID, TemplateID string
}

// apiClient calls the product's HTTP API, either in this process (an App's handler, for seeding
// with the dispatcher stopped) or over loopback (a server process).
type apiClient struct {
	handler http.Handler
	base    string
	http    *http.Client
	key     string
}

func (c *apiClient) do(ctx context.Context, method, path string, body []byte, hdr map[string]string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if c.handler != nil {
		rec := httptest.NewRecorder()
		c.handler.ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes(), nil
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// call sends v as JSON and decodes the answer into out, failing unless the status is want.
func (c *apiClient) call(ctx context.Context, method, path string, v any, want int, out any) error {
	var body []byte
	if v != nil {
		var err error
		if body, err = json.Marshal(v); err != nil {
			return err
		}
	}
	st, resp, err := c.do(ctx, method, path, body, nil)
	if err != nil {
		return err
	}
	if st != want {
		return fmt.Errorf("%s %s: %d %s", method, path, st, resp)
	}
	if out != nil {
		return json.Unmarshal(resp, out)
	}
	return nil
}

// webhookBody is Meta's envelope around one change value.
func webhookBody(value map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": benchWABA,
		"changes": []any{map[string]any{"field": "messages", "value": value}}}}})
	return b
}

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(benchAppSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func metadata() map[string]any {
	return map[string]any{"display_phone_number": "551140009999", "phone_number_id": benchPNID}
}

// inboundValue is a contact's text message as Meta posts it.
func inboundValue(from, wamid, text string, at time.Time) map[string]any {
	return map[string]any{"messaging_product": "whatsapp", "metadata": metadata(),
		"contacts": []any{map[string]any{"profile": map[string]any{"name": "Cliente"}, "wa_id": from}},
		"messages": []any{map[string]any{"from": from, "id": wamid, "timestamp": fmt.Sprint(at.Unix()), "type": "text", "text": map[string]any{"body": text}}}}
}

// webhook posts a signed notification to the channel's webhook.
func (c *apiClient) webhook(ctx context.Context, channelID string, body []byte) error {
	st, resp, err := c.do(ctx, http.MethodPost, "/webhooks/whatsapp/"+channelID, body, map[string]string{"X-Hub-Signature-256": sign(body)})
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return fmt.Errorf("webhook: %d %s", st, resp)
	}
	return nil
}

// openApp opens an in-process App on db with the dispatcher stopped, for seeding.
func openApp(ctx context.Context, db *benchDB, fakeURL string) (*app.App, error) {
	return app.New(ctx, app.Config{DatabaseURL: db.URL, SecretKey: benchSecret, BcryptCost: bcrypt.MinCost, NoDispatcher: true,
		WhatsAppAPIBaseURL: fakeURL, WhatsAppAPIVersion: "v25.0"}, slog.New(slog.DiscardHandler))
}

// seedBase migrates db and creates, through the API, an account with an admin API key, a
// WhatsApp Cloud channel pointing at the fake, a team and an approved NAMED template.
func seedBase(ctx context.Context, a *app.App) (seeded, *apiClient, error) {
	demo, err := a.Demo(ctx)
	if err != nil {
		return seeded{}, nil, err
	}
	if demo == nil {
		return seeded{}, nil, fmt.Errorf("the database is not empty")
	}
	s := seeded{AccountID: demo.AccountID, APIKey: demo.APIKey}
	c := &apiClient{handler: a.Handler, base: "http://bench.local", key: s.APIKey}
	if err := seedCatalog(ctx, c, &s); err != nil {
		return s, nil, err
	}
	return s, c, nil
}

// seedCatalog creates, through the API c calls, a WhatsApp Cloud channel pointing at the fake,
// a team (the channel's default) and an approved NAMED template, and records their ids in s.
func seedCatalog(ctx context.Context, c *apiClient, s *seeded) error {
	var id struct{ ID string }
	if err := c.call(ctx, http.MethodPost, "/api/v1/channels", map[string]any{"name": "Cloud", "provider": "whatsapp_cloud",
		"phone_number": "+55 11 4000-9999", "phone_number_id": benchPNID, "waba_id": benchWABA, "access_token": benchToken,
		"app_secret": benchAppSecret, "verify_token": benchVerify}, http.StatusCreated, &id); err != nil {
		return err
	}
	s.ChannelID = id.ID
	if err := c.call(ctx, http.MethodPost, "/api/v1/teams", map[string]any{"name": "Cloud team", "channel_ids": []string{s.ChannelID}},
		http.StatusCreated, &id); err != nil {
		return err
	}
	s.TeamID = id.ID
	if err := c.call(ctx, http.MethodPatch, "/api/v1/channels/"+s.ChannelID, map[string]any{"default_team_id": s.TeamID}, http.StatusOK, nil); err != nil {
		return err
	}
	if err := c.call(ctx, http.MethodPost, "/api/v1/templates", map[string]any{"channel_id": s.ChannelID, "name": "saudacao",
		"language": "pt_BR", "category": "UTILITY", "status": "APPROVED", "parameter_format": "NAMED",
		"components": []map[string]any{{"type": "BODY", "text": "Olá {{nome}}, aqui é {{atendente}}."}}}, http.StatusCreated, &id); err != nil {
		return err
	}
	s.TemplateID = id.ID
	return nil
}

// startBody is the start request the bench sends (the README's example, with a new contact).
func (s seeded) startBody(phone string) []byte {
	b, _ := json.Marshal(map[string]any{"contact": map[string]any{"phone": phone, "name": "Cliente Bench"},
		"channel_id": s.ChannelID, "team_id": s.TeamID, "send_type": "now", "template_id": s.TemplateID,
		"parameters": map[string]any{"nome": "Cliente", "atendente": "Ana"}})
	return b
}

// benchPhone is the i-th bench contact's phone (a Brazilian mobile, +55 11 9xxxx-xxxx), distinct
// from the probe recipient.
func benchPhone(i int) string { return fmt.Sprintf("+551196%07d", i) }

// backlogSpec describes conversations to seed: each is started (its template due), gets perConv
// queued texts "<tag>c<i>-m<j>", and, when reply is set, the contact's reply releases them.
type backlogSpec struct {
	First, Convs, PerConv int
	Tag                   string
	Reply                 bool
}

func queuedText(tag string, i, j int) string { return fmt.Sprintf("%sc%d-m%d", tag, i, j) }

// seedConversations seeds spec through the API (8 at a time) and returns the conversation ids.
func seedConversations(ctx context.Context, c *apiClient, s seeded, spec backlogSpec) ([]string, error) {
	ids := make([]string, spec.Convs)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	for k := range spec.Convs {
		i := spec.First + k
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := func() error {
				var out struct{ ID string }
				if err := c.call(ctx, http.MethodPost, "/api/v1/conversations", json.RawMessage(s.startBody(benchPhone(i))), http.StatusCreated, &out); err != nil {
					return err
				}
				ids[k] = out.ID
				for j := range spec.PerConv {
					if err := c.call(ctx, http.MethodPost, "/api/v1/conversations/"+out.ID+"/messages",
						map[string]any{"text": queuedText(spec.Tag, i, j)}, http.StatusCreated, nil); err != nil {
						return err
					}
				}
				if spec.Reply {
					from := strings.TrimPrefix(benchPhone(i), "+")
					return c.webhook(ctx, s.ChannelID, webhookBody(inboundValue(from, fmt.Sprintf("wamid.in.%s%d", spec.Tag, i), "oi", time.Now())))
				}
				return nil
			}()
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ids, firstErr
}
