// Tagger control: load sock_tag.bpf.o, pin program and map under a per-instance bpffs dir, attach to
// the helper's cgroup with BPF_F_ALLOW_MULTI, and edit the pinned `tags` map.
//
// Crash safety: the map is pinned and reused across helper restarts, so tags never lapse. On attach we
// recognise "our" programs already attached to the cgroup (those using the pinned map, or the pinned
// program) and atomically swap the first for the freshly loaded one with BPF_F_REPLACE, detaching any
// extra copies, so exactly one is attached however the previous helper died.
#define _GNU_SOURCE
#include "bpfpin.h"
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#define ATTACH_TYPE BPF_CGROUP_INET_SOCK_CREATE

struct tag {
	uint32_t mark;
	uint32_t flags;
};

static napi_value tagger_attach(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char object[PATH_MAX], cg_path[PATH_MAX], pin_dir[PATH_MAX - 16], map_pin[PATH_MAX], prog_pin[PATH_MAX];
	if (!sy_args(env, info, 1, 1, argv) || !sy_prop_str(env, argv[0], "object", object, sizeof object) ||
	    !sy_prop_str(env, argv[0], "cgroupPath", cg_path, sizeof cg_path) ||
	    !sy_prop_str(env, argv[0], "pinDir", pin_dir, sizeof pin_dir) || !sy_join(env, map_pin, pin_dir, "tags") ||
	    !sy_join(env, prog_pin, pin_dir, "sock_tag"))
		return NULL;

	if (mkdir(pin_dir, 0700) < 0 && errno != EEXIST)
		return sy_throw_errno(env, "taggerAttach: mkdir(pinDir)", errno);
	if (!sy_check_bpffs(env, pin_dir, "taggerAttach: statfs(pinDir)"))
		return NULL;

	napi_value result = NULL;
	int cg_fd = -1, old_fd = -1;
	sy_libbpf_capture();
	struct bpf_object *obj = bpf_object__open_file(object, NULL);
	if (!obj) {
		int e = errno;
		sy_throw(env, false, "taggerAttach: cannot open BPF object %s: %s (run `make -C native-helper`)", object,
			 strerror(e));
		return NULL;
	}
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "tags");
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "sock_tag");
	if (!map || !prog) {
		sy_throw(env, false, "taggerAttach: %s has no `tags` map or `sock_tag` program", object);
		goto out;
	}
	/* Reuses the pinned map (entries kept) when present, else pins the new one there. */
	bool reused_map = sy_pinned_id(map_pin, true) != 0;
	int err = bpf_map__set_pin_path(map, map_pin);
	if (!err)
		err = bpf_object__load(obj);
	if (err) {
		sy_throw(env, false, "taggerAttach: loading %s failed: %s%s%s", object, strerror(-err),
			 sy_libbpf_last[0] ? "; libbpf: " : "", sy_libbpf_last);
		goto out;
	}
	int prog_fd = bpf_program__fd(prog);
	uint32_t map_id = sy_fd_map_id(bpf_map__fd(map));
	uint32_t new_id = sy_fd_prog_id(prog_fd, NULL, NULL);
	uint32_t pinned_prog = sy_pinned_id(prog_pin, false);

	cg_fd = open(cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		sy_throw_errno(env, "taggerAttach: open(cgroupPath)", errno);
		goto out;
	}
	uint32_t ours[SY_MAX_ATTACHED], n_ours = 0, n_attached = 0;
	err = sy_find_ours(cg_fd, ATTACH_TYPE, map_id, pinned_prog, ours, &n_ours, &n_attached);
	if (err) {
		sy_throw_errno(env, "taggerAttach: bpf_prog_query", -err);
		goto out;
	}
	LIBBPF_OPTS(bpf_prog_attach_opts, opts, .flags = BPF_F_ALLOW_MULTI);
	if (n_ours > 0) {
		old_fd = bpf_prog_get_fd_by_id(ours[0]);
		if (old_fd < 0) {
			sy_throw_errno(env, "taggerAttach: bpf_prog_get_fd_by_id", errno);
			goto out;
		}
		opts.flags |= BPF_F_REPLACE;
		opts.replace_prog_fd = old_fd;
	}
	if (bpf_prog_attach_opts(prog_fd, cg_fd, ATTACH_TYPE, &opts)) {
		sy_throw_errno(env, "taggerAttach: bpf_prog_attach", errno);
		goto out;
	}
	uint32_t extra_detached = 0;
	for (uint32_t i = 1; i < n_ours; i++) {
		int fd = bpf_prog_get_fd_by_id(ours[i]);
		if (fd >= 0 && bpf_prog_detach2(fd, cg_fd, ATTACH_TYPE) == 0)
			extra_detached++;
		if (fd >= 0)
			close(fd);
	}
	/* Re-pin: a crash between unlink and pin is harmless, the attached program is found by its map. */
	if (unlink(prog_pin) < 0 && errno != ENOENT) {
		sy_throw_errno(env, "taggerAttach: unlink(old program pin)", errno);
		goto out;
	}
	if (bpf_obj_pin(prog_fd, prog_pin)) {
		sy_throw_errno(env, "taggerAttach: bpf_obj_pin(program)", errno);
		goto out;
	}

	napi_create_object(env, &result);
	sy_set(env, result, "progId", sy_u32(env, new_id));
	sy_set(env, result, "mapId", sy_u32(env, map_id));
	sy_set(env, result, "reusedMap", sy_bool(env, reused_map));
	sy_set(env, result, "replacedProgId", n_ours ? sy_u32(env, ours[0]) : sy_null(env));
	sy_set(env, result, "extraDetached", sy_u32(env, extra_detached));
