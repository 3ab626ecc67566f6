// Filesystems the helper needs mounted: bpffs for its pins. systemd and Cilium mount it at
// /sys/fs/bpf; a fresh machine without them has nothing there. The check and the mount hold a flock
// on the mount point's directory, so two helpers starting at once do not stack two mounts (the upper
// one would hide the pins made in the lower).
#define _GNU_SOURCE
#include "util.h"
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

static bool is_bpffs(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == BPF_FS_MAGIC;
}

// ensureBpffs(mountPoint) → true when it mounted bpffs now, false when one was there already.
static napi_value ensure_bpffs(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char mnt[PATH_MAX];
	if (!sy_args(env, info, 1, 1, argv) || !sy_arg_str(env, argv[0], "mountPoint", mnt, sizeof mnt))
		return NULL;
	if (is_bpffs(mnt))
		return sy_bool(env, false);

	int dfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sy_throw_errno(env, "ensureBpffs: open", errno);
	if (flock(dfd, LOCK_EX) < 0) {
		int err = errno;
		close(dfd);
		return sy_throw_errno(env, "ensureBpffs: flock", err);
	}
	napi_value result;
	if (is_bpffs(mnt))
		result = sy_bool(env, false); // another helper mounted it while we waited
	else if (mount("bpf", mnt, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
		result = sy_throw_errno(env, "ensureBpffs: mount", errno);
	else
		result = sy_bool(env, true);
	close(dfd); // releases the lock
	return result;
}

void sy_init_mounts(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "ensureBpffs", ensure_bpffs);
}
