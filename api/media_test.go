package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/atendimento/atendimento/cmd/atendimento/app/apptest"
)

// pdfBytes is a small PDF (the bytes decide the kind, not the name).
var pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// pngHeader starts a PNG file.
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")

// upload posts a file as multipart (field file, and filename when not "").
func upload(t *testing.T, c *apptest.Client, partName, filename string, data []byte) *apptest.Response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, err := w.CreateFormFile("file", partName)
	require.NoError(t, err)
	_, err = fw.Write(data)
	require.NoError(t, err)
	if filename != "" {
		require.NoError(t, w.WriteField("filename", filename))
	}
	require.NoError(t, w.Close())
	return c.WithHeader("Content-Type", w.FormDataContentType()).Post("/api/v1/media", body.Bytes())
}

func TestMediaUploadAndServe(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		r := upload(t, env.Admin, "c:\\Users\\ana\\boleto.pdf", "", pdfBytes)
		require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
		sum := sha256.Sum256(pdfBytes)
		m := r.JSON()
		require.Equal(t, "document", m["kind"])
		require.Equal(t, "application/pdf", m["mime_type"])
		require.Equal(t, float64(len(pdfBytes)), m["size"])
		require.Equal(t, hex.EncodeToString(sum[:]), m["sha256"])
		require.Equal(t, "boleto.pdf", m["filename"], "only the last element of a client's path")
		id := m["id"].(string)

		g := env.Admin.Get("/api/v1/media/" + id)
		require.Equal(t, http.StatusOK, g.Status, string(g.Body))
		require.Equal(t, pdfBytes, g.Body)
		require.Equal(t, "application/pdf", g.Header.Get("Content-Type"))
		require.Equal(t, `"`+hex.EncodeToString(sum[:])+`"`, g.Header.Get("ETag"))
		require.Equal(t, "private, max-age=31536000, immutable", g.Header.Get("Cache-Control"))
		require.Equal(t, "nosniff", g.Header.Get("X-Content-Type-Options"))
		require.Equal(t, `attachment; filename=boleto.pdf`, g.Header.Get("Content-Disposition"), "documents download")

		// An audio player seeks: a range is 206 with just those bytes.
		rg := env.Admin.WithHeader("Range", "bytes=5-9").Get("/api/v1/media/" + id)
		require.Equal(t, http.StatusPartialContent, rg.Status)
		require.Equal(t, pdfBytes[5:10], rg.Body)
		nm := env.Admin.WithHeader("If-None-Match", g.Header.Get("ETag")).Get("/api/v1/media/" + id)
		require.Equal(t, http.StatusNotModified, nm.Status)

		// An image shows inline, under the name the filename field gives.
		img := upload(t, env.Admin, "x.bin", "recibo.png", pngHeader)
		require.Equal(t, http.StatusCreated, img.Status, string(img.Body))
		require.Equal(t, "image", img.Str("kind"))
		require.Equal(t, "image/png", img.Str("mime_type"))
		require.Equal(t, "recibo.png", img.Str("filename"))
		gi := env.Admin.Get("/api/v1/media/" + img.Str("id"))
		require.Equal(t, `inline; filename=recibo.png`, gi.Header.Get("Content-Disposition"))

		// Another account never sees it.
		_, otherKey := env.NewAccount("Outra")
		require.Equal(t, http.StatusNotFound, env.Client(otherKey).Get("/api/v1/media/"+id).Status)
		require.Equal(t, http.StatusNotFound, env.Admin.Get("/api/v1/media/not-an-id").Status)
	})
}

func TestMediaUploadRefusesWhatWhatsAppDoesNotTake(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		// A page that calls itself a PDF is judged by its bytes.
		html := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
		r := upload(t, env.Admin, "boleto.pdf", "", html)
		require.Equal(t, http.StatusUnsupportedMediaType, r.Status, string(r.Body))
		require.Equal(t, "media_type_unsupported", r.Str("code"))
		svg := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
		require.Equal(t, "media_type_unsupported", upload(t, env.Admin, "a.png", "", svg).Str("code"))

		// An image over 5 MB is 413 with the kind's limit.
		big := append(append([]byte{}, pngHeader...), bytes.Repeat([]byte{0}, 5<<20)...)
		r = upload(t, env.Admin, "foto.png", "", big)
		require.Equal(t, http.StatusRequestEntityTooLarge, r.Status, string(r.Body))
		require.Equal(t, "media_too_large", r.Str("code"))
		require.Equal(t, "WhatsApp takes image files up to 5 MB", r.Str("detail"))

		// A document over 100 MB is cut off while it streams.
		huge := append(append([]byte{}, pdfBytes...), bytes.Repeat([]byte{' '}, 100<<20)...)
		r = upload(t, env.Admin, "grande.pdf", "", huge)
		require.Equal(t, http.StatusRequestEntityTooLarge, r.Status, string(r.Body))
		require.Equal(t, "media_too_large", r.Str("code"))

		r = upload(t, env.Admin, "vazio.pdf", "", nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"file:media_empty"}, r.FieldCodes())

		r = env.Admin.Post("/api/v1/media", map[string]any{"file": "x"})
		require.Equal(t, http.StatusUnsupportedMediaType, r.Status, string(r.Body))
		require.True(t, strings.Contains(string(r.Body), "multipart"))
	})
}

