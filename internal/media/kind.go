package media

import (
	"archive/zip"
	"bytes"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Kind is what WhatsApp calls a media message's type.
type Kind string

// The kinds Meta takes.
const (
	KindImage    Kind = "image"
	KindAudio    Kind = "audio"
	KindVideo    Kind = "video"
	KindDocument Kind = "document"
	KindSticker  Kind = "sticker"
)

// Meta's size limits per kind (whatsapp-cloud-api.md § Media).
const (
	MaxImage           = 5 << 20
	MaxAudio           = 16 << 20
	MaxVideo           = 16 << 20
	MaxDocument        = 100 << 20
	MaxSticker         = 100 << 10
	MaxAnimatedSticker = 500 << 10
	// MaxUpload is the largest file any kind takes: uploads are cut off past it.
	MaxUpload = MaxDocument
)

// limit is the largest file Meta takes of a kind and type.
func limit(k Kind, animated bool) int64 {
	switch k {
	case KindImage:
		return MaxImage
	case KindAudio:
		return MaxAudio
	case KindVideo:
		return MaxVideo
	case KindSticker:
		if animated {
			return MaxAnimatedSticker
		}
		return MaxSticker
	}
	return MaxDocument
}

// sniffed is what the bytes of a file say it is.
type sniffed struct {
	kind     Kind
	mime     string
	animated bool
}

// officeByExt names the old (OLE) Office formats, whose bytes all look alike: the file's
// name tells Word from Excel from PowerPoint.
var officeByExt = map[string]string{
	".doc": "application/msword", ".xls": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint",
}

// sniff judges a file by its bytes (head is its first 512 or more; f the whole, for zip-based
// Office files), never by the client's claim. ok is false for a type Meta does not take (HTML,
// SVG, scripts, executables, …).
func sniff(head []byte, f *os.File, size int64, filename string) (sniffed, bool) {
	switch {
	case len(head) >= 36 && string(head[:4]) == "OggS" && bytes.Contains(head[28:min(len(head), 64)], []byte("OpusHead")):
		return sniffed{kind: KindAudio, mime: "audio/ogg"}, true
	case bytes.HasPrefix(head, []byte("#!AMR")):
		return sniffed{kind: KindAudio, mime: "audio/amr"}, true
	case len(head) >= 2 && head[0] == 0xFF && head[1]&0xF6 == 0xF0: // an ADTS frame: raw AAC
		return sniffed{kind: KindAudio, mime: "audio/aac"}, true
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		brand := string(head[8:12])
		switch {
		case strings.HasPrefix(brand, "3gp"):
			return sniffed{kind: KindVideo, mime: "video/3gpp"}, true
		case brand == "M4A " || brand == "M4B ":
			return sniffed{kind: KindAudio, mime: "audio/mp4"}, true
		}
		return sniffed{kind: KindVideo, mime: "video/mp4"}, true
	case len(head) >= 16 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		// An animated WebP is VP8X with the animation flag (bit 1 of the flags byte).
		animated := string(head[12:16]) == "VP8X" && len(head) > 20 && head[20]&0x02 != 0
		return sniffed{kind: KindSticker, mime: "image/webp", animated: animated}, true
	case bytes.HasPrefix(head, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		if m, ok := officeByExt[strings.ToLower(filepath.Ext(filename))]; ok {
			return sniffed{kind: KindDocument, mime: m}, true
		}
		return sniffed{}, false
	}
	ct, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	switch ct {
	case "image/jpeg", "image/png":
		return sniffed{kind: KindImage, mime: ct}, true
	case "audio/mpeg":
		return sniffed{kind: KindAudio, mime: ct}, true
	case "application/pdf":
		return sniffed{kind: KindDocument, mime: ct}, true
	case "text/plain":
		return sniffed{kind: KindDocument, mime: ct}, true
	case "application/zip":
		if m := officeZip(f, size); m != "" {
			return sniffed{kind: KindDocument, mime: m}, true
		}
	}
	return sniffed{}, false
}

// officeZip tells the newer Office formats (zip files with a known part inside) from other zips.
func officeZip(f *os.File, size int64) string {
	if f == nil {
		return ""
	}
	z, err := zip.NewReader(io.NewSectionReader(f, 0, size), size)
	if err != nil {
		return ""
	}
	for _, e := range z.File {
		switch {
		case strings.HasPrefix(e.Name, "word/"):
			return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
		case strings.HasPrefix(e.Name, "xl/"):
			return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		case strings.HasPrefix(e.Name, "ppt/"):
			return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
		}
	}
	return ""
}

// KindOf is the kind of a mime type Meta names (an inbound media item's, a template header's).
func KindOf(mimeType string) Kind {
	ct, _, _ := mime.ParseMediaType(mimeType)
	switch {
	case ct == "image/webp":
		return KindSticker
	case strings.HasPrefix(ct, "image/"):
		return KindImage
	case strings.HasPrefix(ct, "audio/"):
		return KindAudio
	case strings.HasPrefix(ct, "video/"):
		return KindVideo
	}
	return KindDocument
}

// Inline tells whether a browser may show a type in place: images, audio and video Meta
// sends. Anything else (documents, and whatever could run in a browser: HTML, SVG, XML,
// scripts) is served as an attachment.
func Inline(k Kind, mimeType string) bool {
	ct, _, _ := mime.ParseMediaType(mimeType)
	switch ct {
	case "image/jpeg", "image/png", "image/webp", "audio/ogg", "audio/mpeg", "audio/mp4", "audio/aac", "audio/amr", "video/mp4", "video/3gpp":
		return k != KindDocument
	}
	return false
}
