/* switchyard-datapath: the tunnel's packet engine. The helper (TypeScript, root) opens the TUN
 * queues and UDP sockets and attaches the flowmark program (native/src/tun.c), then starts this
 * binary already as an unprivileged user with only those descriptors inherited. It checks them,
 * forbids regaining privileges and enters a seccomp sandbox before it reads a single packet. Keys
 * and peers arrive over stdin as control frames; handshake messages and events leave over stdout.
 * It exits when stdin closes, and the TUN device disappears with it. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "dp.h"
#include "setup.h"

struct sy_dp G;

const char *const sy_counter_names[C_COUNT] = {
    "rxPackets", "rxBytes", "txPackets", "txBytes",
    "rxBadHeader", "rxUnknownIndex", "rxAuthFail", "rxReplay", "rxExpired", "rxEpochMismatch",
    "rxBadInner", "rxSourceDenied", "rxTagDenied", "rxDestinationDenied", "rxUnknownType",
    "txNoSession", "txNoPeer", "txUntagged", "txBadPacket", "txErrors",
    "handshakesForwarded", "handshakesRateLimited", "gsoSegments", "groSegments", "tunSuperPackets",
    "handshakesBadMac", "cookieRepliesSent", "handshakesWithCookie", "rxGroupDenied",
};

uint64_t sy_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sy_count(struct sy_worker *w, int c, uint64_t n) {
    atomic_fetch_add_explicit(&w->counters[c], n, memory_order_relaxed);
}

int sy_cidr_match(const struct sy_cidr *c, int family, const uint8_t *addr) {
    if (c->family != family) return 0;
    int bits = c->plen;
    for (int i = 0; bits > 0; i++, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
        if ((addr[i] & mask) != (c->addr[i] & mask)) return 0;
    }
    return 1;
}

static int write_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t r = write(fd, b, n);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

int sy_control_send(uint8_t type, const void *a, size_t alen, const void *b, size_t blen) {
    uint8_t head[5];
    uint32_t len = (uint32_t)(1 + alen + blen);
    memcpy(head, &len, 4);
    head[4] = type;
    pthread_mutex_lock(&G.out_lock);
    int r = write_all(1, head, 5);
    if (!r && alen) r = write_all(1, a, alen);
    if (!r && blen) r = write_all(1, b, blen);
    pthread_mutex_unlock(&G.out_lock);
    return r;
}

static int read_all(int fd, void *p, size_t n) {
    uint8_t *b = p;
    while (n) {
        ssize_t r = read(fd, b, n);
        if (r == 0) return -1;
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

static void endpoint_from(const uint8_t *ep, struct sockaddr_in6 *a) {
    memset(a, 0, sizeof(*a));
    a->sin6_family = AF_INET6;
    memcpy(&a->sin6_addr, ep, 16);
    memcpy(&a->sin6_port, ep + 16, 2);
}

static int parse_cidr(const uint8_t *p, struct sy_cidr *c) {
    c->family = p[0];
    c->plen = p[1];
    memcpy(c->addr, p + 2, 16);
    if (c->family == 4) return c->plen <= 32 ? 0 : -1;
    if (c->family == 6) return c->plen <= 128 ? 0 : -1;
    return -1;
}

static int find_peer(uint32_t id, int create) {
    int free_slot = -1;
    int used = atomic_load(&G.peers_used);
    for (int i = 0; i < used; i++) {
        if (G.peers[i].used && G.peers[i].id == id) return i;
        if (!G.peers[i].used && free_slot < 0) free_slot = i;
    }
    if (!create) return -1;
    if (free_slot < 0 && used < SY_MAX_PEERS) free_slot = used;
    return free_slot;
}

static uint64_t slot_bytes_sum(int slot, int dir) {
    uint64_t sum = 0;
    for (int i = 0; i < G.nworkers; i++) sum += atomic_load(&G.workers[i]->slot_bytes[slot][dir]);
    return sum;
}

static int ctl_set_peer(const uint8_t *p, size_t n) {
    if (n < 28) return -1;
    uint32_t id;
    memcpy(&id, p, 4);
    struct sy_peer np = {0};
    np.used = 1;
    np.id = id;
    endpoint_from(p + 4, &np.endpoint);
    np.n_addrs = p[22];
    np.n_rules = p[23];
    memcpy(&np.group_id, p + 24, 4);
    if (np.n_addrs > SY_MAX_ADDRS || np.n_rules > SY_MAX_RULES) return -1;
    size_t off = 28;
    for (int i = 0; i < np.n_addrs; i++, off += 18)
        if (off + 18 > n || parse_cidr(p + off, &np.addrs[i]) < 0) return -1;
    if (np.n_rules && !(np.rules = calloc(np.n_rules, sizeof(struct sy_rule)))) return -1;
    for (int i = 0; i < np.n_rules; i++) {
        if (off + 8 > n) goto bad;
        struct sy_rule *r = &np.rules[i];
        memcpy(&r->tag, p + off, 2);
        r->n_dst = p[off + 2];
        memcpy(&r->mark, p + off + 4, 4);
        off += 8;
        if (r->n_dst > SY_MAX_DSTS) goto bad;
        for (int d = 0; d < r->n_dst; d++, off += 18)
            if (off + 18 > n || parse_cidr(p + off, &r->dst[d]) < 0) goto bad;
    }
    pthread_rwlock_wrlock(&G.peers_lock);
    int slot = find_peer(id, 1);
    if (slot < 0) {
        pthread_rwlock_unlock(&G.peers_lock);
        goto bad;
    }
    struct sy_peer *old = &G.peers[slot];
    struct sy_rule *old_rules = old->used ? old->rules : NULL;
    for (int d = 0; d < 2; d++) /* a slot taken by another peer starts its byte counts at zero */
        np.base_bytes[d] = old->used && old->id == id ? old->base_bytes[d] : slot_bytes_sum(slot, d);
    atomic_store(&np.send_session, old->used ? atomic_load(&old->send_session) : -1);
    if (old->used && np.endpoint.sin6_port == 0) np.endpoint = old->endpoint; /* keep a roamed endpoint */
    memcpy(old, &np, sizeof(np));
    if (slot >= atomic_load(&G.peers_used)) atomic_store(&G.peers_used, slot + 1);
    pthread_rwlock_unlock(&G.peers_lock);
    free(old_rules); /* workers read rules only under the read lock, so none holds the old ones now */
    return 0;
