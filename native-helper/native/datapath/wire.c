#include "wire.h"
#include <string.h>

/* TLV walk; unknown types < 0x80 are skipped, unknown critical ones or duplicates reject. */
typedef int (*tlv_fn)(uint8_t type, const uint8_t *v, uint8_t len, void *ctx, uint32_t *seen);

static int walk_tlvs(const uint8_t *p, size_t len, tlv_fn fn, void *ctx) {
    uint32_t seen = 0;
    size_t off = 0;
    while (off < len) {
        if (len - off < 2) return -1;
        uint8_t type = p[off], l = p[off + 1];
        if (len - off - 2 < l) return -1;
        int r = fn(type, p + off + 2, l, ctx, &seen);
        if (r < 0) return -1;
        if (r == 0 && type >= 0x80) return -1;
        off += 2 + (size_t)l;
    }
    return 0;
}

static int once(uint32_t *seen, uint8_t type) {
    uint32_t bit = 1u << type;
    if (*seen & bit) return -1;
    *seen |= bit;
    return 1;
}

static int clear_tlv(uint8_t type, const uint8_t *v, uint8_t len, void *ctx, uint32_t *seen) {
    struct sy_hdr *h = ctx;
    switch (type) {
    case SY_TLV_EPOCH:
        if (len != 4 || once(seen, type) < 0) return -1;
        h->epoch = sy_get32(v);
        h->has_epoch = 1;
        return 1;
    case SY_TLV_CLASS:
        if (len != 1 || once(seen, type) < 0) return -1;
        h->traffic_class = v[0];
        h->has_class = 1;
        return 1;
    case SY_TLV_APP_TAG:
    case SY_TLV_POLICY:
    case SY_TLV_GROUP:
        return -1; /* secret metadata must never travel in the clear */
    default:
        return 0;
    }
}

static int secret_tlv(uint8_t type, const uint8_t *v, uint8_t len, void *ctx, uint32_t *seen) {
    struct sy_meta *m = ctx;
    switch (type) {
    case SY_TLV_APP_TAG:
        if (len != 2 || once(seen, type) < 0) return -1;
        m->app_tag = sy_get16(v);
        m->has_tag = 1;
        return 1;
    case SY_TLV_POLICY:
        if (len != 4 || once(seen, type) < 0) return -1;
        m->policy_id = sy_get32(v);
        m->has_policy = 1;
        return 1;
    case SY_TLV_GROUP:
        if (len != 4 || once(seen, type) < 0) return -1;
        m->group_id = sy_get32(v);
        m->has_group = 1;
        return 1;
    default:
        return 0;
    }
}

int sy_parse_header(const uint8_t *pkt, size_t len, struct sy_hdr *h) {
    memset(h, 0, sizeof(*h));
    if (len < SY_HDR_LEN || pkt[0] != SY_VERSION || pkt[1] != SY_TYPE_DATA) return -1;
    h->clear_len = sy_get16(pkt + 2);
    if (h->clear_len > SY_MAX_CLEAR) return -1;
    if (len < (size_t)SY_HDR_LEN + h->clear_len + 2 + SY_TAG_LEN) return -1;
    h->receiver = sy_get32(pkt + 4);
    h->counter = sy_get64(pkt + 8);
    if (walk_tlvs(pkt + SY_HDR_LEN, h->clear_len, clear_tlv, h) < 0) return -1;
    if (!h->has_epoch) return -1;
    return 0;
}

int sy_inner_valid(const uint8_t *ip, size_t len, size_t *ip_len) {
    if (len < 1) return -1;
    if ((ip[0] >> 4) == 4) {
        if (len < 20) return -1;
        size_t ihl = (size_t)(ip[0] & 15) * 4, tot = sy_get16(ip + 2);
        if (ihl < 20 || tot < ihl || tot > len) return -1;
        *ip_len = tot;
        return 4;
    }
    if ((ip[0] >> 4) == 6) {
        if (len < 40) return -1;
        size_t tot = 40 + (size_t)sy_get16(ip + 4);
        if (tot > len) return -1;
        *ip_len = tot;
        return 6;
    }
    return -1;
}

int sy_parse_plaintext(const uint8_t *pt, size_t len, struct sy_meta *m, const uint8_t **inner, size_t *inner_len) {
    memset(m, 0, sizeof(*m));
    if (len < 2) return -1;
    size_t slen = sy_get16(pt);
    if (slen > len - 2) return -1;
    if (walk_tlvs(pt + 2, slen, secret_tlv, m) < 0) return -1;
    const uint8_t *ip = pt + 2 + slen;
    size_t iplen;
    if (sy_inner_valid(ip, len - 2 - slen, &iplen) < 0) return -1;
    *inner = ip;
    *inner_len = iplen;
    return 0;
}

void sy_write_header(uint8_t *out, uint32_t receiver, uint64_t counter, uint32_t epoch, uint8_t traffic_class) {
    out[0] = SY_VERSION;
    out[1] = SY_TYPE_DATA;
    sy_put16(out + 2, SY_CLEAR_LEN);
    sy_put32(out + 4, receiver);
    sy_put64(out + 8, counter);
    uint8_t *t = out + SY_HDR_LEN;
    t[0] = SY_TLV_EPOCH;
    t[1] = 4;
    sy_put32(t + 2, epoch);
    t[6] = SY_TLV_CLASS;
    t[7] = 1;
    t[8] = traffic_class;
}

size_t sy_write_secret(uint8_t *out, int with_meta, uint16_t tag, uint32_t policy, uint32_t group) {
    if (!with_meta) {
        sy_put16(out, 0);
        return 2;
    }
    sy_put16(out, SY_SECRET_LEN - 2);
    out[2] = SY_TLV_APP_TAG;
    out[3] = 2;
    sy_put16(out + 4, tag);
    out[6] = SY_TLV_POLICY;
    out[7] = 4;
    sy_put32(out + 8, policy);
    out[12] = SY_TLV_GROUP;
    out[13] = 4;
    sy_put32(out + 14, group);
    return SY_SECRET_LEN;
}
