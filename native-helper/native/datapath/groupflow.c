/* Gateway: which peer slot (key group) each flow came in on, so that its replies go back under the same
 * group's keys. Filed for every accepted packet under the reply's flow key (source and destination, and
 * the ports, swapped); read for every packet from the TUN. Same seqlock slots as flowmark_user.c, in
 * this process's memory. A miss (a collision, a flow not seen yet) falls back to the peer that owns the
 * destination address, and a key group's reply is then sent only if that peer is its group. */
#include <string.h>
#include "dp.h"
#include "flowmark.h"

static struct sy_flow_slot replies[SY_FLOW_SLOTS];

/* The flow key of a packet; `reverse` swaps the ends (the key of the reply). ICMP echo requests and
 * replies key by their id, so a reply finds its request. */
static int key_of(const uint8_t *ip, size_t len, int reverse, uint8_t key[SY_FLOW_KEY_LEN]) {
    memset(key, 0, SY_FLOW_KEY_LEN);
    size_t l4, alen;
    uint8_t proto;
    const uint8_t *src, *dst;
    if ((ip[0] >> 4) == 4) {
        if (len < 20) return -1;
        key[0] = 4;
        proto = ip[9];
        src = ip + 12, dst = ip + 16, alen = 4;
        l4 = (size_t)(ip[0] & 15) * 4;
        if (sy_get16(ip + 6) & 0x1fff) l4 = 0; /* a later fragment: no ports */
    } else if ((ip[0] >> 4) == 6) {
        if (len < 40) return -1;
        key[0] = 6;
        proto = ip[6];
        src = ip + 8, dst = ip + 24, alen = 16;
        l4 = 40;
    } else {
        return -1;
    }
    key[1] = proto;
    memcpy(key + 8, reverse ? dst : src, alen);
    memcpy(key + 24, reverse ? src : dst, alen);
    if (l4 && (proto == IPPROTO_TCP || proto == IPPROTO_UDP) && len >= l4 + 4) {
        memcpy(key + 2, ip + l4 + (reverse ? 2 : 0), 2);
        memcpy(key + 4, ip + l4 + (reverse ? 0 : 2), 2);
    } else if (l4 && (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) && len >= l4 + 6) {
        uint8_t type = ip[l4];
        if (type == 0 || type == 8 || type == 128 || type == 129) memcpy(key + 2, ip + l4 + 4, 2);
    }
    return 0;
}

void sy_reply_file(const uint8_t *ip, size_t len, int peer_slot) {
    uint8_t key[SY_FLOW_KEY_LEN];
    if (key_of(ip, len, 1, key) < 0) return;
    struct sy_flow_slot *s = &replies[sy_flow_hash(key)];
    uint32_t mark = (uint32_t)peer_slot + 1;
    uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
    if (!(seq & 1) && __atomic_load_n(&s->mark, __ATOMIC_RELAXED) == mark && memcmp(s->key, key, SY_FLOW_KEY_LEN) == 0)
        return; /* already filed: keep the cache line clean */
    if ((seq & 1) || !__atomic_compare_exchange_n(&s->seq, &seq, seq + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return;
    memcpy(s->key, key, SY_FLOW_KEY_LEN);
    __atomic_store_n(&s->mark, mark, __ATOMIC_RELAXED);
    __atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

int sy_reply_lookup(const uint8_t *ip, size_t len) {
    uint8_t key[SY_FLOW_KEY_LEN];
    if (key_of(ip, len, 0, key) < 0) return -1;
    const struct sy_flow_slot *s = &replies[sy_flow_hash(key)];
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t s1 = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        if (s1 & 1) continue;
        uint32_t m = __atomic_load_n(&s->mark, __ATOMIC_RELAXED);
        uint8_t k[SY_FLOW_KEY_LEN];
        memcpy(k, s->key, SY_FLOW_KEY_LEN);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != s1) continue;
        if (memcmp(k, key, SY_FLOW_KEY_LEN) != 0 || m == 0) return -1;
        return (int)m - 1;
    }
    return -1;
}
