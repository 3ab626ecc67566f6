/* BLAKE2s-256 (RFC 7693) and HMAC over it, as the handshake's mac1 and mac2 use them. */
#ifndef SY_BLAKE2S_H
#define SY_BLAKE2S_H
#include <stddef.h>
#include <stdint.h>

struct sy_blake2s {
    uint32_t h[8], t[2];
    uint8_t buf[64];
    size_t n;
};

void sy_blake2s_init(struct sy_blake2s *s);
void sy_blake2s_update(struct sy_blake2s *s, const void *in, size_t len);
void sy_blake2s_final(struct sy_blake2s *s, uint8_t out[32]);
/* HASH(a ‖ b) */
void sy_blake2s2(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen);
/* HMAC-BLAKE2s(key, msg), 32 bytes */
void sy_hmac_blake2s(uint8_t out[32], const uint8_t *key, size_t keylen, const void *msg, size_t len);

#endif
