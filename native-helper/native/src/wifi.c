// The Wi-Fi network (SSID) a station interface is connected to, asked of the kernel over nl80211
// (generic netlink), with no iw and no NetworkManager. The netlink socket is opened in the calling
// thread's network namespace, like everything else the helper reads. The interface is checked in
// /sys/class/net first, so a non-Wi-Fi uplink costs no netlink at all; that view is of the namespace
// /sys was mounted in (under `nsenter --net` the outer one's, and a Wi-Fi interface moved in reads as
// not Wi-Fi: null).
#define _GNU_SOURCE
#include "util.h"
#include <limits.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/nl80211.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define SY_SSID_MAX 32 /* IEEE 802.11: an SSID is 0..32 raw bytes, in no particular encoding */
/* "0x" + two hex digits a byte + NUL: the longest text an SSID becomes. */
#define SY_SSID_TEXT_LEN (2 + 2 * SY_SSID_MAX + 1)
#define SY_GENL_REPLY_MAX 65536 /* nl80211's family description (every command it has) is a few KiB */

struct sy_attr {
	const uint8_t *data; /* NULL: absent */
	size_t len;
};

/* Walks one recv's worth of netlink messages to the first generic netlink reply and records the first
 * attribute of each type up to max in tab. Returns 0, or -errno: an NLMSG_ERROR reply's error, or
 * -EBADMSG when the bytes are not a well-formed reply. Reads through memcpy: the bytes may be unaligned. */
static int genl_parse(const uint8_t *p, size_t len, struct sy_attr *tab, uint16_t max)
{
	memset(tab, 0, sizeof *tab * ((size_t)max + 1));
	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr nh;
		memcpy(&nh, p, sizeof nh);
		if (nh.nlmsg_len < sizeof nh || nh.nlmsg_len > len)
			return -EBADMSG;
		if (nh.nlmsg_type == NLMSG_ERROR) {
			int err; /* struct nlmsgerr's first field */
			if (nh.nlmsg_len < NLMSG_LENGTH(sizeof err))
				return -EBADMSG;
			memcpy(&err, p + NLMSG_HDRLEN, sizeof err);
			if (err < 0 && err > -4096)
				return err;
			if (err != 0)
				return -EBADMSG;
			/* error 0 is an acknowledgement: the reply, if any, is elsewhere */
		} else if (nh.nlmsg_type >= NLMSG_MIN_TYPE) {
			size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
			if (nh.nlmsg_len < off)
				return -EBADMSG;
			while (off + NLA_HDRLEN <= nh.nlmsg_len) {
				struct nlattr a;
				memcpy(&a, p + off, sizeof a);
				if (a.nla_len < NLA_HDRLEN || a.nla_len > nh.nlmsg_len - off)
					return -EBADMSG;
				uint16_t type = a.nla_type & NLA_TYPE_MASK;
				if (type <= max && !tab[type].data)
					tab[type] = (struct sy_attr){p + off + NLA_HDRLEN, a.nla_len - NLA_HDRLEN};
				off += NLA_ALIGN(a.nla_len);
			}
			return 0;
		}
		size_t step = NLMSG_ALIGN(nh.nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return -EBADMSG; /* no reply in it */
}

/* Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) without NUL bytes, which
 * would cut the name short as a C string. */
static bool utf8_text(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp, min;
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			k = 1, cp = c & 0x1F, min = 0x80;
		else if ((c & 0xF0) == 0xE0)
			k = 2, cp = c & 0x0F, min = 0x800;
		else if ((c & 0xF8) == 0xF0)
			k = 3, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += k + 1;
	}
	return true;
}

/* The SSID in an NL80211_CMD_GET_INTERFACE reply (msg: the bytes recv returned), as text in out: its
 * bytes when they are UTF-8, else "0x" and lowercase hex. Returns 1 when out holds one, 0 when the
 * interface is not a station connected to a network (no SSID, or an access point's own), or -errno as
 * genl_parse does (-ENOSPC: out is shorter than SY_SSID_TEXT_LEN). Pure, for tests on built bytes. */
