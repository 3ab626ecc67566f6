// Who wrote a file: a fanotify group marks whole filesystems for FAN_CLOSE_WRITE; a reader thread turns
// each event into {pid, path, procCgroup, exe} and delivers it to JS through a napi_threadsafe_function
// (the pattern of procevents.c).
//
// The reader reads /proc/<pid>/cgroup and /proc/<pid>/exe itself, right after the event arrives: a
// writer that exits at once (`sh -c 'echo x > f'`) is often still there microseconds later, rarely by
// the time the JS thread gets to it. Both stay best effort (null when the process is gone).
//
// A filesystem mark sees writes through every mount of that filesystem, in every mount namespace;
// a mount mark (the fallback when the filesystem cannot be marked) only those through that one mount.
#define _GNU_SOURCE
#include "util.h"
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <unistd.h>

void sy_init_writes(napi_env env, napi_value exports);

enum ev_kind { EV_WRITE, EV_OVERFLOW, EV_ERROR };

struct event {
	enum ev_kind kind;
	int32_t pid;
	int err;            /* EV_ERROR */
	char *path;         /* each NULL when unknown */
	char *proc_cgroup;  /* the text of /proc/<pid>/cgroup */
	char *exe;
};

struct watcher {
	napi_threadsafe_function tsfn;
	pthread_t thread;
	int stop_fd; /* eventfd: written by stop() to wake the reader */
	int fan_fd;
	pid_t self;
	atomic_bool dropped; /* the JS queue was full: an overflow is owed before the next event */
	bool stopped;
};

/* Bounds the events waiting for the JS thread; past it they are dropped and an overflow reported. */
#define JS_QUEUE_MAX 16384

static void free_event(struct event *ev)
{
	free(ev->path);
	free(ev->proc_cgroup);
	free(ev->exe);
	free(ev);
}

static napi_value str_or_null(napi_env env, const char *s)
{
	return s ? sy_str(env, s) : sy_null(env);
}

static void call_js(napi_env env, napi_value cb, void *context, void *data)
{
	(void)context;
	struct event *ev = data;
	if (!env || !ev) { /* environment torn down: just free */
		if (ev)
			free_event(ev);
		return;
	}
	static const char *names[] = {"write", "overflow", "error"};
	napi_value obj, undef;
	napi_create_object(env, &obj);
	sy_set(env, obj, "what", sy_str(env, names[ev->kind]));
	if (ev->kind == EV_WRITE) {
		sy_set(env, obj, "pid", sy_i32(env, ev->pid));
		sy_set(env, obj, "path", str_or_null(env, ev->path));
		sy_set(env, obj, "procCgroup", str_or_null(env, ev->proc_cgroup));
		sy_set(env, obj, "exe", str_or_null(env, ev->exe));
	}
	if (ev->kind == EV_ERROR) {
		sy_set(env, obj, "errno", sy_i32(env, ev->err));
		sy_set(env, obj, "message", sy_str(env, strerror(ev->err)));
	}
	free_event(ev);
	napi_get_undefined(env, &undef);
	napi_call_function(env, undef, cb, 1, &obj, NULL);
}

static bool enqueue(struct watcher *w, struct event *ev)
{
	if (napi_call_threadsafe_function(w->tsfn, ev, napi_tsfn_nonblocking) == napi_ok)
		return true;
	free_event(ev);
	return false;
}

/* Takes ownership of ev. */
static void post(struct watcher *w, struct event *ev)
{
	if (atomic_load(&w->dropped)) {
		struct event *ov = calloc(1, sizeof *ov);
		if (ov) {
			ov->kind = EV_OVERFLOW;
			if (enqueue(w, ov))
				atomic_store(&w->dropped, false);
		}
	}
	if (!enqueue(w, ev))
		atomic_store(&w->dropped, true);
}

static void post_simple(struct watcher *w, enum ev_kind kind, int err)
{
	struct event *ev = calloc(1, sizeof *ev);
	if (!ev) {
		atomic_store(&w->dropped, true);
		return;
	}
	ev->kind = kind;
	ev->err = err;
	post(w, ev);
}

static char *read_link(const char *link)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(link, buf, sizeof buf - 1);
	if (n < 0)
		return NULL;
	buf[n] = 0;
	return strdup(buf);
}

static char *read_small_file(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (len == 0)
		return NULL;
	buf[len] = 0;
	return strdup(buf);
}

static void handle(struct watcher *w, const struct fanotify_event_metadata *m)
{
	if (m->mask & FAN_Q_OVERFLOW) {
		post_simple(w, EV_OVERFLOW, 0);
		return;
	}
	if (m->fd < 0)
		return;
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", m->fd);
	char *path = m->pid == w->self ? NULL : read_link(link);
	close(m->fd); /* always: every event carries an open fd */
	if (m->pid == w->self)
		return;
	struct event *ev = calloc(1, sizeof *ev);
	if (!ev) {
		free(path);
		atomic_store(&w->dropped, true);
		return;
	}
	ev->kind = EV_WRITE;
	ev->pid = m->pid;
	ev->path = path;
	if (m->pid > 0) { /* 0: the writer is outside our pid namespace */
		char file[64];
		snprintf(file, sizeof file, "/proc/%d/cgroup", m->pid);
		ev->proc_cgroup = read_small_file(file);
		snprintf(file, sizeof file, "/proc/%d/exe", m->pid);
		ev->exe = read_link(file);
	}
	post(w, ev);
}

