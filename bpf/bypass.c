// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * Flow bypass: drop the packets of flows the sensor has finished inspecting
 * before they cost it anything, and count them.
 *
 * Three entry points share one flow table (flows) and one set of global
 * counters (stats):
 *
 *   xdp_bypass       XDP on a capture interface: XDP_DROP for a bypassed
 *                    flow, XDP_PASS otherwise. Frames start at Ethernet.
 *   sock_bypass      socket filter on an AF_PACKET SOCK_RAW socket of an
 *                    Ethernet or loopback interface: skb data starts at the
 *                    Ethernet header; the kernel may have moved the outer
 *                    VLAN tag into skb metadata (vlan_present, vlan_tci).
 *                    Returns 0 (drop) for a bypassed flow, else 0xffffffff
 *                    (keep the whole frame: the snaplen still applies).
 *   sock_bypass_l3   the same for raw-IP interfaces (tun, ipip, ...): data
 *                    starts at the network header, whose EtherType is
 *                    skb->protocol. BPF_PROG_TEST_RUN runs socket filters
 *                    the same way (it pulls the Ethernet header).
 *
 * Every packet is parsed the way the sensor's decoder keys flows
 * (sensor/decode, sensor/flow/key.go): up to three 802.1Q/802.1ad/0x9100
 * tags, IPv4 (options skipped by IHL) or IPv6 (extension headers below),
 * then TCP, UDP or SCTP ports. The key is normalized so both directions of
 * a flow find the same entry; the value counts each direction.
 *
 * Never bypassed, always passed to the sensor (and counted in stats):
 *   - IP fragments (IPv4 MF or offset, IPv6 fragment header other than an
 *     atomic fragment): the sensor reassembles them;
 *   - truncated or invalid headers, as the decoder rejects them: frame
 *     shorter than the IP total length, IHL < 5, bad version, TCP data
 *     offset < 5 or past the segment, UDP length < 8 or past the datagram;
 *   - other protocols than TCP, UDP and SCTP (ICMP keys on type pairs and
 *     ESP on the SPI in the sensor; tunnels are decoded in user space);
 *   - more than three VLAN tags, or more than MAX_EXT IPv6 extension headers.
 * The program keys the outermost IP header: MPLS and PPPoE are passed (not
 * IP), tunnels keyed by their outer header, whose flow the sensor must not
 * insert (see bypass.Supported).
 *
 * IPv6 extension headers walked (RFC 8200 section 4): hop-by-hop options
 * (0), routing (43), destination options (60), authentication header (51),
 * and atomic fragments (44 with offset 0 and M=0, RFC 6946), as the decoder
 * does. ESP (50) and no-next-header (59) end the walk as unsupported.
 *
 * All reads are bounds-checked: XDP against data_end, sockets through
 * bpf_skb_load_bytes (which also reads paged skb data). A frame that ends
 * early is malformed and passed, never read past.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bypass.h"

#define ETH_HLEN 14
#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100  /* 802.1Q */
#define ETH_P_8021AD 0x88a8 /* 802.1ad service tag */
#define ETH_P_QINQ1 0x9100  /* pre-standard QinQ */

#define IPPROTO_HOPOPTS 0
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_AH 51
#define IPPROTO_DSTOPTS 60
#define IPPROTO_SCTP 132

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04

/* A socket filter's verdict is how many bytes to keep: all of them. */
#define SOCK_PASS 0xffffffff

/* Most IPv6 extension headers walked before giving up (unsupported). */
#define MAX_EXT 6
/* Deepest header offset read, which bounds offsets for the verifier. */
#define MAX_HDR_OFF 4096

/* The flow table. max_entries is set by the loader (Config.TableSize). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

/* Global counters, one struct per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bypass_stats);
} stats SEC(".maps");

/*
 * Set at load time (Config.PassTCPControl): pass TCP segments with SYN, FIN
 * or RST of bypassed flows to the sensor, so it sees a flow end or a port
 * reuse instead of waiting for the idle timeout.
 */
volatile const __u8 pass_tcp_control = 0;

/* Where packet data starts. */
enum source {
	SRC_XDP,    /* xdp_md: Ethernet header, direct packet access */
	SRC_SKB_L2, /* __sk_buff data at the Ethernet header */
	SRC_SKB_L3, /* __sk_buff data at the network header */
};

