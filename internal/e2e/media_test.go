package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/internal/whatsapp/whatsapptest"
)

// mediaMessage is an inbound media message of Meta's shape.
func mediaMessage(from, wamid, typ string, item map[string]any, at time.Time) map[string]any {
	return map[string]any{"from": from, "id": wamid, "timestamp": fmt.Sprint(at.Unix()), "type": typ, typ: item}
}

// inboundMessages is a webhook value carrying several messages of one contact.
func inboundMessages(from string, msgs ...map[string]any) map[string]any {
	list := make([]any, len(msgs))
	for i, m := range msgs {
		list[i] = m
	}
	return map[string]any{"messaging_product": "whatsapp", "metadata": metadata(),
		"contacts": []any{map[string]any{"profile": map[string]any{"name": "Ana"}, "wa_id": from}}, "messages": list}
}

// byWamid indexes a conversation's messages by their WhatsApp id.
func (c *cloud) byWamid(t *testing.T, convID string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, m := range c.messages(t, convID) {
		if id, ok := m["provider_message_id"].(string); ok {
			out[id] = m
		}
	}
	return out
}

func TestInboundMediaIsFetchedFromMeta(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		const from = "5511987650001"
		jpeg := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), []byte(strings.Repeat("foto", 2000))...)
		voice := append([]byte("OggS\x00\x02"+strings.Repeat("\x00", 22)+"OpusHead\x01\x01"), []byte(strings.Repeat("v", 3000))...)
		pdf := []byte("%PDF-1.4\n% boleto\n%%EOF\n")
		webp := []byte("RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00")
		c.fake.SetMedia("m-image", jpeg, "image/jpeg", "")
		c.fake.SetMedia("m-voice", voice, "audio/ogg; codecs=opus", "")
		c.fake.SetMedia("m-doc", pdf, "application/pdf", "")
		c.fake.SetMedia("m-sticker", webp, "image/webp", "")
		c.fake.SetMedia("m-liar", []byte("not what Meta declared"), "image/jpeg", "c29tZXRoaW5nIGVsc2U=")
		c.fake.ExpireNextDownloads(1) // the first URL has expired: asked for again

		at := time.Now().Add(-time.Minute)
		r := c.webhook(t, inboundMessages(from,
			mediaMessage(from, "wamid.img", "image", map[string]any{"id": "m-image", "mime_type": "image/jpeg", "caption": "Comprovante"}, at),
			mediaMessage(from, "wamid.voice", "audio", map[string]any{"id": "m-voice", "mime_type": "audio/ogg; codecs=opus", "voice": true}, at.Add(time.Second)),
			mediaMessage(from, "wamid.doc", "document", map[string]any{"id": "m-doc", "mime_type": "application/pdf", "filename": "boleto.pdf"}, at.Add(2*time.Second)),
			mediaMessage(from, "wamid.sticker", "sticker", map[string]any{"id": "m-sticker", "mime_type": "image/webp", "animated": false}, at.Add(3*time.Second)),
			mediaMessage(from, "wamid.gone", "image", map[string]any{"id": "m-gone", "mime_type": "image/jpeg"}, at.Add(4*time.Second)),
			mediaMessage(from, "wamid.liar", "image", map[string]any{"id": "m-liar", "mime_type": "image/jpeg"}, at.Add(5*time.Second)),
			mediaMessage(from, "wamid.loc", "location", map[string]any{"latitude": -23.5613, "longitude": -46.6565, "name": "MASP"}, at.Add(6*time.Second)),
			mediaMessage(from, "wamid.card", "contacts", nil, at.Add(7*time.Second)),
		))
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))

		convs := c.Admin.Get("/api/v1/conversations?channel_id=" + c.channelID)
		var list struct{ Items []map[string]any }
		convs.Decode(t, &list)
		require.Len(t, list.Items, 1)
		conv := list.Items[0]["id"].(string)

		// The webhook answered before any download; the files arrive as the queue fetches them.
		waitFor(t, "every media settled", func() bool {
			for _, m := range c.byWamid(t, conv) {
				if md, ok := m["media"].(map[string]any); ok && md["status"] == "pending" {
					return false
				}
			}
			return true
		})
		msgs := c.byWamid(t, conv)
		check := func(wamid, kind, mime string, data []byte) map[string]any {
			t.Helper()
			m := msgs[wamid]
			require.Equal(t, kind, m["type"], wamid)
			md := m["media"].(map[string]any)
			require.Equal(t, "ready", md["status"], "%s: %v", wamid, md)
			require.Equal(t, kind, md["kind"])
			require.Equal(t, float64(len(data)), md["size"])
			g := c.Admin.Get("/api/v1/media/" + md["id"].(string))
			require.Equal(t, http.StatusOK, g.Status)
			require.Equal(t, data, g.Body)
			require.Equal(t, mime, g.Header.Get("Content-Type"))
			sum := sha256.Sum256(data)
			require.Equal(t, `"`+hex.EncodeToString(sum[:])+`"`, g.Header.Get("ETag"))
			return md
		}
		img := check("wamid.img", "image", "image/jpeg", jpeg)
		require.Equal(t, "Comprovante", img["caption"])
		require.Equal(t, "Comprovante", msgs["wamid.img"]["text"])
		vn := check("wamid.voice", "audio", "audio/ogg; codecs=opus", voice)
		require.Equal(t, true, vn["voice"])
		doc := check("wamid.doc", "document", "application/pdf", pdf)
		require.Equal(t, "boleto.pdf", doc["filename"])
		check("wamid.sticker", "sticker", "image/webp", webp)

		gone := msgs["wamid.gone"]["media"].(map[string]any)
		require.Equal(t, "failed", gone["status"])
		require.Contains(t, gone["failure"], "WhatsApp no longer has this file")
		liar := msgs["wamid.liar"]["media"].(map[string]any)
		require.Equal(t, "failed", liar["status"])
		require.Contains(t, liar["failure"], "sha256")
		require.Equal(t, http.StatusConflict, c.Admin.Get("/api/v1/media/"+liar["id"].(string)).Status)

		loc := msgs["wamid.loc"]
		require.Nil(t, loc["media"])
		require.Equal(t, map[string]any{"latitude": -23.5613, "longitude": -46.6565, "name": "MASP"}, loc["content"])
		require.Equal(t, "MASP", loc["text"])

		// Every download carried the channel's token; the expired URL was asked for again.
		var lookups, downloads int
		for _, req := range c.fake.Requests() {
			if req.Method != http.MethodGet {
				continue
			}
			require.Equal(t, "Bearer "+token, req.Header.Get("Authorization"), req.Path)
			switch {
			case strings.HasPrefix(req.Path, "/download/"):
				downloads++
			case strings.HasPrefix(req.Path, "/v25.0/m-"):
				lookups++
				require.Equal(t, pnid, req.Query.Get("phone_number_id"))
			}
		}
		require.Equal(t, 7, lookups, "six files, one asked for twice after its URL expired")
		require.Equal(t, 6, downloads, "five files and the expired try")
	})
}