out:
	if (old_fd >= 0)
		close(old_fd);
	if (cg_fd >= 0)
		close(cg_fd);
	bpf_object__close(obj); /* pins and the attachment keep the program and map alive */
	return result;
}

static napi_value tagger_detach(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char cg_path[PATH_MAX], pin_dir[PATH_MAX - 16], map_pin[PATH_MAX], prog_pin[PATH_MAX];
	if (!sy_args(env, info, 1, 1, argv) || !sy_prop_str(env, argv[0], "cgroupPath", cg_path, sizeof cg_path) ||
	    !sy_prop_str(env, argv[0], "pinDir", pin_dir, sizeof pin_dir) || !sy_join(env, map_pin, pin_dir, "tags") ||
	    !sy_join(env, prog_pin, pin_dir, "sock_tag"))
		return NULL;
	uint32_t map_id = sy_pinned_id(map_pin, true), prog_id = sy_pinned_id(prog_pin, false), detached = 0;

	int cg_fd = open(cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0 && errno != ENOENT) /* a removed cgroup has no attachments left */
		return sy_throw_errno(env, "taggerDetach: open(cgroupPath)", errno);
	if (cg_fd >= 0 && (map_id || prog_id)) {
		uint32_t ours[SY_MAX_ATTACHED], n_ours = 0, n_attached = 0;
		int err = sy_find_ours(cg_fd, ATTACH_TYPE, map_id, prog_id, ours, &n_ours, &n_attached);
		if (err) {
			close(cg_fd);
			return sy_throw_errno(env, "taggerDetach: bpf_prog_query", -err);
		}
		for (uint32_t i = 0; i < n_ours; i++) {
			int fd = bpf_prog_get_fd_by_id(ours[i]);
			if (fd < 0)
				continue;
			if (bpf_prog_detach2(fd, cg_fd, ATTACH_TYPE) < 0 && errno != ENOENT) {
				int e = errno;
				close(fd);
				close(cg_fd);
				return sy_throw_errno(env, "taggerDetach: bpf_prog_detach", e);
			}
			close(fd);
			detached++;
		}
	}
	if (cg_fd >= 0)
		close(cg_fd);
	if (unlink(prog_pin) < 0 && errno != ENOENT)
		return sy_throw_errno(env, "taggerDetach: unlink(program pin)", errno);
	if (unlink(map_pin) < 0 && errno != ENOENT)
		return sy_throw_errno(env, "taggerDetach: unlink(map pin)", errno);
	if (rmdir(pin_dir) < 0 && errno != ENOENT)
		return sy_throw_errno(env, "taggerDetach: rmdir(pinDir)", errno);
	napi_value result;
	napi_create_object(env, &result);
	sy_set(env, result, "detached", sy_u32(env, detached));
	return result;
}

