// Pinned BPF objects and "which attached programs are ours", shared by tagger.c and classifier.c.
#define _GNU_SOURCE
#include "bpfpin.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

char sy_libbpf_last[1024];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(sy_libbpf_last, sizeof sy_libbpf_last, fmt, ap);
	size_t n = strlen(sy_libbpf_last);
	while (n && sy_libbpf_last[n - 1] == '\n')
		sy_libbpf_last[--n] = 0;
	return 0;
}

void sy_libbpf_capture(void)
{
	libbpf_set_print(libbpf_print);
	sy_libbpf_last[0] = 0;
}

bool sy_join(napi_env env, char *out, const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
		sy_throw(env, true, "pinDir is too long");
		return false;
	}
	return true;
}

uint32_t sy_fd_prog_id(int fd, uint32_t *map_ids, uint32_t *nr_maps)
{
	struct bpf_prog_info info;
	memset(&info, 0, sizeof info);
	if (map_ids) {
		info.nr_map_ids = *nr_maps;
		info.map_ids = (uint64_t)(uintptr_t)map_ids;
	}
	uint32_t len = sizeof info;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	if (nr_maps)
		*nr_maps = info.nr_map_ids < *nr_maps ? info.nr_map_ids : *nr_maps;
	return info.id;
}

uint32_t sy_fd_map_id(int fd)
{
	struct bpf_map_info info;
	memset(&info, 0, sizeof info);
	uint32_t len = sizeof info;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

uint32_t sy_pinned_id(const char *path, bool is_map)
{
	int fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	uint32_t id = is_map ? sy_fd_map_id(fd) : sy_fd_prog_id(fd, NULL, NULL);
	close(fd);
	return id;
}

int sy_find_ours(int cg_fd, enum bpf_attach_type type, uint32_t map_id, uint32_t prog_id, uint32_t *ours,
		 uint32_t *n_ours, uint32_t *n_attached)
{
	uint32_t ids[SY_MAX_ATTACHED], cnt = SY_MAX_ATTACHED, flags = 0;
	*n_ours = 0;
	if (bpf_prog_query(cg_fd, type, 0, &flags, ids, &cnt))
		return -errno;
	*n_attached = cnt;
	for (uint32_t i = 0; i < cnt; i++) {
		bool mine = prog_id && ids[i] == prog_id;
		if (!mine && map_id) {
			int fd = bpf_prog_get_fd_by_id(ids[i]);
			if (fd < 0)
				continue;
			uint32_t maps[16], nr = 16;
			if (sy_fd_prog_id(fd, maps, &nr))
				for (uint32_t m = 0; m < nr; m++)
					mine |= maps[m] == map_id;
			close(fd);
		}
		if (mine)
			ours[(*n_ours)++] = ids[i];
	}
	return 0;
}

bool sy_check_bpffs(napi_env env, const char *dir, const char *op)
{
	struct statfs sf;
	if (statfs(dir, &sf) < 0) {
		sy_throw_errno(env, op, errno);
		return false;
	}
	if ((unsigned long)sf.f_type != BPF_FS_MAGIC) {
		sy_throw(env, false, "%s: pinDir %s is not on a bpf filesystem; use a directory under /sys/fs/bpf", op,
			 dir);
		return false;
	}
	return true;
}
