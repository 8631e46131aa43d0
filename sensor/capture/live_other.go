//go:build !linux

package capture

// LiveSource is an AF_PACKET socket; on this platform it cannot be opened.
type LiveSource struct{}

// OpenLive returns ErrNotSupported: AF_PACKET exists only on Linux.
func OpenLive(opts LiveOptions, ifaceIndex int) ([]*LiveSource, error) { return nil, ErrNotSupported }

// LinkType returns 0.
func (s *LiveSource) LinkType() LinkType { return 0 }

// Interface returns "".
func (s *LiveSource) Interface() string { return "" }

// FD returns -1.
func (s *LiveSource) FD() int { return -1 }

// ReadFrame returns ErrNotSupported.
func (s *LiveSource) ReadFrame(f *Frame) error { return ErrNotSupported }

// Stats returns ErrNotSupported.
func (s *LiveSource) Stats() (packets, drops uint64, err error) { return 0, 0, ErrNotSupported }

// Stop does nothing.
func (s *LiveSource) Stop() {}

// Close does nothing.
func (s *LiveSource) Close() error { return nil }

var _ Source = (*LiveSource)(nil)
