/* One worker per core: its own TUN queue and UDP socket. TUN -> encrypt -> UDP (batched, GSO) and
 * UDP (recvmmsg, GRO) -> decrypt -> policy -> TUN. */
#include <errno.h>
#include <linux/udp.h>
#include <linux/virtio_net.h>
#include <netinet/ip.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "dp.h"
#include "tso.h"
#include "gro.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#define GSO_MAX_SEGS 64
#define SY_SEG_BUF 4096

struct tx_item {
    uint8_t *data;
    size_t len;
    struct sockaddr_in6 to;
};

struct wctx {
    struct sy_worker *w;
    uint8_t *rxbuf[SY_BATCH];   /* UDP receive buffers */
    uint8_t *tunbuf;            /* one TUN read */
    uint8_t *segbuf[SY_BATCH];  /* encrypted packets waiting to be sent */
    struct tx_item tx[SY_BATCH];
    int ntx;
    struct sy_gro gro;
};

/* ---------- accounting ---------- */

static void account(struct sy_worker *w, uint32_t peer_id, uint16_t tag, uint32_t policy, size_t bytes) {
    uint32_t h = (peer_id * 2654435761u) ^ (tag * 40503u) ^ (policy * 2246822519u);
    for (int i = 0; i < 16; i++) {
        struct sy_acct *a = &w->acct[(h + i) & (SY_ACCT_SLOTS - 1)];
        uint32_t used = atomic_load_explicit(&a->used, memory_order_acquire);
        if (!used) {
            a->peer_id = peer_id;
            a->tag = tag;
            a->policy = policy;
            atomic_store_explicit(&a->used, 1, memory_order_release);
        } else if (a->peer_id != peer_id || a->tag != tag || a->policy != policy) {
            continue;
        }
        atomic_fetch_add_explicit(&a->packets, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&a->bytes, bytes, memory_order_relaxed);
        return;
    }
}

/* ---------- helpers ---------- */

static int ip_src_dst(const uint8_t *ip, int *family, const uint8_t **src, const uint8_t **dst) {
    if ((ip[0] >> 4) == 4) {
        *family = 4;
        *src = ip + 12;
        *dst = ip + 16;
    } else {
        *family = 6;
        *src = ip + 8;
        *dst = ip + 24;
    }
    return 0;
}

static int peer_owns(const struct sy_peer *p, int family, const uint8_t *addr) {
    for (int i = 0; i < p->n_addrs; i++)
        if (sy_cidr_match(&p->addrs[i], family, addr)) return 1;
    return 0;
}

static int peer_for_dst(int family, const uint8_t *dst) {
    if (G.mode == SY_MODE_CLIENT) return G.peers[0].used ? 0 : -1;
    for (int i = 0, used = atomic_load_explicit(&G.peers_used, memory_order_relaxed); i < used; i++)
        if (G.peers[i].used && peer_owns(&G.peers[i], family, dst)) return i;
    return -1;
}

/* The slot of a flow class's key-group peer, cached in the tag entry (slots of an id never move).
 * Called with peers_lock held. */
static int tag_peer_slot(struct sy_tag_policy *t) {
    int slot = atomic_load_explicit(&t->peer_slot, memory_order_relaxed);
    if (slot >= 0 && G.peers[slot].used && G.peers[slot].id == t->peer_id) return slot;
    for (int i = 0, used = atomic_load_explicit(&G.peers_used, memory_order_relaxed); i < used; i++)
        if (G.peers[i].used && G.peers[i].id == t->peer_id) {
            atomic_store_explicit(&t->peer_slot, i, memory_order_relaxed);
            return i;
        }
    return -1;
}

static struct sy_session *live_session(int slot, uint64_t now) {
    if (slot < 0 || slot >= SY_MAX_SESSIONS) return NULL;
    struct sy_session *s = &G.sessions[slot];
    if (atomic_load_explicit(&s->state, memory_order_acquire) != 1) return NULL;
    if (now >= s->expires_ms) return NULL;
    return s;
}

/* ---------- TUN -> UDP ---------- */

