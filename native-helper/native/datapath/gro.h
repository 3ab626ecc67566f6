#ifndef SY_GRO_H
#define SY_GRO_H
#include <stddef.h>
#include <stdint.h>

#define SY_GRO_FLOWS 8

/* One flow's pending super-packet. */
struct sy_gro_flow {
    uint8_t *buf; /* 64 KiB */
    size_t len;
    int v6, closed;
    size_t iphl, thl;
    uint16_t mss;
    uint32_t next_seq;
    int count;
    uint64_t age;
};

struct sy_gro {
    struct sy_gro_flow flows[SY_GRO_FLOWS];
    uint64_t clock;
    uint64_t written, superpackets;
};

/* Allocates the flow buffers; returns -1 when out of memory. */
int sy_gro_init(struct sy_gro *g);
/* Hand one decrypted inner packet to the TUN, coalescing TCP segments of up to SY_GRO_FLOWS flows. */
void sy_gro_add(struct sy_gro *g, int tun_fd, const uint8_t *ip, size_t len);
/* Write out every pending group; call at the end of every receive batch. */
void sy_gro_flush(struct sy_gro *g, int tun_fd);

#endif
