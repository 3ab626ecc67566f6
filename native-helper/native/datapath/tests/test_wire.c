/* Deterministic tests of the replay window, the wire format and the TSO/GRO helpers:
 * make -C native-helper/native/datapath test */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include "replay.h"
#include "tso.h"
#include "wire.h"

static int failures;
#define CHECK(c)                                                      \
    do {                                                              \
        if (!(c)) {                                                   \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); \
            failures++;                                               \
        }                                                             \
    } while (0)

static void test_replay(void) {
    struct sy_replay r = {0};
    CHECK(sy_replay_commit(&r, 0));
    CHECK(!sy_replay_commit(&r, 0));
    CHECK(sy_replay_commit(&r, 5));
    CHECK(sy_replay_commit(&r, 3)); /* out of order but inside the window */
    CHECK(!sy_replay_commit(&r, 3));
    CHECK(sy_replay_commit(&r, 5000));
    CHECK(!sy_replay_commit(&r, 5000 - SY_REPLAY_WINDOW)); /* fell out of the window */
    CHECK(sy_replay_commit(&r, 5000 - SY_REPLAY_WINDOW + 1));
    CHECK(!sy_replay_commit(&r, 5)); /* old, and seen */
    /* A jump far ahead clears the whole ring: nothing below the new window survives as "seen". */
    CHECK(sy_replay_commit(&r, 1000000));
    CHECK(sy_replay_commit(&r, 1000000 - 1));
    CHECK(!sy_replay_commit(&r, 1000000 - 1));
    CHECK(!sy_replay_commit(&r, SY_REJECT_AFTER_MESSAGES));
    /* Every counter of a long in-order run is accepted exactly once. */
    struct sy_replay q = {0};
    int ok = 1;
    for (uint64_t c = 0; c < 100000; c++) ok &= sy_replay_commit(&q, c) && !sy_replay_commit(&q, c);
    CHECK(ok);
}

static void test_wire(void) {
    uint8_t pkt[256] = {0};
    sy_write_header(pkt, 0x01020304, 77, 9, 2);
    size_t s = sy_write_secret(pkt + SY_HDR_LEN + SY_CLEAR_LEN, 1, 0x1234, 4242, 0xA1B2C3D4);
    CHECK(s == SY_SECRET_LEN);
    uint8_t *ip = pkt + SY_HDR_LEN + SY_CLEAR_LEN + s;
    ip[0] = 0x45;
    sy_put16(ip + 2, 28);
    size_t len = SY_HDR_LEN + SY_CLEAR_LEN + s + 28 + SY_TAG_LEN;
    struct sy_hdr h;
    CHECK(sy_parse_header(pkt, len, &h) == 0);
    CHECK(h.receiver == 0x01020304 && h.counter == 77 && h.epoch == 9 && h.traffic_class == 2);
    struct sy_meta m;
    const uint8_t *inner;
    size_t ilen;
    uint8_t *pt = pkt + SY_HDR_LEN + h.clear_len;
    CHECK(sy_parse_plaintext(pt, len - SY_HDR_LEN - h.clear_len - SY_TAG_LEN, &m, &inner, &ilen) == 0);
    CHECK(m.app_tag == 0x1234 && m.policy_id == 4242 && inner == ip && ilen == 28);
    CHECK(m.has_group && m.group_id == 0xA1B2C3D4);
    /* The key group is secret metadata too: never in the clear block. */
    {
        uint8_t clr[256];
        memcpy(clr, pkt, sizeof(clr));
        clr[SY_HDR_LEN + 6] = SY_TLV_GROUP;
        CHECK(sy_parse_header(clr, len, &h) < 0);
        CHECK(sy_parse_header(pkt, len, &h) == 0);
    }
    /* A group TLV of the wrong length, or twice, is refused. */
    {
        uint8_t dup[256];
        memcpy(dup, pkt, sizeof(dup));
        uint8_t *sec = dup + SY_HDR_LEN + SY_CLEAR_LEN;
        sec[13] = 3;
        CHECK(sy_parse_plaintext(sec, len - SY_HDR_LEN - SY_CLEAR_LEN - SY_TAG_LEN, &m, &inner, &ilen) < 0);
        memcpy(dup, pkt, sizeof(dup));
        sec[6] = SY_TLV_GROUP; /* the policy TLV becomes a second group TLV */
        CHECK(sy_parse_plaintext(sec, len - SY_HDR_LEN - SY_CLEAR_LEN - SY_TAG_LEN, &m, &inner, &ilen) < 0);
    }
    /* Without metadata (gateway to client) there is no group: the default. */
    {
        uint8_t plain[64] = {0};
        CHECK(sy_write_secret(plain, 0, 0, 0, 0) == 2);
        plain[2] = 0x45;
        sy_put16(plain + 4, 28);
        CHECK(sy_parse_plaintext(plain, 30, &m, &inner, &ilen) == 0 && !m.has_group && m.group_id == 0);
    }
    /* Secret metadata in the clear block is refused. */
    uint8_t bad[256];
    memcpy(bad, pkt, sizeof(bad));
    bad[SY_HDR_LEN + 6] = SY_TLV_APP_TAG;
    CHECK(sy_parse_header(bad, len, &h) < 0);
    /* An unknown critical TLV is refused, an unknown optional one skipped. */
    memcpy(bad, pkt, sizeof(bad));
    bad[SY_HDR_LEN + 6] = 0x90;
    CHECK(sy_parse_header(bad, len, &h) < 0);
    bad[SY_HDR_LEN + 6] = 0x30;
    CHECK(sy_parse_header(bad, len, &h) == 0);
    /* No epoch, bad version, too long clear block. */
    memcpy(bad, pkt, sizeof(bad));
    bad[SY_HDR_LEN] = 0x31;
    CHECK(sy_parse_header(bad, len, &h) < 0);
    bad[SY_HDR_LEN] = SY_TLV_EPOCH;
    bad[0] = 2;
    CHECK(sy_parse_header(bad, len, &h) < 0);
    bad[0] = 1;
    sy_put16(bad + 2, 200);
    CHECK(sy_parse_header(bad, len, &h) < 0);
    /* Inner length beyond the plaintext. */
    sy_put16(ip + 2, 29);
    CHECK(sy_parse_plaintext(pt, len - SY_HDR_LEN - SY_CLEAR_LEN - SY_TAG_LEN, &m, &inner, &ilen) < 0);
}