// uploadFile posts a file to POST /api/v1/media and returns its id.
func (c *cloud) uploadFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, err := w.CreateFormFile("file", name)
	require.NoError(t, err)
	_, _ = fw.Write(data)
	require.NoError(t, w.Close())
	r := c.Admin.WithHeader("Content-Type", w.FormDataContentType()).Post("/api/v1/media", body.Bytes())
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	return r.Str("id")
}

func TestAttachmentQueuedWhileWaitingGoesOutInOrder(t *testing.T) {
	eachCloud(t, func(t *testing.T, c *cloud) {
		const phone = "+5511987650002"
		conv := c.start(t, "11 98765-0002")
		require.True(t, c.fake.WaitFor(1, 10*time.Second), "the opening template")
		pdf := []byte("%PDF-1.4\n% boleto 123\n%%EOF\n")
		doc := c.uploadFile(t, "boleto.pdf", pdf)
		path := "/api/v1/conversations/" + conv + "/messages"

		r := c.Admin.Post(path, map[string]any{"media_id": doc, "caption": "Segue o boleto"})
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		require.Equal(t, "queued", r.Str("status"))
		require.Equal(t, "document", r.Str("type"))
		require.Equal(t, "Segue o boleto", r.JSON()["media"].(map[string]any)["caption"])
		require.Equal(t, http.StatusCreated, c.Admin.Post(path, map[string]any{"text": "Qualquer dúvida, estou aqui."}).Status)

		// Bad input is refused with every field at once, and nothing is queued.
		r = c.Admin.Post(path, map[string]any{"media_id": "0190a000-0000-7000-8000-000000000000"})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status)
		require.Equal(t, []string{"media_id:media_not_found"}, r.FieldCodes())
		voice := c.uploadFile(t, "audio.ogg", []byte("OggS\x00\x02"+strings.Repeat("\x00", 22)+"OpusHead\x01\x01"))
		r = c.Admin.Post(path, map[string]any{"media_id": voice, "caption": "ouça"})
		require.Equal(t, []string{"caption:caption_not_allowed"}, r.FieldCodes())
		require.Equal(t, 1, c.fake.Count(), "nothing leaves while the conversation waits")

		// The reply releases the queue: the file is uploaded to the channel once, then sent by
		// Meta's id, before the text posted after it.
		require.Equal(t, http.StatusOK, c.webhook(t, inbound(phone[1:], "wamid.reply.media", "pode mandar", time.Now())).Status)
		require.True(t, c.fake.WaitFor(3, 10*time.Second))
		ups := c.fake.Uploads()
		require.Len(t, ups, 1)
		require.Equal(t, whatsapptest.Upload{PhoneNumberID: pnid, Type: "application/pdf", Filename: "boleto.pdf", ContentType: "application/pdf",
			Data: pdf, ID: ups[0].ID}, ups[0])
		msgs := c.fake.Messages()
		require.Equal(t, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"`+phone+`","type":"document",`+
			`"document":{"id":"`+ups[0].ID+`","caption":"Segue o boleto","filename":"boleto.pdf"}}`, string(msgs[1].Body))
		require.Equal(t, "text", msgs[2].Type)

		// Sent again on the same channel, the file reuses Meta's id: no second upload.
		r = c.Admin.Post(path, map[string]any{"media_id": doc})
		require.Equal(t, "pending", r.Str("status"))
		require.True(t, c.fake.WaitFor(4, 10*time.Second))
		require.Len(t, c.fake.Uploads(), 1)
		require.Equal(t, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"`+phone+`","type":"document",`+
			`"document":{"id":"`+ups[0].ID+`","filename":"boleto.pdf"}}`, string(c.fake.Messages()[3].Body))
		waitFor(t, "the file is recorded sent", func() bool {
			for _, m := range c.messages(t, conv) {
				if m["type"] == "document" && m["status"] != "sent" {
					return false
				}
			}
			return true
		})
	})
}
