#!/usr/bin/env bash
# bench-rules.sh — whole-pcap throughput of `polder sensor read` with ET Open.
#
# Usage: scripts/bench-rules.sh [-n ROUNDS] [-r 'RULES_GLOB'] [PCAP...]
#
#   Builds one big capture from PCAPs (default: the HTTP/DNS/TLS mix of
#   BenchmarkReadETOpen in sensor/pipeline, from the shared corpus) repeated
#   ROUNDS times (default 20): every copy's timestamps are shifted with
#   editcap so packet time only moves forward and each round starts an hour
#   after the previous one (the flows of a round have timed out before the
#   next reuses their addresses), and the copies are concatenated with
#   mergecap. It then runs, under /usr/bin/time -v,
#
#       bin/polder sensor read -q [-S 'RULES_GLOB'] BIG.pcapng
#
#   once without rules and once with RULES_GLOB (default: the corpus's ET
#   Open snapshot, 'ET/*.rules'), and prints wall time, packets/s, Mbit/s
#   and peak RSS for each. The wall time with rules includes loading and
#   compiling them; the compile time is printed too.
#
#   Needs bin/polder (make build), GNU time, and Wireshark's mergecap,
#   editcap and capinfos. Environment: POLDER_BIN runs another binary
#   (make build is CGO_ENABLED=0, so pcre runs on the pure-Go fallback,
#   which refuses 19 ET Open rules; `CGO_ENABLED=1 go build -o /tmp/polder
#   ./cmd/polder` measures PCRE2); POLDER_CORPUS overrides the corpus
#   location (default ../shared/corpus beside the repository); KEEP=1 keeps
#   the work directory (the big capture and both eve.json files);
#   GOMAXPROCS=1 gives the one-core figure.
#
# Example: scripts/bench-rules.sh -n 50
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=20
bin=${POLDER_BIN:-bin/polder}
corpus=${POLDER_CORPUS:-../shared/corpus}
rules="$corpus/rules/et-open-suricata-5.0-20240421/*.rules"
while getopts "n:r:h" opt; do
	case $opt in
	n) rounds=$OPTARG ;;
	r) rules=$OPTARG ;;
	*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

pcaps=("$@")
if [ ${#pcaps[@]} -eq 0 ]; then
	# Keep in step with ruleBenchPcaps in sensor/pipeline/bench_rules_test.go.
	for p in zeek/http/no_crlf.pcap zeek/http/206_example_b.pcap \
		zeek/http/1000-requests-one-dropped-response.pcap zeek/http/bro.org.pcap \
		chrissanders-packets/http_espn.pcapng chrissanders-packets/ek_to_cryptowall4.pcapng \
		chrissanders-packets/ratinfected.pcapng zeek/tls/tls-fragmented-handshake.pcap \
		zeek/tls/ssl.v3.pcap zeek/tls/tls-1.2-stream-keylog.pcap ndpi/tls_long_cert.pcap \
		ndpi/googledns_android10.pcap ndpi/bad-dns-traffic.pcap ndpi/dns_exfiltration.pcap \
		chrissanders-packets/dns_isp_hijack.pcapng; do
		pcaps+=("$corpus/pcaps/$p")
	done
fi
for tool in mergecap editcap capinfos /usr/bin/time "$bin"; do
	command -v "$tool" >/dev/null || { echo "bench-rules: $tool not found (make build; apt-get install tshark time)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-rules.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "work directory: $work"; else trap 'rm -rf "$work"' EXIT; fi

# Shift every copy so it starts 1 s after the previous one ended; rounds
# start an hour apart. Times are microseconds to stay in shell integers.
echo "building the capture: ${#pcaps[@]} files x $rounds rounds ..."
clock=1577836800000000 # 2020-01-01T00:00:00Z
parts=()
for ((r = 0; r < rounds; r++)); do
	for ((i = 0; i < ${#pcaps[@]}; i++)); do
		read -r _ first last < <(capinfos -T -r -S -a -e "${pcaps[i]}" | tr '\t' ' ' | awk '{print $1, $(NF-1), $NF}')
		first_us=$(awk -v t="$first" 'BEGIN { printf "%.0f", t * 1e6 }')
		last_us=$(awk -v t="$last" 'BEGIN { printf "%.0f", t * 1e6 }')
		shift_us=$((clock - first_us))
		out="$work/part-$r-$i.pcapng"
		editcap -F pcapng -t "$(awk -v s="$shift_us" 'BEGIN { printf "%.6f", s / 1e6 }')" "${pcaps[i]}" "$out"
		parts+=("$out")
		clock=$((clock + last_us - first_us + 1000000))
	done
	clock=$((clock + 3600000000))
done
big="$work/big.pcapng"
mergecap -a -w "$big" "${parts[@]}"
rm -f "${parts[@]}"
echo "capture: $(du -h "$big" | cut -f1), $(capinfos -T -r -c "$big" | cut -f2) packets"
echo "binary: $bin; machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# run NAME [polder flags...]: one read under GNU time, then its figures.
run() {
	local name=$1
	shift
	local dir="$work/$name"
	mkdir -p "$dir"
	/usr/bin/time -v -o "$dir/time.txt" "$bin" sensor read -q -l "$dir" "$@" "${capture:-$big}" 2>"$dir/log.txt" || {
		cat "$dir/log.txt" >&2
		exit 1
	}
	local wall rss pkts bytes compile
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s }' "$dir/time.txt")
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time.txt")
	pkts=$(sed -n 's/.*read done.* packets=\([0-9]*\).*/\1/p' "$dir/log.txt")
	bytes=$(sed -n 's/.*read done.* bytes=\([0-9]*\).*/\1/p' "$dir/log.txt")
	compile=$(sed -n 's/.*rules successfully loaded.*compiled in \([^)]*\)).*/\1/p' "$dir/log.txt")
	awk -v n="$name" -v w="$wall" -v p="$pkts" -v b="$bytes" -v r="$rss" -v c="${compile:--}" 'BEGIN {
		printf "%-8s wall %7.2f s   %9.0f pkts/s   %7.1f Mbit/s   peak RSS %6.1f MiB   rule compile %s\n",
			n, w, p / w, b * 8 / w / 1e6, r / 1024, c
	}'
	grep -E 'rules successfully loaded' "$dir/log.txt" | sed 's/^/         /' || true
	echo "$wall" >"$dir/wall"
}

run none
# shellcheck disable=SC2086 # the glob is polder's to expand
run etopen -S "$rules"
# The same rules on the capture's first packet: what loading them costs,
# so that the throughput once they are loaded can be told apart.
editcap -r "$big" "$work/first.pcapng" 1
# shellcheck disable=SC2086
capture="$work/first.pcapng" run load -S "$rules"
awk -v w="$(cat "$work/etopen/wall")" -v l="$(cat "$work/load/wall")" -v p="$(capinfos -T -r -c "$big" | cut -f2)" 'BEGIN {
	if (w > l) printf "etopen once loaded: %.0f pkts/s (%.2f s of %.2f s were loading the rules)\n", p / (w - l), l, w
}'
