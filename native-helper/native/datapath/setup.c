/* Privileged setup, done before any packet is parsed: TUN queues, UDP sockets, the tc flowmark
 * program and its map. Then privileges are dropped for good (sandbox.c). */
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
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "dp.h"
#include "flowmark.h"
#include "flowmark.skel.h"
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

int sy_open_tun(const char *name, int *fds, int n, int offloads) {
    for (int i = 0; i < n; i++) {
        int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) return -1;
        struct ifreq ifr = {0};
        ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
            close(fd);
            return -1;
        }
        int hdr = sizeof(struct virtio_net_hdr);
        if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) return -1;
        unsigned off = 0;
        if (offloads) {
            off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6;
            if (ioctl(fd, TUNSETOFFLOAD, off) < 0) {
                off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
                if (ioctl(fd, TUNSETOFFLOAD, off) < 0) return -1;
            }
        } else if (ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
            return -1;
        }
        fds[i] = fd;
    }
    return 0;
}

int sy_open_udp(uint16_t *port, int *fds, int n) {
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) return -1;
        int zero = 0, one = 1, buf = 4 << 20;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
        setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any, .sin6_port = htons(*port)};
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) return -1;
        if (*port == 0) {
            socklen_t l = sizeof(a);
            getsockname(fd, (struct sockaddr *)&a, &l);
            *port = ntohs(a.sin6_port);
        }
        if (G.udp_gro && setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) < 0) G.udp_gro = 0;
        fds[i] = fd;
    }
    return 0;
}

/* Loads the tc program, attaches it to the TUN's egress and maps its array read-only. The program
 * stays attached as long as the device exists, which is as long as this process holds its queues. */
int sy_attach_flowmark(const char *ifname) {
    libbpf_set_print(NULL);
    struct flowmark_bpf *skel = flowmark_bpf__open_and_load();
    if (!skel) return -1;
    int ifindex = (int)if_nametoindex(ifname);
    if (!ifindex) return -1;
    DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
    int r = bpf_tc_hook_create(&hook);
    if (r < 0 && r != -EEXIST) return -1;
    DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(skel->progs.sy_flowmark));
    if (bpf_tc_attach(&hook, &opts) < 0) return -1;
    int mfd = bpf_map__fd(skel->maps.sy_flowmarks);
    size_t sz = (size_t)SY_FLOW_SLOTS * sizeof(struct sy_flow_slot);
    void *m = mmap(NULL, sz, PROT_READ, MAP_SHARED, mfd, 0);
    if (m == MAP_FAILED) return -1;
    G.flowmarks = m;
    /* The mapping keeps the map alive; the program is held by the tc filter. Close the rest. */
    flowmark_bpf__destroy(skel);
    return 0;
}
