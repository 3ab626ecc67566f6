/* Handshake DoS protection (PROTOCOL.md, "Under load"): mac1 checked before any other work, a
 * token bucket that never goes into debt, and WireGuard-style cookie replies that let a real peer
 * through while a flood from spoofed sources holds the bucket empty. */
#ifndef SY_COOKIE_H
#define SY_COOKIE_H
#include <netinet/in.h>
#include <stdint.h>
#include <stddef.h>

#define SY_COOKIE_LEN 16
#define SY_COOKIE_REPLY_LEN 64
#define SY_INIT_MAC1_OFF 148
#define SY_INIT_MAC2_OFF 164
#define SY_RESPONSE_MAC1_OFF 64
#define SY_RESPONSE_RESOLVERS_MAC1_OFF 96
#define SY_COOKIE_SECRET_MS 120000

/* Our static public key: mac1 of what we receive is keyed by it, and cookie replies are sealed with it. */
void sy_cookie_set_static(const uint8_t pub[32]);
/* 1 when the message's mac1 is right (or no key is set yet); for initiations and responses. */
int sy_mac1_ok(const uint8_t *msg, size_t len);
/* 1 when an initiation's mac2 proves a cookie we gave this source (current or previous secret). */
int sy_mac2_ok(const uint8_t *msg, size_t len, const struct sockaddr_in6 *from, uint64_t now_ms);
/* Write the cookie reply for an initiation from `from` into out (SY_COOKIE_REPLY_LEN bytes). */
void sy_cookie_reply(uint8_t out[SY_COOKIE_REPLY_LEN], const uint8_t *init, const struct sockaddr_in6 *from,
                     uint64_t now_ms);

/* A token bucket shared by threads: take() succeeds only when a token is there (no debt). */
struct sy_bucket {
    _Atomic int64_t tokens;
    _Atomic uint64_t refill_ms;
    int64_t per_second, burst;
};
void sy_bucket_init(struct sy_bucket *b, int64_t per_second, int64_t burst, uint64_t now_ms);
int sy_bucket_take(struct sy_bucket *b, uint64_t now_ms);

#endif
