package whatsapptest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

// fakeMedia is a file the fake holds, as Meta holds what contacts send.
type fakeMedia struct {
	data []byte
	mime string
}

// SetMedia makes the fake hold a file under a media id: GET /{version}/{id} answers its
// download URL, mime type, base64 sha256 and size, and GET <url> with the bearer token answers
// the bytes. Declared, when not "", replaces the sha256 Meta declares (a file that lies).
func (f *Fake) SetMedia(id string, data []byte, mime, declared string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.media == nil {
		f.media = map[string]fakeMedia{}
		f.declared = map[string]string{}
	}
	f.media[id] = fakeMedia{data: data, mime: mime}
	if declared != "" {
		f.declared[id] = declared
	}
}

// ExpireNextDownloads makes the next n downloads answer 404, as an expired URL does.
func (f *Fake) ExpireNextDownloads(n int) {
	f.mu.Lock()
	f.expire += n
	f.mu.Unlock()
}

// StallNextDownloads makes the next n downloads send their first after bytes and then nothing,
// holding the connection open until the client gives up or the fake closes, as a download
// that stalls does. The channel receives once per such download when it has stalled.
func (f *Fake) StallNextDownloads(n, after int) <-chan struct{} {
	ch := make(chan struct{}, n)
	f.mu.Lock()
	f.stall, f.stallAfter, f.stalled = n, after, ch
	f.mu.Unlock()
	return ch
}

// serveMedia answers the media endpoints; handled is false for other requests.
func (f *Fake) serveMedia(ctx context.Context, w http.ResponseWriter, req Request, parts []string) bool {
	switch {
	case len(parts) == 3 && parts[2] == "media" && req.Method == http.MethodPost:
		f.write(w, req, f.uploadMedia(req, parts[1]))
		return true
	case len(parts) == 2 && parts[0] == "download" && req.Method == http.MethodGet:
		// The URL GET /{media-id} gave: Meta refuses it without the channel's token.
		if r := f.checkAuth(req); r != nil {
			f.write(w, req, Response{Status: http.StatusUnauthorized, Body: r.Body})
			return true
		}
		f.mu.Lock()
		m, ok := f.media[parts[1]]
		expired := f.expire > 0
		if expired {
			f.expire--
		}
		stall, after, stalled := false, f.stallAfter, f.stalled
		if ok && !expired && f.stall > 0 {
			f.stall--
			stall = true
		}
		f.mu.Unlock()
		if !ok || expired {
			f.write(w, req, Response{Status: http.StatusNotFound, Body: "expired"})
			return true
		}
		w.Header().Set("Content-Type", m.mime)
		w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
		if stall {
			_, _ = w.Write(m.data[:min(after, len(m.data))])
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
			stalled <- struct{}{}
			select {
			case <-ctx.Done():
			case <-f.done:
			}
			return true
		}
		_, _ = w.Write(m.data)
		return true
	case len(parts) == 2 && req.Method == http.MethodGet && !strings.HasSuffix(parts[1], "message_templates"):
		f.mu.Lock()
		_, phone := f.phones[parts[1]]
		f.mu.Unlock()
		if phone {
			return false // GET /{phone-number-id}: "Testar conexão"
		}
		if r := f.checkAuth(req); r != nil {
			f.write(w, req, *r)
			return true
		}
		f.mu.Lock()
		m, ok := f.media[parts[1]]
		declared := f.declared[parts[1]]
		f.mu.Unlock()
		if !ok {
			f.write(w, req, metaError(http.StatusBadRequest, 100, "OAuthException",
				"Unsupported get request. Object with ID '"+parts[1]+"' does not exist", ""))
			return true
		}
		sum := sha256.Sum256(m.data)
		if declared == "" {
			declared = base64.StdEncoding.EncodeToString(sum[:])
		}
		b, _ := json.Marshal(map[string]any{"messaging_product": "whatsapp", "url": f.URL + "/download/" + parts[1],
			"mime_type": m.mime, "sha256": declared, "file_size": len(m.data), "id": parts[1]})
		f.write(w, req, Response{Status: http.StatusOK, Body: string(b)})
		return true
	}
	return false
}

// Upload is a file a client uploaded to a number's media.
type Upload struct {
	PhoneNumberID string
	// Type is the multipart type field (the mime type), ContentType the file part's own.
	Type, Filename, ContentType string
	Data                        []byte
	ID                          string
}

// Uploads returns the files uploaded so far, in order.
func (f *Fake) Uploads() []Upload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Upload(nil), f.uploads...)
}

// uploadMedia answers POST /{version}/{phone-number-id}/media as Meta does: multipart with
// messaging_product=whatsapp, type and file, all required.
func (f *Fake) uploadMedia(req Request, pnid string) Response {
	if r := f.checkAuth(req); r != nil {
		return *r
	}
	bad := func(detail string) Response {
		return metaError(http.StatusBadRequest, 100, "OAuthException", "(#100) Invalid parameter", detail)
	}
	_, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return bad("multipart/form-data is required")
	}
	mr := multipart.NewReader(bytes.NewReader(req.Body), params["boundary"])
	up := Upload{PhoneNumberID: pnid}
	var product string
	var hasFile bool
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return bad("multipart body: " + err.Error())
		}
		b, _ := io.ReadAll(p)
		switch p.FormName() {
		case "messaging_product":
			product = string(b)
		case "type":
			up.Type = string(b)
		case "file":
			up.Filename, up.ContentType, up.Data, hasFile = p.FileName(), p.Header.Get("Content-Type"), b, true
		}
	}
	switch {
	case product != "whatsapp":
		return bad("messaging_product must be whatsapp")
	case up.Type == "":
		return bad("type is required")
	case !hasFile:
		return bad("file is required")
	}
	f.mu.Lock()
	f.seq++
	up.ID = "upload." + strconv.Itoa(f.seq)
	f.uploads = append(f.uploads, up)
	f.mu.Unlock()
	b, _ := json.Marshal(map[string]string{"id": up.ID})
	return Response{Status: http.StatusOK, Body: string(b)}
}
