package media

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSniffJudgesByTheBytes(t *testing.T) {
	ogg := append([]byte("OggS\x00\x02"), make([]byte, 22)...)
	ogg = append(ogg, []byte("OpusHead\x01\x01")...)
	vorbis := append([]byte("OggS\x00\x02"), make([]byte, 22)...)
	vorbis = append(vorbis, []byte("\x01vorbis\x00\x00\x00\x00")...)
	webpStatic := []byte("RIFF\x00\x00\x00\x00WEBPVP8 \x00\x00\x00\x00\x00\x00")
	webpAnim := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00")
	cases := []struct {
		name, filename string
		head           []byte
		kind           Kind
		mime           string
		animated       bool
		ok             bool
	}{
		{"jpeg", "x", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), KindImage, "image/jpeg", false, true},
		{"png", "x", []byte("\x89PNG\r\n\x1a\n"), KindImage, "image/png", false, true},
		{"voice note", "x", ogg, KindAudio, "audio/ogg", false, true},
		{"ogg vorbis is not opus", "x", vorbis, "", "", false, false},
		{"amr", "x", []byte("#!AMR\n"), KindAudio, "audio/amr", false, true},
		{"mp3", "x", []byte("ID3\x03\x00\x00\x00\x00\x00\x00"), KindAudio, "audio/mpeg", false, true},
		{"m4a", "x", []byte("\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00"), KindAudio, "audio/mp4", false, true},
		{"mp4", "x", []byte("\x00\x00\x00\x20ftypisom\x00\x00\x02\x00"), KindVideo, "video/mp4", false, true},
		{"3gp", "x", []byte("\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00"), KindVideo, "video/3gpp", false, true},
		{"sticker", "x", webpStatic, KindSticker, "image/webp", false, true},
		{"animated sticker", "x", webpAnim, KindSticker, "image/webp", true, true},
		{"pdf", "x", []byte("%PDF-1.7\n"), KindDocument, "application/pdf", false, true},
		{"text", "x", []byte("Nota fiscal 123\n"), KindDocument, "text/plain", false, true},
		{"old word by name", "a.doc", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), KindDocument, "application/msword", false, true},
		{"ole without a name", "a.bin", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "", "", false, false},
		{"html", "a.pdf", []byte("<html><body>x</body></html>"), "", "", false, false},
		{"gif", "a.png", []byte("GIF89a"), "", "", false, false},
		{"exe", "a.pdf", []byte("MZ\x90\x00"), "", "", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := sniff(c.head, nil, int64(len(c.head)), c.filename)
			require.Equal(t, c.ok, ok)
			require.Equal(t, c.kind, got.kind)
			require.Equal(t, c.mime, got.mime)
			require.Equal(t, c.animated, got.animated)
		})
	}
}

func TestSniffTellsOfficeFromOtherZips(t *testing.T) {
	mk := func(entry string) *os.File {
		p := filepath.Join(t.TempDir(), "f.zip")
		var buf bytes.Buffer
		z := zip.NewWriter(&buf)
		w, err := z.Create(entry)
		require.NoError(t, err)
		_, _ = w.Write([]byte("<x/>"))
		require.NoError(t, z.Close())
		require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o600))
		f, err := os.Open(p)
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		return f
	}
	for entry, want := range map[string]string{
		"word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"xl/workbook.xml":   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"ppt/slides.xml":    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	} {
		f := mk(entry)
		st, _ := f.Stat()
		head := make([]byte, 512)
		n, _ := f.ReadAt(head, 0)
		got, ok := sniff(head[:n], f, st.Size(), "x")
		require.True(t, ok, entry)
		require.Equal(t, want, got.mime)
	}
	f := mk("virus.exe")
	st, _ := f.Stat()
	head := make([]byte, 512)
	n, _ := f.ReadAt(head, 0)
	_, ok := sniff(head[:n], f, st.Size(), "x.docx")
	require.False(t, ok, "a zip that is not Office is not taken")
}