/* Programs attached to a cgroup for sock_create, and which of them are ours. */
static napi_value tagger_status(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char cg_path[PATH_MAX], pin_dir[PATH_MAX - 16], map_pin[PATH_MAX], prog_pin[PATH_MAX];
	if (!sy_args(env, info, 1, 1, argv) || !sy_prop_str(env, argv[0], "cgroupPath", cg_path, sizeof cg_path) ||
	    !sy_prop_str(env, argv[0], "pinDir", pin_dir, sizeof pin_dir) || !sy_join(env, map_pin, pin_dir, "tags") ||
	    !sy_join(env, prog_pin, pin_dir, "sock_tag"))
		return NULL;
	uint32_t map_id = sy_pinned_id(map_pin, true), prog_id = sy_pinned_id(prog_pin, false);
	int cg_fd = open(cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0)
		return sy_throw_errno(env, "taggerStatus: open(cgroupPath)", errno);
	uint32_t ours[SY_MAX_ATTACHED], n_ours = 0, n_attached = 0;
	int err = sy_find_ours(cg_fd, ATTACH_TYPE, map_id, prog_id, ours, &n_ours, &n_attached);
	close(cg_fd);
	if (err)
		return sy_throw_errno(env, "taggerStatus: bpf_prog_query", -err);
	napi_value result, arr;
	napi_create_object(env, &result);
	sy_set(env, result, "pinnedMapId", map_id ? sy_u32(env, map_id) : sy_null(env));
	sy_set(env, result, "pinnedProgId", prog_id ? sy_u32(env, prog_id) : sy_null(env));
	sy_set(env, result, "attachedCount", sy_u32(env, n_attached));
	napi_create_array_with_length(env, n_ours, &arr);
	for (uint32_t i = 0; i < n_ours; i++)
		napi_set_element(env, arr, i, sy_u32(env, ours[i]));
	sy_set(env, result, "ourProgIds", arr);
	return result;
}

static int open_map(napi_env env, napi_value dir_arg, const char *op)
{
	char pin_dir[PATH_MAX - 16], map_pin[PATH_MAX];
	if (!sy_arg_str(env, dir_arg, "pinDir", pin_dir, sizeof pin_dir) || !sy_join(env, map_pin, pin_dir, "tags"))
		return -1;
	int fd = bpf_obj_get(map_pin);
	if (fd < 0) {
		if (errno == ENOENT)
			sy_throw(env, false, "%s: no tag map pinned at %s; attach the tagger first", op, map_pin);
		else
			sy_throw_errno(env, op, errno);
	}
	return fd;
}

static napi_value tag_set(napi_env env, napi_callback_info info)
{
	napi_value argv[4];
	uint64_t id;
	struct tag t;
	if (!sy_args(env, info, 3, 4, argv) || !sy_arg_u64(env, argv[1], "cgroupId", &id) ||
	    !sy_arg_u32(env, argv[2], "mark", &t.mark))
		return NULL;
	napi_valuetype vt;
	napi_typeof(env, argv[3], &vt);
	t.flags = 0;
	if (vt != napi_undefined && !sy_arg_u32(env, argv[3], "flags", &t.flags))
		return NULL;
	int fd = open_map(env, argv[0], "tagSet");
	if (fd < 0)
		return NULL;
	int err = bpf_map_update_elem(fd, &id, &t, BPF_ANY);
	int e = errno;
	close(fd);
	if (err)
		return sy_throw_errno(env, "tagSet: bpf_map_update_elem", e);
	return NULL;
}

static napi_value tag_delete(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	uint64_t id;
	if (!sy_args(env, info, 2, 2, argv) || !sy_arg_u64(env, argv[1], "cgroupId", &id))
		return NULL;
	int fd = open_map(env, argv[0], "tagDelete");
	if (fd < 0)
		return NULL;
	int err = bpf_map_delete_elem(fd, &id);
	int e = errno;
	close(fd);
	if (err && e != ENOENT)
		return sy_throw_errno(env, "tagDelete: bpf_map_delete_elem", e);
	return sy_bool(env, err == 0);
}

static napi_value tag_list(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	if (!sy_args(env, info, 1, 1, argv))
		return NULL;
	int fd = open_map(env, argv[0], "tagList");
	if (fd < 0)
		return NULL;
	napi_value arr;
	napi_create_array(env, &arr);
	uint64_t key, next;
	uint32_t n = 0;
	void *prev = NULL;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct tag t;
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &t))
			continue; /* deleted meanwhile */
		napi_value o;
		napi_create_object(env, &o);
		sy_set(env, o, "cgroupId", sy_u64(env, key));
		sy_set(env, o, "mark", sy_u32(env, t.mark));
		sy_set(env, o, "flags", sy_u32(env, t.flags));
		napi_set_element(env, arr, n++, o);
	}
	close(fd);
	return arr;
}

void sy_init_tagger(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "taggerAttach", tagger_attach);
	SY_EXPORT(env, exports, "taggerDetach", tagger_detach);
	SY_EXPORT(env, exports, "taggerStatus", tagger_status);
	SY_EXPORT(env, exports, "tagSet", tag_set);
	SY_EXPORT(env, exports, "tagDelete", tag_delete);
	SY_EXPORT(env, exports, "tagList", tag_list);
}
