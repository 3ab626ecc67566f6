/* libFuzzer target: everything the data path parses from the network or the TUN before (or
 * without) authentication, plus the decrypted-plaintext parser (with the key group TLV), the replay
 * window, and the gateway's reply-flow table (a flow filed from a packet is found from its reply). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "replay.h"
#include "tso.h"
#include "wire.h"

void sy_reply_file(const uint8_t *ip, size_t len, int peer_slot);
int sy_reply_lookup(const uint8_t *ip, size_t len);

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
    if (mode % 4 == 0) {
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
    } else if (mode % 4 == 1) {
        if (size < sizeof(struct virtio_net_hdr)) return 0;
        struct virtio_net_hdr vh;
        memcpy(&vh, data, sizeof(vh));
        size_t n = size - sizeof(vh);
        uint8_t *pkt = malloc(n ? n : 1);
        memcpy(pkt, data + sizeof(vh), n);
        size_t total = 0;
        sy_tso_split(&vh, pkt, n, NULL, emit, &total);
        free(pkt);
    } else if (mode % 4 == 3) {
        if (size < 20 || size > 2048) return 0;
        uint8_t pkt[2048], rev[2048];
        memcpy(pkt, data, size);
        sy_reply_file(pkt, size, 7);
        int found = sy_reply_lookup(pkt, size);
        if (found < -1 || found > 255) abort();
        /* An IPv4 TCP/UDP packet's reply (addresses and ports swapped) finds the slot filed for it. */
        size_t ihl = (size_t)(pkt[0] & 15) * 4;
        if ((pkt[0] >> 4) == 4 && ihl >= 20 && size >= ihl + 4 && (pkt[9] == 6 || pkt[9] == 17) &&
            !(sy_get16(pkt + 6) & 0x1fff)) {
            memcpy(rev, pkt, size);
            memcpy(rev + 12, pkt + 16, 4);
            memcpy(rev + 16, pkt + 12, 4);
            memcpy(rev + ihl, pkt + ihl + 2, 2);
            memcpy(rev + ihl + 2, pkt + ihl, 2);
            if (sy_reply_lookup(rev, size) != 7) abort();
        }
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
