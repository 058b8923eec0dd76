/* test_http1.c - HTTP/1.1 codec: valid and invalid heads split at every
 * offset, the X-Forwarded-For rewrite, chunked framing and trailers,
 * response framing, error answers. */
#include <config.h>

#include "http1.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NF 128

/* ------------------------------------------------------------------ */
/* helpers */

static struct h1_field fields[NF];
static struct h1_req req;

/* One-shot parse of the first len bytes, in a buffer of exactly len bytes
 * so that ASan sees any read past the end. */
static enum h1_result parse_n(const char *s, size_t len, const struct h1_limits *lim,
                              struct h1_req *r, struct h1_field *f, size_t *hl, enum h1_error *e)
{
	uint8_t *b = malloc(len ? len : 1);
	enum h1_result res;

	memcpy(b, s, len);
	h1_req_init(r, f, NF);
	res = h1_parse_request(b, len, lim, r, hl, e);
	free(b);
	return res;
}

/* Feed the bytes one at a time to one h1_req, each time in a fresh buffer
 * (the daemon's pullup may move it). Returns the first answer that is not
 * NEED_MORE, or NEED_MORE. */
static enum h1_result parse_bytewise(const char *s, size_t len, const struct h1_limits *lim,
                                     struct h1_req *r, struct h1_field *f, size_t *hl,
                                     enum h1_error *e)
{
	enum h1_result res = H1_NEED_MORE;
	size_t k;

	h1_req_init(r, f, NF);
	*hl = 0;
	*e = H1_ERR_NONE;
	for (k = 1; k <= len && res == H1_NEED_MORE; k++) {
		uint8_t *b = malloc(k);

		memcpy(b, s, k);
		res = h1_parse_request(b, k, lim, r, hl, e);
		free(b);
	}
	return res;
}

static void same_req(const struct h1_req *a, const struct h1_req *b)
{
	uint32_t i;

	ck_assert_int_eq(a->method, b->method);
	ck_assert_uint_eq(a->target.off, b->target.off);
	ck_assert_uint_eq(a->target.len, b->target.len);
	ck_assert_uint_eq(a->nfields, b->nfields);
	ck_assert_int_eq(a->framing, b->framing);
	ck_assert_uint_eq(a->content_length, b->content_length);
	ck_assert_int_eq(a->keep_alive, b->keep_alive);
	for (i = 0; i < a->nfields; i++) {
		ck_assert_uint_eq(a->fields[i].name.off, b->fields[i].name.off);
		ck_assert_uint_eq(a->fields[i].value.len, b->fields[i].value.len);
		ck_assert_uint_eq(a->fields[i].line_end, b->fields[i].line_end);
	}
}

/* A valid head: NEED_MORE for every strict prefix, OK with head_len == len
 * for the whole, the same when fed byte by byte, and the same head_len when
 * another request follows (pipelining). Fills the global req. */
static void valid_lim(const char *s, const struct h1_limits *lim)
{
	static struct h1_field f2[NF];
	struct h1_req r2;
	size_t len = strlen(s), hl, k;
	enum h1_error e;
	char *two;

	for (k = 0; k < len; k++) {
		enum h1_result res = parse_n(s, k, lim, &r2, f2, &hl, &e);

		ck_assert_msg(res == H1_NEED_MORE, "prefix %zu of %zu: %d %s", k, len, res,
		              h1_strerror(e));
		ck_assert_int_eq(e, H1_ERR_NONE);
		ck_assert_uint_eq(hl, 0);
	}
	ck_assert_int_eq(parse_bytewise(s, len, lim, &r2, f2, &hl, &e), H1_OK);
	ck_assert_uint_eq(hl, len);
	two = malloc(2 * len + 1);
	memcpy(two, s, len);
	memcpy(two + len, s, len + 1);
	ck_assert_int_eq(parse_n(two, 2 * len, lim, &req, fields, &hl, &e), H1_OK);
	ck_assert_uint_eq(hl, len);
	free(two);
	ck_assert_int_eq(parse_n(s, len, lim, &req, fields, &hl, &e), H1_OK);
	ck_assert_msg(e == H1_ERR_NONE, "%s", h1_strerror(e));
	ck_assert_uint_eq(hl, len);
	same_req(&req, &r2);
}

static void valid(const char *s)
{
	valid_lim(s, NULL);
}

/* An invalid head: every prefix says NEED_MORE or this error (once the
 * error, always the error); the whole says the error, also byte by byte. */
static void reject_lim(const char *s, const struct h1_limits *lim, enum h1_error want)
{
	struct h1_req r;
	size_t len = strlen(s), hl, k;
	enum h1_error e;
	bool seen = false;

	for (k = 0; k <= len; k++) {
		enum h1_result res = parse_n(s, k, lim, &r, fields, &hl, &e);

		if (res == H1_NEED_MORE) {
			ck_assert_msg(!seen, "%s: prefix %zu NEED_MORE after the error", s, k);
			continue;
		}
		ck_assert_msg(res == H1_ERROR && e == want, "\"%s\" prefix %zu: %d %s, want %s", s,
		              k, res, h1_strerror(e), h1_strerror(want));
		ck_assert_uint_eq(hl, 0);
		seen = true;
	}
	ck_assert_msg(seen, "\"%s\": no error", s);
	ck_assert_int_eq(parse_bytewise(s, len, lim, &r, fields, &hl, &e), H1_ERROR);
	ck_assert_int_eq(e, want);
}

static void reject(const char *s, enum h1_error want)
{
	reject_lim(s, NULL, want);
}

static bool span_is(const struct h1_span sp, const char *buf, const char *want)
{
	return sp.len == strlen(want) && memcmp(buf + sp.off, want, sp.len) == 0;
}

/* ------------------------------------------------------------------ */
/* errors */

START_TEST(test_strerror)
{
	int i, j;

	for (i = 0; i < H1_ERR_COUNT; i++) {
		ck_assert_str_ne(h1_strerror((enum h1_error)i), "unknown");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(h1_strerror((enum h1_error)i),
			                 h1_strerror((enum h1_error)j));
	}
	ck_assert_str_eq(h1_strerror(H1_ERR_NONE), "none");
	ck_assert_str_eq(h1_strerror(H1_ERR_BARE_LF), "bare_lf");
	ck_assert_str_eq(h1_strerror(H1_ERR_COUNT), "unknown");
	ck_assert_int_eq(h1_error_status(H1_ERR_NONE), 0);
	ck_assert_int_eq(h1_error_status(H1_ERR_CL_AND_TE), 400);
	ck_assert_int_eq(h1_error_status(H1_ERR_URI_TOO_LONG), 414);
	ck_assert_int_eq(h1_error_status(H1_ERR_UNSUPPORTED_EXPECT), 417);
	ck_assert_int_eq(h1_error_status(H1_ERR_HEAD_TOO_LARGE), 431);
	ck_assert_int_eq(h1_error_status(H1_ERR_TOO_MANY_FIELDS), 431);
	ck_assert_int_eq(h1_error_status(H1_ERR_UNSUPPORTED_CODING), 501);
	ck_assert_int_eq(h1_error_status(H1_ERR_UNSUPPORTED_VERSION), 505);
	ck_assert_int_eq(h1_error_status(H1_ERR_BAD_STATUS_LINE), 502);
}
END_TEST

/* ------------------------------------------------------------------ */
/* valid requests */

