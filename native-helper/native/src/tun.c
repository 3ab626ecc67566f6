// The privileged half of the tunnel data path's setup: the helper (root) opens the multi-queue TUN
// and the UDP sockets here and hands only the descriptors to the unprivileged data path process.
// Flags and options match what the data path needs (native/datapath/worker.c): IFF_VNET_HDR with
// TSO/USO offloads, SO_REUSEPORT per worker, forced 4 MiB buffers (needs CAP_NET_ADMIN). The
// flowmark tc program is loaded and attached here too; the data path gets only its map's fd.
// With opts.netns the descriptors are created in /run/netns/NAME: only the calling thread enters it,
// and it always returns before this function does.
#define _GNU_SOURCE
#include "util.h"
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

#define SY_MAX_QUEUES 64

/* Reads opts.netns (a name under /run/netns or an absolute path); "" when absent. */
static bool opt_netns(napi_env env, napi_value opts, char *buf, size_t len)
{
	buf[0] = 0;
	napi_valuetype t;
	napi_typeof(env, opts, &t);
	if (t != napi_object)
		return true;
	bool has = false;
	napi_has_named_property(env, opts, "netns", &has);
	if (!has)
		return true;
	napi_value v;
	napi_get_named_property(env, opts, "netns", &v);
	napi_typeof(env, v, &t);
	if (t == napi_undefined)
		return true;
	char name[200];
	if (!sy_arg_str(env, v, "opts.netns", name, sizeof name))
		return false;
	if (!name[0] || (name[0] != '/' && strchr(name, '/'))) {
		sy_throw(env, true, "opts.netns must be a namespace name (ip netns) or an absolute path");
		return false;
	}
	snprintf(buf, len, name[0] == '/' ? "%s" : "/run/netns/%s", name);
	return true;
}

static bool opt_bool(napi_env env, napi_value opts, const char *key)
{
	napi_valuetype t;
	napi_typeof(env, opts, &t);
	if (t != napi_object)
		return false;
	napi_value v;
	bool out = false;
	if (napi_get_named_property(env, opts, key, &v) == napi_ok)
		napi_get_value_bool(env, v, &out); /* non-booleans stay false */
	return out;
}

/* Enters the namespace at path on this thread; *saved gets the one to return to (-1: nothing to do). */
static int enter_netns(const char *path, int *saved)
{
	*saved = -1;
	if (!path[0])
		return 0;
	int target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0)
		return -1;
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(target, CLONE_NEWNET) < 0) {
		int e = errno;
		if (self >= 0)
			close(self);
		close(target);
		errno = e;
		return -1;
	}
	close(target);
	*saved = self;
	return 0;
}

/* Returning must not fail silently: a thread left in the wrong namespace would misplace later sockets. */
static int leave_netns(int saved)
{
	if (saved < 0)
		return 0;
	int r = setns(saved, CLONE_NEWNET);
	close(saved);
	return r;
}

static int open_tun_queue(const char *name, bool offload)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	struct ifreq ifr = {0};
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	int hdr = sizeof(struct virtio_net_hdr);
	int r = ioctl(fd, TUNSETIFF, &ifr);
	if (r == 0)
		r = ioctl(fd, TUNSETVNETHDRSZ, &hdr);
	if (r == 0 && offload) {
		r = ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6);
		if (r < 0) /* kernels before 6.2 have no USO */
			r = ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
	} else if (r == 0) {
		r = ioctl(fd, TUNSETOFFLOAD, 0);
	}
	if (r < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int open_udp(uint16_t *port)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	int zero = 0, one = 1, buf = 4 << 20;
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT, .sin6_port = htons(*port)};
	socklen_t l = sizeof a;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*port = ntohs(a.sin6_port);
	return fd;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static napi_value fd_array(napi_env env, const int *fds, int n)
{
	napi_value arr;
	napi_create_array_with_length(env, (size_t)n, &arr);
	for (int i = 0; i < n; i++)
		napi_set_element(env, arr, (uint32_t)i, sy_i32(env, fds[i]));
	return arr;
}

/* tunOpen(name, queues, {offload?, netns?}) -> fds, one per queue, O_NONBLOCK|O_CLOEXEC. */
static napi_value tun_open(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!sy_args(env, info, 2, 3, argv))
		return NULL;
	char name[IFNAMSIZ + 1], netns[256];
	uint32_t queues;
	if (!sy_arg_str(env, argv[0], "name", name, sizeof name) || !sy_arg_u32(env, argv[1], "queues", &queues) ||
	    !opt_netns(env, argv[2], netns, sizeof netns))
		return NULL;
	if (!name[0] || strlen(name) >= IFNAMSIZ)
		return sy_throw(env, true, "name must be an interface name of 1..%d characters", IFNAMSIZ - 1);
	if (queues < 1 || queues > SY_MAX_QUEUES)
		return sy_throw(env, true, "queues must be 1..%d", SY_MAX_QUEUES);
	bool offload = opt_bool(env, argv[2], "offload");
	int saved, fds[SY_MAX_QUEUES], n = 0, err = 0;
	const char *op = "setns";
	if (enter_netns(netns, &saved) < 0)
		return sy_throw_errno(env, "setns", errno);
	for (; n < (int)queues; n++) {
		fds[n] = open_tun_queue(name, offload);
		if (fds[n] < 0) {
			err = errno, op = "TUNSETIFF";
			break;
		}
	}
	if (leave_netns(saved) < 0 && !err)
		err = errno, op = "setns";
	if (err) {
		close_all(fds, n);
		return sy_throw_errno(env, op, err);
	}
	return fd_array(env, fds, n);
}

