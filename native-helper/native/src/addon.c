// Entry point of switchyard_native.node: kernel mechanisms Node cannot reach on its own.
#include "util.h"

void sy_init_wifi(napi_env env, napi_value exports); /* wifi.c */
void sy_init_writes(napi_env env, napi_value exports); /* writes.c */
void sy_init_journal(napi_env env, napi_value exports); /* journal.c */
void sy_init_memory(napi_env env, napi_value exports); /* memory.c */

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
	sy_init_writes(env, exports);
	sy_init_journal(env, exports);
	sy_init_memory(env, exports);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
