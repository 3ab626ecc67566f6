// SPDX-License-Identifier: GPL-2.0
// cgroup/connect4|6 and sendmsg4|6: the encryption rules, per flow, before its route lookup. The socket's
// mark (the app's, from sock_tag) selects the app's ordered rule list; the first entry that matches the
// destination, port and protocol decides:
//   clear   the socket keeps (or gets back) the app's own mark: it follows the app's egress choice;
//   mark    the socket gets a flow-class mark, which policy routing sends into a tunnel (or nowhere);
//   block   connect()/sendmsg() fail with EPERM.
// No entry matching means clear. nftables repeats the same match per packet as the backstop.
// sendmsg on an unconnected socket: the kernel copied the mark before this hook, so the new mark takes
// effect from the next datagram; the backstop drops a datagram that would leave on the wrong path.
// The helper rewrites the lists without a moment of mixed state: it fills the inactive generation and
// then flips `flow_ctl[0]`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10
#define SOL_SOCKET 1
#define SO_MARK 36

/* Keep in sync with native-helper/src/mechanism/bpf/classifier.ts. */
#define HALF 16384 /* entries per generation */
#define ACT_CLEAR 0
#define ACT_MARK 1
#define ACT_BLOCK 2

struct entry {
	__u8 family;     /* 0 any, 4, 6 */
	__u8 proto;      /* 0 any, 6 tcp, 17 udp */
	__u8 prefix_len; /* of addr; 0 matches every destination of the family */
	__u8 action;
	__u16 port_lo;   /* host order; 0..65535 is any */
	__u16 port_hi;
	__u32 addr[4];   /* network order; IPv4 in addr[0] */
	__u32 mark;      /* ACT_MARK: the flow-class mark */
	__u32 pad;
};

struct list_key {
	__u32 gen;
	__u32 mark;
};

struct list {
	__u32 start; /* index in this generation's half */
	__u32 count;
	__u32 app_mark;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} flow_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * 8192);
	__type(key, struct list_key);
	__type(value, struct list);
} flow_lists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * HALF);
	__type(key, __u32);
	__type(value, struct entry);
} flow_entries SEC(".maps");

struct scan {
	struct bpf_sock_addr *ctx;
	__u32 base;
	__u32 count;
	__u32 family;
	__u32 proto;
	__u16 port;
	__u32 addr[4];
	struct entry *hit;
};

static __always_inline int prefix_match(const __u32 *want, const __u32 *have, __u32 len)
{
	for (int i = 0; i < 4; i++) {
		if (len == 0)
			return 1;
		__u32 bits = len >= 32 ? 32 : len;
		__u32 mask = bits == 32 ? 0xffffffff : bpf_htonl(~((1u << (32 - bits)) - 1));
		if ((want[i] ^ have[i]) & mask)
			return 0;
		len -= bits;
	}
	return 1;
}

static long scan_one(__u32 i, void *data)
{
	struct scan *s = data;
	if (i >= s->count)
		return 1;
	__u32 idx = s->base + i;
	struct entry *e = bpf_map_lookup_elem(&flow_entries, &idx);
	if (!e)
		return 1;
	if (e->family && e->family != s->family)
		return 0;
	if (e->proto && e->proto != s->proto)
		return 0;
	if ((e->port_lo || e->port_hi != 0xffff) && (s->port < e->port_lo || s->port > e->port_hi))
		return 0;
	if (e->prefix_len && !prefix_match(e->addr, s->addr, e->prefix_len))
		return 0;
	s->hit = e;
	return 1;
}

static __always_inline int classify(struct bpf_sock_addr *ctx, __u32 family)
{
	struct bpf_sock *sk = ctx->sk;
	if (!sk)
		return 1;
	__u32 zero = 0;
	__u32 *gen = bpf_map_lookup_elem(&flow_ctl, &zero);
	if (!gen)
		return 1;
	struct list_key key = { .gen = *gen & 1, .mark = sk->mark };
	struct list *l = bpf_map_lookup_elem(&flow_lists, &key);
	if (!l)
		return 1; /* not one of our apps, or an app without rules */

	struct scan s = {
		.ctx = ctx,
		.base = key.gen * HALF + l->start,
		.count = l->count > HALF ? HALF : l->count,
		.family = family,
		.proto = ctx->protocol,
		.port = bpf_ntohs(ctx->user_port),
	};
	if (family == 4) {
		s.addr[0] = ctx->user_ip4;
	} else if (ctx->user_ip6[0] == 0 && ctx->user_ip6[1] == 0 && ctx->user_ip6[2] == bpf_htonl(0xffff)) {
		/* ::ffff:a.b.c.d on a dual-stack socket is IPv4 on the wire: IPv4 rules decide. */
		s.family = 4;
		s.addr[0] = ctx->user_ip6[3];
	} else {
		s.addr[0] = ctx->user_ip6[0];
		s.addr[1] = ctx->user_ip6[1];
		s.addr[2] = ctx->user_ip6[2];
		s.addr[3] = ctx->user_ip6[3];
	}
	bpf_loop(HALF, scan_one, &s, 0);

	int mark = l->app_mark;
	if (s.hit) {
		if (s.hit->action == ACT_BLOCK)
			return 0;
		if (s.hit->action == ACT_MARK)
			mark = s.hit->mark;
	}
	if ((__u32)mark != sk->mark)
		bpf_setsockopt(ctx, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
	return 1;
}

SEC("cgroup/connect4")
int flow_connect4(struct bpf_sock_addr *ctx) { return classify(ctx, 4); }

SEC("cgroup/connect6")
int flow_connect6(struct bpf_sock_addr *ctx) { return classify(ctx, 6); }

SEC("cgroup/sendmsg4")
int flow_sendmsg4(struct bpf_sock_addr *ctx) { return classify(ctx, 4); }

SEC("cgroup/sendmsg6")
int flow_sendmsg6(struct bpf_sock_addr *ctx) { return classify(ctx, 6); }

char LICENSE[] SEC("license") = "GPL";