bad:
    free(np.rules);
    return -1;
}

static int ctl_add_session(const uint8_t *p, size_t n) {
    if (n != 96) return -1;
    uint32_t local, remote, peer_id, epoch, lifetime;
    uint64_t rekey;
    memcpy(&local, p, 4);
    memcpy(&remote, p + 4, 4);
    memcpy(&peer_id, p + 8, 4);
    memcpy(&epoch, p + 12, 4);
    uint8_t cipher = p[16];
    memcpy(&lifetime, p + 84, 4);
    memcpy(&rekey, p + 88, 8);
    if (cipher > SY_CIPHER_AESGCM || (cipher == SY_CIPHER_AESGCM && !G.aes_available)) return -1;
    pthread_rwlock_wrlock(&G.peers_lock);
    int ps = find_peer(peer_id, 0);
    struct sy_session *s = &G.sessions[local % SY_MAX_SESSIONS];
    if (ps < 0 || atomic_load(&s->state) == 1) {
        pthread_rwlock_unlock(&G.peers_lock);
        return -1;
    }
    s->local_index = local;
    s->remote_index = remote;
    s->peer_slot = (uint32_t)ps;
    s->epoch = epoch;
    s->cipher = cipher;
    memcpy(s->send_key, p + 20, 32);
    memcpy(s->recv_key, p + 52, 32);
    if (atomic_fetch_add(&s->gen, 1) + 1 == 0) atomic_fetch_add(&s->gen, 1); /* 0 means "never keyed" */
    atomic_store(&s->send_counter, 0);
    s->rekey_after_messages = rekey;
    s->expires_ms = sy_now_ms() + lifetime;
    pthread_spin_lock(&s->replay_lock); /* a worker may still commit for the slot's previous session */
    memset(&s->replay, 0, sizeof(s->replay));
    pthread_spin_unlock(&s->replay_lock);
    atomic_store(&s->rekey_signalled, 0);
    atomic_store(&s->confirmed, 0);
    atomic_store_explicit(&s->state, 1, memory_order_release);
    atomic_store(&G.peers[ps].send_session, (int)(local % SY_MAX_SESSIONS));
    pthread_rwlock_unlock(&G.peers_lock);
    return 0;
}

