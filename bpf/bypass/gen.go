package bypass

// The BPF object is built from ../bypass.c by bpf2go (make generate, which
// needs clang and libbpf-dev from make deps) and committed, so that go build
// and go test need neither clang nor cgo. -target bpfel builds one object
// for every little-endian architecture (amd64, arm64, ...). -mcpu=v3 needs
// Linux 5.1; the programs need 5.11 anyway (bpf_ktime_get_coarse_ns).
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -tags linux -target bpfel -no-global-types -cflags "-O2 -mcpu=v3 -Wall -Werror" -output-dir=$POLDER_BPF_OUT bypass ../bypass.c -- -I../headers