/* Answering before a body is read would desynchronise a kept connection. */
START_TEST(test_req_has_body)
{
	valid("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	ck_assert(!h1_req_has_body(&req));
	valid("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
	ck_assert(!h1_req_has_body(&req));
	valid("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n");
	ck_assert(h1_req_has_body(&req));
	valid("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	ck_assert(h1_req_has_body(&req));
}
END_TEST

START_TEST(test_get)
{
	const char *s = "GET /index.html?a=1&b=%20 HTTP/1.1\r\nHost: example.com\r\n"
	                "User-Agent: curl/8.0\r\nAccept:*/*\r\nX-Empty:\r\n"
	                "X-Pad: \t padded value \t \r\n\r\n";

	valid(s);
	ck_assert_int_eq(req.method, H1_METHOD_GET);
	ck_assert(span_is(req.method_span, s, "GET"));
	ck_assert(span_is(req.target, s, "/index.html?a=1&b=%20"));
	ck_assert_int_eq(req.form, H1_FORM_ORIGIN);
	ck_assert_uint_eq(req.version_minor, 1);
	ck_assert(span_is(req.line, s, "GET /index.html?a=1&b=%20 HTTP/1.1"));
	ck_assert_uint_eq(req.start, 0);
	ck_assert_uint_eq(req.nfields, 5);
	ck_assert(span_is(req.fields[0].name, s, "Host"));
	ck_assert_int_eq(req.fields[0].id, H1_F_HOST);
	ck_assert(span_is(req.fields[2].value, s, "*/*"));
	ck_assert_uint_eq(req.fields[3].value.len, 0);
	ck_assert(span_is(req.fields[4].value, s, "padded value"));
	ck_assert(req.has_host);
	ck_assert(span_is(req.host, s, "example.com"));
	ck_assert_int_eq(req.framing, H1_FRAMING_NONE);
	ck_assert(req.keep_alive);
	ck_assert(!req.expect_continue);
	ck_assert(!req.upgrade);
	ck_assert_uint_eq(req.seen, H1_SEEN(H1_F_HOST) | H1_SEEN(H1_F_OTHER));
}
END_TEST

START_TEST(test_methods_and_forms)
{
	const char *s;

	valid("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
	ck_assert_int_eq(req.method, H1_METHOD_HEAD);
	valid("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
	ck_assert_int_eq(req.method, H1_METHOD_OPTIONS);
	ck_assert_int_eq(req.form, H1_FORM_ASTERISK);
	valid("PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n");
	ck_assert_int_eq(req.method, H1_METHOD_OTHER);
	valid("get /x HTTP/1.1\r\nHost: a\r\n\r\n"); /* methods are case-sensitive */
	ck_assert_int_eq(req.method, H1_METHOD_OTHER);
	valid("PATCH /x HTTP/1.1\r\nHost: a\r\n\r\n");
	ck_assert_int_eq(req.method, H1_METHOD_PATCH);
	s = "GET http://Example.COM:8080/p?q HTTP/1.1\r\nHost: example.com:8080\r\n\r\n";
	valid(s);
	ck_assert_int_eq(req.form, H1_FORM_ABSOLUTE);
	ck_assert(span_is(req.authority, s, "Example.COM:8080"));
	valid("GET https://[::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n");
	ck_assert_int_eq(req.form, H1_FORM_ABSOLUTE);
	valid("GET http://a.b?x HTTP/1.0\r\n\r\n"); /* HTTP/1.0: Host optional */
	s = "CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\n";
	valid(s);
	ck_assert_int_eq(req.method, H1_METHOD_CONNECT);
	ck_assert_int_eq(req.form, H1_FORM_AUTHORITY);
	ck_assert(span_is(req.authority, s, "db.example:5432"));
	valid("GET / HTTP/1.1\r\nHost: \r\n\r\n"); /* empty Host: allowed */
	ck_assert(req.has_host);
	ck_assert_uint_eq(req.host.len, 0);
	valid("GET / HTTP/1.1\r\nHost: 10.0.0.1:80\r\n\r\n");
	valid("GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n");
	valid("GET / HTTP/1.1\r\nHost: a,b\r\n\r\n"); /* sub-delims make a reg-name */
	valid("GET /a;b,c$!'()*+=:@%41~ HTTP/1.1\r\nhost: x\r\n\r\n");
	valid("GET /{json}|^`\\\"<> HTTP/1.1\r\nHost: x\r\n\r\n");
}
END_TEST

START_TEST(test_versions_keepalive)
{
	valid("GET / HTTP/1.0\r\n\r\n");
	ck_assert_uint_eq(req.version_minor, 0);
	ck_assert(!req.keep_alive);
	valid("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
	ck_assert(req.keep_alive);
	ck_assert(req.conn_keep_alive);
	valid("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
	ck_assert(!req.keep_alive);
	valid("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	ck_assert(!req.keep_alive);
	ck_assert(req.conn_close);
	valid("GET / HTTP/1.1\r\nHost: a\r\nConnection: ,, keep-alive ,\r\nconnection: "
	      "CLOSE\r\n\r\n");
	ck_assert(!req.keep_alive);
	valid("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
	ck_assert(req.keep_alive);
}
END_TEST

START_TEST(test_framing)
{
	valid("POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
	ck_assert_int_eq(req.framing, H1_FRAMING_LENGTH);
	ck_assert_uint_eq(req.content_length, 5);
	ck_assert(!req.cl_normalize);
	valid("POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
	ck_assert_int_eq(req.framing, H1_FRAMING_LENGTH);
	ck_assert_uint_eq(req.content_length, 0);
	valid("POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n");
	ck_assert_uint_eq(req.content_length, 7);
	valid("POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n");
	ck_assert_uint_eq(req.content_length, UINT64_C(9223372036854775807));
	valid("POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n");
	ck_assert_uint_eq(req.content_length, 5);
	ck_assert(req.cl_normalize);
	valid("POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n");
	ck_assert_uint_eq(req.content_length, 5);
	ck_assert(req.cl_normalize);
	valid("POST /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	ck_assert_int_eq(req.framing, H1_FRAMING_CHUNKED);
	valid("POST /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  CHUNKED \r\n\r\n");
	ck_assert_int_eq(req.framing, H1_FRAMING_CHUNKED);
}
END_TEST

START_TEST(test_expect_upgrade)
{
	valid("PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");
	ck_assert(req.expect_continue);
	valid("PUT /u HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
	ck_assert(!req.expect_continue);
	valid("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
	ck_assert(req.upgrade);
	ck_assert(req.websocket);
	ck_assert(req.keep_alive);
	valid("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
	      "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n");
	ck_assert(req.upgrade);
	ck_assert(!req.websocket);
	valid("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n"); /* no option */
	ck_assert(!req.upgrade);
	ck_assert(!req.websocket);
	valid("GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n");
	ck_assert(!req.upgrade);
	valid("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nUpgrade: h2c\r\n"
	      "Connection: upgrade\r\n\r\n");
	ck_assert(req.upgrade);
	ck_assert(!req.websocket);
}
END_TEST

START_TEST(test_empty_lines_pipelining)
{
	const char *s = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
	const char *two = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t hl;
	enum h1_error e;

	valid(s);
	ck_assert_uint_eq(req.start, 4);
	ck_assert(span_is(req.line, s, "GET / HTTP/1.1"));
	ck_assert_int_eq(parse_n(two, strlen(two), NULL, &req, fields, &hl, &e), H1_OK);
	ck_assert_uint_eq(hl, 28);
	ck_assert_int_eq(parse_n(two + hl, strlen(two) - hl, NULL, &req, fields, &hl, &e), H1_OK);
	ck_assert_uint_eq(hl, 28);
	ck_assert(span_is(req.target, two + 28, "/2"));
}
END_TEST

START_TEST(test_value_bytes)
{
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xc3\xa9\tok\r\n\r\n";

	valid(s);
	ck_assert(span_is(req.fields[1].value, s, "caf\xc3\xa9\tok"));
}
END_TEST

/* ------------------------------------------------------------------ */
/* rejected requests */

static const struct {
	const char *in;
	enum h1_error err;
} rejects[] = {
    /* line ends */
    {"GET / HTTP/1.1\nHost: a\r\n\r\n", H1_ERR_BARE_LF},
    {"GET / HTTP/1.1\r\nHost: a\n\r\n", H1_ERR_BARE_LF},
    {"GET / HTTP/1.1\r\nHost: a\r\n\n", H1_ERR_BARE_LF},
    {"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BARE_LF},
    {"\r\n\nGET / HTTP/1.1\r\n\r\n", H1_ERR_BARE_LF},
    {"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", H1_ERR_BARE_CR},
    {"GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", H1_ERR_BARE_CR},
    {"GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BARE_CR},
    {"GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", H1_ERR_BARE_CR},
    {"GE\rT / HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BARE_CR},
    {"\rGET / HTTP/1.1\r\n\r\n", H1_ERR_BARE_CR},
    {"GET / HTTP/1.1\r\nX\r: a\r\nHost: a\r\n\r\n", H1_ERR_BARE_CR},
    {"GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n", H1_ERR_BARE_CR},
    /* request line */
    {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", H1_ERR_BAD_METHOD},
    {" GET / HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_METHOD},
    {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_METHOD},
    {"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_METHOD},
    {"GET\r\n\r\n", H1_ERR_BAD_REQUEST_LINE},
    {"GET /\r\n\r\n", H1_ERR_BAD_REQUEST_LINE},
    {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_REQUEST_LINE},
    {"GET / \r\nHost: a\r\n\r\n", H1_ERR_BAD_VERSION},
    {"GET /  HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_VERSION},
    {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", H1_ERR_BAD_VERSION},
    {"GET / http/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_VERSION},
    {"GET / HTTP/1.10\r\nHost: a\r\n\r\n", H1_ERR_BAD_VERSION},
    {"GET / HTTP/1\r\nHost: a\r\n\r\n", H1_ERR_BAD_VERSION},
    {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", H1_ERR_UNSUPPORTED_VERSION},
    {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", H1_ERR_UNSUPPORTED_VERSION},
    {"GET / HTTP/0.9\r\nHost: a\r\n\r\n", H1_ERR_UNSUPPORTED_VERSION},
    {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", H1_ERR_UNSUPPORTED_VERSION},
    {"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_TARGET},
    {"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_TARGET},
    {"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_TARGET},
    {"GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_TARGET},
    {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_TARGET},
    {"OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_TARGET},
    {"GET a.b:80 HTTP/1.1\r\nHost: a.b:80\r\n\r\n", H1_ERR_BAD_TARGET},
    {"GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_TARGET},
    {"GET http:/a/ HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_TARGET},
    {"GET http:///a HTTP/1.1\r\nHost: \r\n\r\n", H1_ERR_BAD_TARGET},
    {"GET http://u:p@a/ HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_TARGET},
    {"GET http://a b/ HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_VERSION},
    {"CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_BAD_TARGET},
    {"CONNECT a.b HTTP/1.1\r\nHost: a.b\r\n\r\n", H1_ERR_BAD_TARGET},
    {"CONNECT a.b: HTTP/1.1\r\nHost: a.b\r\n\r\n", H1_ERR_BAD_TARGET},
    {"CONNECT * HTTP/1.1\r\nHost: a.b\r\n\r\n", H1_ERR_BAD_TARGET},
    /* field lines */
    {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", H1_ERR_OBS_FOLD},
    {"GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", H1_ERR_OBS_FOLD},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", H1_ERR_SPACE_BEFORE_COLON},
    {"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", H1_ERR_SPACE_BEFORE_COLON},
    {"GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n", H1_ERR_BAD_FIELD_NAME},
    {"GET / HTTP/1.1\r\nHost: a\r\nno colon\r\n\r\n", H1_ERR_SPACE_BEFORE_COLON},
    {"GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n", H1_ERR_BAD_FIELD_NAME},
    {"GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n", H1_ERR_BAD_FIELD_NAME},
    {"GET / HTTP/1.1\r\nHost: a\r\nX\x01: z\r\n\r\n", H1_ERR_BAD_FIELD_NAME},
    {"GET / HTTP/1.1\r\nHost: a\r\nX-\xc3\xa9: z\r\n\r\n", H1_ERR_BAD_FIELD_NAME},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", H1_ERR_BAD_FIELD_VALUE},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fz\r\n\r\n", H1_ERR_BAD_FIELD_VALUE},
    {"GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[31m\r\n\r\n", H1_ERR_BAD_FIELD_VALUE},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close;x\r\n\r\n", H1_ERR_BAD_FIELD_VALUE},
    /* Content-Length and Transfer-Encoding */
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
     H1_ERR_CL_AND_TE},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
     H1_ERR_CL_AND_TE},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
     H1_ERR_BAD_CONTENT_LENGTH},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", H1_ERR_BAD_CONTENT_LENGTH},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", H1_ERR_BAD_CONTENT_LENGTH},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", H1_ERR_BAD_CONTENT_LENGTH},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", H1_ERR_BAD_CONTENT_LENGTH},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", H1_ERR_BAD_CONTENT_LENGTH},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", H1_ERR_BAD_CONTENT_LENGTH},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", H1_ERR_BAD_CONTENT_LENGTH},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n",
     H1_ERR_BAD_CONTENT_LENGTH},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
     H1_ERR_BAD_CONTENT_LENGTH},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", H1_ERR_BAD_TRANSFER_ENCODING},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
     H1_ERR_BAD_TRANSFER_ENCODING},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
     H1_ERR_BAD_TRANSFER_ENCODING},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
     H1_ERR_BAD_TRANSFER_ENCODING},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n",
     H1_ERR_BAD_TRANSFER_ENCODING},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", H1_ERR_BAD_TRANSFER_ENCODING},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n",
     H1_ERR_BAD_TRANSFER_ENCODING},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
     H1_ERR_BAD_TRANSFER_ENCODING},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n",
     H1_ERR_BAD_TRANSFER_ENCODING},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
     H1_ERR_UNSUPPORTED_CODING},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
     H1_ERR_UNSUPPORTED_CODING},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", H1_ERR_TE_IN_HTTP10},
    /* Host */
    {"GET / HTTP/1.1\r\n\r\n", H1_ERR_MISSING_HOST},
    {"GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", H1_ERR_MISSING_HOST},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", H1_ERR_DUPLICATE_HOST},
    {"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", H1_ERR_DUPLICATE_HOST},
    {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", H1_ERR_BAD_HOST},
    {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", H1_ERR_BAD_HOST},
    {"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", H1_ERR_BAD_HOST},
    {"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", H1_ERR_BAD_HOST},
    {"GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", H1_ERR_BAD_HOST},
    {"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", H1_ERR_BAD_HOST},
    {"GET / HTTP/1.1\r\nHost: []\r\n\r\n", H1_ERR_BAD_HOST},
    {"GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n", H1_ERR_HOST_MISMATCH},
    {"GET http://a:81/ HTTP/1.1\r\nHost: a\r\n\r\n", H1_ERR_HOST_MISMATCH},
    {"GET http://a/ HTTP/1.1\r\n\r\n", H1_ERR_MISSING_HOST},
    /* Expect */
    {"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", H1_ERR_UNSUPPORTED_EXPECT},
    {"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n", H1_ERR_UNSUPPORTED_EXPECT},
};

START_TEST(test_rejects)
{
	size_t i;

	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++)
		reject(rejects[i].in, rejects[i].err);
}
END_TEST

START_TEST(test_nul_bytes)
{
	static const char line[] = "GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char value[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
	static const char name[] = "GET / HTTP/1.1\r\nHost: a\r\nX\0: ab\r\n\r\n";
	size_t hl;
	enum h1_error e;

	ck_assert_int_eq(parse_n(line, sizeof(line) - 1, NULL, &req, fields, &hl, &e), H1_ERROR);
	ck_assert_int_eq(e, H1_ERR_BAD_TARGET);
	ck_assert_int_eq(parse_n(value, sizeof(value) - 1, NULL, &req, fields, &hl, &e), H1_ERROR);
	ck_assert_int_eq(e, H1_ERR_BAD_FIELD_VALUE);
	ck_assert_int_eq(parse_n(name, sizeof(name) - 1, NULL, &req, fields, &hl, &e), H1_ERROR);
	ck_assert_int_eq(e, H1_ERR_BAD_FIELD_NAME);
}
END_TEST

static void fill_target(char *buf, size_t target_len, const char *rest)
{
	size_t i;

	memcpy(buf, "GET /", 5);
	for (i = 0; i + 1 < target_len; i++)
		buf[5 + i] = 'a';
	strcpy(buf + 4 + target_len, rest);
}

START_TEST(test_limits_line)
{
	struct h1_limits lim = {0};
	char s[256];

	/* "GET /aaaa HTTP/1.1": 4 + target + 9 */
	fill_target(s, 20, " HTTP/1.1\r\nHost: a\r\n\r\n");
	lim.max_line = 33;
	valid_lim(s, &lim);
	lim.max_line = 32;
	reject_lim(s, &lim, H1_ERR_URI_TOO_LONG);
	/* a bad method byte comes before the limit: it decides */
	s[1] = '(';
	reject_lim(s, &lim, H1_ERR_BAD_METHOD);
	/* a bad method byte past the limit does not: the limit came first */
	lim.max_line = 10;
	reject_lim("GETTTTTTTTTTTTTTTTTTTTTT:/ HTTP/1.1\r\nHost: a\r\n\r\n", &lim,
	           H1_ERR_URI_TOO_LONG);
	reject_lim("GETTTTTTTTT: / HTTP/1.1\r\nHost: a\r\n\r\n", &lim, H1_ERR_BAD_METHOD);
	lim.max_line = 32;
	/* the head limit reached inside the request line: 414 */
	lim.max_line = 0;
	lim.max_head = 30;
	fill_target(s, 20, " HTTP/1.1\r\nHost: a\r\n\r\n");
	reject_lim(s, &lim, H1_ERR_URI_TOO_LONG);
}
END_TEST

START_TEST(test_limits_head)
{
	struct h1_limits lim = {0};
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nX-B: 2\r\n\r\n"; /* 43 bytes */
	char big[40000];
	size_t i;

	ck_assert_uint_eq(strlen(s), 43);
	lim.max_head = 43;
	valid_lim(s, &lim);
	lim.max_head = 42;
	reject_lim(s, &lim, H1_ERR_HEAD_TOO_LARGE);
	lim.max_head = 0;
	lim.max_fields = 3;
	valid_lim(s, &lim);
	lim.max_fields = 2;
	reject_lim(s, &lim, H1_ERR_TOO_MANY_FIELDS);
	/* empty lines count in the head */
	lim.max_fields = 0;
	lim.max_head = 46;
	reject_lim("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nX-B: 2\r\n\r\n", &lim,
	           H1_ERR_HEAD_TOO_LARGE);
	reject_lim("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	           "\r\n\r\n\r\n\r\n\r\n",
	           &lim, H1_ERR_HEAD_TOO_LARGE);
	/* default: 16384 bytes, 101 fields */
	strcpy(big, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	i = strlen(big);
	memset(big + i, 'v', 16384 - i - 4);
	strcpy(big + 16384 - 4, "\r\n\r\n");
	ck_assert_uint_eq(strlen(big), 16384);
	{
		size_t hl;
		enum h1_error e;

		ck_assert_int_eq(parse_n(big, 16384, NULL, &req, fields, &hl, &e), H1_OK);
		memmove(big + 30, big + 29, 16385 - 29); /* one more value byte */
		ck_assert_int_eq(parse_n(big, 16385, NULL, &req, fields, &hl, &e), H1_ERROR);
		ck_assert_int_eq(e, H1_ERR_HEAD_TOO_LARGE);
	}
	strcpy(big, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i < 100; i++)
		strcat(big, "X: y\r\n");
	strcat(big, "\r\n");
	{
		size_t hl;
		enum h1_error e;

		ck_assert_int_eq(parse_n(big, strlen(big), NULL, &req, fields, &hl, &e), H1_OK);
		ck_assert_uint_eq(req.nfields, 101);
		big[strlen(big) - 2] = 0;
		strcat(big, "X: y\r\n\r\n");
		ck_assert_int_eq(parse_n(big, strlen(big), NULL, &req, fields, &hl, &e), H1_ERROR);
		ck_assert_int_eq(e, H1_ERR_TOO_MANY_FIELDS);
	}
}
END_TEST

START_TEST(test_fields_cap)
{
	struct h1_field few[2];
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nY: 2\r\n\r\n";
	size_t hl;
	enum h1_error e;

	h1_req_init(&req, few, 2);
	ck_assert_int_eq(h1_parse_request((const uint8_t *)s, strlen(s), NULL, &req, &hl, &e),
	                 H1_ERROR);
	ck_assert_int_eq(e, H1_ERR_TOO_MANY_FIELDS);
	h1_req_init(&req, few, 2);
	ck_assert_int_eq(h1_parse_request((const uint8_t *)s, 25, NULL, &req, &hl, &e),
	                 H1_NEED_MORE);
	ck_assert_uint_eq(req.nfields, 1);
}
END_TEST

START_TEST(test_span_helpers)
{
	const char *s = "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nx-a: 1\r\n"
	                "X-A: 2\r\n\r\n";
	const uint8_t *b = (const uint8_t *)s;

	valid(s);
	ck_assert(h1_span_eq_ci(b, req.fields[1].name, "x-forwarded-for"));
	ck_assert(h1_span_eq_ci(b, req.fields[1].name, "X-FORWARDED-FOR"));
	ck_assert(!h1_span_eq_ci(b, req.fields[1].name, "x-forwarded-fo"));
	ck_assert(!h1_span_eq_ci(b, req.fields[1].name, "x-forwarded-for2"));
	ck_assert_int_eq(req.fields[1].id, H1_F_X_FORWARDED_FOR);
	ck_assert_int_eq(h1_find_field(b, req.fields, req.nfields, 0, "X-a"), 2);
	ck_assert_int_eq(h1_find_field(b, req.fields, req.nfields, 3, "X-a"), 3);
	ck_assert_int_eq(h1_find_field(b, req.fields, req.nfields, 4, "X-a"), -1);
	ck_assert_int_eq(h1_find_field(b, req.fields, req.nfields, 0, "nope"), -1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* rewrite */

static const char *const del_xff[] = {"X-Forwarded-For", "Forwarded", "X-Real-IP"};
static const struct h1_add_field add_xff[] = {
    {"X-Forwarded-For", 15, "192.0.2.7", 9},
    {"X-Forwarded-Proto", 17, "https", 5},
};

/* Parse `in` (valid), rewrite it into out (NUL-terminated), check the
 * bound and that the result parses again as a complete head. */
static int rewrite(const char *in, const struct h1_rewrite *rw, char *out, size_t outlen)
{
	static struct h1_field f2[NF];
	struct h1_req r2;
	size_t hl;
	enum h1_error e;
	int n;

	valid(in);
	n = h1_rewrite_request((const uint8_t *)in, &req, rw, (uint8_t *)out, outlen - 1);
	if (n < 0)
		return n;
	out[n] = 0;
	ck_assert_uint_le((size_t)n, h1_rewrite_bound(&req, rw));
	ck_assert_int_eq(parse_n(out, (size_t)n, NULL, &r2, f2, &hl, &e), H1_OK);
	ck_assert_uint_eq(hl, (size_t)n);
	return n;
}

static struct h1_rewrite xff_rw(void)
{
	struct h1_rewrite rw = {del_xff, 3, add_xff, 1, H1_CONN_AS_CLIENT, false};

	return rw;
}

START_TEST(test_rewrite_xff_spoofs)
{
	struct h1_rewrite rw = xff_rw();
	char out[1024];

	rewrite("GET /p HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nHost: a\r\n"
	        "x-forwarded-for: 2.2.2.2\r\nAccept: */*\r\nX-FORWARDED-FOR:3.3.3.3\r\n"
	        "X-Forwarded-For:   4.4.4.4 ,5.5.5.5  \r\nX-Forwarded-For:\r\n"
	        "X-Forwarded-For-Not: keep\r\nX-Forwarded-Fo: keep\r\nForwarded: for=6.6.6.6\r\n"
	        "X-Real-IP: 7.7.7.7\r\n\r\n",
	        &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET /p HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n"
	                      "X-Forwarded-For-Not: keep\r\nX-Forwarded-Fo: keep\r\n"
	                      "X-Forwarded-For: 192.0.2.7\r\n\r\n");
}
END_TEST

START_TEST(test_rewrite_connection_cannot_remove_ours)
{
	struct h1_rewrite rw = xff_rw();
	char out[1024];

	/* the client nominates the fields we add: its own copies go, ours stay,
	 * and no forwarded Connection option names them */
	rw.nadd = 2;
	rewrite("GET / HTTP/1.1\r\nHost: a\r\nConnection: x-forwarded-for, close\r\n"
	        "Connection: X-Forwarded-Proto\r\nX-Forwarded-For: 1.1.1.1\r\n"
	        "X-Forwarded-Proto: http\r\n\r\n",
	        &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
	                      "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: https\r\n\r\n");
	/* nominated fields are dropped; framing and Host are never */
	rewrite("POST / HTTP/1.1\r\nHost: a\r\nConnection: X-Secret, host, content-length, te\r\n"
	        "X-Secret: s\r\nContent-Length: 2\r\nTE: trailers\r\nx-secret: t\r\n\r\n",
	        &rw, out, sizeof(out));
	ck_assert_uint_eq(req.nominated, 3);
	ck_assert_str_eq(out, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
	                      "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: https\r\n\r\n");
	rw.nadd = 1;
	rewrite("POST / HTTP/1.1\r\nHost: a\r\nConnection: transfer-encoding\r\n"
	        "Transfer-Encoding: chunked\r\n\r\n",
	        &rw, out, sizeof(out));
	ck_assert_str_eq(out, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	                      "X-Forwarded-For: 192.0.2.7\r\n\r\n");
}
END_TEST

START_TEST(test_rewrite_connection_modes)
{
	struct h1_rewrite rw = {NULL, 0, NULL, 0, H1_CONN_AS_CLIENT, false};
	char out[1024];

	rewrite("GET / HTTP/1.1\r\nHost: a\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\n"
	        "Proxy-Connection: keep-alive\r\nClose: x\r\n\r\n",
	        &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	rw.conn = H1_CONN_CLOSE;
	rewrite("GET / HTTP/1.1\r\nHost: a\r\n\r\n", &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	rw.conn = H1_CONN_KEEP_ALIVE;
	rewrite("GET / HTTP/1.1\r\nConnection: close\r\nHost: a\r\n\r\n", &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	rewrite("GET / HTTP/1.0\r\n\r\n", &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	rw.conn = H1_CONN_AS_CLIENT;
	rewrite("GET / HTTP/1.0\r\n\r\n", &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET / HTTP/1.0\r\n\r\n");
	rewrite("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	rewrite("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	/* leading empty lines are not forwarded */
	rewrite("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
}
END_TEST

START_TEST(test_rewrite_upgrade)
{
	struct h1_rewrite rw = xff_rw();
	const char *ws =
	    "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n";
	char out[1024];

	rw.keep_upgrade = true;
	rewrite(ws, &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
	                      "Sec-WebSocket-Version: 13\r\nConnection: upgrade\r\n"
	                      "X-Forwarded-For: 192.0.2.7\r\n\r\n");
	rw.conn = H1_CONN_CLOSE;
	rewrite(ws, &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
	                      "Sec-WebSocket-Version: 13\r\nConnection: close, upgrade\r\n"
	                      "X-Forwarded-For: 192.0.2.7\r\n\r\n");
	/* not kept (an h2c upgrade, say): Upgrade and the option go */
	rw.keep_upgrade = false;
	rw.conn = H1_CONN_AS_CLIENT;
	rewrite(ws, &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET /ws HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Version: 13\r\n"
	                      "X-Forwarded-For: 192.0.2.7\r\n\r\n");
	/* an Upgrade without the option is never forwarded */
	rw.keep_upgrade = true;
	rewrite("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n", &rw, out, sizeof(out));
	ck_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n");
}
END_TEST

START_TEST(test_rewrite_content_length)
{
	struct h1_rewrite rw = {NULL, 0, NULL, 0, H1_CONN_AS_CLIENT, false};
	const char *del_cl[] = {"content-length", "transfer-encoding"};
	char out[1024];

	rewrite("POST / HTTP/1.1\r\nContent-Length: 5\r\nHost: a\r\ncontent-length: 005\r\n\r\n",
	        &rw, out, sizeof(out));
	ck_assert_str_eq(out, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
	rewrite("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12 , 12\r\n\r\n", &rw, out,
	        sizeof(out));
	ck_assert_str_eq(out, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n");
	/* a delete list cannot remove the framing */
	rw.del = del_cl;
	rw.ndel = 2;
	rewrite("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &rw, out,
	        sizeof(out));
	ck_assert_str_eq(out, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	rewrite("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n", &rw, out, sizeof(out));
	ck_assert_str_eq(out, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n");
}
END_TEST

START_TEST(test_rewrite_invalid_and_space)
{
	static const struct h1_add_field bad[] = {
	    {"X Y", 3, "v", 1},
	    {"X-A", 3, "a\r\nX-Injected: 1", 17},
	    {"X-A", 3, " v", 2},
	    {"X-A", 3, "v\t", 2},
	    {"Content-Length", 14, "0", 1},
	    {"Transfer-Encoding", 17, "chunked", 7},
	    {"Connection", 10, "close", 5},
	    {"", 0, "v", 1},
	    {"X-A", 3, "\x00", 1},
	};
	static const struct h1_add_field empty = {"X-Empty", 7, "", 0};
	struct h1_rewrite rw = xff_rw();
	const char *in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	char out[1024];
	size_t i;
	int n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rw.add = &bad[i];
		ck_assert_msg(rewrite(in, &rw, out, sizeof(out)) == H1_RW_INVALID, "add %zu", i);
	}
	rw.add = &empty;
	ck_assert_int_gt(rewrite(in, &rw, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "GET / HTTP/1.1\r\nHost: a\r\nX-Empty: \r\n\r\n");
	rw = xff_rw();
	n = rewrite(in, &rw, out, sizeof(out));
	ck_assert_int_eq(n, 55);
	for (i = 0; i < (size_t)n; i++)
		ck_assert_int_eq(
		    h1_rewrite_request((const uint8_t *)in, &req, &rw, (uint8_t *)out, i),
		    H1_RW_NOSPACE);
	ck_assert_int_eq(h1_rewrite_request((const uint8_t *)in, &req, &rw, (uint8_t *)out, 55),
	                 55);
}
END_TEST

/* ------------------------------------------------------------------ */
/* chunked bodies */

/* body = chunked data part (ending with the last-chunk line) + rest: every
 * split in two feeds finds the end after exactly strlen(data) bytes. */
static void chunk_valid(const char *data, const char *rest, uint64_t chunks, uint64_t bytes)
{
	size_t dlen = strlen(data), len = dlen + strlen(rest), k;
	char *all = malloc(len + 1);

	memcpy(all, data, dlen);
	strcpy(all + dlen, rest);
	for (k = 0; k <= len; k++) {
		struct h1_chunk_state st;
		size_t c1, c2 = 0;
		enum h1_result r;

		h1_chunk_init(&st, NULL);
		r = h1_chunk_feed(&st, (const uint8_t *)all, k, &c1);
		if (k < dlen) {
			ck_assert_msg(r == H1_NEED_MORE, "%s split %zu: %d %s", data, k, r,
			              h1_strerror(st.err));
			ck_assert_uint_eq(c1, k);
			r = h1_chunk_feed(&st, (const uint8_t *)all + k, len - k, &c2);
		}
		ck_assert_msg(r == H1_OK, "%s split %zu: %d %s", data, k, r, h1_strerror(st.err));
		ck_assert_uint_eq(c1 + c2, dlen);
		ck_assert_uint_eq(st.chunks, chunks);
		ck_assert_uint_eq(st.data, bytes);
		ck_assert_int_eq(h1_chunk_feed(&st, (const uint8_t *)all, len, &c2), H1_OK);
		ck_assert_uint_eq(c2, 0);
	}
	free(all);
}

/* The error is found at byte `at` of body, however it is split. */
static void chunk_reject_lim(const char *body, const struct h1_limits *lim, enum h1_error want,
                             size_t at)
{
	size_t len = strlen(body), k;

	for (k = 0; k <= len; k++) {
		struct h1_chunk_state st;
		size_t c1, c2 = 0;
		enum h1_result r;

		h1_chunk_init(&st, lim);
		r = h1_chunk_feed(&st, (const uint8_t *)body, k, &c1);
		if (r == H1_NEED_MORE)
			r = h1_chunk_feed(&st, (const uint8_t *)body + k, len - k, &c2);
		ck_assert_msg(r == H1_ERROR && st.err == want, "%s split %zu: %d %s", body, k, r,
		              h1_strerror(st.err));
		ck_assert_uint_eq(c1 + c2, at);
		ck_assert_int_eq(h1_chunk_feed(&st, (const uint8_t *)"0\r\n", 3, &c2), H1_ERROR);
	}
}

static void chunk_reject(const char *body, enum h1_error want, size_t at)
{
	chunk_reject_lim(body, NULL, want, at);
}

START_TEST(test_chunked_valid)
{
	chunk_valid("0\r\n", "\r\n", 0, 0);
	chunk_valid("5\r\nhello\r\n0\r\n", "\r\n", 1, 5);
	chunk_valid("5\r\nhello\r\n6\r\n world\r\n000\r\n", "X-Forwarded-For: 1\r\n\r\n", 2, 11);
	chunk_valid("a;name=value;q=\"x y\"\r\n0123456789\r\n0;last\r\n", "\r\n", 1, 10);
	chunk_valid("A ;ext\r\n0123456789\r\n1F\r\n0123456789abcdef0123456789abcde\r\n0\r\n",
	            "\r\nGET / HTTP/1.1\r\n", 2, 41);
	chunk_valid("00000001\r\n\r\r\n0\r\n", "", 1, 1); /* data bytes are anything */
	chunk_valid("1;\xc3\xa9\t\r\nx\r\n0\r\n", "", 1, 1);
}
END_TEST

START_TEST(test_chunked_errors)
{
	struct h1_limits lim = {0};
	struct h1_chunk_state st;
	size_t c;

	chunk_reject("\r\n", H1_ERR_BAD_CHUNK_SIZE, 0);
	chunk_reject("g\r\n", H1_ERR_BAD_CHUNK_SIZE, 0);
	chunk_reject("-5\r\n", H1_ERR_BAD_CHUNK_SIZE, 0);
	chunk_reject("+5\r\n", H1_ERR_BAD_CHUNK_SIZE, 0);
	chunk_reject(" 5\r\n", H1_ERR_BAD_CHUNK_SIZE, 0);
	chunk_reject("0x5\r\n", H1_ERR_BAD_CHUNK_SIZE, 1);
	chunk_reject("5x\r\n", H1_ERR_BAD_CHUNK_SIZE, 1);
	chunk_reject("5 \r\nhello\r\n", H1_ERR_BAD_CHUNK_SIZE, 2);
	chunk_reject("5 x\r\n", H1_ERR_BAD_CHUNK_SIZE, 2);
	chunk_reject("\n", H1_ERR_BARE_LF, 0);
	chunk_reject("5\nhello\r\n", H1_ERR_BARE_LF, 1);
	chunk_reject("5;e\nhello\r\n", H1_ERR_BARE_LF, 3);
	chunk_reject("5\rhello\r\n", H1_ERR_BARE_CR, 2);
	chunk_reject("5;a\x01\r\nhello\r\n", H1_ERR_BAD_CHUNK_EXT, 3);
	chunk_reject("5;a\x7f\r\n", H1_ERR_BAD_CHUNK_EXT, 3);
	chunk_reject("5\r\nhelloX\r\n", H1_ERR_BAD_CHUNK_END, 8);
	chunk_reject("5\r\nhello\rX", H1_ERR_BAD_CHUNK_END, 9);
	chunk_reject("5\r\nhello\n0\r\n", H1_ERR_BAD_CHUNK_END, 8);
	chunk_reject("3\r\nhello\r\n", H1_ERR_BAD_CHUNK_END, 6);
	chunk_reject("8000000000000000\r\n", H1_ERR_CHUNK_SIZE_OVERFLOW, 15);
	chunk_reject("10000000000000000\r\n", H1_ERR_CHUNK_SIZE_OVERFLOW, 16);
	chunk_reject("ffffffffffffffffffff\r\n", H1_ERR_CHUNK_SIZE_OVERFLOW, 15);
	/* 2^63-1 is a size */
	h1_chunk_init(&st, NULL);
	ck_assert_int_eq(h1_chunk_feed(&st, (const uint8_t *)"7fffffffffffffff\r\nab", 20, &c),
	                 H1_NEED_MORE);
	ck_assert_uint_eq(st.size, UINT64_C(0x7fffffffffffffff) - 2);
	/* line limit: extensions, then leading zeros */
	lim.max_chunk_line = 6;
	chunk_valid("1;abcd\r\nx\r\n0\r\n", "", 1, 1);
	h1_chunk_init(&st, &lim);
	ck_assert_int_eq(h1_chunk_feed(&st, (const uint8_t *)"1;abcd\r\nx\r\n0\r\n", 14, &c),
	                 H1_OK);
	chunk_reject_lim("1;abcde\r\nx\r\n0\r\n", &lim, H1_ERR_BAD_CHUNK_EXT, 6);
	chunk_reject_lim("1  ;abc\r\n", &lim, H1_ERR_BAD_CHUNK_EXT, 6);
	chunk_reject_lim("0000001\r\nx\r\n0\r\n", &lim, H1_ERR_BAD_CHUNK_SIZE, 6);
}
END_TEST

/* ------------------------------------------------------------------ */
/* trailers */

static void trailers_valid(const char *s, struct h1_trailers *tr)
{
	size_t len = strlen(s), k, tl;
	enum h1_error e;

	for (k = 0; k < len; k++) {
		uint8_t *b = malloc(k + 1);

		memcpy(b, s, k);
		h1_trailers_init(tr);
		ck_assert_int_eq(h1_parse_trailers(b, k, NULL, tr, &tl, &e), H1_NEED_MORE);
		free(b);
	}
	h1_trailers_init(tr);
	ck_assert_int_eq(h1_parse_trailers((const uint8_t *)s, len, NULL, tr, &tl, &e), H1_OK);
	ck_assert_uint_eq(tl, len);
}

START_TEST(test_trailers)
{
	static const char *const del[] = {"X-Real-IP"};
	const char *t = "X-Forwarded-For: 1.2.3.4\r\nX-Checksum: abc\r\nx-forwarded-FOR: 5\r\n"
	                "Content-Length: 3\r\nHost: evil\r\nTransfer-Encoding: chunked\r\n"
	                "X-Real-IP: 9\r\nConnection: close\r\nX-Other: z\r\n\r\n";
	struct h1_trailers tr;
	struct h1_limits lim = {0};
	uint8_t out[512];
	size_t tl;
	enum h1_error e;
	int n;

	trailers_valid("\r\n", &tr);
	ck_assert_uint_eq(tr.nfields, 0);
	n = h1_filter_trailers((const uint8_t *)"\r\n", 2, NULL, 0, out, sizeof(out));
	ck_assert_int_eq(n, 2);
	trailers_valid(t, &tr);
	ck_assert_uint_eq(tr.nfields, 9);
	ck_assert(tr.seen & H1_SEEN(H1_F_X_FORWARDED_FOR));
	n = h1_filter_trailers((const uint8_t *)t, strlen(t), del, 1, out, sizeof(out));
	ck_assert_int_eq(n, 31);
	ck_assert_mem_eq(out, "X-Checksum: abc\r\nX-Other: z\r\n\r\n", 31);
	ck_assert_int_eq(h1_filter_trailers((const uint8_t *)t, strlen(t), del, 1, out, 30),
	                 H1_RW_NOSPACE);
	/* field-line rules apply */
	h1_trailers_init(&tr);
	ck_assert_int_eq(h1_parse_trailers((const uint8_t *)"X: a\n\r\n", 7, NULL, &tr, &tl, &e),
	                 H1_ERROR);
	ck_assert_int_eq(e, H1_ERR_BARE_LF);
	h1_trailers_init(&tr);
	ck_assert_int_eq(
	    h1_parse_trailers((const uint8_t *)"X: a\r\n b\r\n\r\n", 11, NULL, &tr, &tl, &e),
	    H1_ERROR);
	ck_assert_int_eq(e, H1_ERR_OBS_FOLD);
	h1_trailers_init(&tr);
	ck_assert_int_eq(h1_parse_trailers((const uint8_t *)"\n", 1, NULL, &tr, &tl, &e), H1_ERROR);
	ck_assert_int_eq(e, H1_ERR_BARE_LF);
	lim.max_fields = 1;
	h1_trailers_init(&tr);
	ck_assert_int_eq(
	    h1_parse_trailers((const uint8_t *)"A: 1\r\nB: 2\r\n\r\n", 14, &lim, &tr, &tl, &e),
	    H1_ERROR);
	ck_assert_int_eq(e, H1_ERR_TRAILERS_TOO_LARGE);
	lim.max_fields = 0;
	lim.max_head = 10;
	h1_trailers_init(&tr);
	ck_assert_int_eq(
	    h1_parse_trailers((const uint8_t *)"A: 1\r\nB: 2\r\n\r\n", 14, &lim, &tr, &tl, &e),
	    H1_ERROR);
	ck_assert_int_eq(e, H1_ERR_TRAILERS_TOO_LARGE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* responses */

static struct h1_resp resp;

static enum h1_result resp_n(const char *s, size_t len, const struct h1_req_info *ri, size_t *hl,
                             enum h1_error *e)
{
	uint8_t *b = malloc(len ? len : 1);
	enum h1_result r;

	memcpy(b, s, len);
	h1_resp_init(&resp, fields, NF);
	r = h1_parse_response(b, len, NULL, ri, &resp, hl, e);
	free(b);
	return r;
}

static void resp_valid(const char *s, enum h1_method m, bool upgrade)
{
	struct h1_req_info ri = {m, upgrade};
	size_t len = strlen(s), k, hl;
	enum h1_error e;

	for (k = 0; k < len; k++)
		ck_assert_msg(resp_n(s, k, &ri, &hl, &e) == H1_NEED_MORE, "%s prefix %zu", s, k);
	ck_assert_msg(resp_n(s, len, &ri, &hl, &e) == H1_OK, "%s: %s", s, h1_strerror(e));
	ck_assert_uint_eq(hl, len);
}

static void resp_reject(const char *s, enum h1_method m, bool upgrade, enum h1_error want)
{
	struct h1_req_info ri = {m, upgrade};
	size_t len = strlen(s), k, hl;
	enum h1_error e;
	bool seen = false;

	for (k = 0; k <= len; k++) {
		enum h1_result r = resp_n(s, k, &ri, &hl, &e);

		if (r == H1_NEED_MORE) {
			ck_assert(!seen);
			continue;
		}
		ck_assert_msg(r == H1_ERROR && e == want, "%s prefix %zu: %d %s", s, k, r,
		              h1_strerror(e));
		seen = true;
	}
	ck_assert(seen);
}

START_TEST(test_response_framing)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\n";

	resp_valid(s, H1_METHOD_GET, false);
	ck_assert_int_eq(resp.status, 200);
	ck_assert(span_is(resp.reason, s, "OK"));
	ck_assert_int_eq(resp.framing, H1_FRAMING_LENGTH);
	ck_assert_uint_eq(resp.content_length, 5);
	ck_assert(resp.keep_alive);
	ck_assert_uint_eq(resp.nfields, 2);
	resp_valid("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", H1_METHOD_GET, false);
	ck_assert_int_eq(resp.framing, H1_FRAMING_CHUNKED);
	ck_assert(resp.keep_alive);
	resp_valid("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", H1_METHOD_GET,
	           false);
	ck_assert_int_eq(resp.framing, H1_FRAMING_CHUNKED);
	resp_valid("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", H1_METHOD_GET, false);
	ck_assert_int_eq(resp.framing, H1_FRAMING_CLOSE);
	ck_assert(!resp.keep_alive);
	resp_valid("HTTP/1.1 200 OK\r\n\r\n", H1_METHOD_GET, false);
	ck_assert_int_eq(resp.framing, H1_FRAMING_CLOSE);
	ck_assert(!resp.keep_alive);
	resp_valid("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", H1_METHOD_GET, false);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_uint_eq(resp.reason.len, 0);
	resp_valid("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", H1_METHOD_GET, false);
	resp_valid("HTTP/1.1 404 Not \t Found \xc3\xa9\r\nContent-Length: 0\r\n\r\n", H1_METHOD_GET,
	           false);
	ck_assert_int_eq(resp.status, 404);
	resp_valid("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\n",
	           H1_METHOD_GET, false);
	ck_assert(!resp.keep_alive);
	ck_assert(resp.conn_close);
	resp_valid("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", H1_METHOD_GET, false);
	ck_assert(!resp.keep_alive);
	resp_valid("HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n",
	           H1_METHOD_GET, false);
	ck_assert(resp.keep_alive);
	resp_valid("HTTP/1.1 204 No Content\r\n\r\n", H1_METHOD_GET, false);
	ck_assert_int_eq(resp.framing, H1_FRAMING_NONE);
	ck_assert(resp.keep_alive);
	resp_valid("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", H1_METHOD_GET,
	           false);
	ck_assert_int_eq(resp.framing, H1_FRAMING_NONE);
	ck_assert(resp.keep_alive);
	resp_valid("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", H1_METHOD_HEAD, false);
	ck_assert_int_eq(resp.framing, H1_FRAMING_NONE);
	resp_valid("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", H1_METHOD_HEAD, false);
	ck_assert_int_eq(resp.framing, H1_FRAMING_NONE);
	resp_valid("HTTP/1.1 100 Continue\r\n\r\n", H1_METHOD_POST, false);
	ck_assert(resp.interim);
	ck_assert_int_eq(resp.framing, H1_FRAMING_NONE);
	resp_valid("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n", H1_METHOD_GET,
	           false);
	ck_assert(resp.interim);
	resp_valid("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	           "Connection: Upgrade\r\n\r\n",
	           H1_METHOD_GET, true);
	ck_assert_int_eq(resp.framing, H1_FRAMING_TUNNEL);
	ck_assert(!resp.keep_alive);
	ck_assert(!resp.interim);
	resp_valid("HTTP/1.1 200 Connection established\r\n\r\n", H1_METHOD_CONNECT, false);
	ck_assert_int_eq(resp.framing, H1_FRAMING_TUNNEL);
	resp_valid("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", H1_METHOD_CONNECT, false);
	ck_assert_int_eq(resp.framing, H1_FRAMING_LENGTH);
	resp_valid("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n", H1_METHOD_GET, false);
	ck_assert_uint_eq(resp.content_length, 7);
	/* no request facts: a GET without Upgrade */
	{
		const char *r101 = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
		size_t hl;
		enum h1_error e;

		h1_resp_init(&resp, NULL, 0);
		ck_assert_int_eq(
		    h1_parse_response((const uint8_t *)s, strlen(s), NULL, NULL, &resp, &hl, &e),
		    H1_OK);
		ck_assert_int_eq(resp.framing, H1_FRAMING_LENGTH);
		h1_resp_init(&resp, NULL, 0);
		ck_assert_int_eq(h1_parse_response((const uint8_t *)r101, strlen(r101), NULL, NULL,
		                                   &resp, &hl, &e),
		                 H1_ERROR);
		ck_assert_int_eq(e, H1_ERR_UNEXPECTED_STATUS);
	}
}
END_TEST

START_TEST(test_response_unstored_fields)
{
	const char *s = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 1\r\n\r\n";
	struct h1_req_info ri = {H1_METHOD_GET, false};
	struct h1_limits lim = {0};
	size_t hl;
	enum h1_error e;

	h1_resp_init(&resp, NULL, 0);
	ck_assert_int_eq(
	    h1_parse_response((const uint8_t *)s, strlen(s), NULL, &ri, &resp, &hl, &e), H1_OK);
	ck_assert_uint_eq(resp.nfields, 4);
	ck_assert_uint_eq(resp.content_length, 1);
	lim.max_fields = 3;
	h1_resp_init(&resp, NULL, 0);
	ck_assert_int_eq(
	    h1_parse_response((const uint8_t *)s, strlen(s), &lim, &ri, &resp, &hl, &e), H1_ERROR);
	ck_assert_int_eq(e, H1_ERR_TOO_MANY_FIELDS);
	lim.max_fields = 0;
	lim.max_head = 20;
	h1_resp_init(&resp, NULL, 0);
	ck_assert_int_eq(
	    h1_parse_response((const uint8_t *)s, strlen(s), &lim, &ri, &resp, &hl, &e), H1_ERROR);
	ck_assert_int_eq(e, H1_ERR_HEAD_TOO_LARGE);
}
END_TEST

START_TEST(test_response_anomalies)
{
	const enum h1_method G = H1_METHOD_GET;

	resp_reject("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", G,
	            false, H1_ERR_CL_AND_TE);
	resp_reject("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", G, false,
	            H1_ERR_BAD_CONTENT_LENGTH);
	resp_reject("HTTP/1.1 200 OK\r\nContent-Length: 5a\r\n\r\n", G, false,
	            H1_ERR_BAD_CONTENT_LENGTH);
	resp_reject("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", G, false,
	            H1_ERR_BAD_TRANSFER_ENCODING);
	resp_reject("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", G, false,
	            H1_ERR_TE_IN_HTTP10);
	resp_reject("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", G, false,
	            H1_ERR_UNEXPECTED_STATUS);
	resp_reject("HTTP/1.1 20 OK\r\n\r\n", G, false, H1_ERR_BAD_STATUS_LINE);
	resp_reject("HTTP/1.1 2000 OK\r\n\r\n", G, false, H1_ERR_BAD_STATUS_LINE);
	resp_reject("HTTP/1.1 600 X\r\n\r\n", G, false, H1_ERR_BAD_STATUS_LINE);
	resp_reject("HTTP/1.1 099 X\r\n\r\n", G, false, H1_ERR_BAD_STATUS_LINE);
	resp_reject("HTTP/1.1 200OK\r\n\r\n", G, false, H1_ERR_BAD_STATUS_LINE);
	resp_reject("HTTP/1.1 200 O\x01K\r\n\r\n", G, false, H1_ERR_BAD_STATUS_LINE);
	resp_reject("HTTP/1.1  200 OK\r\n\r\n", G, false, H1_ERR_BAD_STATUS_LINE);
	resp_reject("HTTP/1.1\r\n\r\n", G, false, H1_ERR_BAD_STATUS_LINE);
	resp_reject("HTTP/2 200 OK\r\n\r\n", G, false, H1_ERR_BAD_STATUS_LINE);
	resp_reject("http/1.1 200 OK\r\n\r\n", G, false, H1_ERR_BAD_STATUS_LINE);
	resp_reject("HTTP/2.0 200 OK\r\n\r\n", G, false, H1_ERR_UNSUPPORTED_VERSION);
	resp_reject("\r\nHTTP/1.1 200 OK\r\n\r\n", G, false, H1_ERR_BAD_STATUS_LINE);
	resp_reject("HTTP/1.1 200 OK\n\r\n", G, false, H1_ERR_BARE_LF);
	resp_reject("HTTP/1.1 200 OK\r\nA: b\n\r\n", G, false, H1_ERR_BARE_LF);
	resp_reject("HTTP/1.1 200 OK\rX\r\n\r\n", G, false, H1_ERR_BARE_CR);
	resp_reject("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", G, false, H1_ERR_OBS_FOLD);
	resp_reject("HTTP/1.1 200 OK\r\nA : b\r\n\r\n", G, false, H1_ERR_SPACE_BEFORE_COLON);
	resp_reject("HTTP/1.1 200 OK\r\nConnection: a b\r\n\r\n", G, false, H1_ERR_BAD_FIELD_VALUE);
}
END_TEST

/* ------------------------------------------------------------------ */
/* error answers */

START_TEST(test_build_error)
{
	static const char want400[] =
	    "HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: no-cache\r\n"
	    "content-type: text/html\r\nconnection: close\r\n\r\n"
	    "<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n"
	    "</body></html>\n";
	char buf[H1_ERROR_MAX];
	int n, st;

	n = h1_build_error(400, buf, sizeof(buf));
	ck_assert_int_eq(n, (int)sizeof(want400) - 1);
	ck_assert_str_eq(buf, want400);
	for (st = 100; st <= 599; st++) {
		const char *body;
		int cl;

		n = h1_build_error(st, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(n, (int)strlen(buf));
		body = strstr(buf, "\r\n\r\n") + 4;
		ck_assert_int_eq(sscanf(strstr(buf, "content-length: "), "content-length: %d", &cl),
		                 1);
		ck_assert_int_eq(cl, (int)strlen(body));
		ck_assert_ptr_nonnull(strstr(buf, "\r\nconnection: close\r\n"));
	}
	n = h1_build_error(431, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
	ck_assert_int_eq(h1_build_error(400, buf, sizeof(want400) - 1), -1);
	ck_assert_int_eq(h1_build_error(400, buf, sizeof(want400)), (int)sizeof(want400) - 1);
	ck_assert_int_eq(h1_build_error(99, buf, sizeof(buf)), -1);
	ck_assert_int_eq(h1_build_error(600, buf, sizeof(buf)), -1);
}
END_TEST

static Suite *h1_suite(void)
{
	Suite *s = suite_create("http1");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_get);
	tcase_add_test(tc, test_req_has_body);
	tcase_add_test(tc, test_methods_and_forms);
	tcase_add_test(tc, test_versions_keepalive);
	tcase_add_test(tc, test_framing);
	tcase_add_test(tc, test_expect_upgrade);
	tcase_add_test(tc, test_empty_lines_pipelining);
	tcase_add_test(tc, test_value_bytes);
	tcase_add_test(tc, test_rejects);
	tcase_add_test(tc, test_nul_bytes);
	tcase_add_test(tc, test_limits_line);
	tcase_add_test(tc, test_limits_head);
	tcase_add_test(tc, test_fields_cap);
	tcase_add_test(tc, test_span_helpers);
	tcase_add_test(tc, test_rewrite_xff_spoofs);
	tcase_add_test(tc, test_rewrite_connection_cannot_remove_ours);
	tcase_add_test(tc, test_rewrite_connection_modes);
	tcase_add_test(tc, test_rewrite_upgrade);
	tcase_add_test(tc, test_rewrite_content_length);
	tcase_add_test(tc, test_rewrite_invalid_and_space);
	tcase_add_test(tc, test_chunked_valid);
	tcase_add_test(tc, test_chunked_errors);
	tcase_add_test(tc, test_trailers);
	tcase_add_test(tc, test_response_framing);
	tcase_add_test(tc, test_response_unstored_fields);
	tcase_add_test(tc, test_response_anomalies);
	tcase_add_test(tc, test_build_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(h1_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
