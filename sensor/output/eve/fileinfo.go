package eve

import "github.com/polder-nsm/polder/sensor/applayer/http"

// File states as Suricata writes fileinfo.state.
const (
	FileClosed    = "CLOSED"
	FileTruncated = "TRUNCATED"
)

// AppendFileInfo appends a complete "fileinfo" event line (with '\n') for
// f, a body of tx, to buf. It allocates only when buf must grow.
//
// The shape is Suricata's (JsonFileLogger, EveFileInfo): the header with
// the addresses in the direction the file travelled (the server's first
// for a response body) and no top-level tx_id, the http object of the
// transaction (as in http events), app_proto, then fileinfo with
// filename (left out when empty), gaps, state, md5 and sha1 (closed files
// only), sha256, stored (always false: polder does not extract files),
// size, start and end (partial content), tx_id. There is no magic: polder
// has no libmagic.
func AppendFileInfo(buf []byte, h *Header, tx *http.Transaction, f *http.File) []byte {
	b := Builder{B: buf}
	b.headerTuple(h, "fileinfo")
	b.Key("http")
	b.BeginObject()
	b.httpFields(tx)
	b.EndObject()
	if h.AppProto != "" {
		b.KeyString("app_proto", h.AppProto)
	}
	b.Key("fileinfo")
	b.BeginObject()
	b.KeyBytesNonEmpty("filename", f.Name)
	b.KeyBool("gaps", f.Gaps)
	if f.Closed {
		b.KeyString("state", FileClosed)
		if len(f.MD5) > 0 {
			b.Key("md5")
			b.Hex(f.MD5)
		}
		if len(f.SHA1) > 0 {
			b.Key("sha1")
			b.Hex(f.SHA1)
		}
	} else {
		b.KeyString("state", FileTruncated)
	}
	if len(f.SHA256) > 0 {
		b.Key("sha256")
		b.Hex(f.SHA256)
	}
	b.KeyBool("stored", false)
	b.KeyUint("size", uint64(max(f.Size, 0)))
	if f.HasRange && f.End > 0 { // Suricata: when ff->end > 0
		b.KeyUint("start", uint64(f.Start))
		b.KeyUint("end", uint64(f.End))
	}
	b.KeyUint("tx_id", tx.ID)
	b.EndObject()
	return b.end()
}
