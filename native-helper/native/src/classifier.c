// Classifier control: load flow_rules.bpf.o (cgroup connect4/6 + sendmsg4/6), pin its maps and
// programs under a per-instance bpffs dir, attach them to the helper's cgroup with BPF_F_ALLOW_MULTI,
// and read and write pinned maps as raw keys and values (the layout lives in classifier.ts).
//
// Crash safety as in tagger.c: maps are pinned and reused, so the rules in force survive a helper
// restart; "our" attached programs are those using the pinned flow_ctl map (or the pinned program),
// and the first is swapped atomically with BPF_F_REPLACE.
#define _GNU_SOURCE
#include "bpfpin.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name;
	enum bpf_attach_type type;
} PROGRAMS[] = {
	{ "flow_connect4", BPF_CGROUP_INET4_CONNECT },
	{ "flow_connect6", BPF_CGROUP_INET6_CONNECT },
	{ "flow_sendmsg4", BPF_CGROUP_UDP4_SENDMSG },
	{ "flow_sendmsg6", BPF_CGROUP_UDP6_SENDMSG },
};
#define N_PROGRAMS (sizeof PROGRAMS / sizeof PROGRAMS[0])
#define CTL_MAP "flow_ctl"

static napi_value classifier_attach(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char object[PATH_MAX], cg_path[PATH_MAX], pin_dir[PATH_MAX - 32], path[PATH_MAX];
	if (!sy_args(env, info, 1, 1, argv) || !sy_prop_str(env, argv[0], "object", object, sizeof object) ||
	    !sy_prop_str(env, argv[0], "cgroupPath", cg_path, sizeof cg_path) ||
	    !sy_prop_str(env, argv[0], "pinDir", pin_dir, sizeof pin_dir))
		return NULL;
	if (mkdir(pin_dir, 0700) < 0 && errno != EEXIST)
		return sy_throw_errno(env, "classifierAttach: mkdir(pinDir)", errno);
	if (!sy_check_bpffs(env, pin_dir, "classifierAttach: statfs(pinDir)"))
		return NULL;

	napi_value result = NULL;
	int cg_fd = -1;
	sy_libbpf_capture();
	struct bpf_object *obj = bpf_object__open_file(object, NULL);
	if (!obj) {
		int e = errno;
		sy_throw(env, false, "classifierAttach: cannot open BPF object %s: %s (run `make -C native-helper`)",
			 object, strerror(e));
		return NULL;
	}
	bool reused = false;
	struct bpf_map *map;
	bpf_object__for_each_map(map, obj)
	{
		if (!sy_join(env, path, pin_dir, bpf_map__name(map)))
			goto out;
		reused |= sy_pinned_id(path, true) != 0;
		int err = bpf_map__set_pin_path(map, path);
		if (err) {
			sy_throw(env, false, "classifierAttach: pin path %s: %s", path, strerror(-err));
			goto out;
		}
	}
	int err = bpf_object__load(obj);
	if (err) {
		sy_throw(env, false, "classifierAttach: loading %s failed: %s%s%s", object, strerror(-err),
			 sy_libbpf_last[0] ? "; libbpf: " : "", sy_libbpf_last);
		goto out;
	}
	struct bpf_map *ctl = bpf_object__find_map_by_name(obj, CTL_MAP);
	if (!ctl) {
		sy_throw(env, false, "classifierAttach: %s has no `%s` map", object, CTL_MAP);
		goto out;
	}
	uint32_t ctl_id = sy_fd_map_id(bpf_map__fd(ctl));
	cg_fd = open(cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) {
		sy_throw_errno(env, "classifierAttach: open(cgroupPath)", errno);
		goto out;
	}
	napi_value programs;
	napi_create_array(env, &programs);
	for (size_t p = 0; p < N_PROGRAMS; p++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, PROGRAMS[p].name);
		if (!prog) {
			sy_throw(env, false, "classifierAttach: %s has no `%s` program", object, PROGRAMS[p].name);
			goto out;
		}
		if (!sy_join(env, path, pin_dir, PROGRAMS[p].name))
			goto out;
		int prog_fd = bpf_program__fd(prog);
		uint32_t ours[SY_MAX_ATTACHED], n_ours = 0, n_attached = 0;
		err = sy_find_ours(cg_fd, PROGRAMS[p].type, ctl_id, sy_pinned_id(path, false), ours, &n_ours,
				   &n_attached);
		if (err) {
			sy_throw_errno(env, "classifierAttach: bpf_prog_query", -err);
			goto out;
		}
		LIBBPF_OPTS(bpf_prog_attach_opts, opts, .flags = BPF_F_ALLOW_MULTI);
		int old_fd = -1;
		if (n_ours > 0) {
			old_fd = bpf_prog_get_fd_by_id(ours[0]);
			if (old_fd < 0) {
				sy_throw_errno(env, "classifierAttach: bpf_prog_get_fd_by_id", errno);
				goto out;
			}
			opts.flags |= BPF_F_REPLACE;
			opts.replace_prog_fd = old_fd;
		}
		err = bpf_prog_attach_opts(prog_fd, cg_fd, PROGRAMS[p].type, &opts);
		int e = errno;
		if (old_fd >= 0)
			close(old_fd);
		if (err) {
			sy_throw_errno(env, "classifierAttach: bpf_prog_attach", e);
			goto out;
		}
		for (uint32_t i = 1; i < n_ours; i++) {
			int fd = bpf_prog_get_fd_by_id(ours[i]);
			if (fd >= 0) {
				bpf_prog_detach2(fd, cg_fd, PROGRAMS[p].type);
				close(fd);
			}
		}
		/* A crash between unlink and pin is harmless: the attached program is found by its map. */
		if ((unlink(path) < 0 && errno != ENOENT) || bpf_obj_pin(prog_fd, path)) {
			sy_throw_errno(env, "classifierAttach: pin program", errno);
			goto out;
		}
		napi_value o;
		napi_create_object(env, &o);
		sy_set(env, o, "name", sy_str(env, PROGRAMS[p].name));
		sy_set(env, o, "progId", sy_u32(env, sy_fd_prog_id(prog_fd, NULL, NULL)));
		sy_set(env, o, "replacedProgId", n_ours ? sy_u32(env, ours[0]) : sy_null(env));
		napi_set_element(env, programs, p, o);
	}
	napi_create_object(env, &result);
	sy_set(env, result, "programs", programs);
	sy_set(env, result, "reusedMaps", sy_bool(env, reused));
