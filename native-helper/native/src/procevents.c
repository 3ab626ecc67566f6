// Proc connector (NETLINK_CONNECTOR / CN_IDX_PROC): exec, fork and exit events from the kernel, read on
// a dedicated thread and delivered to JS through a napi_threadsafe_function.
//
// The kernel broadcasts proc events only to connector sockets in the initial network namespace, and a
// socket stays in the netns it was created in. The helper may run in another netns, so the reader
// thread enters the initial netns (/proc/1/ns/net by default), creates and binds the socket, and
// returns to its original netns before reading. Doing it on the reader thread (setns is per-thread)
// means the JS thread never leaves the helper's own netns, even if restoring failed.
#define _GNU_SOURCE
#include "util.h"
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/cn_proc.h>
#include <linux/filter.h>
#include <linux/connector.h>
#include <linux/netlink.h>

enum ev_kind { EV_EXEC, EV_FORK, EV_EXIT, EV_OVERFLOW, EV_ERROR };

struct event {
	enum ev_kind kind;
	int32_t pid, tgid, parent_pid, parent_tgid, exit_code;
	uint64_t ts_ns;
	int err; /* EV_ERROR */
};

struct watcher {
	napi_threadsafe_function tsfn;
	pthread_t thread;
	int stop_fd;  /* eventfd: written by stop() to wake the reader */
	int sock;
	char netns_path[PATH_MAX];
	int rcvbuf;
	bool exec_only; /* a socket filter drops fork and exit events in the kernel */
	/* Setup result handed back to procEventsStart. */
	sem_t ready;
	int setup_err;
	const char *setup_op;
	bool stopped;
};

static void call_js(napi_env env, napi_value cb, void *context, void *data)
{
	(void)context;
	struct event *ev = data;
	if (!env || !ev) { /* environment torn down: just free */
		free(ev);
		return;
	}
	static const char *names[] = {"exec", "fork", "exit", "overflow", "error"};
	napi_value obj, undef;
	napi_create_object(env, &obj);
	sy_set(env, obj, "what", sy_str(env, names[ev->kind]));
	if (ev->kind <= EV_EXIT) {
		sy_set(env, obj, "pid", sy_i32(env, ev->pid));
		sy_set(env, obj, "tgid", sy_i32(env, ev->tgid));
		sy_set(env, obj, "timestampNs", sy_u64(env, ev->ts_ns));
	}
	if (ev->kind == EV_FORK || ev->kind == EV_EXIT)
		sy_set(env, obj, "parentPid", sy_i32(env, ev->parent_tgid));
	if (ev->kind == EV_EXIT)
		sy_set(env, obj, "exitCode", sy_i32(env, ev->exit_code));
	if (ev->kind == EV_ERROR) {
		sy_set(env, obj, "errno", sy_i32(env, ev->err));
		sy_set(env, obj, "message", sy_str(env, strerror(ev->err)));
	}
	free(ev);
	napi_get_undefined(env, &undef);
	napi_call_function(env, undef, cb, 1, &obj, NULL);
}

static void post(struct watcher *w, struct event *ev)
{
	struct event *copy = malloc(sizeof *copy);
	if (!copy)
		return;
	*copy = *ev;
	if (napi_call_threadsafe_function(w->tsfn, copy, napi_tsfn_nonblocking) != napi_ok)
		free(copy);
}

static int send_listen(int sock, enum proc_cn_mcast_op op)
{
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) msg;
	memset(&msg, 0, sizeof msg);
	msg.nl.nlmsg_len = sizeof msg;
	msg.nl.nlmsg_type = NLMSG_DONE;
	msg.nl.nlmsg_pid = 0;
	msg.cn.id.idx = CN_IDX_PROC;
	msg.cn.id.val = CN_VAL_PROC;
	msg.cn.len = sizeof(enum proc_cn_mcast_op);
	msg.op = op;
	return send(sock, &msg, sizeof msg, 0) < 0 ? -errno : 0;
}

/* The initial netns has a fixed inode (PROC_NET_INIT_INO in include/linux/proc_ns.h). */
#define INIT_NET_INO 0xEFFFFFF9u

