#!/usr/bin/env bash
# bench-bypass.sh — what flow bypass saves a live sensor: ring drops and CPU
# of `polder sensor run` under an elephant flow, bypass off / socket-filter
# / xdp.
#
# Usage: scripts/bench-bypass.sh [-r PPS] [-d SECONDS] [-m 'MODES'] [-n REPS] [-R 'RULES_GLOB']
#                               [-p PAYLOAD_FILE] [-q CPU_PERCENT] [-D DEPTH] [-s CPUS] [-g CPUS]
#
#   Run as root. Creates a network namespace and a veth pair (sensor on the
#   outer end, in our namespace; offloads off, IPv6 off, no addresses), and
#   for each mode in MODES (default "off socket-filter xdp"), REPS times
#   (default 1):
#
#     1. starts  bin/polder sensor run -c CFG -i OUTER -S 'RULES_GLOB' -S bench.rules
#        with capture.bypass.mode MODE, one worker, and waits until it
#        captures. RULES_GLOB defaults to the corpus's ET Open snapshot;
#        bench.rules bypasses the elephant on its request
#        (http.uri; content:"/elephant"; bypass;);
#     2. runs scripts/bypassload in the namespace: one elephant, an HTTP
#        download from a host outside HOME_NET (1448-byte segments, an ACK
#        every second one), and a UDP mouse
#        every 100 packets, PPS packets/s (default 150000) for SECONDS
#        (default 10), as crafted frames (they reach only the capture);
#     3. reads the sensor's CPU time (sum of /proc/PID/task/*/schedstat)
#        from just before the load until the sensor is idle again after it
#        (it may still be draining its ring), stops the sensor with
#        SIGINT and reads its last EVE stats event (capture.kernel_packets,
#        capture.kernel_drops, decoder.pkts) and the elephant's flow record.
#
#   The elephant carries PAYLOAD_FILE's bytes, repeated (default: the
#   polder binary itself: an elephant worth bypassing is usually binary or
#   compressed data, a download, a backup, a video; -p with a text file
#   gives the rule engine less to do per packet). -q caps the sensor at
#   CPU_PERCENT of one CPU (a cgroup), to reach, on a machine where the
#   sensor keeps up with what the generator can send, a load at which it
#   drops without bypass. -D sets stream.reassembly.depth (default 1mb),
#   -s / -g pin the sensor / generator to CPUs.
#
#   It prints one row per run: offered pps (achieved by the generator),
#   received pps (packets the sensor processed in user space), ring drops
#   (capture.kernel_drops, and as % of the packets that reached the ring),
#   the sensor's CPU per offered packet, and whether the elephant's flow
#   record adds up to what was sent. Everything it creates is removed on
#   exit (trap), also on failure or Ctrl-C.
#
#   veth is not a NIC: the sender's CPU also runs the receive path (socket
#   filter, XDP, the copy into the ring), and XDP on veth runs on skbs, so
#   XDP numbers here say little about XDP on a NIC's driver.
#
#   Needs bin/polder (make build), go, ip (iproute2), ethtool, jq.
#   Environment: POLDER_BIN runs another binary; POLDER_CORPUS overrides the
#   corpus location (default ../shared/corpus); KEEP=1 keeps the work
#   directory (sensor logs, eve.json of every run).
#
# Example: scripts/bench-bypass.sh -r 150000 -d 10 -n 3
set -euo pipefail
cd "$(dirname "$0")/.."

rate=150000
dur=10
modes="off socket-filter xdp"
reps=1
bin=${POLDER_BIN:-bin/polder}
corpus=${POLDER_CORPUS:-../shared/corpus}
rules="$corpus/rules/et-open-suricata-5.0-20240421/*.rules"
payload= # default: the polder binary (see -p)
pin_sensor=
pin_gen=
depth=1mb
quota=
while getopts "r:d:m:n:R:p:s:g:D:q:h" opt; do
	case $opt in
	r) rate=$OPTARG ;;
	d) dur=$OPTARG ;;
	m) modes=$OPTARG ;;
	n) reps=$OPTARG ;;
	R) rules=$OPTARG ;;
	p) payload=$OPTARG ;;
	D) depth=$OPTARG ;;
	q) quota=$OPTARG ;;
	s) pin_sensor=$OPTARG ;;
	g) pin_gen=$OPTARG ;;
	*) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
