package pipeline

import (
	"github.com/polder-nsm/polder/sensor/applayer/ssh"
	"github.com/polder-nsm/polder/sensor/flow"
	"github.com/polder-nsm/polder/sensor/output/eve"
)

// ssh writes the ssh event of a session: once both identification strings
// were seen (as Suricata logs it), or when the flow ends with one.
func (o *output) ssh(w *worker, fl *flow.Flow, s *ssh.Session) {
	w.countTx(fl)
	if !o.cfg.EVE.SSH {
		return
	}
	ts := s.Timestamp
	if ts.IsZero() {
		ts = w.now
	}
	h := o.header(w, fl, ts)
	h.TxID, h.HasTxID = 0, true // the session's one transaction
	w.line = eve.AppendSSH(w.line[:0], h, s)
	o.write(w.line)
}