enum outcome {
	OUT_KEYED,
	OUT_NOT_IP,
	OUT_MALFORMED,
	OUT_FRAGMENT,
	OUT_UNSUPPORTED,
};

struct parsed {
	struct flow_key key;
	__u8 dir;       /* 0: sent by key.src, 1: sent by key.dst */
	__u8 tcp_flags;
};

struct vlan_tag {
	__be16 tci;
	__be16 etype;
};

struct ipv4_hdr {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 proto;
	__be16 check;
	__be32 saddr;
	__be32 daddr;
};

struct ipv6_hdr {
	__be32 ver_tc_flow;
	__be16 payload_len;
	__u8 next;
	__u8 hop_limit;
	__u32 saddr[4];
	__u32 daddr[4];
};

struct l4_ports {
	__be16 sport;
	__be16 dport;
	__be32 seq;    /* TCP only */
	__be32 ack;    /* TCP only */
	__u8 doff;     /* TCP only: data offset << 4 */
	__u8 flags;    /* TCP only */
};

/*
 * load copies len bytes at offset off of the packet into to. It returns
 * non-zero when the packet is shorter. off and len are relative to the
 * start of data (see enum source).
 */
static __always_inline int load(void *ctx, const enum source src, __u32 off, void *to, const __u32 len)
{
	if (src == SRC_XDP) {
		struct xdp_md *x = ctx;
		void *data = (void *)(long)x->data;
		void *end = (void *)(long)x->data_end;

		if (off > MAX_HDR_OFF)
			return -1;
		data += off;
		if (data + len > end)
			return -1;
		__builtin_memcpy(to, data, len);
		return 0;
	}
	if (off > MAX_HDR_OFF)
		return -1;
	return bpf_skb_load_bytes(ctx, off, to, len);
}

static __always_inline int is_vlan(__u16 etype)
{
	return etype == ETH_P_8021Q || etype == ETH_P_8021AD || etype == ETH_P_QINQ1;
}

static __always_inline int is_ext(__u8 next)
{
	return next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS || next == IPPROTO_AH ||
	       next == IPPROTO_FRAGMENT;
}