static void flush_tx(struct wctx *c) {
    struct mmsghdr msgs[SY_BATCH];
    struct iovec iov[SY_BATCH];
    char cbuf[SY_BATCH][CMSG_SPACE(sizeof(uint16_t))];
    int nmsg = 0;
    for (int i = 0; i < c->ntx;) {
        /* A GSO run: same destination, same size, the last may be shorter. */
        int j = i + 1;
        if (G.udp_gso) {
            size_t max_segs = 65000 / c->tx[i].len; /* a GSO send is one UDP datagram of at most 64 KiB */
            if (max_segs > GSO_MAX_SEGS) max_segs = GSO_MAX_SEGS;
            while (j < c->ntx && (size_t)(j - i) < max_segs && c->tx[j].len <= c->tx[i].len &&
                   memcmp(&c->tx[j].to, &c->tx[i].to, sizeof(c->tx[i].to)) == 0) {
                int shorter = c->tx[j].len < c->tx[i].len;
                j++;
                if (shorter) break;
            }
        }
        struct msghdr *m = &msgs[nmsg].msg_hdr;
        memset(m, 0, sizeof(*m));
        for (int k = i; k < j; k++) iov[k] = (struct iovec){c->tx[k].data, c->tx[k].len};
        m->msg_iov = &iov[i];
        m->msg_iovlen = (size_t)(j - i);
        m->msg_name = &c->tx[i].to;
        m->msg_namelen = sizeof(c->tx[i].to);
        if (j - i > 1) {
            m->msg_control = cbuf[nmsg];
            m->msg_controllen = sizeof(cbuf[nmsg]);
            struct cmsghdr *cm = CMSG_FIRSTHDR(m);
            cm->cmsg_level = SOL_UDP;
            cm->cmsg_type = UDP_SEGMENT;
            cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t seg = (uint16_t)c->tx[i].len;
            memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
            sy_count(c->w, C_GSO_SEGMENTS, (uint64_t)(j - i));
        }
        nmsg++;
        i = j;
    }
    int sent = 0;
    while (sent < nmsg) {
        int r = sendmmsg(c->w->udp_fd, msgs + sent, (unsigned)(nmsg - sent), 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) {
                struct pollfd pfd = {c->w->udp_fd, POLLOUT, 0};
                poll(&pfd, 1, 100);
                continue;
            }
            sy_count(c->w, C_TX_ERRORS, (uint64_t)(nmsg - sent));
            break;
        }
        sent += r;
    }
    c->ntx = 0;
}

/* The next free send buffer, after SY_HEADROOM bytes for the tunnel header. */
static uint8_t *next_slot(struct wctx *c) {
    if (c->ntx == SY_BATCH) flush_tx(c);
    return c->segbuf[c->ntx] + SY_HEADROOM;
}