/*
 * Keeps only exec events (and the connector's acks) on the socket: every fork and exit on the machine
 * would otherwise wake the reader thread and cross into JavaScript, for a listener that ignores them.
 * The event type is the first word after the netlink (16 bytes) and connector (20 bytes) headers;
 * BPF loads words in network byte order.
 */
static int attach_exec_filter(int sock)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NLMSG_HDRLEN + sizeof(struct cn_msg)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_EXEC), 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_NONE), 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	    BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
	return setsockopt(sock, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0 ? -errno : 0;
}

/* Runs on the reader thread: enter the initial netns, open the socket, come back. */
static int setup_socket(struct watcher *w, const char **op)
{
	int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (own < 0)
		return *op = "procEventsStart: open(/proc/thread-self/ns/net)", -errno;
	struct stat a, b;
	int target = -1, err = 0;
	/* Already in the initial netns: no setns needed (and /proc/1 may be unreadable, e.g. in a sandbox). */
	bool same = fstat(own, &a) == 0 && a.st_ino == INIT_NET_INO;
	if (!same) {
		target = open(w->netns_path, O_RDONLY | O_CLOEXEC);
		if (target < 0) {
			err = -errno;
			*op = "procEventsStart: open(initial netns; pass netnsPath)";
			goto out;
		}
		same = fstat(target, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
	}
	if (!same && setns(target, CLONE_NEWNET) < 0) {
		err = -errno;
		*op = "procEventsStart: setns(initial netns)";
		goto out;
	}
	w->sock = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (w->sock < 0) {
		err = -errno;
		*op = "procEventsStart: socket(NETLINK_CONNECTOR)";
	} else {
		struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0};
		/* Bursts of fork/exit (builds, browsers) overflow the default buffer quickly. */
		setsockopt(w->sock, SOL_SOCKET, SO_RCVBUFFORCE, &w->rcvbuf, sizeof w->rcvbuf);
		if (w->exec_only && (err = attach_exec_filter(w->sock))) {
			*op = "procEventsStart: setsockopt(SO_ATTACH_FILTER)";
		} else if (bind(w->sock, (struct sockaddr *)&sa, sizeof sa) < 0) {
			err = -errno;
			*op = "procEventsStart: bind(CN_IDX_PROC)";
		} else if ((err = send_listen(w->sock, PROC_CN_MCAST_LISTEN))) {
			*op = "procEventsStart: send(PROC_CN_MCAST_LISTEN)";
		}
	}
	if (!same && setns(own, CLONE_NEWNET) < 0 && !err) {
		err = -errno;
		*op = "procEventsStart: setns(back to own netns)";
	}
out:
	close(own);
	if (target >= 0)
		close(target);
	if (err && w->sock >= 0) {
		close(w->sock);
		w->sock = -1;
	}
	return err;
}

static void handle(struct watcher *w, struct proc_event *pe)
{
	struct event ev = {.ts_ns = pe->timestamp_ns};
	switch (pe->what) {
	case PROC_EVENT_EXEC:
		ev.kind = EV_EXEC;
		ev.pid = pe->event_data.exec.process_pid;
		ev.tgid = pe->event_data.exec.process_tgid;
		break;
	case PROC_EVENT_FORK:
		ev.kind = EV_FORK;
		ev.pid = pe->event_data.fork.child_pid;
		ev.tgid = pe->event_data.fork.child_tgid;
		ev.parent_pid = pe->event_data.fork.parent_pid;
		ev.parent_tgid = pe->event_data.fork.parent_tgid;
		break;
	case PROC_EVENT_EXIT:
		ev.kind = EV_EXIT;
		ev.pid = pe->event_data.exit.process_pid;
		ev.tgid = pe->event_data.exit.process_tgid;
		ev.exit_code = (int32_t)pe->event_data.exit.exit_code;
		ev.parent_tgid = pe->event_data.exit.parent_tgid;
		break;
	default:
		return;
	}
	post(w, &ev);
}

