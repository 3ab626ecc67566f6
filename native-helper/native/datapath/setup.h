#ifndef SY_SETUP_H
#define SY_SETUP_H
#include <stdint.h>
#include <sys/types.h>

int sy_open_tun(const char *name, int *fds, int n, int offloads);
int sy_open_udp(uint16_t *port, int *fds, int n);
int sy_attach_flowmark(const char *ifname);
int sy_drop_privileges(uid_t uid, gid_t gid);
int sy_apply_seccomp(void);

#endif