/* Encrypt one IP packet into the send batch. When ip already is next_slot(c) nothing is copied. */
static void encap_one(struct wctx *c, uint8_t *ip, size_t len, uint64_t now) {
    struct sy_worker *w = c->w;
    size_t iplen;
    if (sy_inner_valid(ip, len, &iplen) < 0 || iplen + SY_HEADROOM + SY_TAG_LEN > SY_SEG_BUF) {
        sy_count(w, C_TX_BAD_PACKET, 1); /* malformed, or an MTU above what a datagram may carry */
        return;
    }
    int family;
    const uint8_t *src, *dst;
    ip_src_dst(ip, &family, &src, &dst);
    uint16_t tag = 0;
    uint32_t policy = 0, group = 0;
    uint8_t tclass = 0;
    int with_meta = G.mode == SY_MODE_CLIENT, ps = -1;
    struct sy_tag_policy *grouped = NULL;
    if (with_meta) {
        uint32_t mark = 0;
        if (sy_flowmark_lookup(ip, iplen, &mark) && (mark >> 24) == 0x5A) tag = (uint16_t)(mark & 0xffff);
        if (!tag) sy_count(w, C_TX_UNTAGGED, 1);
        struct sy_tag_policy *t = &G.tags[tag];
        if (t->set) {
            policy = t->policy;
            tclass = t->traffic_class;
            group = t->group_id;
            if (t->peer_id) grouped = t;
            if (t->meta_tag) tag = t->meta_tag;
        }
    }
    pthread_rwlock_rdlock(&G.peers_lock);
    if (grouped) ps = tag_peer_slot(grouped);
    if (ps < 0 && G.mode == SY_MODE_GATEWAY) {
        /* A reply goes back in the session (key group) its flow came in on. */
        int r = sy_reply_lookup(ip, iplen);
        if (r >= 0 && G.peers[r].used && peer_owns(&G.peers[r], family, dst)) ps = r;
    }
    if (ps < 0 && group) {
        /* A key group's flow without its group's peer: never sent under another group's keys. */
        pthread_rwlock_unlock(&G.peers_lock);
        sy_count(w, C_TX_NO_PEER, 1);
        return;
    }
    if (ps < 0) ps = peer_for_dst(family, dst);
    if (ps < 0) {
        pthread_rwlock_unlock(&G.peers_lock);
        sy_count(w, C_TX_NO_PEER, 1);
        return;
    }
    struct sy_peer *p = &G.peers[ps];
    struct sy_session *s = live_session(atomic_load(&p->send_session), now);
    struct sockaddr_in6 to = p->endpoint;
    pthread_rwlock_unlock(&G.peers_lock);
    if (!s || to.sin6_port == 0) {
        sy_count(w, C_TX_NO_SESSION, 1);
        return;
    }
    uint64_t counter = atomic_fetch_add_explicit(&s->send_counter, 1, memory_order_relaxed);
    if (counter >= SY_REJECT_AFTER_MESSAGES) {
        sy_count(w, C_TX_NO_SESSION, 1);
        return;
    }
    if (counter >= s->rekey_after_messages && !atomic_exchange(&s->rekey_signalled, 1)) {
        uint8_t ev[5];
        memcpy(ev, &s->local_index, 4);
        ev[4] = 1;
        sy_control_send(EV_REKEY, ev, 5, NULL, 0);
    }
    uint8_t *slot = next_slot(c);
    if (ip != slot) {
        memcpy(slot, ip, iplen);
        ip = slot;
    }
    size_t slen = with_meta ? SY_SECRET_LEN : 2;
    uint8_t *secret = ip - slen;
    sy_write_secret(secret, with_meta, tag, policy, group);
    uint8_t *hdr = secret - (SY_HDR_LEN + SY_CLEAR_LEN);
    sy_write_header(hdr, s->remote_index, counter, s->epoch, tclass);
    if (sy_aead_seal(w, s, hdr, SY_HDR_LEN + SY_CLEAR_LEN, secret, slen + iplen, counter) < 0) {
        sy_count(w, C_TX_ERRORS, 1); /* no cipher context (out of memory): never send it unsealed */
        return;
    }
    size_t total = SY_HDR_LEN + SY_CLEAR_LEN + slen + iplen + SY_TAG_LEN;
    c->tx[c->ntx++] = (struct tx_item){hdr, total, to};
    sy_count(w, C_TX_PACKETS, 1);
    sy_count(w, C_TX_BYTES, iplen);
    atomic_fetch_add_explicit(&w->slot_bytes[s->peer_slot][0], iplen, memory_order_relaxed);
}

struct encap_ctx {
    struct wctx *c;
    uint64_t now;
};
static void encap_cb(void *ctx, uint8_t *ip, size_t len) {
    struct encap_ctx *e = ctx;
    encap_one(e->c, ip, len, e->now);
}
static uint8_t *segment_cb(void *ctx, size_t len) {
    struct encap_ctx *e = ctx;
    return len + SY_HEADROOM + SY_TAG_LEN <= SY_SEG_BUF ? next_slot(e->c) : NULL;
}

