// Shared by the tagger and the classifier: pinned objects, our attached programs, libbpf's last word.
#pragma once
#include "util.h"
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define SY_MAX_ATTACHED 64

/* The last libbpf message (verifier log line, bad object), for load errors. */
extern char sy_libbpf_last[1024];
void sy_libbpf_capture(void);

bool sy_join(napi_env env, char *out, const char *dir, const char *name);
uint32_t sy_fd_prog_id(int fd, uint32_t *map_ids, uint32_t *nr_maps);
uint32_t sy_fd_map_id(int fd);
/* Id of the object pinned at path, 0 if none. */
uint32_t sy_pinned_id(const char *path, bool is_map);
/* Programs attached directly to the cgroup for `type` that are ours: they use map_id or are prog_id. */
int sy_find_ours(int cg_fd, enum bpf_attach_type type, uint32_t map_id, uint32_t prog_id, uint32_t *ours,
		 uint32_t *n_ours, uint32_t *n_attached);
/* Throws unless dir is on a bpf filesystem. */
bool sy_check_bpffs(napi_env env, const char *dir, const char *op);
