#ifndef SY_SETUP_H
#define SY_SETUP_H
#include <stdint.h>
#include <sys/types.h>

int sy_adopt_tun(const int *fds, int n, int offloads, char *name);
int sy_adopt_udp(const int *fds, int n, uint16_t *port);
int sy_map_flowmark(int map_fd, int writable);
int sy_drop_privileges(uid_t uid, gid_t gid);
int sy_apply_seccomp(void);

#endif
