//go:build !linux

package bypass

import (
	"fmt"
	"syscall"
	"time"

	"github.com/polder-nsm/polder/sensor/flow"
)

// Bypass is the kernel side of flow bypass; only Linux has one.
type Bypass struct{}

var errNoKernel = fmt.Errorf("bypass in the kernel needs Linux: %w (use bypass mode local)", ErrNotSupported)

// Open fails with ErrNotSupported outside Linux.
func Open(cfg Config) (*Bypass, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, errNoKernel
}

func (b *Bypass) AttachSocket(fd int) error                 { return errNoKernel }
func (b *Bypass) AttachSocketConn(rc syscall.RawConn) error { return errNoKernel }
func (b *Bypass) DetachSocket(fd int) error                 { return errNoKernel }
func (b *Bypass) Insert(k flow.Key) error                   { return errNoKernel }
func (b *Bypass) Lookup(k flow.Key) (Counters, bool, error) { return Counters{}, false, errNoKernel }
func (b *Bypass) Remove(k flow.Key) (Counters, bool, error) { return Counters{}, false, errNoKernel }
func (b *Bypass) Delete(keys []flow.Key) (int, error)       { return 0, errNoKernel }
func (b *Bypass) Read(fn func(flow.Key, Counters) bool) error {
	return errNoKernel
}
func (b *Bypass) Sweep(now, idle time.Duration, fn func(flow.Key, Counters, bool)) (int, error) {
	return 0, errNoKernel
}
func (b *Bypass) Stats() (Stats, error) { return Stats{}, errNoKernel }
func (b *Bypass) TableSize() int        { return 0 }
func (b *Bypass) Close() error          { return nil }

var start = time.Now()

// Monotonic returns time since the process started (no kernel clock to
// match outside Linux).
func Monotonic() time.Duration { return time.Since(start) }
