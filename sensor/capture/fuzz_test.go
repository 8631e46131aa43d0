package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/polder-nsm/polder/internal/corpus"
)

// FuzzReadFile feeds arbitrary bytes to the reader. Whatever the input, it
// must not panic, must hand out frames no longer than MaxFrameLen, and must
// end with io.EOF or a *DamageError whose offset lies inside the input.
// Seeds: testdata/fuzz/FuzzReadFile (hand-built files in each format and
// byte order), the fixtures below, and the first 2 KiB of a few real corpus
// files (added at run time: the corpus is third-party data and is not
// copied into this repository).
func FuzzReadFile(f *testing.F) {
	_, abs := corpus.Pcaps(f)
	for i := 0; i < len(abs); i += len(abs) / 16 {
		b, err := os.ReadFile(abs[i])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 2048)])
	}
	f.Add(pcapFile(binary.LittleEndian, false, 1, []rec{{1, 2, make([]byte, 60), 0}, {3, 4, make([]byte, 14), 100}}))
	f.Add(pcapFile(binary.BigEndian, true, 101, []rec{{1, 2, make([]byte, 20), 0}}))
	n := &ngBuilder{bo: binary.LittleEndian}
	n.shb()
	n.idb(1, 0, 9, 0)
	n.idb(101, 64, 0x80|20, 7)
	n.epb(0, 1, make([]byte, 60), 60)
	n.epb(1, 1<<40, make([]byte, 20), 20)
	n.block(ngBlockSPB, n.put(uint32(8), make([]byte, 8)))
	n.block(ngBlockPB, n.put(uint16(1), uint16(0), uint32(0), uint32(5), uint32(4), uint32(4), make([]byte, 4)))
	f.Add(n.b.Bytes())

	f.Fuzz(func(t *testing.T, data []byte) {
		// A small bufio buffer keeps each run cheap and makes reads cross
		// buffer boundaries.
		c, err := NewFileReader(bufio.NewReaderSize(bytes.NewReader(data), 64), "fuzz", int64(len(data)))
		if err != nil {
			if c != nil {
				t.Fatal("NewFileReader returned a File and an error")
			}
			return
		}
		var fr Frame
		for {
			err = c.ReadFrame(&fr)
			if err != nil {
				break
			}
			if len(fr.Data) > MaxFrameLen {
				t.Fatalf("frame of %d bytes exceeds MaxFrameLen", len(fr.Data))
			}
		}
		var de *DamageError
		switch {
		case err == io.EOF:
		case errors.As(err, &de):
			if de.Offset < 0 || de.Offset > int64(len(data)) {
				t.Fatalf("damage offset %d outside a %d-byte input: %v", de.Offset, len(data), err)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("damage neither truncation nor corruption: %v", err)
			}
		default:
			t.Fatalf("ReadFrame: %v, want io.EOF or *DamageError", err)
		}
		if again := c.ReadFrame(&fr); again != err {
			t.Fatalf("error not sticky: %v then %v", err, again)
		}
		if read, total := c.Progress(); read > total {
			t.Fatalf("Progress() = %d of %d", read, total)
		}
	})
}
