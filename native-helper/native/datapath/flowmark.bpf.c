// tc on the tunnel's TUN device: TUN does not hand skb->mark to its reader (nor take one from its
// writer), so marks travel under each packet's flow key in an mmap'able array the data path shares
// without system calls. Client: egress files the socket's mark. Gateway: ingress applies the mark
// of the app's uplink that the data path filed.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "flowmark.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, SY_FLOW_SLOTS);
    __uint(map_flags, BPF_F_MMAPABLE);
    __type(key, __u32);
    __type(value, struct sy_flow_slot);
} sy_flowmarks SEC(".maps");

static __always_inline int ports(struct __sk_buff *skb, __u32 l4, __u8 proto, unsigned char *key) {
    if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) return bpf_skb_load_bytes(skb, l4, key + 2, 4);
    if (proto == IPPROTO_ICMP || proto == 58 /* ICMPv6 */) {
        __u8 type;
        if (bpf_skb_load_bytes(skb, l4, &type, 1) < 0) return -1;
        if (type == 8 || type == 128) return bpf_skb_load_bytes(skb, l4 + 4, key + 2, 2);
    }
    return 0;
}

/* The flow key of the packet (flowmark.h); -1 when it is not IPv4/IPv6 or too short. */
static __always_inline int skb_flow_key(struct __sk_buff *skb, unsigned char *key) {
    __u8 first;
    if (bpf_skb_load_bytes(skb, 0, &first, 1) < 0) return -1;
    if ((first >> 4) == 4) {
        __u8 h[20];
        if (bpf_skb_load_bytes(skb, 0, h, 20) < 0) return -1;
        key[0] = 4;
        key[1] = h[9];
        __builtin_memcpy(key + 8, h + 12, 4);
        __builtin_memcpy(key + 24, h + 16, 4);
        __u16 frag = ((__u16)h[6] << 8 | h[7]) & 0x1fff;
        if (!frag && ports(skb, (h[0] & 15) * 4, h[9], key) < 0) return -1;
    } else if ((first >> 4) == 6) {
        __u8 h[40];
        if (bpf_skb_load_bytes(skb, 0, h, 40) < 0) return -1;
        key[0] = 6;
        key[1] = h[6];
        __builtin_memcpy(key + 8, h + 8, 16);
        __builtin_memcpy(key + 24, h + 24, 16);
        if (ports(skb, 40, h[6], key) < 0) return -1;
    } else {
        return -1;
    }
    return 0;
}

/* Client, TUN egress: file the socket's mark under the packet's flow for the data path to read. */
SEC("tc")
int sy_flowmark(struct __sk_buff *skb) {
    unsigned char key[SY_FLOW_KEY_LEN] = {};
    if (skb_flow_key(skb, key) < 0) return TC_ACT_OK;
    __u32 idx = sy_flow_hash(key);
    struct sy_flow_slot *s = bpf_map_lookup_elem(&sy_flowmarks, &idx);
    if (!s) return TC_ACT_OK;
    if (s->mark == skb->mark && !(s->seq & 1)) {
        int same = 1;
#pragma unroll
        for (int i = 0; i < SY_FLOW_KEY_LEN; i++)
            if (s->key[i] != key[i]) same = 0;
        if (same) return TC_ACT_OK; /* already filed: keep the cache line clean */
    }
    __sync_fetch_and_add(&s->seq, 1);
    __builtin_memcpy(s->key, key, SY_FLOW_KEY_LEN);
    s->mark = skb->mark;
    __sync_fetch_and_add(&s->seq, 1);
    return TC_ACT_OK;
}

/* Gateway, TUN ingress: the data path filed the mark of the app's uplink under the flow of each
 * packet it writes to the TUN (seqlock, as above); hand it to routing as skb->mark. */
SEC("tc")
int sy_flowmark_apply(struct __sk_buff *skb) {
    unsigned char key[SY_FLOW_KEY_LEN] = {};
    if (skb_flow_key(skb, key) < 0) return TC_ACT_OK;
    __u32 idx = sy_flow_hash(key);
    struct sy_flow_slot *s = bpf_map_lookup_elem(&sy_flowmarks, &idx);
    if (!s) return TC_ACT_OK;
    /* clang 14 has no BPF atomic loads: volatile reads with compiler barriers (loads stay ordered) */
    __u32 seq = *(volatile __u32 *)&s->seq;
    if (seq & 1) return TC_ACT_OK;
    asm volatile("" ::: "memory");
    __u32 mark = s->mark;
#pragma unroll
    for (int i = 0; i < SY_FLOW_KEY_LEN; i++)
        if (s->key[i] != key[i]) return TC_ACT_OK;
    asm volatile("" ::: "memory");
    if (*(volatile __u32 *)&s->seq != seq) return TC_ACT_OK;
    if (mark) skb->mark = mark;
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
