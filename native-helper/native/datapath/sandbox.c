/* After setup: be an unprivileged user (the helper normally starts us as one already; if started as
 * root we switch), forbid regaining privileges, hide our memory (keys) from ptrace by other processes
 * of that user, and allow only the system calls the packet loop needs: no open, socket or ioctl. */
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "setup.h"

int sy_drop_privileges(uid_t uid, gid_t gid) {
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0) return -1;
    int already = ru == uid && eu == uid && su == uid && rg == gid && eg == gid && sg == gid;
    if (!already) {
        if (setgroups(0, NULL) < 0) return -1;
        if (setresgid(gid, gid, gid) < 0) return -1;
        if (setresuid(uid, uid, uid) < 0) return -1;
    } else if (getgroups(0, NULL) != 0) {
        errno = EPERM; /* supplementary groups would be privileges we cannot shed any more */
        return -1;
    }
    if (setuid(0) == 0) return -1; /* must be impossible now */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) return -1;
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

#define ALLOW(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

int sy_apply_seccomp(void) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW(SYS_read), ALLOW(SYS_write), ALLOW(SYS_readv), ALLOW(SYS_writev),
        ALLOW(SYS_recvmmsg), ALLOW(SYS_sendmmsg), ALLOW(SYS_sendmsg), ALLOW(SYS_recvmsg), ALLOW(SYS_sendto),
        ALLOW(SYS_poll), ALLOW(SYS_ppoll), ALLOW(SYS_futex), ALLOW(SYS_clock_gettime), ALLOW(SYS_clock_nanosleep),
        ALLOW(SYS_nanosleep), ALLOW(SYS_exit), ALLOW(SYS_exit_group), ALLOW(SYS_mmap), ALLOW(SYS_munmap),
        ALLOW(SYS_mprotect), ALLOW(SYS_brk), ALLOW(SYS_madvise), ALLOW(SYS_rt_sigreturn), ALLOW(SYS_rt_sigprocmask),
        ALLOW(SYS_getrandom), ALLOW(SYS_close), ALLOW(SYS_sched_yield), ALLOW(SYS_clone), ALLOW(SYS_clone3),
        ALLOW(SYS_set_robust_list), ALLOW(SYS_rseq), ALLOW(SYS_getpid), ALLOW(SYS_gettid), ALLOW(SYS_tgkill),
        ALLOW(SYS_newfstatat), ALLOW(SYS_fstat), ALLOW(SYS_lseek), ALLOW(SYS_rt_sigaction), ALLOW(SYS_sigaltstack),
        ALLOW(SYS_mremap),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}