out:
	if (cg_fd >= 0)
		close(cg_fd);
	bpf_object__close(obj); /* pins and attachments keep programs and maps alive */
	return result;
}

/* Detaches our programs from the cgroup, then removes every pin and the pin directory. */
static napi_value classifier_detach(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char cg_path[PATH_MAX], pin_dir[PATH_MAX - 32], path[PATH_MAX];
	if (!sy_args(env, info, 1, 1, argv) || !sy_prop_str(env, argv[0], "cgroupPath", cg_path, sizeof cg_path) ||
	    !sy_prop_str(env, argv[0], "pinDir", pin_dir, sizeof pin_dir) || !sy_join(env, path, pin_dir, CTL_MAP))
		return NULL;
	uint32_t ctl_id = sy_pinned_id(path, true), detached = 0;
	int cg_fd = open(cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0 && errno != ENOENT) /* a removed cgroup has no attachments left */
		return sy_throw_errno(env, "classifierDetach: open(cgroupPath)", errno);
	for (size_t p = 0; cg_fd >= 0 && p < N_PROGRAMS; p++) {
		if (!sy_join(env, path, pin_dir, PROGRAMS[p].name)) {
			close(cg_fd);
			return NULL;
		}
		uint32_t ours[SY_MAX_ATTACHED], n_ours = 0, n_attached = 0;
		int err = sy_find_ours(cg_fd, PROGRAMS[p].type, ctl_id, sy_pinned_id(path, false), ours, &n_ours,
				       &n_attached);
		if (err) {
			close(cg_fd);
			return sy_throw_errno(env, "classifierDetach: bpf_prog_query", -err);
		}
		for (uint32_t i = 0; i < n_ours; i++) {
			int fd = bpf_prog_get_fd_by_id(ours[i]);
			if (fd < 0)
				continue;
			if (bpf_prog_detach2(fd, cg_fd, PROGRAMS[p].type) == 0)
				detached++;
			close(fd);
		}
	}
	if (cg_fd >= 0)
		close(cg_fd);
	DIR *d = opendir(pin_dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && sy_join(env, path, pin_dir, de->d_name))
				unlink(path);
		closedir(d);
	}
	if (rmdir(pin_dir) < 0 && errno != ENOENT)
		return sy_throw_errno(env, "classifierDetach: rmdir(pinDir)", errno);
	napi_value result;
	napi_create_object(env, &result);
	sy_set(env, result, "detached", sy_u32(env, detached));
	return result;
}

