/* LD_PRELOAD shim for tests and benchmarks: every AF_INET/AF_INET6 socket the program creates gets
 * SO_MARK = $SY_MARK, standing in for the tagger's cgroup/sock_create program. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

int socket(int domain, int type, int protocol) {
    static int (*real)(int, int, int);
    if (!real) real = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
    int fd = real(domain, type, protocol);
    const char *m = getenv("SY_MARK");
    if (fd >= 0 && m && (domain == AF_INET || domain == AF_INET6)) {
        unsigned mark = (unsigned)strtoul(m, NULL, 0);
        setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
    }
    return fd;
}
