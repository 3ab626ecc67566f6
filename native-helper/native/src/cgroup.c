// The cgroup v2 id of a directory: the 8-byte kernfs file handle, which is what
// bpf_get_current_cgroup_id() returns. stat's st_ino is the same number on 64-bit kernels (fallback).
#define _GNU_SOURCE
#include "util.h"
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

int sy_cgroup_id(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	int mount_id;
	h.fh.handle_bytes = sizeof(uint64_t);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) == 0 && h.fh.handle_bytes == 8) {
		memcpy(id, h.fh.f_handle, 8);
		return 0;
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	*id = st.st_ino;
	return 0;
}

static napi_value cgroup_id(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char path[PATH_MAX];
	if (!sy_args(env, info, 1, 1, argv) || !sy_arg_str(env, argv[0], "path", path, sizeof path))
		return NULL;
	uint64_t id;
	int err = sy_cgroup_id(path, &id);
	if (err)
		return sy_throw_errno(env, "cgroupId: stat", -err);
	return sy_u64(env, id);
}

void sy_init_cgroup(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "cgroupId", cgroup_id);
}