static void *reader(void *arg)
{
	struct watcher *w = arg;
	char buf[32768] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	struct pollfd fds[2] = {{.fd = w->fan_fd, .events = POLLIN}, {.fd = w->stop_fd, .events = POLLIN}};
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			post_simple(w, EV_ERROR, errno);
			break;
		}
		if (fds[1].revents)
			break;
		ssize_t n = read(w->fan_fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* The kernel could not open the event's file for us (out of fds, or the open was
			 * refused): that event is lost, the group is fine. */
			if (errno == EMFILE || errno == ENFILE || errno == EPERM || errno == EACCES ||
			    errno == ENOENT || errno == ETXTBSY || errno == EOVERFLOW) {
				post_simple(w, EV_OVERFLOW, 0);
				continue;
			}
			post_simple(w, EV_ERROR, errno);
			break;
		}
		const struct fanotify_event_metadata *m = (const void *)buf;
		for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			if (m->vers != FANOTIFY_METADATA_VERSION) {
				if (m->fd >= 0)
					close(m->fd);
				continue;
			}
			handle(w, m);
		}
	}
	return NULL;
}

static void stop_watcher(struct watcher *w)
{
	if (w->stopped)
		return;
	w->stopped = true;
	uint64_t one = 1;
	if (write(w->stop_fd, &one, sizeof one) < 0) { /* cannot fail on a fresh eventfd */ }
	pthread_join(w->thread, NULL);
	close(w->fan_fd);
	close(w->stop_fd);
	napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
}

static napi_value stop_fn(napi_env env, napi_callback_info info)
{
	struct watcher *w;
	napi_get_cb_info(env, info, NULL, NULL, NULL, (void **)&w);
	stop_watcher(w);
	return NULL;
}

static void finalize_handle(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	struct watcher *w = data;
	stop_watcher(w);
	free(w);
}

/* Marks path's filesystem, or its mount when the filesystem cannot be marked; returns the scope or NULL. */
static const char *mark(int fan_fd, const char *path, int *err)
{
	if (fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_CLOSE_WRITE, AT_FDCWD, path) == 0)
		return "filesystem";
	if (errno != EINVAL && errno != EXDEV) {
		*err = errno;
		return NULL;
	}
	if (fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_CLOSE_WRITE, AT_FDCWD, path) == 0)
		return "mount";
	*err = errno;
	return NULL;
}

/* fileWritesStart(callback, paths) → {stop(), marks: [{path, scope}]} */
static napi_value file_writes_start(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!sy_args(env, info, 2, 2, argv))
		return NULL;
	napi_valuetype t;
	napi_typeof(env, argv[0], &t);
	if (t != napi_function)
		return sy_throw(env, true, "fileWritesStart: callback must be a function");
	bool is_array = false;
	napi_is_array(env, argv[1], &is_array);
	uint32_t count = 0;
	if (is_array)
		napi_get_array_length(env, argv[1], &count);
	if (!count)
		return sy_throw(env, true, "fileWritesStart: paths must be a non-empty array of strings");

	int fan_fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC | O_LARGEFILE);
	if (fan_fd < 0)
		return sy_throw_errno(env, "fileWritesStart: fanotify_init", errno);
	napi_value marks;
	napi_create_array_with_length(env, count, &marks);
	for (uint32_t i = 0; i < count; i++) {
		napi_value v;
		char path[PATH_MAX];
		napi_get_element(env, argv[1], i, &v);
		if (!sy_arg_str(env, v, "fileWritesStart: each path", path, sizeof path)) {
			close(fan_fd);
			return NULL;
		}
		int err = 0;
		const char *scope = mark(fan_fd, path, &err);
		if (!scope) {
			close(fan_fd);
			char op[PATH_MAX + 64];
			snprintf(op, sizeof op, "fileWritesStart: fanotify_mark(%s)", path);
			return sy_throw_errno(env, op, err);
		}
		napi_value entry;
		napi_create_object(env, &entry);
		sy_set(env, entry, "path", sy_str(env, path));
		sy_set(env, entry, "scope", sy_str(env, scope));
		napi_set_element(env, marks, i, entry);
	}

	struct watcher *w = calloc(1, sizeof *w);
	if (!w) {
		close(fan_fd);
		return sy_throw_errno(env, "fileWritesStart: calloc", ENOMEM);
	}
	w->fan_fd = fan_fd;
	w->self = getpid();
	atomic_init(&w->dropped, false);
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (w->stop_fd < 0) {
		int e = errno;
		close(fan_fd);
		free(w);
		return sy_throw_errno(env, "fileWritesStart: eventfd", e);
	}
	napi_value name = sy_str(env, "switchyard-file-writes");
	if (napi_create_threadsafe_function(env, argv[0], NULL, name, JS_QUEUE_MAX, 1, NULL, NULL, NULL, call_js,
					    &w->tsfn) != napi_ok) {
		close(w->stop_fd);
		close(fan_fd);
		free(w);
		return sy_throw(env, false, "fileWritesStart: cannot create the thread-safe callback");
	}
	int e = pthread_create(&w->thread, NULL, reader, w);
	if (e) {
		napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
		close(w->stop_fd);
		close(fan_fd);
		free(w);
		return sy_throw_errno(env, "fileWritesStart: pthread_create", e);
	}
	napi_value handle, stop;
	napi_create_object(env, &handle);
	napi_create_function(env, "stop", NAPI_AUTO_LENGTH, stop_fn, w, &stop);
	sy_set(env, handle, "stop", stop);
	sy_set(env, handle, "marks", marks);
	napi_wrap(env, handle, w, finalize_handle, NULL, NULL);
	return handle;
}

void sy_init_writes(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "fileWritesStart", file_writes_start);
}
