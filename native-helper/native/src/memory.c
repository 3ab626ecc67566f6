// Memory the helper's process no longer uses goes back to the kernel. glibc keeps freed malloc memory
// (V8's compiler zones, parser buffers, Node's I/O) resident in its heap after a burst of work; an
// idle daemon would carry tens of MB of it. Node has no way to ask for malloc_trim.
#include "util.h"
#include <malloc.h>

// trimMemory() → true when some memory was released.
static napi_value trim_memory(napi_env env, napi_callback_info info)
{
	(void)info;
	return sy_bool(env, malloc_trim(0) != 0);
}

void sy_init_memory(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "trimMemory", trim_memory);
}
