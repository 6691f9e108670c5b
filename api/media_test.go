package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

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
