# polder — build, test and benchmark entry points.
#
#   make deps    install the Debian packages the tests need (run as root on Debian)
#   make test    run every test (what .ci/run runs, after make deps)
#   make build   build bin/polder
#   make bench   run the benchmarks and the whole-pcap throughput benchmark
#   make generate  rebuild the committed eBPF objects (bpf/) with clang
#   make sv-verify TESTS=DIR OUT=DIR
#                run suricata-verify tests against the sensor (a report: exit 0 even when tests fail)

GO       ?= go
BIN      ?= bin/polder
PKGS     ?= ./...
# Debian packages the tests use: tshark is the accuracy oracle, iproute2 makes
# the veth pairs and network namespaces of the live-capture tests, clang/llvm
# build the eBPF programs, jq is used by a few scripts, libpcre2-dev is the
# pcre keyword's regex engine (sensor/detect/pcre, cgo builds), libhyperscan-dev
# the Hyperscan prefilter (sensor/detect/mpm, -tags hyperscan,hyperscan_v54).
DEB_PKGS ?= tshark iproute2 ethtool clang llvm libbpf-dev jq ca-certificates libhyperscan-dev libpcre2-dev

.PHONY: all build deps test test-short vet fmt-check bench fuzz clean sv-verify generate generate-check

all: build

# The pcre keyword uses PCRE2 through cgo when its headers are installed
# (make deps); otherwise the binary is pure Go with the fallback regex engine,
# which refuses the few patterns it would match differently. With
# libhyperscan-dev too, the rule prefilters use Hyperscan (1.6-2.2x the
# pure-Go Aho-Corasick's scan speed on ET Open's prefilters; see README).
PCRE2 := $(shell [ -e /usr/include/pcre2.h ] && command -v cc >/dev/null && echo yes)
HYPERSCAN := $(shell [ -e /usr/include/hs/hs.h ] && echo yes)
BUILD_TAGS = $(if $(filter yes,$(PCRE2)),$(if $(filter yes,$(HYPERSCAN)),-tags $(HS_TAGS)))
build:
ifeq ($(PCRE2),yes)
	$(GO) build -trimpath $(BUILD_TAGS) -o $(BIN) ./cmd/polder
else
	@echo "make build: libpcre2-dev is not installed (make deps installs it): building pure Go, pcre keyword on the fallback engine"
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/polder
endif

deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing$$missing"; \
		echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "make deps: all Debian packages present"; fi
	$(GO) mod download

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every test, including the corpus-wide accuracy tests (tshark oracle, EVE
# schema, Suricata reference) and the root-only live-capture tests, then the
# Hyperscan build of the multi-pattern matcher against the pure-Go one
# (make deps installs libhyperscan-dev). CGO_ENABLED=0 must keep building.
HS_TAGS ?= hyperscan,hyperscan_v54
test: fmt-check vet generate-check
	$(GO) test -count=1 -timeout 60m $(PKGS)
	$(GO) test -count=1 -tags $(HS_TAGS) ./sensor/detect/...
	$(GO) test -count=1 -tags $(HS_TAGS) -run 'TestCorpusAlertsReference|TestDetect|TestNoAllocsETOpen' ./sensor/pipeline/
	CGO_ENABLED=0 $(GO) build ./...

# The eBPF programs (bpf/*.c) are compiled by bpf2go into bpf/bypass/
# bypass_bpfel.{go,o}, which are committed so that go build and go test need
# no clang. make generate rebuilds them (clang, llvm-strip and libbpf-dev
# from make deps). generate-check rebuilds them into a temporary directory
# and fails when the committed files are stale. The object's bytes depend on
# the clang major version: with another one than BPF_CLANG_MAJOR (Debian
# bookworm's, which built the committed object) only the Go file is compared.
BPF_CLANG_MAJOR ?= 14
generate:
	cd bpf/bypass && POLDER_BPF_OUT=. $(GO) generate ./

generate-check:
	@if ! command -v clang >/dev/null || ! command -v llvm-strip >/dev/null; then \
		echo "generate-check: SKIPPED: clang/llvm-strip not installed (make deps installs them)"; exit 0; fi; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd bpf/bypass && POLDER_BPF_OUT="$$tmp" $(GO) generate ./) || exit 1; \
	files=bypass_bpfel.go; major=$$(clang -dumpversion | cut -d. -f1); \
	if [ "$$major" = "$(BPF_CLANG_MAJOR)" ]; then files="$$files bypass_bpfel.o"; \
	else echo "generate-check: clang $$major, not $(BPF_CLANG_MAJOR): comparing the Go file only"; fi; \
	for f in $$files; do cmp -s "$$tmp/$$f" "bpf/bypass/$$f" || { \
		echo "generate-check: bpf/bypass/$$f is stale: run make generate and commit it"; exit 1; }; done; \
	echo "generate-check: bpf/bypass up to date ($$files)"

# Quick loop for development: skips the corpus-wide tests.
test-short:
	$(GO) test -short -count=1 $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Fuzz every target for FUZZTIME each (the issue's bar is 10m when a parser changes).
FUZZTIME ?= 60s
fuzz:
	@scripts/fuzz-all.sh $(FUZZTIME)

# suricata-verify: every test of TESTS/dev-tests.tsv (or every directory with a
# test.yaml), each test's EVE left at OUT/<test>/eve.json beside the polder.yaml
# it ran with; prints a table, a per-category breakdown and the summary.
TESTS ?= ../shared/corpus/suricata-verify
OUT   ?= out/sv
sv-verify:
	$(GO) run ./internal/sv/cmd/svverify -tests $(TESTS) -out $(OUT)

clean:
	rm -rf bin
