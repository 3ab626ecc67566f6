/* Shared state of the data path process: sessions, peers, counters. */
#ifndef SY_DP_H
#define SY_DP_H
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include "cookie.h"
#include "replay.h"
#include "wire.h"

#define SY_MAX_SESSIONS 1024
#define SY_MAX_PEERS 4096 /* slots; an unused one is zero pages the kernel never backs */
#define SY_MAX_ADDRS 8
#define SY_MAX_RULES 64
#define SY_MAX_DSTS 16
#define SY_MAX_WORKERS 16
#define SY_BATCH 64
#define SY_HEADROOM 64 /* header + clear TLVs + secret block, written in place before the inner packet */
#define SY_BUF 65600

enum { SY_CIPHER_CHACHA = 0, SY_CIPHER_AESGCM = 1 };
enum { SY_MODE_CLIENT = 0, SY_MODE_GATEWAY = 1 };

struct sy_session {
    _Atomic uint32_t state; /* 0 free, 1 active, 2 retired */
    uint32_t local_index, remote_index, peer_slot, epoch;
    uint8_t cipher;
    _Atomic uint32_t gen; /* bumped on every install: each worker re-keys its cipher contexts */
    uint8_t send_key[32], recv_key[32];
    _Atomic uint64_t send_counter;
    uint64_t rekey_after_messages;
    uint64_t expires_ms;
    uint64_t retired_ms;
    pthread_spinlock_t replay_lock;
    struct sy_replay replay;
    _Atomic int rekey_signalled, confirmed;
} __attribute__((aligned(64)));

struct sy_cidr {
    uint8_t family, plen;
    uint8_t addr[16];
};

struct sy_rule {
    uint16_t tag;
    uint8_t n_dst;
    uint32_t mark; /* gateway: filed for the TUN ingress program (the uplink's routing mark), 0 none */
    struct sy_cidr dst[SY_MAX_DSTS];
};

struct sy_peer {
    int used;
    uint32_t id;
    _Atomic int send_session; /* session slot used to send, -1 none */
    uint32_t group_id;        /* the key group this slot's sessions belong to (0 the default group) */
    struct sockaddr_in6 endpoint;
    uint8_t n_addrs, n_rules;
    struct sy_cidr addrs[SY_MAX_ADDRS];
    struct sy_rule *rules; /* n_rules of them on the heap, NULL for none: an idle peer is ~200 bytes */
    uint64_t base_bytes[2]; /* the slot's byte sums when this peer took it: stats report from here */
};

/* Drop/pass reasons, counted per worker and summed on demand. */
enum {
    C_RX_PACKETS, C_RX_BYTES, C_TX_PACKETS, C_TX_BYTES,
    C_RX_BAD_HEADER, C_RX_UNKNOWN_INDEX, C_RX_AUTH_FAIL, C_RX_REPLAY, C_RX_EXPIRED, C_RX_EPOCH,
    C_RX_BAD_INNER, C_RX_SRC_DENIED, C_RX_TAG_DENIED, C_RX_DST_DENIED, C_RX_UNKNOWN_TYPE,
    C_TX_NO_SESSION, C_TX_NO_PEER, C_TX_UNTAGGED, C_TX_BAD_PACKET, C_TX_ERRORS,
    C_HS_FORWARDED, C_HS_RATE_LIMITED, C_GSO_SEGMENTS, C_GRO_SEGMENTS, C_TUN_SUPERPACKETS,
    C_HS_BAD_MAC, C_HS_COOKIE_SENT, C_HS_MAC2_OK, C_RX_GROUP_DENIED,
    C_COUNT
};
extern const char *const sy_counter_names[C_COUNT];

#define SY_ACCT_SLOTS 4096
struct sy_acct {
    _Atomic uint32_t used;
    uint32_t peer_id, policy;
    uint16_t tag;
    _Atomic uint64_t packets, bytes;
};

/* A worker's own cipher contexts for one session slot ([0] send, [1] receive), see crypto.c. */
struct sy_aead_ctx {
    void *ctx[2];
    uint32_t gen[2];
};

struct sy_worker {
    int id, tun_fd, udp_fd;
    pthread_t thread;
    _Atomic uint64_t counters[C_COUNT];
    struct sy_acct acct[SY_ACCT_SLOTS];
    _Atomic uint64_t slot_bytes[SY_MAX_PEERS][2]; /* inner bytes per peer slot: [0] sent, [1] received */
    struct sy_aead_ctx aead[SY_MAX_SESSIONS];
};

struct sy_tag_policy {
    uint32_t policy;
    uint16_t meta_tag; /* the app tag the metadata carries (a flow class carries its app's), 0: the tag */
    uint8_t traffic_class, set;
    /* Client: a flow class of a key group is sent with that group's peer slot (id), 0: the default. */
    uint32_t peer_id, group_id;
    _Atomic int peer_slot; /* cached slot of peer_id, -1 unknown */
};

struct sy_dp {
    int mode;
    int nworkers;
    int vnet_offloads; /* TSO/USO enabled on the TUN */
    int udp_gso, udp_gro;
    uint16_t port;
    int aes_available;
    struct sy_session sessions[SY_MAX_SESSIONS];
    struct sy_peer peers[SY_MAX_PEERS];
    _Atomic int peers_used; /* slots below this were ever taken: scans stop here (slots are never freed) */
    pthread_rwlock_t peers_lock;
    struct sy_tag_policy tags[65536];
    struct sy_worker *workers[SY_MAX_WORKERS];
    volatile void *flowmarks; /* mmap'd sy_flow_slot array or NULL (writable in gateway mode) */
    pthread_mutex_t out_lock; /* control frames to stdout */
    struct sy_bucket hs_bucket;     /* handshake messages forwarded to the control process */
    _Atomic uint64_t under_load_until_ms; /* initiations need a cookie (mac2) until then */
    struct sy_bucket cookie_bucket; /* cookie replies sent under load */
};

extern struct sy_dp G;

uint64_t sy_now_ms(void);
void sy_count(struct sy_worker *w, int c, uint64_t n);
int sy_control_send(uint8_t type, const void *a, size_t alen, const void *b, size_t blen);
void *sy_worker_main(void *arg);
int sy_flowmark_lookup(const uint8_t *ip, size_t len, uint32_t *mark);
void sy_reply_file(const uint8_t *ip, size_t len, int peer_slot);
int sy_reply_lookup(const uint8_t *ip, size_t len);
void sy_flowmark_file(const uint8_t *ip, size_t len, uint32_t mark);
int sy_cidr_match(const struct sy_cidr *c, int family, const uint8_t *addr);
int sy_crypto_init(void);
void sy_crypto_sweep(struct sy_worker *w);
int sy_aead_seal(struct sy_worker *w, struct sy_session *s, uint8_t *ad, size_t adlen, uint8_t *pt, size_t ptlen,
                 uint64_t counter);
int sy_aead_open(struct sy_worker *w, struct sy_session *s, const uint8_t *ad, size_t adlen, uint8_t *ct,
                 size_t ctlen, uint64_t counter);

/* Control frames (little-endian): u32 length of type+payload, u8 type, payload. */
enum {
    CTL_ADD_SESSION = 1, CTL_DEL_SESSION = 2, CTL_SEND = 3, CTL_SET_PEER = 4, CTL_SET_TAGS = 5, CTL_STATS = 6, CTL_SET_STATIC = 7,
    EV_READY = 100, EV_HANDSHAKE = 101, EV_STATS = 102, EV_REKEY = 103, EV_CONFIRMED = 104,
};

#endif