static int open_pinned_map(napi_env env, napi_value arg, const char *op, uint32_t *key_size,
			   uint32_t *value_size)
{
	char path[PATH_MAX];
	if (!sy_arg_str(env, arg, "path", path, sizeof path))
		return -1;
	int fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT)
			sy_throw(env, false, "%s: no map pinned at %s; attach the classifier first", op, path);
		else
			sy_throw_errno(env, op, errno);
		return -1;
	}
	struct bpf_map_info mi;
	memset(&mi, 0, sizeof mi);
	uint32_t len = sizeof mi;
	if (bpf_obj_get_info_by_fd(fd, &mi, &len)) {
		int e = errno;
		close(fd);
		sy_throw_errno(env, op, e);
		return -1;
	}
	*key_size = mi.key_size;
	*value_size = mi.value_size;
	return fd;
}

static bool buffer_arg(napi_env env, napi_value v, const char *name, uint8_t **data, size_t *len)
{
	bool is;
	if (napi_is_buffer(env, v, &is) != napi_ok || !is) {
		sy_throw(env, true, "%s must be a Buffer", name);
		return false;
	}
	return napi_get_buffer_info(env, v, (void **)data, len) == napi_ok;
}

/* bpfMapUpdate(path, keys, values): keys and values are whole records laid end to end. */
static napi_value map_update(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	uint8_t *keys, *values;
	size_t klen, vlen;
	uint32_t ks, vs;
	if (!sy_args(env, info, 3, 3, argv) || !buffer_arg(env, argv[1], "keys", &keys, &klen) ||
	    !buffer_arg(env, argv[2], "values", &values, &vlen))
		return NULL;
	int fd = open_pinned_map(env, argv[0], "bpfMapUpdate", &ks, &vs);
	if (fd < 0)
		return NULL;
	if (klen % ks || vlen % vs || klen / ks != vlen / vs) {
		close(fd);
		return sy_throw(env, true, "bpfMapUpdate: %zu key bytes and %zu value bytes do not make whole "
				 "records of %u and %u bytes", klen, vlen, ks, vs);
	}
	for (size_t i = 0; i < klen / ks; i++)
		if (bpf_map_update_elem(fd, keys + i * ks, values + i * vs, BPF_ANY)) {
			int e = errno;
			close(fd);
			return sy_throw_errno(env, "bpfMapUpdate: bpf_map_update_elem", e);
		}
	close(fd);
	return NULL;
}

