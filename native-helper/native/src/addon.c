// Entry point of switchyard_native.node: kernel mechanisms Node cannot reach on its own.
#include "util.h"

void sy_init_wifi(napi_env env, napi_value exports); /* wifi.c */

static napi_value init(napi_env env, napi_value exports)
{
	sy_init_peercred(env, exports);
	sy_init_cgroup(env, exports);
	sy_init_tagger(env, exports);
	sy_init_classifier(env, exports);
	sy_init_procevents(env, exports);
	sy_init_sockets(env, exports);
	sy_init_tun(env, exports);
	sy_init_mounts(env, exports);
	sy_init_wifi(env, exports);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
