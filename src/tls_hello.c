/* tls_hello.c - ClientHello reader (see tls_hello.h). RFC 8446 4.1.2 and
 * RFC 6066 3 (server_name); records per RFC 8446 5.1: a handshake message
 * may be split across records, which are reassembled here first. */
#include <config.h>

#include "tls_hello.h"

#include <string.h>

#define REC_HANDSHAKE 0x16
#define HS_CLIENT_HELLO 1
#define EXT_SERVER_NAME 0
#define SNI_HOST_NAME 0

/* A bounds-checked reader over the hello's body. */
struct rd {
	const uint8_t *p;
	size_t left;
	int bad;
};

static unsigned take(struct rd *r, size_t n)
{
	unsigned v = 0;

	if (r->bad || r->left < n) {
		r->bad = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | r->p[i];
	r->p += n;
	r->left -= n;
	return v;
}

static const uint8_t *skip(struct rd *r, size_t n)
{
	const uint8_t *at = r->p;

	if (r->bad || r->left < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return at;
}

/* DNS names only: letters, digits, '-', '_', '.'; lower-cased. */
static int copy_host(struct tls_hello *out, const uint8_t *name, size_t len)
{
	if (len == 0 || len >= sizeof(out->sni))
		return -1;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_' || c == '.'))
			return -1;
		out->sni[i] = (char)c;
	}
	out->sni[len] = '\0';
	return 0;
}

static int parse_sni(struct tls_hello *out, struct rd ext)
{
	struct rd list = ext;
	size_t list_len = take(&list, 2);

	if (list.bad || list_len != list.left)
		return -1;
	while (list.left > 0) {
		unsigned type = take(&list, 1);
		size_t len = take(&list, 2);
		const uint8_t *name = skip(&list, len);
		if (list.bad)
			return -1;
		if (type == SNI_HOST_NAME)
			return copy_host(out, name, len);
	}
	return 0;
}

/* The ClientHello body: version, random, session id, cipher suites,
 * compression methods, then the extensions, where server_name is. */
static int parse_body(struct tls_hello *out, const uint8_t *body, size_t len)
{
	struct rd r = {body, len, 0};
	size_t ext_len;

	skip(&r, 2 + 32);
	skip(&r, take(&r, 1));
	skip(&r, take(&r, 2));
	skip(&r, take(&r, 1));
	if (r.bad)
		return -1;
	if (r.left == 0)
		return 0; /* no extensions at all (SSLv3-style): no SNI */
	ext_len = take(&r, 2);
	if (r.bad || ext_len != r.left)
		return -1;
	while (r.left > 0) {
		unsigned type = take(&r, 2);
		size_t elen = take(&r, 2);
		const uint8_t *data = skip(&r, elen);
		if (r.bad)
			return -1;
		if (type == EXT_SERVER_NAME) {
			struct rd ext = {data, elen, 0};
			return parse_sni(out, ext);
		}
	}
	return 0;
}

enum tls_hello_status tls_hello_parse(const uint8_t *buf, size_t len, struct tls_hello *out)
{
	uint8_t hs[TLS_HELLO_MAX + 4];
	size_t hs_len = 0, off = 0, msg_len;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return TLS_HELLO_NEED_MORE;
	if (buf[0] != REC_HANDSHAKE)
		return TLS_HELLO_NOT_TLS;
	/* Reassemble handshake records until the first message is whole. */
	for (;;) {
		size_t rec_len;
		if (len - off < 5)
			return TLS_HELLO_NEED_MORE;
		if (buf[off] != REC_HANDSHAKE || buf[off + 1] != 3)
			return off == 0 && buf[1] != 3 ? TLS_HELLO_NOT_TLS : TLS_HELLO_INVALID;
		rec_len = (size_t)buf[off + 3] << 8 | buf[off + 4];
		if (rec_len == 0 || rec_len > 16384 + 256)
			return TLS_HELLO_INVALID;
		if (len - off - 5 < rec_len)
			return TLS_HELLO_NEED_MORE;
		if (hs_len + rec_len > sizeof(hs))
			return TLS_HELLO_INVALID;
		memcpy(hs + hs_len, buf + off + 5, rec_len);
		hs_len += rec_len;
		off += 5 + rec_len;
		if (hs_len < 4)
			continue;
		out->hello_type = hs[0];
		if (hs[0] != HS_CLIENT_HELLO)
			return TLS_HELLO_INVALID;
		msg_len = (size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3];
		if (msg_len > TLS_HELLO_MAX)
			return TLS_HELLO_INVALID;
		if (hs_len >= 4 + msg_len)
			break;
	}
	if (parse_body(out, hs + 4, msg_len) < 0) {
		out->sni[0] = '\0';
		return TLS_HELLO_INVALID;
	}
	return TLS_HELLO_OK;
}

const char *tls_hello_status_name(enum tls_hello_status st)
{
	switch (st) {
	case TLS_HELLO_NEED_MORE:
		return "incomplete";
	case TLS_HELLO_OK:
		return "ClientHello";
	case TLS_HELLO_NOT_TLS:
		return "not TLS";
	case TLS_HELLO_INVALID:
		return "invalid TLS handshake";
	}
	return "?";
}