static void tun_readable(struct wctx *c) {
    struct sy_worker *w = c->w;
    uint64_t now = sy_now_ms();
    for (int n = 0; n < SY_BATCH; n++) {
        struct virtio_net_hdr vh;
        uint8_t *ip = c->tunbuf + SY_HEADROOM;
        struct iovec iov[2] = {{&vh, sizeof(vh)}, {ip, SY_BUF - SY_HEADROOM - SY_TAG_LEN}};
        ssize_t r = readv(w->tun_fd, iov, 2);
        if (r < 0) break;
        if ((size_t)r <= sizeof(vh)) continue;
        size_t len = (size_t)r - sizeof(vh);
        if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE || (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
            struct encap_ctx e = {c, now};
            /* The TSO segmenter writes each segment with SY_HEADROOM before it. */
            if (sy_tso_split(&vh, ip, len, segment_cb, encap_cb, &e) < 0) sy_count(w, C_TX_BAD_PACKET, 1);
        } else {
            encap_one(c, ip, len, now);
        }
    }
    if (c->ntx) flush_tx(c);
}

/* ---------- UDP -> TUN ---------- */

/* Handshake messages go to the control process, which does the Diffie-Hellman. Garbage (a wrong mac1)
 * costs one HMAC here and nothing else. Beyond the admitted rate the gateway is under load: an
 * initiation then needs a mac2 from a cookie we gave its source, else it gets a cookie reply. */
static void forward_handshake(struct sy_worker *w, const struct sockaddr_in6 *from, const uint8_t *pkt, size_t len) {
    uint64_t now = sy_now_ms();
    if (pkt[1] != SY_TYPE_COOKIE && !sy_mac1_ok(pkt, len)) {
        sy_count(w, C_HS_BAD_MAC, 1);
        return;
    }
    uint8_t flags = 0;
    /* As WireGuard: once the bucket ran dry we stay under load for a second, so a flood's gaps
     * between bursts do not let unproven initiations through; a busy gateway whose bucket never
     * empties never asks for cookies. */
    int took = sy_bucket_take(&G.hs_bucket, now);
    if (!took) atomic_store_explicit(&G.under_load_until_ms, now + 1000, memory_order_relaxed);
    int under_load = now < atomic_load_explicit(&G.under_load_until_ms, memory_order_relaxed);
    if (!took && (G.mode != SY_MODE_GATEWAY || pkt[1] != SY_TYPE_INIT)) {
        sy_count(w, C_HS_RATE_LIMITED, 1);
        return;
    }
    if (under_load && G.mode == SY_MODE_GATEWAY && pkt[1] == SY_TYPE_INIT) {
        if (!sy_mac2_ok(pkt, len, from, now)) {
            if (sy_bucket_take(&G.cookie_bucket, now)) {
                uint8_t reply[SY_COOKIE_REPLY_LEN];
                sy_cookie_reply(reply, pkt, from, now);
                if (sendto(w->udp_fd, reply, sizeof reply, 0, (const struct sockaddr *)from, sizeof *from) == sizeof reply)
                    sy_count(w, C_HS_COOKIE_SENT, 1);
            } else {
                sy_count(w, C_HS_RATE_LIMITED, 1);
            }
            return;
        }
        flags = 1; /* its source proved it receives our replies: the control process skips its global limit */
        sy_count(w, C_HS_MAC2_OK, 1);
    }
    uint8_t ep[19];
    memcpy(ep, &from->sin6_addr, 16);
    memcpy(ep + 16, &from->sin6_port, 2);
    ep[18] = flags;
    sy_control_send(EV_HANDSHAKE, ep, sizeof ep, pkt, len);
    sy_count(w, C_HS_FORWARDED, 1);
}

static int rule_allows(const struct sy_peer *p, uint16_t tag, int family, const uint8_t *dst, int *tag_ok,
                       uint32_t *mark) {
    for (int i = 0; i < p->n_rules; i++) {
        const struct sy_rule *r = &p->rules[i];
        if (r->tag != tag) continue;
        *tag_ok = 1;
        *mark = r->mark;
        for (int d = 0; d < r->n_dst; d++)
            if (sy_cidr_match(&r->dst[d], family, dst)) return 1;
        return 0;
    }
    *tag_ok = 0;
    return 0;
}

