/* Receive-side coalescing (what GRO does in a NIC driver): consecutive in-order TCP segments of one
 * flow in a batch become one super-packet written to the TUN with a GSO virtio header, so the
 * kernel runs its TCP receive path once per ~64 KiB instead of once per segment. */
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "gro.h"
#include "tso.h"
#include "wire.h"

#define GRO_MAX 65000

static int tcp_candidate(const uint8_t *ip, size_t len, int *v6, size_t *iphl, size_t *thl) {
    if ((ip[0] >> 4) == 4) {
        if ((ip[0] & 15) != 5 || ip[9] != IPPROTO_TCP) return 0;
        if (sy_get16(ip + 6) & 0x3fff) return 0; /* fragments: never */
        *v6 = 0;
        *iphl = 20;
    } else {
        if (ip[6] != IPPROTO_TCP) return 0;
        *v6 = 1;
        *iphl = 40;
    }
    if (len < *iphl + 20) return 0;
    *thl = (size_t)(ip[*iphl + 12] >> 4) * 4;
    if (*thl < 20 || len < *iphl + *thl) return 0;
    uint8_t flags = ip[*iphl + 13];
    if (flags & ~(0x10 | 0x08)) return 0; /* only ACK and PSH: SYN/FIN/RST/URG/ECE/CWR go alone */
    return len > *iphl + *thl;            /* payload required */
}

static void flush_flow(struct sy_gro *o, struct sy_gro_flow *g, int tun_fd) {
    if (!g->count) return;
    uint8_t *ip = g->buf;
    struct virtio_net_hdr vh = {0};
    if (g->count > 1) {
        size_t len = g->len, l4 = len - g->iphl;
        if (g->v6) {
            sy_put16(ip + 4, (uint16_t)(len - 40));
        } else {
            sy_put16(ip + 2, (uint16_t)len);
            ip[10] = ip[11] = 0;
            uint16_t c = sy_csum_fold(sy_csum_add(0, ip, 20));
            memcpy(ip + 10, &c, 2);
        }
        /* Partial checksum: the field holds the pseudo-header sum, the kernel finishes it. */
        uint8_t tail[8] = {0};
        uint32_t s;
        if (g->v6) {
            s = sy_csum_add(0, ip + 8, 32);
            sy_put32(tail, (uint32_t)l4);
            tail[7] = IPPROTO_TCP;
            s = sy_csum_add(s, tail, 8);
        } else {
            s = sy_csum_add(0, ip + 12, 8);
            tail[1] = IPPROTO_TCP;
            sy_put16(tail + 2, (uint16_t)l4);
            s = sy_csum_add(s, tail, 4);
        }
        uint16_t partial = (uint16_t)~sy_csum_fold(s);
        memcpy(ip + g->iphl + 16, &partial, 2);
        vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh.gso_type = g->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
        vh.hdr_len = (uint16_t)(g->iphl + g->thl);
        vh.gso_size = g->mss;
        vh.csum_start = (uint16_t)g->iphl;
        vh.csum_offset = 16;
    }
    struct iovec iov[2] = {{&vh, sizeof(vh)}, {ip, g->len}};
    o->written += writev(tun_fd, iov, 2) < 0 ? 0 : (uint64_t)g->count;
    o->superpackets += g->count > 1;
    g->count = 0;
}

void sy_gro_flush(struct sy_gro *o, int tun_fd) {
    for (int i = 0; i < SY_GRO_FLOWS; i++) flush_flow(o, &o->flows[i], tun_fd);
}

int sy_gro_init(struct sy_gro *o) {
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < SY_GRO_FLOWS; i++)
        if (!(o->flows[i].buf = malloc(GRO_MAX + 64))) return -1;
    return 0;
}