static int ctl_del_session(const uint8_t *p, size_t n) {
    if (n != 4) return -1;
    uint32_t local;
    memcpy(&local, p, 4);
    int slot = (int)(local % SY_MAX_SESSIONS);
    struct sy_session *s = &G.sessions[slot];
    pthread_rwlock_wrlock(&G.peers_lock);
    if (atomic_load(&s->state) != 1 || s->local_index != local) {
        pthread_rwlock_unlock(&G.peers_lock);
        return -1;
    }
    atomic_store_explicit(&s->state, 2, memory_order_release);
    for (int i = 0, used = atomic_load(&G.peers_used); i < used; i++) {
        int cur = slot;
        atomic_compare_exchange_strong(&G.peers[i].send_session, &cur, -1);
    }
    sodium_memzero(s->send_key, 32);
    sodium_memzero(s->recv_key, 32);
    atomic_store(&s->state, 0);
    pthread_rwlock_unlock(&G.peers_lock);
    return 0;
}

static int ctl_set_tags(const uint8_t *p, size_t n) {
    if (n < 4) return -1;
    uint32_t count;
    memcpy(&count, p, 4);
    if (n != 4 + (size_t)count * 20) return -1;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = p + 4 + i * 20;
        uint16_t tag;
        memcpy(&tag, e, 2);
        G.tags[tag].traffic_class = e[2];
        memcpy(&G.tags[tag].policy, e + 4, 4);
        memcpy(&G.tags[tag].meta_tag, e + 8, 2);
        memcpy(&G.tags[tag].peer_id, e + 12, 4);
        memcpy(&G.tags[tag].group_id, e + 16, 4);
        atomic_store(&G.tags[tag].peer_slot, -1);
        G.tags[tag].set = 1;
    }
    return 0;
}

static void ctl_stats(void) {
    static char buf[1 << 20];
    size_t o = 0;
    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "{\"counters\":{");
    for (int c = 0; c < C_COUNT; c++) {
        uint64_t sum = 0;
        for (int i = 0; i < G.nworkers; i++) sum += atomic_load(&G.workers[i]->counters[c]);
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\"%s\":%llu", c ? "," : "", sy_counter_names[c],
                              (unsigned long long)sum);
    }
    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "},\"accounting\":[");
    int first = 1;
    for (int i = 0; i < G.nworkers; i++)
        for (int k = 0; k < SY_ACCT_SLOTS && o < sizeof(buf) - 256; k++) {
            struct sy_acct *a = &G.workers[i]->acct[k];
            if (!atomic_load_explicit(&a->used, memory_order_acquire)) continue;
            o += (size_t)snprintf(buf + o, sizeof(buf) - o,
                                  "%s{\"peer\":%u,\"tag\":%u,\"policy\":%u,\"packets\":%llu,\"bytes\":%llu}",
                                  first ? "" : ",", a->peer_id, a->tag, a->policy,
                                  (unsigned long long)atomic_load(&a->packets), (unsigned long long)atomic_load(&a->bytes));
            first = 0;
        }
    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "],\"peers\":[");
    first = 1;
    pthread_rwlock_rdlock(&G.peers_lock);
    for (int k = 0, used = atomic_load(&G.peers_used); k < used && o < sizeof(buf) - 128; k++) {
        const struct sy_peer *p = &G.peers[k];
        if (!p->used) continue;
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s{\"id\":%u,\"group\":%u,\"txBytes\":%llu,\"rxBytes\":%llu}",
                              first ? "" : ",", p->id, p->group_id,
                              (unsigned long long)(slot_bytes_sum(k, 0) - p->base_bytes[0]),
                              (unsigned long long)(slot_bytes_sum(k, 1) - p->base_bytes[1]));
        first = 0;
    }
    pthread_rwlock_unlock(&G.peers_lock);
    o += (size_t)snprintf(buf + o, sizeof(buf) - o, "]}");
    sy_control_send(EV_STATS, buf, o, NULL, 0);
}

