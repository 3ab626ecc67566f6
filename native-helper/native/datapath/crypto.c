/* Data AEAD: ChaCha20-Poly1305 (IETF) or AES-256-GCM from libsodium, counter nonces. */
#include <string.h>
#include "dp.h"

static void nonce_for(uint8_t cipher, uint64_t counter, uint8_t n[12]) {
    memset(n, 0, 4);
    if (cipher == SY_CIPHER_AESGCM) {
        sy_put64(n + 4, counter); /* Noise AESGCM: big-endian */
    } else {
        for (int i = 0; i < 8; i++) n[4 + i] = (uint8_t)(counter >> (8 * i)); /* ChaChaPoly: little-endian */
    }
}

/* Encrypts pt in place and writes the 16-byte tag right after it. */
int sy_aead_seal(struct sy_session *s, uint8_t *ad, size_t adlen, uint8_t *pt, size_t ptlen, uint64_t counter) {
    uint8_t n[12];
    nonce_for(s->cipher, counter, n);
    if (s->cipher == SY_CIPHER_AESGCM)
        return crypto_aead_aes256gcm_encrypt_detached_afternm(pt, pt + ptlen, NULL, pt, ptlen, ad, adlen, NULL, n,
                                                              &s->aes_send);
    return crypto_aead_chacha20poly1305_ietf_encrypt_detached(pt, pt + ptlen, NULL, pt, ptlen, ad, adlen, NULL, n,
                                                              s->send_key);
}

/* Decrypts ct (ctlen includes the tag) in place; -1 when it does not authenticate. */
int sy_aead_open(struct sy_session *s, const uint8_t *ad, size_t adlen, uint8_t *ct, size_t ctlen, uint64_t counter) {
    uint8_t n[12];
    if (ctlen < SY_TAG_LEN) return -1;
    nonce_for(s->cipher, counter, n);
    size_t mlen = ctlen - SY_TAG_LEN;
    if (s->cipher == SY_CIPHER_AESGCM)
        return crypto_aead_aes256gcm_decrypt_detached_afternm(ct, NULL, ct, mlen, ct + mlen, ad, adlen, n,
                                                              &s->aes_recv);
    return crypto_aead_chacha20poly1305_ietf_decrypt_detached(ct, NULL, ct, mlen, ct + mlen, ad, adlen, n,
                                                              s->recv_key);
}
