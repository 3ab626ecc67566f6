/* Userspace segmentation of the TUN's TSO/USO super-packets and completion of partial checksums:
 * what a NIC would do, so each segment can be sealed as its own tunnel datagram. */
#ifndef SY_TSO_H
#define SY_TSO_H
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

/* Calls emit(ctx, seg, seglen) per resulting packet. Each segment is built in the buffer that
 * segment_buffer(ctx, seglen) returns (or a private one when it is NULL or returns NULL); that
 * buffer must have 64 writable bytes before it and 16 after. Returns -1 on a malformed packet. */
int sy_tso_split(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len,
                 uint8_t *(*segment_buffer)(void *ctx, size_t seglen),
                 void (*emit)(void *ctx, uint8_t *seg, size_t seglen), void *ctx);

uint16_t sy_csum_fold(uint32_t sum);
uint32_t sy_csum_add(uint32_t sum, const uint8_t *p, size_t len);

#endif