static size_t segs, bytes;
static uint8_t first[2048];
static void collect(void *ctx, uint8_t *seg, size_t len) {
    (void)ctx;
    if (!segs) memcpy(first, seg, len);
    size_t l;
    CHECK(sy_inner_valid(seg, len, &l) == 4 && l == len);
    /* A correct TCP checksum sums (with the pseudo-header) to 0xffff: verify each segment. */
    uint8_t ph[12];
    memcpy(ph, seg + 12, 8);
    ph[8] = 0;
    ph[9] = 6;
    sy_put16(ph + 10, (uint16_t)(len - 20));
    CHECK(sy_csum_fold(sy_csum_add(sy_csum_add(0, ph, 12), seg + 20, len - 20)) == 0);
    segs++;
    bytes += len - 40;
}

static void test_tso(void) {
    static uint8_t pkt[40 + 5000];
    memset(pkt, 0xab, sizeof(pkt));
    pkt[0] = 0x45;
    sy_put16(pkt + 2, sizeof(pkt));
    pkt[9] = 6;
    pkt[20 + 12] = 0x50;
    pkt[20 + 13] = 0x19; /* ACK PSH FIN */
    sy_put32(pkt + 24, 1000);
    struct virtio_net_hdr vh = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                .hdr_len = 40, .gso_size = 1400, .csum_start = 20, .csum_offset = 16};
    CHECK(sy_tso_split(&vh, pkt, sizeof(pkt), NULL, collect, NULL) == 0);
    CHECK(segs == 4 && bytes == 5000);
    CHECK(sy_get32(first + 24) == 1000 && (first[33] & 0x09) == 0); /* no FIN/PSH on the first */
    /* A checksum offset inside the IP header is refused, not applied. */
    struct virtio_net_hdr evil = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 0, .csum_offset = 2};
    sy_put16(pkt + 2, 60);
    CHECK(sy_tso_split(&evil, pkt, 60, NULL, collect, NULL) < 0);
}

int main(void) {
    test_replay();
    test_wire();
    test_tso();
    if (failures) {
        fprintf(stderr, "%d failed\n", failures);
        return 1;
    }
    printf("datapath tests: 0 failed\n");
    return 0;
}
