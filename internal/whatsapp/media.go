package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
)

// MediaInfo is Meta's answer to GET /{media-id}: a download URL that works for about five
// minutes, and what Meta knows of the file.
type MediaInfo struct {
	URL      string `json:"url"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	FileSize int64  `json:"file_size"`
	ID       string `json:"id"`
}

// MediaURL asks Meta where a media item can be downloaded (GET /{media-id}?phone_number_id=…).
// A media id Meta no longer has is a permanent *Error (HTTP 400/404, code 100).
func (c *Client) MediaURL(ctx context.Context, cr Credentials, mediaID string) (MediaInfo, error) {
	u := c.base + "/" + c.version + "/" + url.PathEscape(mediaID)
	if cr.PhoneNumberID != "" {
		u += "?phone_number_id=" + url.QueryEscape(cr.PhoneNumberID)
	}
	_, _, body, err := c.do(ctx, http.MethodGet, u, cr.AccessToken, nil)
	if err != nil {
		return MediaInfo{}, err
	}
	var out MediaInfo
	if err := json.Unmarshal(body, &out); err != nil || out.URL == "" {
		return MediaInfo{}, &Error{Message: "unexpected media lookup response: " + excerpt(body), Title: "Unexpected response", Transient: true}
	}
	return out, nil
}

// DownloadStatus is the HTTP status of a download Meta refused: 401 and 404 mean the short-lived
// URL expired (ask for a new one), others are errors of the download itself.
type DownloadStatus int

func (s DownloadStatus) Error() string { return fmt.Sprintf("media download: HTTP %d", int(s)) }

// Download opens a media URL from MediaURL with the channel's token; the caller reads the body
// (streamed, never buffered here) and closes it. A refusal is a DownloadStatus.
func (c *Client) Download(ctx context.Context, cr Credentials, mediaURL string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mediaURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: build request: %v", ErrInvalidArgument, err)
	}
	req.Header.Set("Authorization", "Bearer "+cr.AccessToken)
	resp, err := c.download.Do(req)
	if err != nil {
		return nil, &Error{Message: "no response", Title: "Network error", Transient: true, cause: err}
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, DownloadStatus(resp.StatusCode)
	}
	return resp.Body, nil
}

// UploadMedia uploads a file to a number's media (POST /{phone-number-id}/media, multipart:
// messaging_product, type, file), streaming it, and returns Meta's media id (usable 30 days).
func (c *Client) UploadMedia(ctx context.Context, cr Credentials, file io.Reader, filename, mimeType string) (string, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := mw.WriteField("messaging_product", "whatsapp")
		if err == nil {
			err = mw.WriteField("type", mimeType)
		}
		if err == nil {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": filename}))
			h.Set("Content-Type", mimeType)
			var w io.Writer
			if w, err = mw.CreatePart(h); err == nil {
				_, err = io.Copy(w, file)
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	u := c.base + "/" + c.version + "/" + url.PathEscape(cr.PhoneNumberID) + "/media"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, pr)
	if err != nil {
		pr.CloseWithError(err)
		return "", fmt.Errorf("%w: build request: %v", ErrInvalidArgument, err)
	}
	req.Header.Set("Authorization", "Bearer "+cr.AccessToken)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.download.Do(req)
	if err != nil {
		return "", &Error{Message: "no response", Title: "Network error", Transient: true, cause: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", responseError(resp.StatusCode, resp.Header, body)
	}
	var out struct {
		ID flexString `json:"id"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.ID == "" {
		return "", &Error{Message: "upload response without an id: " + excerpt(body), Title: "Unexpected response"}
	}
	return string(out.ID), nil
}

// mediaBody is a media message's object: by Meta's id, with a caption (not for audio and
// stickers) and a document's file name.
type mediaBody struct {
	ID       string `json:"id"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// SendMedia sends an uploaded file (Meta's media id) as an image, audio, video, document or
// sticker message.
func (c *Client) SendMedia(ctx context.Context, cr Credentials, to, kind, mediaID, caption, filename string) (SendResult, error) {
	b := &mediaBody{ID: mediaID}
	if kind != "audio" && kind != "sticker" {
		b.Caption = caption
	}
	if kind == "document" {
		b.Filename = filename
	}
	req := sendRequest{Type: kind}
	switch kind {
	case "image":
		req.Image = b
	case "audio":
		req.Audio = b
	case "video":
		req.Video = b
	case "document":
		req.Document = b
	case "sticker":
		req.Sticker = b
	default:
		return SendResult{}, fmt.Errorf("send media: %w: kind %q", ErrInvalidArgument, kind)
	}
	res, err := c.send(ctx, cr, to, req)
	if err != nil {
		return SendResult{}, fmt.Errorf("send media: %w", err)
	}
	return res, nil
}
