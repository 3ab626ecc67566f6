/* Shared by the tc program (flowmark.bpf.c) and the data path: the flow key the tc program files
 * a packet's skb->mark under, and the slot layout of the mmap'able array. */
#ifndef SY_FLOWMARK_H
#define SY_FLOWMARK_H

#define SY_FLOW_SLOTS 16384 /* power of two */
#define SY_FLOW_KEY_LEN 40

/* key: [0] ip version, [1] protocol, [2..3] sport, [4..5] dport (network order; ICMP echo id as
 * sport), [6..7] 0, [8..23] source, [24..39] destination (IPv4 in the first 4 bytes). */
struct sy_flow_slot {
    unsigned int seq; /* odd while a write is in progress */
    unsigned int mark;
    unsigned char key[SY_FLOW_KEY_LEN];
};

static inline unsigned int sy_flow_hash(const unsigned char *key) {
    unsigned int h = 2166136261u;
#ifdef __bpf__
#pragma unroll
#endif
    for (int i = 0; i < SY_FLOW_KEY_LEN; i++) {
        h ^= key[i];
        h *= 16777619u;
    }
    return h & (SY_FLOW_SLOTS - 1);
}

#endif
