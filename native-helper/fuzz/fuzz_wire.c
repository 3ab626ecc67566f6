/* libFuzzer target: everything the data path parses from the network or the TUN before (or
 * without) authentication, plus the decrypted-plaintext parser and the replay window. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "replay.h"
#include "tso.h"
#include "wire.h"

static void emit(void *ctx, uint8_t *seg, size_t len) {
    size_t iplen;
    /* Every segment the splitter emits must itself be a valid packet. */
    if (sy_inner_valid(seg, len, &iplen) < 0 || iplen != len) abort();
    (*(size_t *)ctx) += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++, size--;
    if (mode % 3 == 0) {
        struct sy_hdr h;
        if (sy_parse_header(data, size, &h) == 0) {
            size_t ad = SY_HDR_LEN + h.clear_len;
            if (ad + 2 + SY_TAG_LEN > size) abort();
            struct sy_meta m;
            const uint8_t *inner;
            size_t ilen;
            /* Pretend the ciphertext decrypted to itself: the plaintext parser must stay in bounds. */
            if (sy_parse_plaintext(data + ad, size - ad - SY_TAG_LEN, &m, &inner, &ilen) == 0 &&
                (inner < data + ad || inner + ilen > data + size - SY_TAG_LEN))
                abort();
        }
    } else if (mode % 3 == 1) {
        if (size < sizeof(struct virtio_net_hdr)) return 0;
        struct virtio_net_hdr vh;
        memcpy(&vh, data, sizeof(vh));
        size_t n = size - sizeof(vh);
        uint8_t *pkt = malloc(n ? n : 1);
        memcpy(pkt, data + sizeof(vh), n);
        size_t total = 0;
        sy_tso_split(&vh, pkt, n, NULL, emit, &total);
        free(pkt);
    } else {
        struct sy_replay r;
        memset(&r, 0, sizeof(r));
        uint64_t seen_max = 0;
        int any = 0;
        for (size_t i = 0; i + 8 <= size; i += 8) {
            uint64_t c;
            memcpy(&c, data + i, 8);
            c &= 0xffff; /* keep counters close so the window logic is exercised */
            int fresh = sy_replay_check(&r, c);
            int ok = sy_replay_commit(&r, c);
            if (ok != fresh) abort();
            if (ok && sy_replay_commit(&r, c)) abort(); /* a second time is always a replay */
            if (ok && (!any || c > seen_max)) seen_max = c, any = 1;
        }
    }
    return 0;
}