done

die() { echo "bench-bypass: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (network namespaces, AF_PACKET, eBPF)"
for tool in ip ethtool jq go "$bin"; do
	command -v "$tool" >/dev/null || die "$tool not found (make build; apt-get install iproute2 ethtool jq)"
done
# shellcheck disable=SC2086
ls $rules >/dev/null 2>&1 || die "no rules at $rules (set POLDER_CORPUS or -R)"

tag=$$
ns=polder-bb-$tag
outer=pbb${tag}o
inner=pbb${tag}i
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-bypass.XXXXXX")
sensor_pid=
cgroup=

cleanup() {
	if [ -n "$sensor_pid" ] && kill -0 "$sensor_pid" 2>/dev/null; then
		kill -INT "$sensor_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$sensor_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$sensor_pid" 2>/dev/null || true
		wait "$sensor_pid" 2>/dev/null || true
	fi
	ip link del "$outer" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	[ -z "$cgroup" ] || rmdir "$cgroup" 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "work directory: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

go build -o "$work/bypassload" ./scripts/bypassload
[ -n "$payload" ] || payload=$bin

# -q: a CPU cgroup capping the sensor at QUOTA% of one CPU (10 ms periods).
if [ -n "$quota" ]; then
	period=10000 us=$((quota * 100))
	if [ -w /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then # cgroup v1
		cgroup=/sys/fs/cgroup/cpu/polder-bench-bypass-$tag
		mkdir "$cgroup"
		echo "$period" >"$cgroup/cpu.cfs_period_us"
		echo "$us" >"$cgroup/cpu.cfs_quota_us"
	elif grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then # cgroup v2
		cgroup=/sys/fs/cgroup/polder-bench-bypass-$tag
		mkdir "$cgroup"
		echo "$us $period" >"$cgroup/cpu.max"
	else
		die "-q needs the cgroup cpu controller (v1 at /sys/fs/cgroup/cpu, or v2 with cpu enabled)"
	fi
fi
# How the sensor is started: in the -q cgroup, on the -s CPUs. Each
# wrapper execs, so $! is the sensor's pid.
sensor_prefix=()
# shellcheck disable=SC2016
[ -z "$cgroup" ] || sensor_prefix=(sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cgroup")
[ -z "$pin_sensor" ] || sensor_prefix+=(taskset -c "$pin_sensor")

# The link: nothing on it but the generator's frames.
ip netns add "$ns"
ip link add "$outer" type veth peer name "$inner"
ip link set "$inner" netns "$ns"
echo 1 >"/proc/sys/net/ipv6/conf/$outer/disable_ipv6"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ethtool -K "$outer" tso off gso off gro off >/dev/null
ip netns exec "$ns" ethtool -K "$inner" tso off gso off gro off >/dev/null
ip netns exec "$ns" ip link set "$inner" up
ip link set "$outer" up

cat >"$work/bench.rules" <<'EOF'
alert http any any -> any any (msg:"bench-bypass elephant"; flow:established,to_server; http.uri; content:"/elephant"; bypass; sid:9000001; rev:1;)
EOF

# cpu_ns PID: CPU time of every thread of PID, in nanoseconds.
cpu_ns() {
	local total=0 t
	for t in /proc/"$1"/task/*/schedstat; do
		read -r run _ <"$t" && total=$((total + run))
	done
	echo "$total"
}

# kv KEY LINE: the value of KEY in a line of key=value pairs.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

printf '\nbench-bypass: %s, %s CPUs, kernel %s; %s pkt/s offered for %s s; rules %s\n\n' \
	"$(date -u +%FT%TZ)" "$(nproc)" "$(uname -r)" "$rate" "$dur" "$rules"
printf '%-14s %12s %13s %11s %8s %14s %14s %s\n' mode "offered pps" "received pps" "ring drops" "drop %" "sensor CPU s" "CPU ns/pkt" "elephant record"

for ((rep = 1; rep <= reps; rep++)); do
	for mode in $modes; do
		dir="$work/$mode-$rep"
		mkdir -p "$dir"
		cat >"$dir/sensor.yaml" <<EOF
capture:
  bypass:
    mode: $mode
stream:
  reassembly:
    depth: $depth
outputs:
  eve:
    types:
      stats:
        enabled: yes
        interval: 60s
EOF
		# shellcheck disable=SC2086
		"${sensor_prefix[@]}" "$bin" sensor run -c "$dir/sensor.yaml" -i "$outer" -l "$dir" -S "$rules" -S "$work/bench.rules" \
			>"$dir/sensor.log" 2>&1 &
		sensor_pid=$!
		for _ in $(seq 600); do
			grep -q 'capturing' "$dir/sensor.log" 2>/dev/null && break
			kill -0 "$sensor_pid" 2>/dev/null || { cat "$dir/sensor.log" >&2; die "sensor exited"; }
			sleep 0.1
		done
		grep -q 'capturing' "$dir/sensor.log" || die "sensor did not start within 60 s (log: $dir/sensor.log)"
		effective=$mode
		if grep -q 'using the socket filter\|capture bypass unavailable' "$dir/sensor.log"; then
			effective="$mode(fallback)"
		fi
		sleep 1
		cpu0=$(cpu_ns "$sensor_pid")
		out=$(${pin_gen:+taskset -c "$pin_gen"} ip netns exec "$ns" "$work/bypassload" -i "$inner" -rate "$rate" -duration "${dur}s" -payload "$payload")
		# Until the sensor is idle again (it may still be draining its
		# ring): less than 5 ms of CPU in half a second, at most 60 s.
		cpu1=$(cpu_ns "$sensor_pid")
		for _ in $(seq 120); do
			sleep 0.5
			c=$(cpu_ns "$sensor_pid")
			[ $((c - cpu1)) -lt 5000000 ] && { cpu1=$c; break; }
			cpu1=$c
		done
		kill -INT "$sensor_pid"
		wait "$sensor_pid" || die "sensor failed (log: $dir/sensor.log)"
		sensor_pid=

		stats=$(jq -c 'select(.event_type == "stats") | .stats' "$dir/eve.json" | tail -1)
		kp=$(jq '.capture.kernel_packets // 0' <<<"$stats")
		kd=$(jq '.capture.kernel_drops // 0' <<<"$stats")
		dp=$(jq '.decoder.pkts // 0' <<<"$stats")
		rec=$(jq -c 'select(.event_type == "flow" and .dest_port == 80) | .flow' "$dir/eve.json" | tail -1)
		[ -n "$rec" ] || rec='{}'
		got=$(jq '(.pkts_toserver // 0) + (.pkts_toclient // 0)' <<<"$rec")
		sent=$(kv elephant_pkts "$out")
		secs=$(kv seconds "$out")
		offered=$(kv sent_pkts "$out")
		if [ "$got" = "$sent" ]; then check="= sent ($sent)"; else check="$got of $sent sent"; fi
		awk -v m="$effective" -v off="$offered" -v s="$secs" -v dp="$dp" -v kd="$kd" -v kp="$kp" \
			-v c0="$cpu0" -v c1="$cpu1" -v chk="$check" 'BEGIN {
			cpu = (c1 - c0) / 1e9
			printf "%-14s %12.0f %13.0f %11d %7.1f%% %14.3f %14.0f %s\n", m, off / s, dp / s, kd,
				(kp > 0 ? 100 * kd / kp : 0), cpu, (c1 - c0) / off, chk
		}'
		echo "$out" >"$dir/bypassload.out"
	done
done