int sy_nl80211_find_ssid(const void *msg, size_t len, char *out, size_t outlen)
{
	struct sy_attr tab[NL80211_ATTR_SSID + 1];
	if (outlen < SY_SSID_TEXT_LEN)
		return -ENOSPC;
	int r = genl_parse(msg, len, tab, NL80211_ATTR_SSID);
	if (r < 0)
		return r;
	const struct sy_attr *ift = &tab[NL80211_ATTR_IFTYPE], *ssid = &tab[NL80211_ATTR_SSID];
	uint32_t iftype;
	if (!ift->data || ift->len != sizeof iftype)
		return 0;
	memcpy(&iftype, ift->data, sizeof iftype);
	if (iftype != NL80211_IFTYPE_STATION && iftype != NL80211_IFTYPE_P2P_CLIENT)
		return 0;
	if (!ssid->data || ssid->len == 0)
		return 0;
	if (ssid->len > SY_SSID_MAX)
		return -EBADMSG;
	if (utf8_text(ssid->data, ssid->len)) {
		memcpy(out, ssid->data, ssid->len);
		out[ssid->len] = 0;
	} else {
		static const char hex[] = "0123456789abcdef";
		char *o = out;
		*o++ = '0', *o++ = 'x';
		for (size_t i = 0; i < ssid->len; i++)
			*o++ = hex[ssid->data[i] >> 4], *o++ = hex[ssid->data[i] & 15];
		*o = 0;
	}
	return 1;
}

/* One request (a single attribute) and its reply into buf; returns the reply's length or -errno. The
 * socket is ours alone and joins no multicast group, so what it receives next is this reply. */
static ssize_t genl_call(int fd, uint16_t family, uint8_t cmd, uint16_t attr, const void *data, uint16_t dlen,
			 uint8_t *buf, size_t cap)
{
	union {
		struct nlmsghdr nh;
		uint8_t bytes[NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN + 64];
	} req = {0};
	if ((size_t)NLA_ALIGN(NLA_HDRLEN + dlen) > sizeof req.bytes - NLMSG_HDRLEN - GENL_HDRLEN)
		return -EINVAL;
	struct genlmsghdr gh = {.cmd = cmd, .version = 1};
	struct nlattr a = {.nla_len = NLA_HDRLEN + dlen, .nla_type = attr};
	memcpy(req.bytes + NLMSG_HDRLEN, &gh, sizeof gh);
	memcpy(req.bytes + NLMSG_HDRLEN + GENL_HDRLEN, &a, sizeof a);
	memcpy(req.bytes + NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN, data, dlen);
	req.nh.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(a.nla_len);
	req.nh.nlmsg_type = family;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
		return -errno;
	ssize_t n = recv(fd, buf, cap, MSG_TRUNC);
	if (n < 0)
		return -errno;
	return (size_t)n > cap ? -EMSGSIZE : n;
}

/* The SSID of the station ifindex is connected to, as sy_nl80211_find_ssid gives it; 0 also when there
 * is no nl80211 (no cfg80211 in the kernel) or ifindex is not one of its interfaces. *op names the step
 * that failed. */
