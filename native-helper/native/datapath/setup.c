/* Setup before any packet is parsed: adopt the TUN queues, UDP sockets and flowmark map the helper
 * opened and passed as inherited fds. Nothing here needs privileges; sandbox.c follows. */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_net.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "dp.h"
#include "flowmark.h"
#include "setup.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Descriptors come from the helper (native/src/tun.c), which alone may open /dev/net/tun and set
 * socket options that need CAP_NET_ADMIN. Here we only check what we were given and set what an
 * unprivileged owner may: non-blocking mode and UDP_GRO. */
int sy_adopt_tun(const int *fds, int n, int offloads, char *name) {
    for (int i = 0; i < n; i++) {
        struct ifreq ifr = {0};
        if (ioctl(fds[i], TUNGETIFF, &ifr) < 0) return -1;
        const int want = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
        if ((ifr.ifr_flags & want) != want || (i && strncmp(name, ifr.ifr_name, IFNAMSIZ))) {
            errno = EINVAL;
            return -1;
        }
        snprintf(name, IFNAMSIZ, "%s", ifr.ifr_name);
        int hdr = 0;
        if (ioctl(fds[i], TUNGETVNETHDRSZ, &hdr) < 0) return -1;
        if (hdr != (int)sizeof(struct virtio_net_hdr)) {
            errno = EINVAL;
            return -1;
        }
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0) return -1;
        if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0) return -1;
    }
    (void)offloads; /* the helper set TUNSETOFFLOAD to match --offload */
    return 0;
}

int sy_adopt_udp(const int *fds, int n, uint16_t *port) {
    for (int i = 0; i < n; i++) {
        struct sockaddr_in6 a;
        socklen_t l = sizeof(a);
        int type = 0, one = 1;
        socklen_t tl = sizeof(type);
        if (getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type, &tl) < 0) return -1;
        if (getsockname(fds[i], (struct sockaddr *)&a, &l) < 0) return -1;
        if (type != SOCK_DGRAM || a.sin6_family != AF_INET6 || (i && ntohs(a.sin6_port) != *port)) {
            errno = EINVAL;
            return -1;
        }
        *port = ntohs(a.sin6_port);
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0) return -1;
        if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0) return -1;
        if (G.udp_gro && setsockopt(fds[i], IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) < 0) G.udp_gro = 0;
    }
    return 0;
}

/* The helper loaded and attached the tc program (it stays as long as the TUN exists); we map its
 * array (read-only on the client, writable on the gateway, which files marks) and drop the fd: the
 * mapping keeps the map alive. */
int sy_map_flowmark(int map_fd, int writable) {
    size_t sz = (size_t)SY_FLOW_SLOTS * sizeof(struct sy_flow_slot);
    void *m = mmap(NULL, sz, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, map_fd, 0);
    if (m == MAP_FAILED) return -1;
    G.flowmarks = m;
    close(map_fd);
    return 0;
}
