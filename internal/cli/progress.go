package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// progress prints read progress of a long file: a redrawn line on a
// terminal, a plain line every 10% otherwise (logs and CI stay readable).
type progress struct {
	w       io.Writer
	name    string
	tty     bool
	start   time.Time
	lastPct int
	drawn   bool
}

func newProgress(w io.Writer, name string) *progress {
	p := &progress{w: w, name: name, start: time.Now(), lastPct: -1}
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		p.tty = err == nil
	}
	return p
}

func (p *progress) update(done, total int64) {
	if total <= 0 {
		return
	}
	pct := int(done * 100 / total)
	el := time.Since(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(done) / el / 1e6
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r%s: %3d%%  %s / %s  %.1f MB/s", p.name, pct, human(done), human(total), rate)
		p.drawn = true
		return
	}
	if pct/10 > p.lastPct/10 || p.lastPct < 0 {
		p.lastPct = pct
		fmt.Fprintf(p.w, "%s: %d%% (%s of %s, %.1f MB/s)\n", p.name, pct, human(done), human(total), rate)
	}
}

func (p *progress) done() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