static void *reader(void *arg)
{
	struct watcher *w = arg;
	w->setup_err = setup_socket(w, &w->setup_op);
	bool ok = w->setup_err == 0;
	sem_post(&w->ready); /* after this, w->setup_* belong to the starter again */
	if (!ok)
		return NULL;

	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct pollfd fds[2] = {{.fd = w->sock, .events = POLLIN}, {.fd = w->stop_fd, .events = POLLIN}};
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents)
			break;
		ssize_t n = recv(w->sock, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			struct event ev = {.kind = errno == ENOBUFS ? EV_OVERFLOW : EV_ERROR, .err = errno};
			post(w, &ev);
			if (ev.kind == EV_OVERFLOW)
				continue;
			break;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_NOOP || nh->nlmsg_type == NLMSG_ERROR)
				continue;
			struct cn_msg *cn = NLMSG_DATA(nh);
			if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
				continue;
			handle(w, (struct proc_event *)cn->data);
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
	close(w->sock);
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
	sem_destroy(&w->ready);
	free(w);
}

/* procEventsStart(callback, {netnsPath?, receiveBufferBytes?}) → {stop()} */
static napi_value proc_events_start(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!sy_args(env, info, 1, 2, argv))
		return NULL;
	napi_valuetype t;
	napi_typeof(env, argv[0], &t);
	if (t != napi_function)
		return sy_throw(env, true, "procEventsStart: callback must be a function");
	struct watcher *w = calloc(1, sizeof *w);
	if (!w)
		return sy_throw_errno(env, "procEventsStart: calloc", ENOMEM);
	w->sock = -1;
	strcpy(w->netns_path, "/proc/1/ns/net");
	w->rcvbuf = 8 << 20;
	napi_typeof(env, argv[1], &t);
	if (t == napi_object) {
		napi_value v;
		napi_valuetype vt;
		napi_get_named_property(env, argv[1], "netnsPath", &v);
		napi_typeof(env, v, &vt);
		if (vt != napi_undefined && !sy_arg_str(env, v, "netnsPath", w->netns_path, sizeof w->netns_path)) {
			free(w);
			return NULL;
		}
		napi_get_named_property(env, argv[1], "receiveBufferBytes", &v);
		napi_typeof(env, v, &vt);
		uint32_t rb = 0;
		if (vt != napi_undefined) {
			if (!sy_arg_u32(env, v, "receiveBufferBytes", &rb)) {
				free(w);
				return NULL;
			}
			w->rcvbuf = rb > INT32_MAX ? INT32_MAX : (int)rb;
		}
		napi_get_named_property(env, argv[1], "execOnly", &v);
		napi_typeof(env, v, &vt);
		if (vt == napi_boolean)
			napi_get_value_bool(env, v, &w->exec_only);
	}
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (w->stop_fd < 0) {
		free(w);
		return sy_throw_errno(env, "procEventsStart: eventfd", errno);
	}
	napi_value name = sy_str(env, "switchyard-proc-events");
	if (napi_create_threadsafe_function(env, argv[0], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &w->tsfn) !=
	    napi_ok) {
		close(w->stop_fd);
		free(w);
		return sy_throw(env, false, "procEventsStart: cannot create the thread-safe callback");
	}
	sem_init(&w->ready, 0, 0);
	int e = pthread_create(&w->thread, NULL, reader, w);
	if (e) {
		napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
		close(w->stop_fd);
		free(w);
		return sy_throw_errno(env, "procEventsStart: pthread_create", e);
	}
	while (sem_wait(&w->ready) < 0 && errno == EINTR)
		;
	if (w->setup_err) {
		pthread_join(w->thread, NULL);
		napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
		close(w->stop_fd);
		sem_destroy(&w->ready);
		int err = -w->setup_err;
		const char *op = w->setup_op;
		free(w);
		return sy_throw_errno(env, op, err);
	}
	napi_value handle, stop;
	napi_create_object(env, &handle);
	napi_create_function(env, "stop", NAPI_AUTO_LENGTH, stop_fn, w, &stop);
	sy_set(env, handle, "stop", stop);
	napi_wrap(env, handle, w, finalize_handle, NULL, NULL);
	return handle;
}

void sy_init_procevents(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "procEventsStart", proc_events_start);
}
