/* Switchyard tunnel wire format (see native-helper/src/tunnel/PROTOCOL.md). Pure functions, no I/O:
 * this is what the fuzzer drives. */
#ifndef SY_WIRE_H
#define SY_WIRE_H
#include <stddef.h>
#include <stdint.h>

#define SY_VERSION 1
#define SY_TYPE_INIT 1
#define SY_TYPE_RESPONSE 2
#define SY_TYPE_COOKIE 3
#define SY_TYPE_DATA 4
#define SY_INIT_LEN 180
#define SY_RESPONSE_LEN 80
/* A response that also carries the gateway's resolvers (asked for in the initiation). */
#define SY_RESPONSE_RESOLVERS_LEN 112
#define SY_HDR_LEN 16
#define SY_TAG_LEN 16
#define SY_MAX_CLEAR 64

#define SY_TLV_APP_TAG 1
#define SY_TLV_POLICY 2
#define SY_TLV_CLASS 3
#define SY_TLV_EPOCH 4
#define SY_TLV_GROUP 5

/* Clear TLVs written by this implementation: epoch (6) + class (3). */
#define SY_CLEAR_LEN 9
/* Secret block written client->gateway: len (2) + tag (4) + policy (6) + key group (6). */
#define SY_SECRET_LEN 18

struct sy_hdr {
    uint16_t clear_len;
    uint32_t receiver;
    uint64_t counter;
    /* Clear metadata */
    uint32_t epoch;
    uint8_t traffic_class;
    uint8_t has_epoch, has_class;
};

struct sy_meta {
    uint16_t app_tag;
    uint32_t policy_id;
    uint32_t group_id; /* the key group's id; absent (has_group 0) is the default group, 0 */
    uint8_t has_tag, has_policy, has_group;
};

static inline uint16_t sy_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t sy_get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t sy_get64(const uint8_t *p) { return (uint64_t)sy_get32(p) << 32 | sy_get32(p + 4); }
static inline void sy_put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static inline void sy_put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = (uint8_t)v; }
static inline void sy_put64(uint8_t *p, uint64_t v) { sy_put32(p, v >> 32); sy_put32(p + 4, (uint32_t)v); }

/* Parse a data message's header and clear TLVs. Returns 0, or -1 when malformed. On success the
 * associated data is pkt[0 .. SY_HDR_LEN + clear_len) and the ciphertext (with tag) follows. */
int sy_parse_header(const uint8_t *pkt, size_t len, struct sy_hdr *h);

/* Parse the decrypted plaintext: secret TLVs, then the inner IP packet, which must be a well-formed
 * IPv4 or IPv6 header whose length fits; *inner_len is trimmed to the IP total length. */
int sy_parse_plaintext(const uint8_t *pt, size_t len, struct sy_meta *m, const uint8_t **inner, size_t *inner_len);

/* Write header + clear TLVs (SY_HDR_LEN + SY_CLEAR_LEN bytes). */
void sy_write_header(uint8_t *out, uint32_t receiver, uint64_t counter, uint32_t epoch, uint8_t traffic_class);

/* Write the secret block; with_meta=0 writes an empty block (2 bytes). Returns its length. */
size_t sy_write_secret(uint8_t *out, int with_meta, uint16_t tag, uint32_t policy, uint32_t group);

/* Minimal inner-packet check shared by both directions. */
int sy_inner_valid(const uint8_t *ip, size_t len, size_t *ip_len);

#endif