func TestSandboxInboundMediaAndWhoMaySeeIt(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		suporte := env.Demo.TeamIDs[1]
		require.Equal(t, http.StatusOK, env.Admin.Patch("/api/v1/channels/"+env.Demo.ChannelID, map[string]any{"default_team_id": suporte}).Status)
		up := upload(t, env.Admin, "recibo.png", "", pngHeader)
		require.Equal(t, http.StatusCreated, up.Status, string(up.Body))

		r := env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound",
			map[string]any{"from": "11 93434-0101", "media_id": up.Str("id"), "caption": "Segue o comprovante"})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		r = env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound",
			map[string]any{"from": "11 93434-0101", "media_id": someID})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
		require.Equal(t, []string{"media_id:media_not_found"}, r.FieldCodes())

		ids := listIDs(t, env.Admin, "/api/v1/conversations?status=active")
		require.Len(t, ids, 1)
		msgs := items(t, env.Admin.Get(msgPath(ids[0])))
		require.Len(t, msgs, 1)
		m := msgs[0]
		require.Equal(t, "image", m["type"])
		require.Equal(t, "in", m["direction"])
		md := m["media"].(map[string]any)
		require.Equal(t, map[string]any{"id": md["id"], "kind": "image", "mime_type": "image/png", "size": float64(len(pngHeader)),
			"filename": "recibo.png", "caption": "Segue o comprovante", "voice": false, "status": "ready"}, md)
		require.NotEqual(t, up.Str("id"), md["id"], "the contact's file is a row of its own")
		require.Equal(t, pngHeader, env.Admin.Get("/api/v1/media/"+md["id"].(string)).Body)

		// An agent outside the conversation's team does not learn the file exists.
		agent, _, _ := agentSession(t, env)
		g := agent.Get("/api/v1/media/" + md["id"].(string))
		require.Equal(t, http.StatusNotFound, g.Status)
		require.Equal(t, "media_not_found", g.Str("code"))
		// An upload no message carries yet: its uploader and admins see it, other agents do not.
		require.Equal(t, http.StatusNotFound, agent.Get("/api/v1/media/"+up.Str("id")).Status)
		mine := upload(t, agent, "nota.pdf", "", pdfBytes)
		require.Equal(t, http.StatusCreated, mine.Status, string(mine.Body))
		require.Equal(t, http.StatusOK, agent.Get("/api/v1/media/"+mine.Str("id")).Status)
		require.Equal(t, http.StatusOK, env.Admin.Get("/api/v1/media/"+mine.Str("id")).Status)

		// A contact with history is kept (contact_in_use), and so are its files.
		contactID := env.Admin.Get("/api/v1/conversations/" + ids[0]).JSON()["contact"].(map[string]any)["id"].(string)
		require.Equal(t, http.StatusConflict, env.Admin.Delete("/api/v1/contacts/"+contactID).Status)
		require.Equal(t, http.StatusOK, env.Admin.Get("/api/v1/media/"+md["id"].(string)).Status)
	})
}

