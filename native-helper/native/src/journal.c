// The system journal's native protocol (systemd.journal-fields, "Native Journal Protocol"): one entry is
// one AF_UNIX datagram to journald's socket, made of KEY=value\n lines; a value holding a newline goes
// as KEY\n, its length as a 64-bit little-endian number, the value, then \n.
//
// An entry too big for one datagram (EMSGSIZE) is refused with an error, never truncated: a cut audit
// record would say something else than what happened. (journald also takes big entries as a sealed
// memfd passed with SCM_RIGHTS; our entries are a few hundred bytes, so that path is not built.)
#define _GNU_SOURCE
#include "util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void sy_init_journal(napi_env env, napi_value exports);

#define DEFAULT_SOCKET "/run/systemd/journal/socket"
/* sd-journal's size too: entries up to a few MiB fit in one datagram. */
#define SEND_BUFFER (8 << 20)

static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || n > 64 || s[0] == '_')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* A JS string as UTF-8 (malloc'd, *len without the NUL); NULL with a TypeError when not a string. */
static char *get_string(napi_env env, napi_value v, const char *what, size_t *len)
{
	if (napi_get_value_string_utf8(env, v, NULL, 0, len) != napi_ok) {
		sy_throw(env, true, "journalSend: %s must be a string", what);
		return NULL;
	}
	char *s = malloc(*len + 1);
	if (!s) {
		sy_throw_errno(env, "journalSend: malloc", ENOMEM);
		return NULL;
	}
	napi_get_value_string_utf8(env, v, s, *len + 1, len);
	return s;
}

/* Appends one field in the text or the binary form. */
static void put_field(FILE *out, const char *key, size_t key_len, const char *value, size_t value_len)
{
	fwrite(key, 1, key_len, out);
	if (memchr(value, '\n', value_len)) {
		fputc('\n', out);
		uint64_t n = value_len;
		unsigned char le[8];
		for (int i = 0; i < 8; i++)
			le[i] = (unsigned char)(n >> (8 * i));
		fwrite(le, 1, sizeof le, out);
	} else {
		fputc('=', out);
	}
	fwrite(value, 1, value_len, out);
	fputc('\n', out);
}

/* Builds the entry; NULL with an exception pending on bad input. */
static char *build_entry(napi_env env, napi_value fields, size_t *size)
{
	napi_value keys;
	if (napi_get_all_property_names(env, fields, napi_key_own_only, napi_key_enumerable | napi_key_skip_symbols,
					 napi_key_numbers_to_strings, &keys) != napi_ok) {
		sy_throw(env, true, "journalSend: fields must be an object of strings");
		return NULL;
	}
	uint32_t count = 0;
	napi_get_array_length(env, keys, &count);
	char *buf = NULL;
	FILE *out = open_memstream(&buf, size);
	if (!out) {
		sy_throw_errno(env, "journalSend: open_memstream", errno);
		return NULL;
	}
	bool ok = true;
	for (uint32_t i = 0; i < count && ok; i++) {
		napi_value k, v;
		size_t key_len, value_len;
		napi_get_element(env, keys, i, &k);
		char *key = get_string(env, k, "a field name", &key_len);
		if (!key) {
			ok = false;
			break;
		}
		if (!valid_name(key, key_len)) {
			sy_throw(env, true, "journalSend: field name \"%.80s\" is not 1-64 of A-Z 0-9 _ (not starting with _)",
				 key);
			free(key);
			ok = false;
			break;
		}
		napi_get_property(env, fields, k, &v);
		char *value = get_string(env, v, key, &value_len);
		if (value) {
			put_field(out, key, key_len, value, value_len);
			free(value);
		} else {
			ok = false;
		}
		free(key);
	}
	if (ok && count == 0) {
		sy_throw(env, true, "journalSend: an entry needs at least one field");
		ok = false;
	}
	if (fclose(out) != 0 && ok) {
		sy_throw_errno(env, "journalSend: building the entry", errno);
		ok = false;
	}
	if (!ok) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* journalSend(fields, socketPath?) → true when sent, false when no journal listens there. */
static napi_value journal_send(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	if (!sy_args(env, info, 1, 2, argv))
		return NULL;
	napi_valuetype t;
	napi_typeof(env, argv[0], &t);
	if (t != napi_object)
		return sy_throw(env, true, "journalSend: fields must be an object of strings");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, DEFAULT_SOCKET);
	napi_typeof(env, argv[1], &t);
	if (t != napi_undefined &&
	    !sy_arg_str(env, argv[1], "journalSend: socketPath", sa.sun_path, sizeof sa.sun_path))
		return NULL;

	size_t size = 0;
	char *entry = build_entry(env, argv[0], &size);
	if (!entry)
		return NULL;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		free(entry);
		return sy_throw_errno(env, "journalSend: socket(AF_UNIX)", e);
	}
	int sndbuf = SEND_BUFFER;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	/* MSG_DONTWAIT: a journald that is not keeping up must not stall the event loop. */
	ssize_t n = sendto(fd, entry, size, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof sa);
	int e = n < 0 ? errno : 0;
	close(fd);
	free(entry);
	if (n >= 0)
		return sy_bool(env, true);
	/* No journald here (no socket, or a stale one), or its queue is full: the entry is not delivered. */
	if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR || e == EAGAIN)
		return sy_bool(env, false);
	if (e == EMSGSIZE)
		return sy_throw(env, false,
				"journalSend: the entry is %zu bytes, too big for one journal datagram (EMSGSIZE); "
				"shorten its fields",
				size);
	return sy_throw_errno(env, "journalSend: sendto", e);
}

void sy_init_journal(napi_env env, napi_value exports)
{
	SY_EXPORT(env, exports, "journalSend", journal_send);
}
