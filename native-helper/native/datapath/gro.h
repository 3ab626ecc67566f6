#ifndef SY_GRO_H
#define SY_GRO_H
#include <stddef.h>
#include <stdint.h>

struct sy_gro {
    uint8_t *buf; /* 64 KiB */
    size_t len;
    int v6, closed;
    size_t iphl, thl;
    uint16_t mss;
    uint32_t next_seq;
    int count;
    uint64_t written, superpackets;
};

/* Hand one decrypted inner packet to the TUN, coalescing TCP segments where possible. */
void sy_gro_add(struct sy_gro *g, int tun_fd, const uint8_t *ip, size_t len);
/* Write out the pending group; call at the end of every receive batch. */
void sy_gro_flush(struct sy_gro *g, int tun_fd);

#endif