static int query_ssid(unsigned ifindex, char *out, size_t outlen, const char **op)
{
	*op = "wifiSsid: socket(NETLINK_GENERIC)";
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	uint8_t *buf = malloc(SY_GENL_REPLY_MAX);
	int r = -ENOMEM;
	if (!buf)
		goto out;
	/* The kernel answers at once; the bound keeps a wedged one from hanging the helper's event loop. */
	struct timeval limit = {.tv_sec = 2};
	r = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) < 0 ? -errno : 0;
	if (r < 0)
		goto out;

	*op = "wifiSsid: CTRL_CMD_GETFAMILY(nl80211)";
	struct sy_attr ctrl[CTRL_ATTR_FAMILY_ID + 1];
	ssize_t n = genl_call(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, NL80211_GENL_NAME,
			      sizeof NL80211_GENL_NAME, buf, SY_GENL_REPLY_MAX);
	r = n < 0 ? (int)n : genl_parse(buf, (size_t)n, ctrl, CTRL_ATTR_FAMILY_ID);
	if (r == -ENOENT) { /* no cfg80211 in this kernel: no Wi-Fi */
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	uint16_t family;
	if (!ctrl[CTRL_ATTR_FAMILY_ID].data || ctrl[CTRL_ATTR_FAMILY_ID].len != sizeof family) {
		r = -EBADMSG;
		goto out;
	}
	memcpy(&family, ctrl[CTRL_ATTR_FAMILY_ID].data, sizeof family);

	*op = "wifiSsid: NL80211_CMD_GET_INTERFACE";
	uint32_t index = ifindex;
	n = genl_call(fd, family, NL80211_CMD_GET_INTERFACE, NL80211_ATTR_IFINDEX, &index, sizeof index, buf,
		      SY_GENL_REPLY_MAX);
	r = n < 0 ? (int)n : sy_nl80211_find_ssid(buf, (size_t)n, out, outlen);
	if (r == -ENODEV) /* not a cfg80211 interface (or gone since): no SSID */
		r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

/* wifiSsid(ifname) → the SSID its station is connected to, or null (not Wi-Fi, not connected). */
static napi_value wifi_ssid(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char name[IFNAMSIZ + 1];
	if (!sy_args(env, info, 1, 1, argv) || !sy_arg_str(env, argv[0], "ifname", name, sizeof name))
		return NULL;
	if (!name[0] || strlen(name) >= IFNAMSIZ)
		return sy_throw(env, true, "ifname must be an interface name of 1..%d characters", IFNAMSIZ - 1);
	/* First, so an unknown name is an error, and no name ("..", "a/b") reaches the sysfs paths. */
	unsigned ifindex = if_nametoindex(name);
	if (!ifindex)
		return sy_throw_errno(env, "wifiSsid: if_nametoindex", errno);
	char wireless[PATH_MAX], phy[PATH_MAX];
	snprintf(wireless, sizeof wireless, "/sys/class/net/%s/wireless", name);
	snprintf(phy, sizeof phy, "/sys/class/net/%s/phy80211", name);
	if (access(wireless, F_OK) < 0 && access(phy, F_OK) < 0)
		return sy_null(env);
	char ssid[SY_SSID_TEXT_LEN];
	const char *op;
	int r = query_ssid(ifindex, ssid, sizeof ssid, &op);
	if (r < 0)
		return sy_throw_errno(env, op, -r);
	return r ? sy_str(env, ssid) : sy_null(env);
}

/* nl80211FindSsid(reply) → what sy_nl80211_find_ssid reads in these bytes: for tests of the parser on
 * hand-built replies (the kernel here may have no cfg80211 to give real ones). */
static napi_value nl80211_find_ssid(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	bool is;
	void *data;
	size_t len;
	if (!sy_args(env, info, 1, 1, argv))
		return NULL;
	if (napi_is_buffer(env, argv[0], &is) != napi_ok || !is ||
	    napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok)
		return sy_throw(env, true, "reply must be a Buffer");
	char ssid[SY_SSID_TEXT_LEN];
	int r = sy_nl80211_find_ssid(data, len, ssid, sizeof ssid);
	if (r < 0)
		return sy_throw_errno(env, "nl80211FindSsid", -r);
	return r ? sy_str(env, ssid) : sy_null(env);
}

void sy_init_wifi(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "wifiSsid", wifi_ssid);
	SY_EXPORT(env, exports, "nl80211FindSsid", nl80211_find_ssid);
}
