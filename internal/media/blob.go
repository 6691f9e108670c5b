package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Blobs is where the bytes live: a folder, or an S3-compatible bucket. Keys are
// content-addressed (see blobKey), so Put of a key that exists may keep the old copy.
//
// The library is minio-go (v7): one well-kept module that speaks S3 to AWS, MinIO, SeaweedFS,
// Ceph and the rest, with few dependencies. gocloud.dev/blob would bring the AWS SDK v2 (and, in
// go.sum, Google's and Azure's) for the same one protocol; the folder store below is a few
// lines of os calls and needs no library.
type Blobs interface {
	// Put stores size bytes from r under key, whole or not at all: a failed Put leaves no
	// partial blob behind.
	Put(ctx context.Context, key string, r io.Reader, size int64) error
	// Open reads a blob; ErrBlobNotFound when there is none.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, error)
	// Delete removes a blob; a missing blob is not an error.
	Delete(ctx context.Context, key string) error
}

// ErrBlobNotFound is a key the store does not hold.
var ErrBlobNotFound = errors.New("media blob not found")

// OpenBlobs opens the store MEDIA_STORE names: "" is dir (a folder beside the SQLite file),
// a path or file:///path a folder, s3://bucket?endpoint=host:port&region=…&insecure=true a
// bucket (credentials: accessKey and secretKey, else the AWS_* environment or an instance role).
func OpenBlobs(ctx context.Context, spec, dir, accessKey, secretKey string) (Blobs, error) {
	if spec == "" {
		return NewDirBlobs(dir)
	}
	u, err := url.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("MEDIA_STORE: %w", err)
	}
	switch u.Scheme {
	case "", "file":
		p := u.Path
		if u.Scheme == "" {
			p = spec
		}
		return NewDirBlobs(p)
	case "s3":
		q := u.Query()
		endpoint := q.Get("endpoint")
		if endpoint == "" {
			endpoint = "s3.amazonaws.com"
		}
		secure := q.Get("insecure") != "true"
		if h, ok := strings.CutPrefix(endpoint, "http://"); ok {
			endpoint, secure = h, false
		} else if h, ok := strings.CutPrefix(endpoint, "https://"); ok {
			endpoint = h
		}
		creds := credentials.NewChainCredentials([]credentials.Provider{&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.IAM{}})
		if accessKey != "" {
			creds = credentials.NewStaticV4(accessKey, secretKey, "")
		}
		c, err := minio.New(endpoint, &minio.Options{Creds: creds, Secure: secure, Region: q.Get("region"),
			BucketLookup: minio.BucketLookupPath})
		if err != nil {
			return nil, fmt.Errorf("MEDIA_STORE: %w", err)
		}
		if u.Host == "" {
			return nil, errors.New("MEDIA_STORE: s3:// needs a bucket name")
		}
		return &s3Blobs{c: c, bucket: u.Host}, nil
	}
	return nil, fmt.Errorf("MEDIA_STORE: unknown scheme %q (a folder path or s3://bucket)", u.Scheme)
}

// DirBlobs keeps blobs as files under a folder. A Put writes a temporary file in the same
// folder, syncs it and renames it into place, so a crash or a full disk never leaves a
// half-written blob under a real key.
type DirBlobs struct{ root string }

var _ Blobs = (*DirBlobs)(nil)

// NewDirBlobs returns a folder store, creating the folder.
func NewDirBlobs(root string) (*DirBlobs, error) {
	tmp := filepath.Join(root, ".tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("media folder: %w", err)
	}
	// A Put takes seconds: an hour-old temporary file is what a killed process left.
	if names, err := filepath.Glob(filepath.Join(tmp, "put-*")); err == nil {
		for _, n := range names {
			if st, err := os.Stat(n); err == nil && time.Since(st.ModTime()) > time.Hour {
				_ = os.Remove(n)
			}
		}
	}
	return &DirBlobs{root: root}, nil
}

func (d *DirBlobs) path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

// Put implements Blobs.
func (d *DirBlobs) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	f, err := os.CreateTemp(filepath.Join(d.root, ".tmp"), "put-*")
	if err != nil {
		return fmt.Errorf("media put: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename it is gone already
	n, err := io.Copy(f, r)
	if err == nil && n != size {
		err = fmt.Errorf("wrote %d bytes, want %d", n, size)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(d.path(key)), 0o700)
	}
	if err == nil {
		err = os.Rename(tmp, d.path(key))
	}
	if err != nil {
		return fmt.Errorf("media put: %w", err)
	}
	return nil
}

// Open implements Blobs.
func (d *DirBlobs) Open(_ context.Context, key string) (io.ReadSeekCloser, error) {
	f, err := os.Open(d.path(key))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrBlobNotFound
	}
	return f, err
}

// Delete implements Blobs.
func (d *DirBlobs) Delete(_ context.Context, key string) error {
	if err := os.Remove(d.path(key)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("media delete: %w", err)
	}
	return nil
}

// s3Blobs keeps blobs in a bucket. S3 writes an object whole or not at all.
type s3Blobs struct {
	c      *minio.Client
	bucket string
}

var _ Blobs = (*s3Blobs)(nil)

func (s *s3Blobs) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	_, err := s.c.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return fmt.Errorf("media put: %w", err)
	}
	return nil
}

func (s *s3Blobs) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	// Stat first: GetObject is lazy and would report a missing key only on the first read.
	if _, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{}); err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, ErrBlobNotFound
		}
		return nil, fmt.Errorf("media open: %w", err)
	}
	o, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("media open: %w", err)
	}
	return o, nil
}

func (s *s3Blobs) Delete(ctx context.Context, key string) error {
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("media delete: %w", err)
	}
	return nil
}

// blobKey is where an account's blob with this sha256 (hex) lives.
func blobKey(accountID, sha string) string {
	return accountID + "/" + sha[:2] + "/" + sha
}
