#include "tso.h"
#include <netinet/in.h>
#include <string.h>
#include "wire.h"

#define SEG_HEADROOM 64
#define SEG_MAX 65536

uint32_t sy_csum_add(uint32_t sum, const uint8_t *p, size_t len) {
    uint64_t s = sum;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        s += (v & 0xffffffff) + (v >> 32);
        p += 8;
        len -= 8;
    }
    while (len >= 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        s += v;
        p += 2;
        len -= 2;
    }
    if (len) s += *p; /* little-endian host: the odd byte is the high byte in network order */
    while (s >> 32) s = (s & 0xffffffff) + (s >> 32);
    return (uint32_t)s;
}

uint16_t sy_csum_fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Pseudo-header sum (host-order accumulation of network-order words, as sy_csum_add does). */
static uint32_t pseudo(const uint8_t *ip, int v6, uint8_t proto, size_t l4len) {
    uint32_t s;
    uint8_t tail[8] = {0};
    if (v6) {
        s = sy_csum_add(0, ip + 8, 32);
        sy_put32(tail, (uint32_t)l4len);
        tail[7] = proto;
        return sy_csum_add(s, tail, 8);
    }
    s = sy_csum_add(0, ip + 12, 8);
    tail[1] = proto;
    sy_put16(tail + 2, (uint16_t)l4len);
    return sy_csum_add(s, tail, 4);
}

static void l4_checksum(uint8_t *ip, int v6, size_t iphl, uint8_t proto, size_t total) {
    uint8_t *l4 = ip + iphl;
    size_t l4len = total - iphl;
    size_t off = proto == IPPROTO_TCP ? 16 : 6;
    l4[off] = l4[off + 1] = 0;
    uint16_t c = sy_csum_fold(sy_csum_add(pseudo(ip, v6, proto, l4len), l4, l4len));
    if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
    memcpy(l4 + off, &c, 2);
}

static void ipv4_checksum(uint8_t *ip, size_t iphl) {
    ip[10] = ip[11] = 0;
    uint16_t c = sy_csum_fold(sy_csum_add(0, ip, iphl));
    memcpy(ip + 10, &c, 2);
}

int sy_tso_split(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len,
                 uint8_t *(*segment_buffer)(void *ctx, size_t seglen),
                 void (*emit)(void *ctx, uint8_t *seg, size_t seglen), void *ctx) {
    size_t iplen;
    int ver = sy_inner_valid(pkt, len, &iplen);
    if (ver < 0) return -1;
    len = iplen;
    int v6 = ver == 6;
    size_t iphl = v6 ? 40 : (size_t)(pkt[0] & 15) * 4;
    uint8_t proto = v6 ? pkt[6] : pkt[9];
    uint8_t gso = vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

    if (gso == VIRTIO_NET_HDR_GSO_NONE) {
        /* Only a partial checksum to complete, at csum_start + csum_offset. */
        size_t start = vh->csum_start, off = vh->csum_offset;
        /* The checksum must lie in the transport header, never in the IP header it would corrupt. */
        if (start < iphl || start > len || off + 2 > len - start) return -1;
        uint16_t c = sy_csum_fold(sy_csum_add(0, pkt + start, len - start));
        if (proto == IPPROTO_UDP && c == 0) c = 0xffff;
        memcpy(pkt + start + off, &c, 2);
        emit(ctx, pkt, len);
        return 0;
    }
    int tcp = gso == VIRTIO_NET_HDR_GSO_TCPV4 || gso == VIRTIO_NET_HDR_GSO_TCPV6;
#ifdef VIRTIO_NET_HDR_GSO_UDP_L4
    int udp = gso == VIRTIO_NET_HDR_GSO_UDP_L4;
#else
    int udp = gso == 5;
#endif
    if (!(tcp && proto == IPPROTO_TCP) && !(udp && proto == IPPROTO_UDP)) return -1;
    size_t l4hl;
    if (tcp) {
        if (len < iphl + 20) return -1;
        l4hl = (size_t)(pkt[iphl + 12] >> 4) * 4;
        if (l4hl < 20) return -1;
    } else {
        l4hl = 8;
    }
    size_t hl = iphl + l4hl, mss = vh->gso_size;
    if (len < hl || mss == 0 || hl + mss > SEG_MAX) return -1;
    size_t payload = len - hl;
    static __thread uint8_t seg[SEG_HEADROOM + SEG_MAX + 16];
    uint32_t seq = tcp ? sy_get32(pkt + iphl + 4) : 0;
    uint16_t id = v6 ? 0 : sy_get16(pkt + 4);
    uint8_t flags = tcp ? pkt[iphl + 13] : 0;
    size_t n = 0;
    for (size_t off = 0; off < payload || (payload == 0 && n == 0); off += mss, n++) {
        size_t chunk = payload - off < mss ? payload - off : mss;
        int last = off + chunk >= payload;
        /* Straight into the caller's send buffer when it has one: no extra copy per segment. */
        uint8_t *s = segment_buffer ? segment_buffer(ctx, hl + chunk) : NULL;
        if (!s) s = seg + SEG_HEADROOM;
        memcpy(s, pkt, hl);
        memcpy(s + hl, pkt + hl + off, chunk);
        size_t total = hl + chunk;
        if (v6) {
            sy_put16(s + 4, (uint16_t)(total - 40));
        } else {
            sy_put16(s + 2, (uint16_t)total);
            sy_put16(s + 4, (uint16_t)(id + n));
            ipv4_checksum(s, iphl);
        }
        if (tcp) {
            sy_put32(s + iphl + 4, seq + (uint32_t)off);
            uint8_t f = flags;
            if (!last) f &= (uint8_t)~0x09; /* FIN, PSH only on the last segment */
            if (n) f &= (uint8_t)~0x80;    /* CWR only on the first */
            s[iphl + 13] = f;
        } else {
            sy_put16(s + iphl + 4, (uint16_t)(l4hl + chunk));
        }
        l4_checksum(s, v6, iphl, proto, total);
        emit(ctx, s, total);
        if (payload == 0) break;
    }
    return 0;
}
