// SO_PEERCRED on a connected Unix socket: who is on the other end (the daemon's API authentication).
#define _GNU_SOURCE
#include "util.h"
#include <sys/socket.h>

static napi_value peer_cred(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int32_t fd;
	if (!sy_args(env, info, 1, 1, argv) || !sy_arg_i32(env, argv[0], "fd", &fd))
		return NULL;
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return sy_throw_errno(env, "peerCred: getsockopt(SO_PEERCRED)", errno);
	napi_value obj;
	napi_create_object(env, &obj);
	sy_set(env, obj, "pid", sy_i32(env, cred.pid));
	sy_set(env, obj, "uid", sy_u32(env, cred.uid));
	sy_set(env, obj, "gid", sy_u32(env, cred.gid));
	return obj;
}

void sy_init_peercred(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "peerCred", peer_cred);
}
