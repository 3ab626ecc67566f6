#include "cookie.h"
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>
#include "blake2s.h"
#include "wire.h"

static uint8_t mac1_key[32], cookie_key[32];
static _Atomic int keyed;
static pthread_mutex_t secret_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t secret[2][32]; /* [0] current, [1] previous */
static uint64_t secret_ms;
static int have_secret;

void sy_cookie_set_static(const uint8_t pub[32]) {
    sy_blake2s2(mac1_key, "mac1----", 8, pub, 32);
    sy_blake2s2(cookie_key, "cookie--", 8, pub, 32);
    atomic_store(&keyed, 1);
}

static int mac_eq(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t off) {
    uint8_t mac[32];
    sy_hmac_blake2s(mac, key, keylen, msg, off);
    return sodium_memcmp(mac, msg + off, 16) == 0;
}

int sy_mac1_ok(const uint8_t *msg, size_t len) {
    if (!atomic_load(&keyed)) return 1;
    if (len == SY_INIT_LEN && msg[1] == SY_TYPE_INIT) return mac_eq(mac1_key, 32, msg, SY_INIT_MAC1_OFF);
    if (len == SY_RESPONSE_LEN && msg[1] == SY_TYPE_RESPONSE) return mac_eq(mac1_key, 32, msg, SY_RESPONSE_MAC1_OFF);
    if (len == SY_RESPONSE_RESOLVERS_LEN && msg[1] == SY_TYPE_RESPONSE)
        return mac_eq(mac1_key, 32, msg, SY_RESPONSE_RESOLVERS_MAC1_OFF);
    return 0;
}

/* The cookie of a source under the secret of generation g (0 current, 1 previous); -1 if none. */
static int cookie_for(uint8_t out[SY_COOKIE_LEN], const struct sockaddr_in6 *from, int g, uint64_t now_ms) {
    uint8_t src[18], mac[32];
    memcpy(src, &from->sin6_addr, 16);
    memcpy(src + 16, &from->sin6_port, 2);
    pthread_mutex_lock(&secret_lock);
    if (!have_secret || now_ms - secret_ms >= SY_COOKIE_SECRET_MS) {
        memcpy(secret[1], have_secret ? secret[0] : secret[1], 32);
        randombytes_buf(secret[0], 32);
        if (!have_secret) randombytes_buf(secret[1], 32);
        secret_ms = now_ms, have_secret = 1;
    }
    sy_hmac_blake2s(mac, secret[g], 32, src, sizeof src);
    pthread_mutex_unlock(&secret_lock);
    memcpy(out, mac, SY_COOKIE_LEN);
    return 0;
}

int sy_mac2_ok(const uint8_t *msg, size_t len, const struct sockaddr_in6 *from, uint64_t now_ms) {
    if (len != SY_INIT_LEN) return 0;
    for (int g = 0; g < 2; g++) {
        uint8_t cookie[SY_COOKIE_LEN];
        cookie_for(cookie, from, g, now_ms);
        if (mac_eq(cookie, SY_COOKIE_LEN, msg, SY_INIT_MAC2_OFF)) return 1;
    }
    return 0;
}

void sy_cookie_reply(uint8_t out[SY_COOKIE_REPLY_LEN], const uint8_t *init, const struct sockaddr_in6 *from,
                     uint64_t now_ms) {
    uint8_t cookie[SY_COOKIE_LEN];
    cookie_for(cookie, from, 0, now_ms);
    out[0] = SY_VERSION, out[1] = SY_TYPE_COOKIE, out[2] = out[3] = 0;
    memcpy(out + 4, init + 4, 4); /* the initiator's sender index */
    randombytes_buf(out + 8, 24);
    unsigned long long clen;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 32, &clen, cookie, SY_COOKIE_LEN, init + SY_INIT_MAC1_OFF, 16,
                                               NULL, out + 8, cookie_key);
}

void sy_bucket_init(struct sy_bucket *b, int64_t per_second, int64_t burst, uint64_t now_ms) {
    b->per_second = per_second, b->burst = burst;
    atomic_store(&b->tokens, burst);
    atomic_store(&b->refill_ms, now_ms);
}

int sy_bucket_take(struct sy_bucket *b, uint64_t now_ms) {
    uint64_t last = atomic_load(&b->refill_ms);
    int64_t add = (int64_t)(now_ms - last) * b->per_second / 1000;
    if (add > 0 && atomic_compare_exchange_strong(&b->refill_ms, &last, now_ms)) {
        int64_t t = atomic_load(&b->tokens);
        while (!atomic_compare_exchange_weak(&b->tokens, &t, t + add > b->burst ? b->burst : t + add)) {}
    }
    /* Take one only if one is there: a dropped packet costs nothing, so a flood builds no debt. */
    int64_t t = atomic_load(&b->tokens);
    while (t > 0)
        if (atomic_compare_exchange_weak(&b->tokens, &t, t - 1)) return 1;
    return 0;
}
