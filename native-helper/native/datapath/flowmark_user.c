/* Data path side of the flow -> mark map (see flowmark.bpf.c): same key, seqlock. The client reads
 * what the tc egress program filed; the gateway files what its tc ingress program applies. */
#include <string.h>
#include "dp.h"
#include "flowmark.h"

static int flow_key(const uint8_t *ip, size_t len, uint8_t key[SY_FLOW_KEY_LEN]) {
    memset(key, 0, SY_FLOW_KEY_LEN);
    size_t l4;
    uint8_t proto;
    if ((ip[0] >> 4) == 4) {
        if (len < 20) return -1;
        key[0] = 4;
        key[1] = proto = ip[9];
        memcpy(key + 8, ip + 12, 4);
        memcpy(key + 24, ip + 16, 4);
        if (sy_get16(ip + 6) & 0x1fff) return 0; /* later fragment: no ports, as in the tc program */
        l4 = (size_t)(ip[0] & 15) * 4;
    } else if ((ip[0] >> 4) == 6) {
        if (len < 40) return -1;
        key[0] = 6;
        key[1] = proto = ip[6];
        memcpy(key + 8, ip + 8, 16);
        memcpy(key + 24, ip + 24, 16);
        l4 = 40;
    } else {
        return -1;
    }
    if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
        if (len < l4 + 4) return -1;
        memcpy(key + 2, ip + l4, 4);
    } else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
        if (len < l4 + 1) return -1;
        uint8_t type = ip[l4];
        if (type == 8 || type == 128) {
            if (len < l4 + 6) return -1;
            memcpy(key + 2, ip + l4 + 4, 2);
        }
    }
    return 0;
}

/* 1 and *mark when the tc program filed this packet's flow; 0 when not found (never a guess). */
int sy_flowmark_lookup(const uint8_t *ip, size_t len, uint32_t *mark) {
    if (!G.flowmarks) return 0;
    uint8_t key[SY_FLOW_KEY_LEN];
    if (flow_key(ip, len, key) < 0) return 0;
    const volatile struct sy_flow_slot *s = (const volatile struct sy_flow_slot *)G.flowmarks + sy_flow_hash(key);
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t s1 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        if (s1 & 1) continue;
        uint32_t m = s->mark;
        uint8_t k[SY_FLOW_KEY_LEN];
        for (int i = 0; i < SY_FLOW_KEY_LEN; i++) k[i] = s->key[i];
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != s1) continue;
        if (memcmp(k, key, SY_FLOW_KEY_LEN) != 0) return 0;
        *mark = m;
        return 1;
    }
    return 0;
}

/* Gateway: file mark under this packet's flow before it is written to the TUN. Workers may race for
 * one slot: the seq is taken by compare-and-swap, and a writer that loses skips (the ingress
 * program then finds another flow's key and leaves the packet unmarked: the main table routes it). */
void sy_flowmark_file(const uint8_t *ip, size_t len, uint32_t mark) {
    if (!G.flowmarks || !mark) return;
    uint8_t key[SY_FLOW_KEY_LEN];
    if (flow_key(ip, len, key) < 0) return;
    volatile struct sy_flow_slot *s = (volatile struct sy_flow_slot *)G.flowmarks + sy_flow_hash(key);
    uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
    if (!(seq & 1) && s->mark == mark) {
        int same = 1;
        for (int i = 0; i < SY_FLOW_KEY_LEN && same; i++) same = s->key[i] == key[i];
        if (same) return; /* already filed: keep the cache line clean */
    }
    if ((seq & 1) || !__atomic_compare_exchange_n(&s->seq, &seq, seq + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return;
    for (int i = 0; i < SY_FLOW_KEY_LEN; i++) s->key[i] = key[i];
    s->mark = mark;
    __atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}