/* bpfMapDelete(path, keys): missing keys are fine. */
static napi_value map_delete(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	uint8_t *keys;
	size_t klen;
	uint32_t ks, vs;
	if (!sy_args(env, info, 2, 2, argv) || !buffer_arg(env, argv[1], "keys", &keys, &klen))
		return NULL;
	int fd = open_pinned_map(env, argv[0], "bpfMapDelete", &ks, &vs);
	if (fd < 0)
		return NULL;
	if (klen % ks) {
		close(fd);
		return sy_throw(env, true, "bpfMapDelete: %zu bytes are not whole keys of %u bytes", klen, ks);
	}
	for (size_t i = 0; i < klen / ks; i++)
		if (bpf_map_delete_elem(fd, keys + i * ks) && errno != ENOENT) {
			int e = errno;
			close(fd);
			return sy_throw_errno(env, "bpfMapDelete: bpf_map_delete_elem", e);
		}
	close(fd);
	return NULL;
}

/* bpfMapLookup(path, keys) → the values of those keys laid end to end (zeros for a missing key). */
static napi_value map_lookup(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	uint8_t *keys;
	size_t klen;
	uint32_t ks, vs;
	if (!sy_args(env, info, 2, 2, argv) || !buffer_arg(env, argv[1], "keys", &keys, &klen))
		return NULL;
	int fd = open_pinned_map(env, argv[0], "bpfMapLookup", &ks, &vs);
	if (fd < 0)
		return NULL;
	if (klen % ks) {
		close(fd);
		return sy_throw(env, true, "bpfMapLookup: %zu bytes are not whole keys of %u bytes", klen, ks);
	}
	size_t n = klen / ks;
	void *data;
	napi_value out;
	if (napi_create_buffer(env, n * vs, &data, &out) != napi_ok) {
		close(fd);
		return sy_throw(env, false, "bpfMapLookup: out of memory");
	}
	memset(data, 0, n * vs);
	for (size_t i = 0; i < n; i++)
		if (bpf_map_lookup_elem(fd, keys + i * ks, (uint8_t *)data + i * vs) && errno != ENOENT) {
			int e = errno;
			close(fd);
			return sy_throw_errno(env, "bpfMapLookup: bpf_map_lookup_elem", e);
		}
	close(fd);
	return out;
}

/* bpfMapDump(path) → { keys: Buffer, values: Buffer } of every entry (arrays: every index). */
static napi_value map_dump(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	uint32_t ks, vs;
	if (!sy_args(env, info, 1, 1, argv))
		return NULL;
	int fd = open_pinned_map(env, argv[0], "bpfMapDump", &ks, &vs);
	if (fd < 0)
		return NULL;
	size_t cap = 64, n = 0;
	uint8_t *keys = malloc(cap * ks), *values = malloc(cap * vs), *prev = NULL;
	uint8_t *next = malloc(ks);
	while (keys && values && next && bpf_map_get_next_key(fd, prev, next) == 0) {
		if (n == cap) {
			cap *= 2;
			uint8_t *k2 = realloc(keys, cap * ks), *v2 = realloc(values, cap * vs);
			if (k2)
				keys = k2;
			if (v2)
				values = v2;
			if (!k2 || !v2)
				break;
		}
		memcpy(keys + n * ks, next, ks);
		prev = keys + n * ks;
		if (bpf_map_lookup_elem(fd, next, values + n * vs) == 0)
			n++;
	}
	close(fd);
	napi_value result = NULL, kb, vb;
	if (keys && values && next) {
		napi_create_buffer_copy(env, n * ks, keys, NULL, &kb);
		napi_create_buffer_copy(env, n * vs, values, NULL, &vb);
		napi_create_object(env, &result);
		sy_set(env, result, "keys", kb);
		sy_set(env, result, "values", vb);
	} else {
		sy_throw(env, false, "bpfMapDump: out of memory");
	}
	free(keys);
	free(values);
	free(next);
	return result;
}

void sy_init_classifier(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "classifierAttach", classifier_attach);
	SY_EXPORT(env, exports, "classifierDetach", classifier_detach);
	SY_EXPORT(env, exports, "bpfMapUpdate", map_update);
	SY_EXPORT(env, exports, "bpfMapDelete", map_delete);
	SY_EXPORT(env, exports, "bpfMapDump", map_dump);
	SY_EXPORT(env, exports, "bpfMapLookup", map_lookup);
}