static void usage(void) {
    fprintf(stderr, "usage: switchyard-datapath --mode client|gateway --tun-fds FD,... --udp-fds FD,... "
                    "[--flowmark-fd FD] [--offload] [--no-gso] [--no-gro] [--uid N --gid N] [--no-seccomp]\n"
                    "(the fds are inherited from the helper, one TUN queue and one UDP socket per worker)\n");
    exit(2);
}

/* "3,4,5" -> fds; -1 on anything that is not a list of 1..SY_MAX_WORKERS descriptors above stderr. */
static int parse_fds(const char *v, int *fds) {
    int n = 0;
    for (const char *p = v; *p;) {
        char *end;
        long fd = strtol(p, &end, 10);
        if (end == p || fd < 3 || fd > 65535 || n == SY_MAX_WORKERS || (*end && *end != ',')) return -1;
        fds[n++] = (int)fd;
        p = *end ? end + 1 : end;
    }
    return n ? n : -1;
}

int main(int argc, char **argv) {
    int tunfds[SY_MAX_WORKERS], udpfds[SY_MAX_WORKERS];
    int workers = -1, nudp = -1, offload = 0, flowmark_fd = -1, seccomp = 1;
    long uid = 65534, gid = 65534;
    G.mode = -1;
    G.udp_gso = G.udp_gro = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--mode") && v) G.mode = !strcmp(v, "gateway") ? SY_MODE_GATEWAY : !strcmp(v, "client") ? SY_MODE_CLIENT : -2, i++;
        else if (!strcmp(a, "--tun-fds") && v) workers = parse_fds(v, tunfds), i++;
        else if (!strcmp(a, "--udp-fds") && v) nudp = parse_fds(v, udpfds), i++;
        else if (!strcmp(a, "--flowmark-fd") && v) flowmark_fd = (int)strtol(v, NULL, 10), i++;
        else if (!strcmp(a, "--uid") && v) uid = strtol(v, NULL, 10), i++;
        else if (!strcmp(a, "--gid") && v) gid = strtol(v, NULL, 10), i++;
        else if (!strcmp(a, "--offload")) offload = 1;
        else if (!strcmp(a, "--no-gso")) G.udp_gso = 0;
        else if (!strcmp(a, "--no-gro")) G.udp_gro = 0;
        else if (!strcmp(a, "--no-seccomp")) seccomp = 0;
        else usage();
    }
    if (G.mode < 0 || workers < 1 || nudp != workers || (flowmark_fd != -1 && flowmark_fd < 3)) usage();
    if (sodium_init() < 0) return 1;
    /* Offered only with AES and carry-less multiply in hardware (as before): without them AES-GCM is
     * slow, and table-based AES is not constant-time. */
    G.aes_available = crypto_aead_aes256gcm_is_available();
    if (sy_crypto_init() < 0) {
        fprintf(stderr, "switchyard-datapath: libcrypto has no AES-256-GCM or ChaCha20-Poly1305\n");
        return 1;
    }
    G.nworkers = workers;
    G.vnet_offloads = offload;
    /* The same rate the control process admits (PROTOCOL.md): beyond it, cookies decide. */
    sy_bucket_init(&G.hs_bucket, 2000, 500, sy_now_ms()); /* responder.ts HANDSHAKES_PER_SECOND, _BURST */
    sy_bucket_init(&G.cookie_bucket, 20000, 2000, sy_now_ms());
    pthread_rwlock_init(&G.peers_lock, NULL);
    pthread_mutex_init(&G.out_lock, NULL);
    for (int i = 0; i < SY_MAX_SESSIONS; i++) pthread_spin_init(&G.sessions[i].replay_lock, PTHREAD_PROCESS_PRIVATE);
    /* A slot's send_session is set (-1) when a peer takes it: untouched slots stay unbacked pages. */

    char tun[IFNAMSIZ] = "";
    if (sy_adopt_tun(tunfds, workers, offload, tun) < 0) {
        fprintf(stderr, "switchyard-datapath: --tun-fds must be multi-queue TUN queues with a vnet header: %s\n",
                strerror(errno));
        return 1;
    }
    if (sy_adopt_udp(udpfds, workers, &G.port) < 0) {
        fprintf(stderr, "switchyard-datapath: --udp-fds must be bound IPv6 UDP sockets on one port: %s\n",
                strerror(errno));
        return 1;
    }
    if (flowmark_fd >= 0 && sy_map_flowmark(flowmark_fd, G.mode == SY_MODE_GATEWAY) < 0) {
        fprintf(stderr, "switchyard-datapath: cannot map the flowmark array (--flowmark-fd %d) of %s: %s\n",
                flowmark_fd, tun, strerror(errno));
        return 1;
    }
    if (sy_drop_privileges((uid_t)uid, (gid_t)gid) < 0) {
        fprintf(stderr, "switchyard-datapath: cannot drop privileges: %s\n", strerror(errno));
        return 1;
    }
    if (seccomp && sy_apply_seccomp() < 0) {
        fprintf(stderr, "switchyard-datapath: cannot install the seccomp filter: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < workers; i++) {
        struct sy_worker *w = calloc(1, sizeof(*w));
        w->id = i;
        w->tun_fd = tunfds[i];
        w->udp_fd = udpfds[i];
        G.workers[i] = w;
    }
    for (int i = 0; i < workers; i++) pthread_create(&G.workers[i]->thread, NULL, sy_worker_main, G.workers[i]);

    uint8_t ready[8] = {0};
    memcpy(ready, &G.port, 2);
    ready[2] = (uint8_t)G.aes_available;
    ready[3] = (uint8_t)workers;
    ready[4] = (uint8_t)offload;
    ready[5] = (uint8_t)G.udp_gso;
    ready[6] = (uint8_t)G.udp_gro;
    ready[7] = (uint8_t)(G.flowmarks != NULL);
    sy_control_send(EV_READY, ready, sizeof(ready), NULL, 0);

    static uint8_t frame[65536 + 64];
    for (;;) {
        uint32_t len;
        if (read_all(0, &len, 4) < 0) break;
        if (len < 1 || len > sizeof(frame)) break;
        if (read_all(0, frame, len) < 0) break;
        const uint8_t *p = frame + 1;
        size_t n = len - 1;
        int r = 0;
        switch (frame[0]) {
        case CTL_ADD_SESSION: r = ctl_add_session(p, n); break;
        case CTL_DEL_SESSION: r = ctl_del_session(p, n); break;
        case CTL_SET_PEER: r = ctl_set_peer(p, n); break;
        case CTL_SET_TAGS: r = ctl_set_tags(p, n); break;
        case CTL_STATS: ctl_stats(); break;
        case CTL_SET_STATIC:
            if (n == 32) sy_cookie_set_static(p);
            else r = -1;
            break;
        case CTL_SEND:
            if (n > 18) {
                struct sockaddr_in6 to;
                endpoint_from(p, &to);
                if (sendto(udpfds[0], p + 18, n - 18, 0, (struct sockaddr *)&to, sizeof(to)) < 0) r = -1;
            } else {
                r = -1;
            }
            break;
        default: r = -1;
        }
        if (r < 0) fprintf(stderr, "switchyard-datapath: control frame type %u refused\n", frame[0]);
    }
    return 0;
}
