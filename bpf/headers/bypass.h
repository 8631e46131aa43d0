/* SPDX-License-Identifier: (GPL-2.0-only OR MIT) */
/*
 * The ABI shared by bypass.c and the Go loader (bpf/bypass): the layout of
 * the flow table's key and value and of the global counters. The Go types
 * in bpf/bypass/key.go mirror these byte for byte; TestABI checks sizes and
 * field offsets against the BTF of the compiled object.
 */
#ifndef POLDER_BYPASS_H
#define POLDER_BYPASS_H

#include <linux/types.h>

/* Most VLAN tags a key holds (decode.MaxVLAN): outer QinQ, inner, QinQinQ. */
#define BYPASS_MAX_VLAN 3

/*
 * struct flow_key is a flow.Key of the sensor (sensor/flow/key.go), 44
 * bytes without padding:
 *  - src and dst are the addresses as on the wire, IPv4 in the IPv4-mapped
 *    form ::ffff:a.b.c.d, normalized so that (src, src_port) sorts lower
 *    than (dst, dst_port), comparing addresses as big-endian numbers first;
 *  - ports in host byte order;
 *  - VLAN ids (12 bits) outermost first, unused slots zero;
 *  - proto is the L4 protocol after IPv6 extension headers, ip_version 4 or 6.
 * Only TCP, UDP and SCTP flows are keyed in the kernel.
 */
struct flow_key {
	__u32 src[4];
	__u32 dst[4];
	__u16 src_port;
	__u16 dst_port;
	__u16 vlan[BYPASS_MAX_VLAN];
	__u8 proto;
	__u8 ip_version;
};

/* Counters of one direction of a flow. */
struct flow_dir {
	__u64 packets;
	__u64 bytes;     /* frame length without FCS, VLAN tags included */
	__u64 last_seen; /* CLOCK_MONOTONIC_COARSE ns of the last packet */
};

/* dir[0] counts packets sent by the key's src, dir[1] those sent by dst. */
struct flow_value {
	struct flow_dir dir[2];
};

/*
 * Global counters, one copy per CPU: what the programs did with every
 * packet they ran on. packets = bypassed + miss + tcp_control + not_ip +
 * malformed + fragment + unsupported.
 */
struct bypass_stats {
	__u64 packets;        /* every packet the program ran on */
	__u64 bypassed;       /* of a bypassed flow: counted and dropped */
	__u64 bypassed_bytes; /* their bytes (as flow_dir.bytes) */
	__u64 miss;           /* keyed, but the flow is not in the table */
	__u64 tcp_control;    /* SYN/FIN/RST of a bypassed flow, passed (pass_tcp_control) */
	__u64 not_ip;         /* no IPv4/IPv6 after Ethernet and VLAN tags */
	__u64 malformed;      /* truncated or invalid headers */
	__u64 fragment;       /* IPv4 or IPv6 fragments: the sensor reassembles them */
	__u64 unsupported;    /* not keyed here: not TCP/UDP/SCTP, > 3 VLAN tags, long IPv6 header chain */
};

#endif
