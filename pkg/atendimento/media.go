package atendimento

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
)

// UploadMedia uploads a file to send (POST /api/v1/media) as multipart, streaming it: nothing
// is held in memory whole. filename is the name the file is shown and sent with (a path keeps
// its last element). The server judges the kind from the bytes; the same bytes under the same
// name return the media uploaded first. When file is an io.ReadSeeker (an *os.File, a
// *bytes.Reader), a 429 or 503 is retried like other requests (the file is read again from
// where it began); any other reader cannot be sent twice, and such an answer ends in an error.
func (c *Client) UploadMedia(ctx context.Context, filename string, file io.Reader) (*Media, error) {
	var start int64
	seeker, canSeek := file.(io.ReadSeeker)
	if canSeek {
		pos, err := seeker.Seek(0, io.SeekCurrent)
		if err != nil {
			canSeek = false
		}
		start = pos
	}
	boundary := multipart.NewWriter(io.Discard).Boundary()
	var done chan struct{} // closed when the last body's writer has stopped reading file
	body := func() io.ReadCloser {
		pr, pw := io.Pipe()
		finished := make(chan struct{})
		done = finished
		mw := multipart.NewWriter(pw)
		_ = mw.SetBoundary(boundary)
		go func() {
			fw, err := mw.CreateFormFile("file", filepath.Base(filename))
			if err == nil {
				_, err = io.Copy(fw, file)
			}
			if err == nil {
				err = mw.Close()
			}
			pw.CloseWithError(err)
			close(finished)
		}()
		return pr
	}
	contentType := "multipart/form-data; boundary=" + boundary
	replay := func(_ context.Context, req *http.Request) error {
		if canSeek {
			req.GetBody = func() (io.ReadCloser, error) {
				// The transport has closed the last body: its writer stops at its next write.
				<-done
				if _, err := seeker.Seek(start, io.SeekStart); err != nil {
					return nil, err
				}
				return body(), nil
			}
		}
		return nil
	}
	return c.PostApiV1Media(ctx, contentType, body(), replay)
}