static void start(struct sy_gro_flow *g, const uint8_t *ip, size_t len, int v6, size_t iphl, size_t thl) {
    memcpy(g->buf, ip, len);
    g->len = len;
    g->v6 = v6;
    g->iphl = iphl;
    g->thl = thl;
    g->mss = (uint16_t)(len - iphl - thl);
    g->next_seq = sy_get32(ip + iphl + 4) + g->mss;
    g->count = 1;
    g->closed = (ip[iphl + 13] & 0x08) != 0; /* PSH ends a group */
}

static int same_flow(const struct sy_gro_flow *g, const uint8_t *ip, int v6, size_t iphl) {
    if (!g->count || v6 != g->v6 || iphl != g->iphl) return 0;
    const uint8_t *h = g->buf;
    if (v6 ? memcmp(h + 8, ip + 8, 32) : memcmp(h + 12, ip + 12, 8)) return 0;
    return memcmp(h + iphl, ip + iphl, 4) == 0; /* ports */
}

/* Next in sequence, same ACK/window/options/TOS/TTL, full-size predecessor. */
static int fits(const struct sy_gro_flow *g, const uint8_t *ip, size_t len, int v6, size_t iphl, size_t thl) {
    const uint8_t *h = g->buf;
    if (g->closed || thl != g->thl) return 0;
    size_t payload = len - iphl - thl;
    if (payload > g->mss || g->len + payload > GRO_MAX) return 0;
    if (!v6 && (h[1] != ip[1] || h[8] != ip[8])) return 0; /* TOS, TTL */
    if (v6 && (memcmp(h, ip, 4) || h[7] != ip[7])) return 0;
    const uint8_t *a = h + iphl, *b = ip + iphl;
    if (sy_get32(b + 4) != g->next_seq) return 0;          /* in order */
    if (memcmp(a + 8, b + 8, 4) || memcmp(a + 14, b + 14, 2)) return 0; /* ack, window */
    if (memcmp(a + 20, b + 20, thl - 20)) return 0;        /* options (timestamps) */
    return 1;
}

void sy_gro_add(struct sy_gro *o, int tun_fd, const uint8_t *ip, size_t len) {
    int v6;
    size_t iphl, thl;
    if (!tcp_candidate(ip, len, &v6, &iphl, &thl)) {
        /* A TCP control segment (FIN, RST...) must not overtake its flow's pending data. */
        if (((ip[0] >> 4) == 4 && ip[9] == IPPROTO_TCP) || ((ip[0] >> 4) == 6 && ip[6] == IPPROTO_TCP))
            sy_gro_flush(o, tun_fd);
        struct virtio_net_hdr vh = {0};
        struct iovec iov[2] = {{&vh, sizeof(vh)}, {(void *)ip, len}};
        o->written += writev(tun_fd, iov, 2) < 0 ? 0 : 1;
        return;
    }
    struct sy_gro_flow *g = NULL;
    for (int i = 0; i < SY_GRO_FLOWS && !g; i++)
        if (same_flow(&o->flows[i], ip, v6, iphl)) g = &o->flows[i];
    if (!g) { /* a free slot, else the least recently used flow gives way */
        for (int i = 0; i < SY_GRO_FLOWS; i++) {
            struct sy_gro_flow *f = &o->flows[i];
            if (!f->count) {
                g = f;
                break;
            }
            if (!g || f->age < g->age) g = f;
        }
        flush_flow(o, g, tun_fd);
    }
    g->age = ++o->clock;
    if (g->count && fits(g, ip, len, v6, iphl, thl)) {
        size_t payload = len - iphl - thl;
        memcpy(g->buf + g->len, ip + iphl + thl, payload);
        g->len += payload;
        g->next_seq += (uint32_t)payload;
        g->count++;
        g->buf[iphl + 13] |= ip[iphl + 13] & 0x08;
        if (payload < g->mss || (ip[iphl + 13] & 0x08)) g->closed = 1;
        return;
    }
    flush_flow(o, g, tun_fd);
    start(g, ip, len, v6, iphl, thl);
}
