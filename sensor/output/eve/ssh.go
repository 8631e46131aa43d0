package eve

import "github.com/polder-nsm/polder/sensor/applayer/ssh"

// AppendSSH appends a complete "ssh" event line (with '\n') for s to buf. It
// allocates only when buf must grow.
//
// The shape is Suricata's JsonSSHLogger (rust/src/ssh/logger.rs):
// "ssh":{"client":{"proto_version","software_version"},"server":{...}},
// each side present only once its identification string was seen.
// Suricata's optional hassh members are not written.
func AppendSSH(buf []byte, h *Header, s *ssh.Session) []byte {
	b := Builder{B: buf}
	b.header(h, "ssh", true)
	b.Key("ssh")
	b.BeginObject()
	b.sshEndpoint("client", &s.Client)
	b.sshEndpoint("server", &s.Server)
	b.EndObject()
	return b.end()
}

func (b *Builder) sshEndpoint(key string, e *ssh.Endpoint) {
	if !e.HasBanner {
		return
	}
	b.Key(key)
	b.BeginObject()
	b.KeyBytes("proto_version", e.ProtoVersion)
	b.KeyBytes("software_version", e.SoftwareVersion)
	b.EndObject()
}
