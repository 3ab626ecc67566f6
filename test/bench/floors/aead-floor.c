// The AEAD floor: CPU time of one seal plus one open of a 1,408-byte packet, on one core, for
// AES-256-GCM and ChaCha20-Poly1305 in libsodium and OpenSSL libcrypto. Built and run by
// test/bench/floors.ts; prints one JSON object per library and cipher.
// Usage: aead-floor SECONDS_PER_CASE
#define _GNU_SOURCE
#include <openssl/evp.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PACKET 1408
#define TAG 16

static unsigned char key[32], nonce[12], aad[16];
static unsigned char plain[PACKET], sealed[PACKET + TAG], opened[PACKET];

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef int (*step_fn)(void *ctx, uint64_t counter);

// Each step seals and opens one packet with a fresh nonce, as the data path does per packet.
static void set_nonce(uint64_t n) { memcpy(nonce + 4, &n, 8); }

static int sodium_aes(void *ctx, uint64_t n) {
  (void)ctx;
  unsigned long long len;
  set_nonce(n);
  crypto_aead_aes256gcm_encrypt(sealed, &len, plain, PACKET, aad, sizeof aad, NULL, nonce, key);
  return crypto_aead_aes256gcm_decrypt(opened, &len, NULL, sealed, len, aad, sizeof aad, nonce, key);
}

static int sodium_chacha(void *ctx, uint64_t n) {
  (void)ctx;
  unsigned long long len;
  set_nonce(n);
  crypto_aead_chacha20poly1305_ietf_encrypt(sealed, &len, plain, PACKET, aad, sizeof aad, NULL, nonce, key);
  return crypto_aead_chacha20poly1305_ietf_decrypt(opened, &len, NULL, sealed, len, aad, sizeof aad, nonce,
                                                   key);
}

struct ossl {
  EVP_CIPHER_CTX *enc, *dec;
};

// Contexts are keyed once and reused with a new nonce per packet: the cheapest way to call libcrypto.
static int ossl_step(void *p, uint64_t n) {
  struct ossl *o = p;
  int len, fin;
  set_nonce(n);
  if (!EVP_EncryptInit_ex(o->enc, NULL, NULL, NULL, nonce) ||
      !EVP_EncryptUpdate(o->enc, NULL, &len, aad, sizeof aad) ||
      !EVP_EncryptUpdate(o->enc, sealed, &len, plain, PACKET) || !EVP_EncryptFinal_ex(o->enc, sealed + len, &fin) ||
      !EVP_CIPHER_CTX_ctrl(o->enc, EVP_CTRL_AEAD_GET_TAG, TAG, sealed + PACKET))
    return -1;
  if (!EVP_DecryptInit_ex(o->dec, NULL, NULL, NULL, nonce) ||
      !EVP_DecryptUpdate(o->dec, NULL, &len, aad, sizeof aad) ||
      !EVP_DecryptUpdate(o->dec, opened, &len, sealed, PACKET) ||
      !EVP_CIPHER_CTX_ctrl(o->dec, EVP_CTRL_AEAD_SET_TAG, TAG, sealed + PACKET) ||
      EVP_DecryptFinal_ex(o->dec, opened + len, &fin) <= 0)
    return -1;
  return 0;
}

static int ossl_init(struct ossl *o, const EVP_CIPHER *c) {
  o->enc = EVP_CIPHER_CTX_new();
  o->dec = EVP_CIPHER_CTX_new();
  return o->enc && o->dec && EVP_EncryptInit_ex(o->enc, c, NULL, key, NULL) &&
         EVP_DecryptInit_ex(o->dec, c, NULL, key, NULL);
}

static void measure(const char *lib, const char *cipher, step_fn step, void *ctx, double seconds) {
  uint64_t n = 0;
  for (int i = 0; i < 2000; i++) // warm up caches and the CPU's clock
    step(ctx, n++);
  double t0 = cpu_now(), t;
  uint64_t done = 0;
  do {
    for (int i = 0; i < 1000; i++, done++)
      if (step(ctx, n++) != 0) {
        printf("{\"lib\":\"%s\",\"cipher\":\"%s\",\"error\":\"open failed\"}\n", lib, cipher);
        return;
      }
    t = cpu_now();
  } while (t - t0 < seconds);
  if (memcmp(plain, opened, PACKET) != 0) {
    printf("{\"lib\":\"%s\",\"cipher\":\"%s\",\"error\":\"opened text differs\"}\n", lib, cipher);
    return;
  }
  double gbit = (double)done * PACKET * 8 / 1e9;
  printf("{\"lib\":\"%s\",\"cipher\":\"%s\",\"packets\":%llu,\"cpuSeconds\":%.6f,\"sealOpenCpuSecondsPerGbit\":%.6f,"
         "\"sealOpenGbps\":%.4f}\n",
         lib, cipher, (unsigned long long)done, t - t0, (t - t0) / gbit, gbit / (t - t0));
  fflush(stdout);
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  if (seconds <= 0) seconds = 1.0;
  if (sodium_init() < 0) {
    fprintf(stderr, "sodium_init failed\n");
    return 1;
  }
  randombytes_buf(key, sizeof key);
  randombytes_buf(plain, sizeof plain);
  randombytes_buf(aad, sizeof aad);
  printf("{\"libsodium\":\"%s\",\"libcrypto\":\"%s\"}\n", sodium_version_string(), OpenSSL_version(OPENSSL_VERSION));
  if (crypto_aead_aes256gcm_is_available())
    measure("libsodium", "aes256gcm", sodium_aes, NULL, seconds);
  else
    printf("{\"lib\":\"libsodium\",\"cipher\":\"aes256gcm\",\"error\":\"no AES-NI/PCLMUL on this CPU\"}\n");
  measure("libsodium", "chacha20poly1305", sodium_chacha, NULL, seconds);
  struct ossl aes, chacha;
  if (!ossl_init(&aes, EVP_aes_256_gcm()) || !ossl_init(&chacha, EVP_chacha20_poly1305())) {
    fprintf(stderr, "EVP init failed\n");
    return 1;
  }
  measure("libcrypto", "aes256gcm", ossl_step, &aes, seconds);
  measure("libcrypto", "chacha20poly1305", ossl_step, &chacha, seconds);
  return 0;
}