static void decap_one(struct wctx *c, const struct sockaddr_in6 *from, uint8_t *pkt, size_t len, uint64_t now) {
    struct sy_worker *w = c->w;
    if (len >= 2 && pkt[0] == SY_VERSION &&
        ((pkt[1] == SY_TYPE_INIT && len == SY_INIT_LEN) || (pkt[1] == SY_TYPE_RESPONSE && (len == SY_RESPONSE_LEN || len == SY_RESPONSE_RESOLVERS_LEN)) ||
         (pkt[1] == SY_TYPE_COOKIE && len == SY_COOKIE_REPLY_LEN && G.mode == SY_MODE_CLIENT))) {
        forward_handshake(w, from, pkt, len);
        return;
    }
    if (len < 2 || pkt[0] != SY_VERSION || pkt[1] != SY_TYPE_DATA) {
        sy_count(w, C_RX_UNKNOWN_TYPE, 1);
        return;
    }
    struct sy_hdr h;
    if (sy_parse_header(pkt, len, &h) < 0) {
        sy_count(w, C_RX_BAD_HEADER, 1);
        return;
    }
    struct sy_session *s = &G.sessions[h.receiver % SY_MAX_SESSIONS];
    if (atomic_load_explicit(&s->state, memory_order_acquire) != 1 || s->local_index != h.receiver) {
        sy_count(w, C_RX_UNKNOWN_INDEX, 1);
        return;
    }
    if (now >= s->expires_ms) {
        sy_count(w, C_RX_EXPIRED, 1);
        return;
    }
    pthread_spin_lock(&s->replay_lock);
    int fresh = sy_replay_check(&s->replay, h.counter);
    pthread_spin_unlock(&s->replay_lock);
    if (!fresh) {
        sy_count(w, C_RX_REPLAY, 1);
        return;
    }
    size_t adlen = SY_HDR_LEN + h.clear_len;
    if (sy_aead_open(w, s, pkt, adlen, pkt + adlen, len - adlen, h.counter) < 0) {
        sy_count(w, C_RX_AUTH_FAIL, 1);
        return;
    }
    if (h.epoch != s->epoch) { /* authenticated, yet claims another key generation */
        sy_count(w, C_RX_EPOCH, 1);
        return;
    }
    pthread_spin_lock(&s->replay_lock);
    int ok = sy_replay_commit(&s->replay, h.counter);
    pthread_spin_unlock(&s->replay_lock);
    if (!ok) {
        sy_count(w, C_RX_REPLAY, 1);
        return;
    }
    struct sy_meta m;
    const uint8_t *inner;
    size_t ilen;
    if (sy_parse_plaintext(pkt + adlen, len - adlen - SY_TAG_LEN, &m, &inner, &ilen) < 0) {
        sy_count(w, C_RX_BAD_INNER, 1);
        return;
    }
    if (!atomic_exchange(&s->confirmed, 1)) sy_control_send(EV_CONFIRMED, &s->local_index, 4, NULL, 0);
    int family;
    const uint8_t *src, *dst;
    ip_src_dst(inner, &family, &src, &dst);

    pthread_rwlock_rdlock(&G.peers_lock);
    struct sy_peer *p = &G.peers[s->peer_slot];
    int roamed = memcmp(&p->endpoint.sin6_addr, &from->sin6_addr, 16) || p->endpoint.sin6_port != from->sin6_port;
    int verdict = 0; /* 0 pass */
    uint32_t peer_id = p->id, uplink_mark = 0;
    if (G.mode == SY_MODE_GATEWAY) {
        int tag_ok = 0;
        if (!peer_owns(p, family, src)) verdict = C_RX_SRC_DENIED; /* crypto-key routing */
        else if ((m.has_group ? m.group_id : 0) != p->group_id) verdict = C_RX_GROUP_DENIED; /* another group's metadata */
        else if (!rule_allows(p, m.app_tag, family, dst, &tag_ok, &uplink_mark)) verdict = tag_ok ? C_RX_DST_DENIED : C_RX_TAG_DENIED;
    }
    pthread_rwlock_unlock(&G.peers_lock);
    if (roamed) { /* authenticated packet from a new address: follow the peer, as WireGuard does */
        pthread_rwlock_wrlock(&G.peers_lock);
        p->endpoint.sin6_addr = from->sin6_addr;
        p->endpoint.sin6_port = from->sin6_port;
        pthread_rwlock_unlock(&G.peers_lock);
    }
    if (verdict) {
        sy_count(w, verdict, 1);
        return;
    }
    if (G.mode == SY_MODE_GATEWAY) {
        account(w, peer_id, m.app_tag, m.policy_id, ilen);
        sy_flowmark_file(inner, ilen, uplink_mark); /* the TUN ingress program routes by it */
        sy_reply_file(inner, ilen, (int)s->peer_slot);
    }
    if (G.vnet_offloads) {
        sy_gro_add(&c->gro, w->tun_fd, inner, ilen);
    } else {
        struct virtio_net_hdr vh = {0};
        struct iovec iov[2] = {{&vh, sizeof(vh)}, {(void *)inner, ilen}};
        if (writev(w->tun_fd, iov, 2) < 0) {
            sy_count(w, C_TX_ERRORS, 1);
            return;
        }
    }
    sy_count(w, C_RX_PACKETS, 1);
    sy_count(w, C_RX_BYTES, ilen);
    atomic_fetch_add_explicit(&w->slot_bytes[s->peer_slot][1], ilen, memory_order_relaxed);
}

