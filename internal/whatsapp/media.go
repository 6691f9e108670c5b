package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
