/* Data AEAD: AES-256-GCM and ChaCha20-Poly1305 (IETF) from OpenSSL's libcrypto, counter nonces.
 * libcrypto, not libsodium: its AES-GCM costs about 0.6x libsodium's per byte on AES-NI/VAES machines
 * (the bench's crypto floor measures both). Each worker keeps its own cipher contexts per session slot,
 * keyed once per session install, so workers never share mutable cipher state. */
#include <openssl/evp.h>
#include <string.h>
#include "dp.h"

static EVP_CIPHER *ciphers[2];

static void nonce_for(uint8_t cipher, uint64_t counter, uint8_t n[12]) {
    memset(n, 0, 4);
    if (cipher == SY_CIPHER_AESGCM) {
        sy_put64(n + 4, counter); /* Noise AESGCM: big-endian */
    } else {
        for (int i = 0; i < 8; i++) n[4 + i] = (uint8_t)(counter >> (8 * i)); /* ChaChaPoly: little-endian */
    }
}

/* Fetches both ciphers and runs one seal, so every lazy initialisation (config, providers) happens
 * before the seccomp sandbox. 0 on success. */
int sy_crypto_init(void) {
    ciphers[SY_CIPHER_CHACHA] = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
    ciphers[SY_CIPHER_AESGCM] = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (!ciphers[0] || !ciphers[1]) return -1;
    uint8_t key[32] = {0}, n[12] = {0}, buf[32] = {0};
    int ok = 1;
    for (int c = 0; c < 2 && ok; c++) {
        EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
        int len;
        ok = x && EVP_EncryptInit_ex(x, ciphers[c], NULL, key, n) && EVP_EncryptUpdate(x, buf, &len, buf, 16) &&
             EVP_EncryptFinal_ex(x, buf + len, &len) && EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, buf + 16);
        EVP_CIPHER_CTX_free(x);
    }
    return ok ? 0 : -1;
}

/* This worker's context for the session's direction (0 send, 1 receive), keyed if the slot holds a
 * session installed since the worker last used it. */
static EVP_CIPHER_CTX *ctx_for(struct sy_worker *w, struct sy_session *s, int dir) {
    struct sy_aead_ctx *a = &w->aead[s - G.sessions];
    uint32_t gen = atomic_load_explicit(&s->gen, memory_order_acquire);
    if (!a->ctx[dir] && !(a->ctx[dir] = EVP_CIPHER_CTX_new())) return NULL;
    if (a->gen[dir] != gen) {
        if (!EVP_CipherInit_ex(a->ctx[dir], ciphers[s->cipher], NULL, dir ? s->recv_key : s->send_key, NULL,
                               dir == 0))
            return NULL;
        a->gen[dir] = gen;
    }
    return a->ctx[dir];
}

/* Frees (and so cleanses) this worker's contexts of sessions that ended or were replaced, so a
 * deleted session's key schedule does not outlive it by more than a sweep interval. */
void sy_crypto_sweep(struct sy_worker *w) {
    for (int i = 0; i < SY_MAX_SESSIONS; i++) {
        struct sy_aead_ctx *a = &w->aead[i];
        if (!a->ctx[0] && !a->ctx[1]) continue;
        struct sy_session *s = &G.sessions[i];
        uint32_t gen = atomic_load_explicit(&s->gen, memory_order_acquire);
        int live = atomic_load(&s->state) == 1;
        for (int d = 0; d < 2; d++) {
            if (a->ctx[d] && (!live || a->gen[d] != gen)) {
                EVP_CIPHER_CTX_free(a->ctx[d]);
                a->ctx[d] = NULL;
                a->gen[d] = 0;
            }
        }
    }
}

/* Encrypts pt in place and writes the 16-byte tag right after it. */
int sy_aead_seal(struct sy_worker *w, struct sy_session *s, uint8_t *ad, size_t adlen, uint8_t *pt, size_t ptlen,
                 uint64_t counter) {
    uint8_t n[12];
    int len, fin;
    EVP_CIPHER_CTX *x = ctx_for(w, s, 0);
    nonce_for(s->cipher, counter, n);
    if (!x || !EVP_EncryptInit_ex(x, NULL, NULL, NULL, n) || !EVP_EncryptUpdate(x, NULL, &len, ad, (int)adlen) ||
        !EVP_EncryptUpdate(x, pt, &len, pt, (int)ptlen) || !EVP_EncryptFinal_ex(x, pt + len, &fin) ||
        !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, SY_TAG_LEN, pt + ptlen))
        return -1;
    return 0;
}

/* Decrypts ct (ctlen includes the tag) in place; -1 when it does not authenticate. */
int sy_aead_open(struct sy_worker *w, struct sy_session *s, const uint8_t *ad, size_t adlen, uint8_t *ct,
                 size_t ctlen, uint64_t counter) {
    uint8_t n[12];
    int len, fin;
    if (ctlen < SY_TAG_LEN) return -1;
    EVP_CIPHER_CTX *x = ctx_for(w, s, 1);
    nonce_for(s->cipher, counter, n);
    size_t mlen = ctlen - SY_TAG_LEN;
    if (!x || !EVP_DecryptInit_ex(x, NULL, NULL, NULL, n) || !EVP_DecryptUpdate(x, NULL, &len, ad, (int)adlen) ||
        !EVP_DecryptUpdate(x, ct, &len, ct, (int)mlen) ||
        !EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, SY_TAG_LEN, ct + mlen) || EVP_DecryptFinal_ex(x, ct + len, &fin) <= 0)
        return -1;
    return 0;
}
