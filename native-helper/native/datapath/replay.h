/* Sliding anti-replay window, RFC 6479: a ring of 64-bit words, O(1) per packet. */
#ifndef SY_REPLAY_H
#define SY_REPLAY_H
#include <stdint.h>

#define SY_REPLAY_WORDS 32 /* 2048 bits */
#define SY_REPLAY_WINDOW ((SY_REPLAY_WORDS - 1) * 64)
/* WireGuard's REJECT_AFTER_MESSAGES: counters at or past this are never accepted. */
#define SY_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13))

struct sy_replay {
    uint64_t top; /* greatest counter accepted + 1; 0 = none yet */
    uint64_t bits[SY_REPLAY_WORDS];
};

/* 1 if counter could be fresh (cheap pre-check before decrypting), 0 if surely a replay/too old. */
static inline int sy_replay_check(const struct sy_replay *r, uint64_t c) {
    if (c >= SY_REJECT_AFTER_MESSAGES) return 0;
    if (c + 1 > r->top) return 1;
    if (r->top - (c + 1) >= SY_REPLAY_WINDOW) return 0;
    return !((r->bits[(c >> 6) % SY_REPLAY_WORDS] >> (c & 63)) & 1);
}

/* Mark counter seen after authentication. Returns 1 if accepted, 0 if it was a replay. */
static inline int sy_replay_commit(struct sy_replay *r, uint64_t c) {
    if (!sy_replay_check(r, c)) return 0;
    if (c + 1 > r->top) {
        uint64_t cur = r->top ? (r->top - 1) >> 6 : 0, idx = c >> 6;
        if (r->top == 0) {
            for (int i = 0; i < SY_REPLAY_WORDS; i++) r->bits[i] = 0;
        } else {
            uint64_t diff = idx - cur;
            if (diff > SY_REPLAY_WORDS) diff = SY_REPLAY_WORDS;
            for (uint64_t i = 1; i <= diff; i++) r->bits[(cur + i) % SY_REPLAY_WORDS] = 0;
        }
        r->top = c + 1;
    }
    r->bits[(c >> 6) % SY_REPLAY_WORDS] |= 1ull << (c & 63);
    return 1;
}

#endif