static void udp_readable(struct wctx *c) {
    struct sy_worker *w = c->w;
    struct mmsghdr msgs[SY_BATCH];
    struct iovec iov[SY_BATCH];
    struct sockaddr_in6 from[SY_BATCH];
    char cbuf[SY_BATCH][CMSG_SPACE(sizeof(int))];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < SY_BATCH; i++) {
            iov[i] = (struct iovec){c->rxbuf[i], SY_BUF};
            msgs[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof(from[i]), .msg_iov = &iov[i],
                                              .msg_iovlen = 1, .msg_control = cbuf[i], .msg_controllen = sizeof(cbuf[i])};
        }
        int n = recvmmsg(w->udp_fd, msgs, SY_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        uint64_t now = sy_now_ms();
        for (int i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len, seg = len;
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm; cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm))
                if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
                    int g;
                    memcpy(&g, CMSG_DATA(cm), sizeof(g));
                    if (g > 0) seg = (size_t)g;
                }
            if (seg < len) sy_count(w, C_GRO_SEGMENTS, (len + seg - 1) / seg);
            for (size_t off = 0; off < len; off += seg) {
                size_t l = len - off < seg ? len - off : seg;
                decap_one(c, &from[i], c->rxbuf[i] + off, l, now);
            }
        }
        sy_gro_flush(&c->gro, w->tun_fd);
        sy_count(w, C_TUN_SUPERPACKETS, c->gro.superpackets);
        c->gro.superpackets = 0;
        if (n < SY_BATCH) return;
    }
}

void *sy_worker_main(void *arg) {
    struct wctx c = {.w = arg};
    for (int i = 0; i < SY_BATCH; i++) {
        c.rxbuf[i] = malloc(SY_BUF);
        c.segbuf[i] = malloc(SY_SEG_BUF);
    }
    c.tunbuf = malloc(SY_BUF + SY_HEADROOM);
    if (sy_gro_init(&c.gro) < 0) return NULL;
    struct pollfd pfd[2] = {{c.w->tun_fd, POLLIN, 0}, {c.w->udp_fd, POLLIN, 0}};
    uint64_t swept = sy_now_ms();
    for (;;) {
        int r = poll(pfd, 2, 1000);
        if (r < 0 && errno != EINTR) break;
        uint64_t now = sy_now_ms();
        if (now - swept >= 1000) {
            sy_crypto_sweep(c.w);
            swept = now;
        }
        if (r <= 0) continue;
        if (pfd[1].revents & POLLIN) udp_readable(&c);
        if (pfd[0].revents & POLLIN) tun_readable(&c);
        if ((pfd[0].revents | pfd[1].revents) & (POLLERR | POLLHUP | POLLNVAL)) break;
    }
    return NULL;
}