func TestDeletingAContactSweepsUnusedMedia(t *testing.T) {
	t.Parallel()
	apptest.EachWith(t, noDispatcher, func(t *testing.T, env *apptest.Env) {
		stale := upload(t, env.Admin, "velho.pdf", "", pdfBytes)
		fresh := upload(t, env.Admin, "novo.png", "", pngHeader)
		used := upload(t, env.Admin, "usado.png", "", pngHeader) // same blob as fresh
		require.Equal(t, http.StatusOK, env.Admin.Post("/api/v1/sandbox/channels/"+env.Demo.ChannelID+"/inbound",
			map[string]any{"from": "11 93434-0201", "media_id": used.Str("id")}).Status)
		// Uploads nobody sent for more than a day are the sweep's; younger ones (or uploaded again
		// since, TestMediaUploadOfTheSameBytesIsTheSameMedia) may be about to go.
		require.NoError(t, env.App.DB.Conn(env.Ctx()).Exec("UPDATE media SET created_at = ?, updated_at = ? WHERE id IN (?, ?)",
			time.Now().Add(-25*time.Hour), time.Now().Add(-25*time.Hour), stale.Str("id"), used.Str("id")).Error)
		blob := func(sha string) string {
			return filepath.Join(env.App.Config.MediaStore, env.Demo.AccountID, sha[:2], sha)
		}
		require.FileExists(t, blob(stale.Str("sha256")))

		c := env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Sem histórico", "phone": "11 93434-0202"})
		require.Equal(t, http.StatusCreated, c.Status, string(c.Body))
		require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/contacts/"+c.Str("id")).Status)

		require.Equal(t, http.StatusNotFound, env.Admin.Get("/api/v1/media/"+stale.Str("id")).Status)
		require.NoFileExists(t, blob(stale.Str("sha256")), "no other row uses the blob")
		require.Equal(t, http.StatusNotFound, env.Admin.Get("/api/v1/media/"+used.Str("id")).Status, "the sandbox message carries its own copy")
		require.Equal(t, pngHeader, env.Admin.Get("/api/v1/media/"+fresh.Str("id")).Body, "a fresh upload and its blob stay")
		require.FileExists(t, blob(fresh.Str("sha256")))
	})
}

func TestMediaUploadOfTheSameBytesIsTheSameMedia(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, env *apptest.Env) {
		first := upload(t, env.Admin, "boleto.pdf", "", pdfBytes)
		require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
		again := upload(t, env.Admin, "boleto.pdf", "", pdfBytes)
		require.Equal(t, http.StatusCreated, again.Status, string(again.Body))
		require.Equal(t, first.Str("id"), again.Str("id"), "the same bytes and name: the same media")
		require.Equal(t, first.JSON(), again.JSON())
		// The name given in the filename field counts, whichever part comes first.
		named := upload(t, env.Admin, "x.pdf", "boleto.pdf", pdfBytes)
		require.Equal(t, first.Str("id"), named.Str("id"))

		// Under another name the bytes are another media (a document is sent with its name),
		// and the first keeps its own.
		other := upload(t, env.Admin, "boleto.pdf", "segunda-via.pdf", pdfBytes)
		require.Equal(t, http.StatusCreated, other.Status, string(other.Body))
		require.NotEqual(t, first.Str("id"), other.Str("id"))
		require.Equal(t, "segunda-via.pdf", other.Str("filename"))
		require.Equal(t, first.Str("sha256"), other.Str("sha256"))
		require.Equal(t, other.Str("id"), upload(t, env.Admin, "a.pdf", "segunda-via.pdf", pdfBytes).Str("id"))
		g := env.Admin.Get("/api/v1/media/" + first.Str("id"))
		require.Equal(t, http.StatusOK, g.Status)
		require.Equal(t, pdfBytes, g.Body)

		// Other bytes are another media; another account never shares an id.
		changed := upload(t, env.Admin, "boleto.pdf", "", append(bytes.Clone(pdfBytes), '\n'))
		require.NotEqual(t, first.Str("id"), changed.Str("id"))
		_, key := env.NewAccount("Outra")
		theirs := upload(t, env.Client(key), "boleto.pdf", "", pdfBytes)
		require.Equal(t, http.StatusCreated, theirs.Status, string(theirs.Body))
		require.NotEqual(t, first.Str("id"), theirs.Str("id"))

		// Uploaded again, an old unused upload counts its day from now: the sweep leaves it.
		old := time.Now().Add(-25 * time.Hour)
		require.NoError(t, env.App.DB.Conn(env.Ctx()).Exec("UPDATE media SET created_at = ?, updated_at = ? WHERE id = ?", old, old, first.Str("id")).Error)
		require.Equal(t, first.Str("id"), upload(t, env.Admin, "boleto.pdf", "", pdfBytes).Str("id"))
		c := env.Admin.Post("/api/v1/contacts", map[string]any{"name": "Sem histórico", "phone": "11 93434-0203"})
		require.Equal(t, http.StatusNoContent, env.Admin.Delete("/api/v1/contacts/"+c.Str("id")).Status)
		require.Equal(t, http.StatusOK, env.Admin.Get("/api/v1/media/"+first.Str("id")).Status)
	})
}
