//go:build linux

package bypass

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/polder-nsm/polder/internal/netnstest"
)

// TestLoadErrorVerifierLog: a program the verifier refuses is reported with
// the end of the verifier's log.
func TestLoadErrorVerifierLog(t *testing.T) {
	needPrivileges(t)
	_, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:    ebpf.XDP,
		License: "MIT",
		Instructions: asm.Instructions{
			asm.LoadMem(asm.R0, asm.R1, 4000, asm.Word), // past struct xdp_md
			asm.Return(),
		},
	})
	if err == nil {
		t.Fatal("verifier accepted a bad context access")
	}
	msg := loadError(err).Error()
	if !strings.Contains(msg, "verifier log (last lines)") || !strings.Contains(msg, "invalid bpf_context access") {
		t.Errorf("error without the verifier log:\n%s", msg)
	}
}

// TestOpenUnprivileged runs Open as nobody in a child process: the error
// must say which privileges are missing.
func TestOpenUnprivileged(t *testing.T) {
	if os.Getenv("POLDER_BYPASS_UNPRIVILEGED") == "1" {
		_, err := Open(Config{Mode: ModeSocket, TableSize: 16})
		if err == nil {
			t.Fatal("Open succeeded without privileges")
		}
		if !strings.Contains(err.Error(), "CAP_BPF") {
			t.Fatalf("error without a privilege hint: %v", err)
		}
		t.Log(err)
		return
	}
	needPrivileges(t)
	// The test binary lives in a directory only root may enter.
	dir, err := os.MkdirTemp("", "bypass-unpriv")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "bypass.test")
	if err := copyFile(bin, os.Args[0]); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestOpenUnprivileged$", "-test.v")
	cmd.Env = append(os.Environ(), "POLDER_BYPASS_UNPRIVILEGED=1")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("unprivileged Open: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// TestAttachXDPErrors: a missing interface, a non-Ethernet one and a busy
// one each get their hint, and a failed Open leaves nothing attached.
func TestAttachXDPErrors(t *testing.T) {
	netnstest.NeedRoot(t)
	if _, err := Open(Config{Mode: ModeXDP, Interfaces: []string{"polder-nope0"}}); err == nil || !strings.Contains(err.Error(), "interface name") {
		t.Errorf("missing interface: %v", err)
	}
	if _, err := Open(Config{Mode: ModeXDP, Interfaces: []string{"lo"}, TableSize: 16}); !errors.Is(err, ErrNotSupported) {
		t.Errorf("loopback: %v, want ErrNotSupported", err)
	}
	v := netnstest.NewVethPair(t, "bye", 0)
	b := openTest(t, Config{Mode: ModeXDP, Interfaces: []string{v.Outer}, XDPGeneric: true, TableSize: 16})
	_, err := Open(Config{Mode: ModeXDP, Interfaces: []string{v.Outer}, XDPGeneric: true, TableSize: 16})
	if err == nil || !strings.Contains(err.Error(), "xdp off") {
		t.Errorf("second XDP program on %s: %v, want a hint", v.Outer, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if xdpAttached(t, v.Outer) {
		t.Error("XDP still attached after Close")
	}
}
