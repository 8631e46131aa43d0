package inspect

import "github.com/polder-nsm/polder/sensor/detect/pcre"

// Scratch is the per-worker state of Match and Transform: pcre match
// data, the transform output slots and the base64_decode output, plus
// Counters. It is used by one goroutine at a time, for any number of
// Programs. Its buffers grow to the largest input seen and are kept;
// base64_decode output is capped at 64 KiB as in Suricata.
type Scratch struct {
	re    *pcre.Scratch
	slots map[string]*slot
	b64   []byte
	b64ok bool
	// Counters count why matches gave up; the caller reads and resets
	// them (they become stats counters).
	Counters Counters
}

// Counters are the give-up counts of one Scratch. Each is also "no
// match" for the keyword that hit it, as in Suricata.
type Counters struct {
	// PCRELimit counts pcre (and pcrexform) matches that gave up, by
	// reason (pcre.LimitMatch, ...).
	PCRELimit [pcre.NumLimits]uint64
	// RecursionLimit counts Match calls that ran out of search steps
	// (Options.RecursionLimit).
	RecursionLimit uint64
}

// NewScratch returns a Scratch for one worker.
func NewScratch() *Scratch {
	return &Scratch{re: pcre.NewScratch(1)}
}

// Base64Data returns the bytes decoded by the last successful
// base64_decode of the last Match call (for a following "base64_data"
// buffer of the same rule), or nil when that Match did not match or
// decoded nothing. The bytes belong to s and stay valid until the next
// Match with s.
func (s *Scratch) Base64Data() []byte {
	if !s.b64ok {
		return nil
	}
	return s.b64
}
