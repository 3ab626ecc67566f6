// Sockets of another process, for re-tagging existing connections when an app's egress changes:
// pidfd_open + pidfd_getfd duplicate the target's socket into us; we inspect or change it through the
// duplicate (same open file description) and always close the duplicate.
#define _GNU_SOURCE
#include "util.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static int pidfd_open_(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
static int pidfd_getfd_(int pidfd, int fd) { return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0); }

static const char *tcp_state_name(int s)
{
	static const char *names[] = {"",	   "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
				      "FIN_WAIT2", "TIME_WAIT",	  "CLOSE",    "CLOSE_WAIT", "LAST_ACK",
				      "LISTEN",	   "CLOSING",	  "NEW_SYN_RECV"};
	return s > 0 && s < (int)(sizeof names / sizeof *names) ? names[s] : "UNKNOWN";
}

static void set_addr(napi_env env, napi_value obj, const char *akey, const char *pkey, struct sockaddr_storage *ss,
		     bool ok)
{
	char buf[INET6_ADDRSTRLEN] = "";
	int port = -1;
	if (ok && ss->ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
		port = ntohs(a->sin_port);
	} else if (ok && ss->ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
		port = ntohs(a->sin6_port);
	}
	sy_set(env, obj, akey, port >= 0 ? sy_str(env, buf) : sy_null(env));
	sy_set(env, obj, pkey, port >= 0 ? sy_i32(env, port) : sy_null(env));
}

static int sockopt_int(int fd, int level, int name, int *out)
{
	socklen_t len = sizeof *out;
	return getsockopt(fd, level, name, out, &len);
}

static napi_value list_sockets(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int32_t pid;
	if (!sy_args(env, info, 1, 1, argv) || !sy_arg_i32(env, argv[0], "pid", &pid))
		return NULL;
	int pidfd = pidfd_open_(pid);
	if (pidfd < 0)
		return sy_throw_errno(env, "listSockets: pidfd_open", errno);
	char dir[64];
	snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		close(pidfd);
		return sy_throw_errno(env, "listSockets: opendir(/proc/PID/fd)", e);
	}
	napi_value arr;
	napi_create_array(env, &arr);
	uint32_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name)
			continue;
		char link[PATH_MAX], target[64];
		snprintf(link, sizeof link, "%s/%s", dir, de->d_name);
		ssize_t l = readlink(link, target, sizeof target - 1);
		if (l < 0)
			continue; /* closed meanwhile */
		target[l] = 0;
		if (strncmp(target, "socket:", 7) != 0)
			continue;
		int dup = pidfd_getfd_(pidfd, (int)fd);
		if (dup < 0) {
			if (errno == EBADF)
				continue; /* closed meanwhile */
			int e = errno;
			closedir(d);
			close(pidfd);
			return sy_throw_errno(env, "listSockets: pidfd_getfd", e);
		}
		int family = -1, type = -1, protocol = -1, mark = 0;
		sockopt_int(dup, SOL_SOCKET, SO_DOMAIN, &family);
		sockopt_int(dup, SOL_SOCKET, SO_TYPE, &type);
		sockopt_int(dup, SOL_SOCKET, SO_PROTOCOL, &protocol);
		sockopt_int(dup, SOL_SOCKET, SO_MARK, &mark);
		napi_value o;
		napi_create_object(env, &o);
		sy_set(env, o, "fd", sy_i32(env, (int32_t)fd));
		sy_set(env, o, "family", sy_i32(env, family));
		sy_set(env, o, "type", sy_i32(env, type));
		sy_set(env, o, "protocol", sy_i32(env, protocol));
		sy_set(env, o, "mark", sy_u32(env, (uint32_t)mark));
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		bool inet = family == AF_INET || family == AF_INET6;
		memset(&ss, 0, sizeof ss);
		bool ok = inet && getsockname(dup, (struct sockaddr *)&ss, &sl) == 0;
		set_addr(env, o, "localAddress", "localPort", &ss, ok);
		sl = sizeof ss;
		memset(&ss, 0, sizeof ss);
		ok = inet && getpeername(dup, (struct sockaddr *)&ss, &sl) == 0;
		set_addr(env, o, "remoteAddress", "remotePort", &ss, ok);
		struct tcp_info ti;
		socklen_t tl = sizeof ti;
		if (inet && protocol == IPPROTO_TCP && getsockopt(dup, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
			sy_set(env, o, "tcpState", sy_str(env, tcp_state_name(ti.tcpi_state)));
		else
			sy_set(env, o, "tcpState", sy_null(env));
		close(dup);
		napi_set_element(env, arr, n++, o);
	}
	closedir(d);
	close(pidfd);
	return arr;
}

/* Duplicates pid's fd into us; throws and returns -1 on failure. */
static int grab(napi_env env, napi_callback_info info, size_t nargs, napi_value *argv, const char *op)
{
	int32_t pid, fd;
	char what[96];
	if (!sy_args(env, info, nargs, nargs, argv) || !sy_arg_i32(env, argv[0], "pid", &pid) ||
	    !sy_arg_i32(env, argv[1], "fd", &fd))
		return -1;
	int pidfd = pidfd_open_(pid);
	if (pidfd < 0) {
		snprintf(what, sizeof what, "%s: pidfd_open", op);
		sy_throw_errno(env, what, errno);
		return -1;
	}
	int dup = pidfd_getfd_(pidfd, fd);
	int e = errno;
	close(pidfd);
	if (dup < 0) {
		snprintf(what, sizeof what, "%s: pidfd_getfd", op);
		sy_throw_errno(env, what, e);
	}
	return dup;
}

static napi_value set_socket_mark(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	int dup = grab(env, info, 3, argv, "setSocketMark");
	if (dup < 0)
		return NULL;
	uint32_t mark;
	if (!sy_arg_u32(env, argv[2], "mark", &mark)) {
		close(dup);
		return NULL;
	}
	int err = setsockopt(dup, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
	int e = errno;
	close(dup);
	if (err)
		return sy_throw_errno(env, "setSocketMark: setsockopt(SO_MARK)", e);
	return NULL;
}

static napi_value shutdown_socket(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	int dup = grab(env, info, 2, argv, "shutdownSocket");
	if (dup < 0)
		return NULL;
	int err = shutdown(dup, SHUT_RDWR);
	int e = errno;
	close(dup);
	if (err && e != ENOTCONN)
		return sy_throw_errno(env, "shutdownSocket: shutdown(SHUT_RDWR)", e);
	return NULL;
}

void sy_init_sockets(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "listSockets", list_sockets);
	SY_EXPORT(env, exports, "setSocketMark", set_socket_mark);
	SY_EXPORT(env, exports, "shutdownSocket", shutdown_socket);
}