/* udpOpen(port, count, {netns?}) -> {port, fds}: dual-stack sockets sharing one port (SO_REUSEPORT). */
static napi_value udp_open(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!sy_args(env, info, 2, 3, argv))
		return NULL;
	char netns[256];
	uint32_t port32, count;
	if (!sy_arg_u32(env, argv[0], "port", &port32) || !sy_arg_u32(env, argv[1], "count", &count) ||
	    !opt_netns(env, argv[2], netns, sizeof netns))
		return NULL;
	if (port32 > 65535)
		return sy_throw(env, true, "port must be 0..65535");
	if (count < 1 || count > SY_MAX_QUEUES)
		return sy_throw(env, true, "count must be 1..%d", SY_MAX_QUEUES);
	uint16_t port = (uint16_t)port32; /* 0: the first bind picks one, the others join it */
	int saved, fds[SY_MAX_QUEUES], n = 0, err = 0;
	const char *op = "setns";
	if (enter_netns(netns, &saved) < 0)
		return sy_throw_errno(env, "setns", errno);
	for (; n < (int)count; n++) {
		fds[n] = open_udp(&port);
		if (fds[n] < 0) {
			err = errno, op = "bind";
			break;
		}
	}
	if (leave_netns(saved) < 0 && !err)
		err = errno, op = "setns";
	if (err) {
		close_all(fds, n);
		return sy_throw_errno(env, op, err);
	}
	napi_value out;
	napi_create_object(env, &out);
	sy_set(env, out, "port", sy_i32(env, port));
	sy_set(env, out, "fds", fd_array(env, fds, n));
	return out;
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap) { return 0; }

/* Loads the tc program, attaches it to ifindex's egress (client: sy_flowmark files socket marks) or
 * ingress (gateway: sy_flowmark_apply applies the marks the data path filed); returns a CLOEXEC dup
 * of its map's fd. The tc filter keeps the program alive as long as the device exists (as long as
 * its queues are open). */
static int attach_flowmark(const char *object, int ifindex, bool ingress, const char **op)
{
	libbpf_set_print(quiet_libbpf);
	int mfd = -1;
	*op = "bpf_object__open_file";
	struct bpf_object *obj = bpf_object__open_file(object, NULL);
	if (!obj)
		return -1;
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, ingress ? "sy_flowmark_apply" : "sy_flowmark");
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "sy_flowmarks");
	*op = "bpf_object__load";
	if (!prog || !map) {
		errno = ENOENT;
		goto out;
	}
	int r = bpf_object__load(obj);
	if (r < 0) {
		errno = -r;
		goto out;
	}
	*op = "bpf_tc_hook_create";
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	r = bpf_tc_hook_create(&hook);
	if (r < 0 && r != -EEXIST) {
		errno = -r;
		goto out;
	}
	*op = "bpf_tc_attach";
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(prog));
	r = bpf_tc_attach(&hook, &opts);
	if (r < 0) {
		errno = -r;
		goto out;
	}
	*op = "dup";
	mfd = fcntl(bpf_map__fd(map), F_DUPFD_CLOEXEC, 3);
out:;
	int e = errno;
	bpf_object__close(obj);
	errno = e;
	return mfd;
}

/* flowmarkAttach(ifname, object, {netns?, ingress?}) -> the map fd (mmap'able, shared with the data path). */
static napi_value flowmark_attach(napi_env env, napi_callback_info info)
{
	napi_value argv[3];
	if (!sy_args(env, info, 2, 3, argv))
		return NULL;
	char name[IFNAMSIZ + 1], object[4096], netns[256];
	if (!sy_arg_str(env, argv[0], "ifname", name, sizeof name) ||
	    !sy_arg_str(env, argv[1], "object", object, sizeof object) || !opt_netns(env, argv[2], netns, sizeof netns))
		return NULL;
	bool ingress = opt_bool(env, argv[2], "ingress");
	int saved, err = 0, fd = -1;
	const char *op = "if_nametoindex";
	if (enter_netns(netns, &saved) < 0)
		return sy_throw_errno(env, "setns", errno);
	int ifindex = (int)if_nametoindex(name);
	if (!ifindex)
		err = errno;
	else if ((fd = attach_flowmark(object, ifindex, ingress, &op)) < 0)
		err = errno ? errno : EINVAL;
	if (leave_netns(saved) < 0 && !err)
		err = errno, op = "setns";
	if (err) {
		if (fd >= 0)
			close(fd);
		return sy_throw_errno(env, op, err);
	}
	return sy_i32(env, fd);
}

void sy_init_tun(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "tunOpen", tun_open);
	SY_EXPORT(env, exports, "udpOpen", udp_open);
	SY_EXPORT(env, exports, "flowmarkAttach", flowmark_attach);
}
