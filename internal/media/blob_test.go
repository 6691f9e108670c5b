package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"
)

// eachBlobs runs fn on a folder store and on an S3 bucket served in process by gofakes3 (a real
// S3-protocol server), both opened through OpenBlobs as MEDIA_STORE names them.
func eachBlobs(t *testing.T, fn func(t *testing.T, b Blobs)) {
	t.Run("dir", func(t *testing.T) {
		b, err := OpenBlobs(context.Background(), "", t.TempDir(), "", "")
		require.NoError(t, err)
		fn(t, b)
	})
	t.Run("s3", func(t *testing.T) {
		backend := s3mem.New()
		srv := httptest.NewServer(gofakes3.New(backend).Server())
		t.Cleanup(srv.Close)
		require.NoError(t, backend.CreateBucket("media"))
		spec := "s3://media?endpoint=" + strings.TrimPrefix(srv.URL, "http://") + "&region=us-east-1&insecure=true"
		b, err := OpenBlobs(context.Background(), spec, "", "key", "secret")
		require.NoError(t, err)
		fn(t, b)
	})
}

func TestBlobsPutOpenDelete(t *testing.T) {
	eachBlobs(t, func(t *testing.T, b Blobs) {
		ctx := context.Background()
		data := bytes.Repeat([]byte("0123456789"), 1000)
		require.NoError(t, b.Put(ctx, "acc/ab/abc", bytes.NewReader(data), int64(len(data))))
		rc, err := b.Open(ctx, "acc/ab/abc")
		require.NoError(t, err)
		_, err = rc.Seek(10, io.SeekStart)
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		require.Equal(t, data[10:], got, "a reader that seeks (Range)")

		require.NoError(t, b.Delete(ctx, "acc/ab/abc"))
		_, err = b.Open(ctx, "acc/ab/abc")
		require.ErrorIs(t, err, ErrBlobNotFound)
		require.NoError(t, b.Delete(ctx, "acc/ab/abc"), "deleting a missing blob is fine")
	})
}

// failingReader fails after some bytes, as a dropped upload or a full disk does.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func TestDirBlobsNeverLeaveHalfABlob(t *testing.T) {
	dir := t.TempDir()
	b, err := NewDirBlobs(dir)
	require.NoError(t, err)
	err = b.Put(context.Background(), "acc/ab/abc", &failingReader{n: 1000}, 5000)
	require.ErrorContains(t, err, "disk full")
	_, err = b.Open(context.Background(), "acc/ab/abc")
	require.ErrorIs(t, err, ErrBlobNotFound)
	left, err := os.ReadDir(filepath.Join(dir, ".tmp"))
	require.NoError(t, err)
	require.Empty(t, left, "the temporary file is removed")
	// A short stream is refused too.
	require.Error(t, b.Put(context.Background(), "acc/ab/abd", strings.NewReader("abc"), 5))
	_, err = b.Open(context.Background(), "acc/ab/abd")
	require.ErrorIs(t, err, ErrBlobNotFound)
}

func TestDirBlobsSweepsWhatAKilledPutLeft(t *testing.T) {
	root := t.TempDir()
	_, err := NewDirBlobs(root)
	require.NoError(t, err)
	old, fresh := filepath.Join(root, ".tmp", "put-1"), filepath.Join(root, ".tmp", "put-2")
	require.NoError(t, os.WriteFile(old, []byte("half"), 0o600))
	require.NoError(t, os.WriteFile(fresh, []byte("in use"), 0o600))
	past := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(old, past, past))
	_, err = NewDirBlobs(root)
	require.NoError(t, err)
	require.NoFileExists(t, old)
	require.FileExists(t, fresh, "a Put that may still be running is left alone")
}
