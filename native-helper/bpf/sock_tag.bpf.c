// SPDX-License-Identifier: GPL-2.0
// cgroup/sock_create: stamp every new IPv4/IPv6 socket with the mark of the process's cgroup (or of its
// nearest tagged ancestor, so nested scopes an app creates inherit its tag). Policy routing does the rest.
// No CO-RE: only the stable UAPI struct bpf_sock is used, so it loads on kernels without BTF.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define AF_INET 2
#define AF_INET6 10

/* Keep in sync with native-helper/native/src/tagger.c and the TS wrapper. */
#define SY_TAG_DENY 1u  /* creation of the socket fails with EPERM ("hard block") */
#define MAX_LEVEL 64    /* cgroup v2 nesting we search for the current level */
#define MAX_INHERIT 8   /* ancestors searched above the socket's own cgroup */

struct tag {
	__u32 mark;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64); /* cgroup v2 id (= inode of the cgroup directory) */
	__type(value, struct tag);
} tags SEC(".maps");

static __always_inline struct tag *tag_of_current(void)
{
	__u64 id = bpf_get_current_cgroup_id();
	struct tag *t = bpf_map_lookup_elem(&tags, &id);
	if (t)
		return t;

	/* Find our own level (ancestor(level) == self), then look upward one level at a time. */
	int level = -1;
	for (int l = 1; l < MAX_LEVEL; l++) {
		__u64 a = bpf_get_current_ancestor_cgroup_id(l);
		if (a == 0)
			break;
		if (a == id) {
			level = l;
			break;
		}
	}
	if (level < 1)
		return 0;

	for (int i = 1; i <= MAX_INHERIT; i++) {
		int l = level - i;
		if (l < 1)
			break;
		__u64 a = bpf_get_current_ancestor_cgroup_id(l);
		t = bpf_map_lookup_elem(&tags, &a);
		if (t)
			return t;
	}
	return 0;
}

SEC("cgroup/sock_create")
int sock_tag(struct bpf_sock *ctx)
{
	if (ctx->family != AF_INET && ctx->family != AF_INET6)
		return 1;
	struct tag *t = tag_of_current();
	if (!t)
		return 1;
	if (t->flags & SY_TAG_DENY)
		return 0;
	ctx->mark = t->mark;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