/* addr_cmp compares two 16-byte addresses as big-endian numbers. */
static __always_inline int addr_cmp(const __u32 *a, const __u32 *b)
{
#pragma unroll
	for (int i = 0; i < 4; i++) {
		__u32 x = bpf_ntohl(a[i]), y = bpf_ntohl(b[i]);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/*
 * parse_l4 reads the ports of a TCP, UDP or SCTP header at off (l4len bytes
 * of IP payload) and normalizes the key.
 */
static __always_inline int parse_l4(void *ctx, const enum source src, __u32 off, __u32 l4len, struct parsed *p)
{
	struct l4_ports h = {};

	switch (p->key.proto) {
	case IPPROTO_TCP:
		if (l4len < 20 || load(ctx, src, off, &h, sizeof(h)))
			return OUT_MALFORMED;
		if ((h.doff >> 4) < 5 || (__u32)(h.doff >> 4) * 4 > l4len)
			return OUT_MALFORMED;
		p->tcp_flags = h.flags;
		break;
	case IPPROTO_UDP: {
		__u16 ulen;

		if (l4len < 8 || load(ctx, src, off, &h, 8))
			return OUT_MALFORMED;
		ulen = bpf_ntohl(h.seq) >> 16; /* the UDP length field */
		if (ulen < 8 || ulen > l4len)
			return OUT_MALFORMED;
		break;
	}
	case IPPROTO_SCTP:
		if (l4len < 12 || load(ctx, src, off, &h, 4))
			return OUT_MALFORMED;
		break;
	default:
		return OUT_UNSUPPORTED;
	}

	__u16 sport = bpf_ntohs(h.sport), dport = bpf_ntohs(h.dport);
	int c = addr_cmp(p->key.src, p->key.dst);

	if (c > 0 || (c == 0 && sport > dport)) {
		__u32 t[4];

		__builtin_memcpy(t, p->key.src, sizeof(t));
		__builtin_memcpy(p->key.src, p->key.dst, sizeof(t));
		__builtin_memcpy(p->key.dst, t, sizeof(t));
		p->key.src_port = dport;
		p->key.dst_port = sport;
		p->dir = 1;
	} else {
		p->key.src_port = sport;
		p->key.dst_port = dport;
	}
	return OUT_KEYED;
}

/* parse_ipv4 parses the IPv4 header at off; avail is the data length. */
static __always_inline int parse_ipv4(void *ctx, const enum source src, __u32 off, __u32 avail, struct parsed *p)
{
	struct ipv4_hdr h;

	if (load(ctx, src, off, &h, sizeof(h)))
		return OUT_MALFORMED;
	if (h.ver_ihl >> 4 != 4)
		return OUT_MALFORMED;

	__u32 hl = (h.ver_ihl & 0x0f) * 4;
	__u32 tot = bpf_ntohs(h.tot_len);

	if (hl < 20 || tot < hl || tot > avail - off)
		return OUT_MALFORMED;
	if (bpf_ntohs(h.frag_off) & 0x3fff) /* MF or a fragment offset */
		return OUT_FRAGMENT;

	p->key.ip_version = 4;
	p->key.proto = h.proto;
	p->key.src[2] = bpf_htonl(0x0000ffff);
	p->key.src[3] = h.saddr;
	p->key.dst[2] = bpf_htonl(0x0000ffff);
	p->key.dst[3] = h.daddr;
	return parse_l4(ctx, src, off + hl, tot - hl, p);
}

/* parse_ipv6 parses the IPv6 header at off and walks its extension headers. */
static __always_inline int parse_ipv6(void *ctx, const enum source src, __u32 off, __u32 avail, struct parsed *p)
{
	struct ipv6_hdr h;

	if (load(ctx, src, off, &h, sizeof(h)))
		return OUT_MALFORMED;
	if (bpf_ntohl(h.ver_tc_flow) >> 28 != 6)
		return OUT_MALFORMED;

	__u32 tot = 40 + bpf_ntohs(h.payload_len);

	if (tot > avail - off)
		return OUT_MALFORMED;

	p->key.ip_version = 6;
	__builtin_memcpy(p->key.src, h.saddr, 16);
	__builtin_memcpy(p->key.dst, h.daddr, 16);

	__u8 next = h.next;
	__u32 eoff = 40; /* from the IPv6 header */

	/* MAX_EXT headers, then the upper-layer header. */
#pragma unroll
	for (int i = 0; i <= MAX_EXT; i++) {
		__u8 e[4];
		__u32 hl;

		if (i == MAX_EXT && is_ext(next))
			return OUT_UNSUPPORTED;
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (eoff + 2 > tot || load(ctx, src, off + eoff, e, 2))
				return OUT_MALFORMED;
			hl = ((__u32)e[1] + 1) * 8;
			break;
		case IPPROTO_AH:
			if (eoff + 2 > tot || load(ctx, src, off + eoff, e, 2))
				return OUT_MALFORMED;
			hl = ((__u32)e[1] + 2) * 4;
			if (hl < 12)
				return OUT_MALFORMED;
			break;
		case IPPROTO_FRAGMENT:
			if (eoff + 8 > tot || load(ctx, src, off + eoff, e, 4))
				return OUT_MALFORMED;
			/* An atomic fragment (offset 0, M=0) is a whole packet. */
			if ((((__u16)e[2] << 8 | e[3]) & 0xfff9) != 0)
				return OUT_FRAGMENT;
			hl = 8;
			break;
		default:
			p->key.proto = next;
			return parse_l4(ctx, src, off + eoff, tot - eoff, p);
		}
		if (eoff + hl > tot)
			return OUT_MALFORMED;
		next = e[0];
		eoff += hl;
	}
	return OUT_UNSUPPORTED; /* not reached */
}

static __always_inline void set_vlan(struct parsed *p, __u32 n, __u16 id)
{
	if (n == 0)
		p->key.vlan[0] = id & 0x0fff;
	else if (n == 1)
		p->key.vlan[1] = id & 0x0fff;
	else
		p->key.vlan[2] = id & 0x0fff;
}

/*
 * parse fills p->key from the packet. avail is the length of data from
 * where the program's offsets start; vlan_meta and vlan_tci describe a tag
 * the kernel took out of the frame; etype is the EtherType for SRC_SKB_L3.
 */
static __always_inline int parse(void *ctx, const enum source src, __u32 avail, __u32 vlan_meta, __u16 vlan_tci,
				 __u16 etype, struct parsed *p)
{
	__u32 off = 0, nvlan = 0;

	if (src != SRC_SKB_L3) {
		__be16 et;

		if (load(ctx, src, 12, &et, 2))
			return OUT_MALFORMED;
		etype = bpf_ntohs(et);
		off = ETH_HLEN;
	}
	if (vlan_meta) {
		set_vlan(p, 0, vlan_tci);
		nvlan = 1;
	}

#pragma unroll
	for (int i = 0; i < BYPASS_MAX_VLAN; i++) {
		struct vlan_tag t;

		if (!is_vlan(etype))
			break;
		if (nvlan >= BYPASS_MAX_VLAN)
			return OUT_UNSUPPORTED;
		if (load(ctx, src, off, &t, sizeof(t)))
			return OUT_MALFORMED;
		set_vlan(p, nvlan, bpf_ntohs(t.tci));
		nvlan++;
		etype = bpf_ntohs(t.etype);
		off += sizeof(t);
	}

	switch (etype) {
	case ETH_P_IPV4:
		return parse_ipv4(ctx, src, off, avail, p);
	case ETH_P_IPV6:
		return parse_ipv6(ctx, src, off, avail, p);
	}
	if (is_vlan(etype))
		return OUT_UNSUPPORTED; /* a fourth tag */
	return OUT_NOT_IP;
}

/*
 * handle decides one packet: it returns 1 when the packet belongs to a
 * bypassed flow (counted, to be dropped) and 0 when it goes to the sensor.
 * wire_len is what the flow's byte counter gets.
 */
static __always_inline int handle(void *ctx, const enum source src, __u32 avail, __u32 vlan_meta, __u16 vlan_tci,
				  __u16 etype, __u64 wire_len)
{
	__u32 zero = 0;
	struct bypass_stats *st = bpf_map_lookup_elem(&stats, &zero);

	if (!st)
		return 0; /* cannot happen: a one-entry array */
	st->packets++;

	struct parsed p = {};

	switch (parse(ctx, src, avail, vlan_meta, vlan_tci, etype, &p)) {
	case OUT_KEYED:
		break;
	case OUT_NOT_IP:
		st->not_ip++;
		return 0;
	case OUT_FRAGMENT:
		st->fragment++;
		return 0;
	case OUT_UNSUPPORTED:
		st->unsupported++;
		return 0;
	default:
		st->malformed++;
		return 0;
	}

	struct flow_value *v = bpf_map_lookup_elem(&flows, &p.key);

	if (!v) {
		st->miss++;
		return 0;
	}
	if (pass_tcp_control && p.key.proto == IPPROTO_TCP && (p.tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST))) {
		st->tcp_control++;
		return 0;
	}

	struct flow_dir *d = &v->dir[p.dir & 1];

	__sync_fetch_and_add(&d->packets, 1);
	__sync_fetch_and_add(&d->bytes, wire_len);
	d->last_seen = bpf_ktime_get_coarse_ns();
	st->bypassed++;
	st->bypassed_bytes += wire_len;
	return 1;
}

SEC("xdp")
int xdp_bypass(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 len = end - data;

	return handle(ctx, SRC_XDP, len, 0, 0, 0, len) ? XDP_DROP : XDP_PASS;
}

SEC("socket")
int sock_bypass(struct __sk_buff *skb)
{
	__u32 len = skb->len, vlan = skb->vlan_present;

	/* The wire length includes the tag AF_PACKET puts back (tp_vlan_tci). */
	if (handle(skb, SRC_SKB_L2, len, vlan, skb->vlan_tci, 0, len + (vlan ? 4 : 0)))
		return 0;
	return SOCK_PASS;
}

SEC("socket")
int sock_bypass_l3(struct __sk_buff *skb)
{
	__u32 len = skb->len, vlan = skb->vlan_present;

	if (handle(skb, SRC_SKB_L3, len, vlan, skb->vlan_tci, bpf_ntohs(skb->protocol), len + (vlan ? 4 : 0)))
		return 0;
	return SOCK_PASS;
}

char _license[] SEC("license") = "Dual MIT/GPL";
