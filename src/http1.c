/* http1.c - strict HTTP/1.1 codec (see http1.h for the API and policies).
 *
 * Written from RFC 9110 and RFC 9112. Heads are parsed line by line: a call
 * finds the next LF with memchr() from where the previous call stopped
 * searching, so bytes are searched once however the head is split, and each
 * complete line is checked once, in one pass, with a byte-class table.
 * Checks are positional: the first offending byte decides the error, so a
 * longer input never changes an answer that is not NEED_MORE.
 */
#include <config.h>

#include "hexdigit.h"
#include "http1.h"

#include <stdio.h>
#include <string.h>

#define CL_MAX UINT64_C(0x7FFFFFFFFFFFFFFF) /* 2^63-1: Content-Length, chunk size */

/* ------------------------------------------------------------------ */
/* Byte classes                                                         */

enum {
	C_TCHAR = 0x01, /* token: ALPHA DIGIT !#$%&'*+-.^_`|~ */
	C_VALUE = 0x02, /* field value: VCHAR obs-text SP HTAB */
	C_URI = 0x04,   /* request-target: 0x21-0x7E but '#' */
	C_HEX = 0x08,
	C_HOST = 0x10, /* uri-host: unreserved sub-delims '%' */
};

static const uint8_t cls[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x17, 0x06, 0x03, 0x17, 0x17, 0x17, 0x17, 0x16, 0x16, 0x17, 0x17, 0x16, 0x17, 0x17, 0x06,
    0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x06, 0x16, 0x06, 0x16, 0x06, 0x06,
    0x06, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
    0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x06, 0x06, 0x06, 0x07, 0x17,
    0x07, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
    0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x06, 0x07, 0x06, 0x17, 0x00,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
};

static bool is(uint8_t c, unsigned mask)
{
	return (cls[c] & mask) != 0;
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool mem_eq_ci(const uint8_t *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower(a[i]) != lower((uint8_t)b[i]))
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Errors                                                               */

static const struct {
	const char *name;
	int status;
} errs[H1_ERR_COUNT] = {
    [H1_ERR_NONE] = {"none", 0},
    [H1_ERR_BAD_METHOD] = {"bad_method", 400},
    [H1_ERR_BAD_REQUEST_LINE] = {"bad_request_line", 400},
    [H1_ERR_BAD_TARGET] = {"bad_target", 400},
    [H1_ERR_BAD_VERSION] = {"bad_version", 400},
    [H1_ERR_UNSUPPORTED_VERSION] = {"unsupported_version", 505},
    [H1_ERR_URI_TOO_LONG] = {"uri_too_long", 414},
    [H1_ERR_HEAD_TOO_LARGE] = {"head_too_large", 431},
    [H1_ERR_TOO_MANY_FIELDS] = {"too_many_fields", 431},
    [H1_ERR_BARE_CR] = {"bare_cr", 400},
    [H1_ERR_BARE_LF] = {"bare_lf", 400},
    [H1_ERR_OBS_FOLD] = {"obs_fold", 400},
    [H1_ERR_SPACE_BEFORE_COLON] = {"space_before_colon", 400},
    [H1_ERR_BAD_FIELD_NAME] = {"bad_field_name", 400},
    [H1_ERR_BAD_FIELD_VALUE] = {"bad_field_value", 400},
    [H1_ERR_BAD_CONTENT_LENGTH] = {"bad_content_length", 400},
    [H1_ERR_CL_AND_TE] = {"cl_and_te", 400},
    [H1_ERR_BAD_TRANSFER_ENCODING] = {"bad_transfer_encoding", 400},
    [H1_ERR_TE_IN_HTTP10] = {"te_in_http10", 400},
    [H1_ERR_UNSUPPORTED_CODING] = {"unsupported_coding", 501},
    [H1_ERR_MISSING_HOST] = {"missing_host", 400},
    [H1_ERR_DUPLICATE_HOST] = {"duplicate_host", 400},
    [H1_ERR_BAD_HOST] = {"bad_host", 400},
    [H1_ERR_HOST_MISMATCH] = {"host_mismatch", 400},
    [H1_ERR_UNSUPPORTED_EXPECT] = {"unsupported_expect", 417},
    [H1_ERR_BAD_STATUS_LINE] = {"bad_status_line", 502},
    [H1_ERR_UNEXPECTED_STATUS] = {"unexpected_status", 502},
    [H1_ERR_BAD_CHUNK_SIZE] = {"bad_chunk_size", 400},
    [H1_ERR_CHUNK_SIZE_OVERFLOW] = {"chunk_size_overflow", 400},
    [H1_ERR_BAD_CHUNK_EXT] = {"bad_chunk_ext", 400},
    [H1_ERR_BAD_CHUNK_END] = {"bad_chunk_end", 400},
    [H1_ERR_TRAILERS_TOO_LARGE] = {"trailers_too_large", 400},
};

const char *h1_strerror(enum h1_error err)
{
	if ((unsigned)err >= H1_ERR_COUNT)
		return "unknown";
	return errs[err].name;
}

int h1_error_status(enum h1_error err)
{
	if ((unsigned)err >= H1_ERR_COUNT)
		return 400;
	return errs[err].status;
}

/* ------------------------------------------------------------------ */
/* Spans and field names                                                */

bool h1_span_eq_ci(const uint8_t *buf, struct h1_span sp, const char *name)
{
	size_t n = strlen(name);

	return sp.len == n && mem_eq_ci(buf + sp.off, name, n);
}

int h1_find_field(const uint8_t *buf, const struct h1_field *fields, uint32_t nfields,
                  uint32_t from, const char *name)
{
	uint32_t i;

	for (i = from; i < nfields; i++)
		if (h1_span_eq_ci(buf, fields[i].name, name))
			return (int)i;
	return -1;
}

static bool span_eq_span_ci(const uint8_t *buf, struct h1_span a, struct h1_span b)
{
	uint32_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++)
		if (lower(buf[a.off + i]) != lower(buf[b.off + i]))
			return false;
	return true;
}

static const struct {
	const char *name;
	uint8_t len;
	uint8_t id;
} known_fields[] = {
    {"host", 4, H1_F_HOST},
    {"content-length", 14, H1_F_CONTENT_LENGTH},
    {"transfer-encoding", 17, H1_F_TRANSFER_ENCODING},
    {"connection", 10, H1_F_CONNECTION},
    {"upgrade", 7, H1_F_UPGRADE},
    {"expect", 6, H1_F_EXPECT},
    {"keep-alive", 10, H1_F_KEEP_ALIVE},
    {"proxy-connection", 16, H1_F_PROXY_CONNECTION},
    {"te", 2, H1_F_TE},
    {"trailer", 7, H1_F_TRAILER},
    {"x-forwarded-for", 15, H1_F_X_FORWARDED_FOR},
    {"x-forwarded-proto", 17, H1_F_X_FORWARDED_PROTO},
    {"x-forwarded-port", 16, H1_F_X_FORWARDED_PORT},
    {"x-real-ip", 9, H1_F_X_REAL_IP},
    {"forwarded", 9, H1_F_FORWARDED},
    {"close", 5, H1_F_CLOSE},
};

static uint8_t field_id(const uint8_t *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(known_fields) / sizeof(known_fields[0]); i++)
		if (known_fields[i].len == len && mem_eq_ci(name, known_fields[i].name, len))
			return known_fields[i].id;
	return H1_F_OTHER;
}

/* ------------------------------------------------------------------ */
/* Lists ("a, b ,c"): elements trimmed of OWS                          */

struct list_iter {
	const uint8_t *buf;
	size_t pos, end;
};

/* 1: element [*s, *e) (may be empty); 0: no more. */
static int list_next(struct list_iter *it, size_t *s, size_t *e)
{
	size_t i = it->pos;

	if (i > it->end)
		return 0;
	while (i < it->end && is_ows(it->buf[i]))
		i++;
	*s = i;
	while (i < it->end && it->buf[i] != ',')
		i++;
	*e = i;
	while (*e > *s && is_ows(it->buf[*e - 1]))
		(*e)--;
	it->pos = i + 1; /* past the comma, or end + 1 */
	return 1;
}

static void list_init(struct list_iter *it, const uint8_t *buf, struct h1_span v)
{
	it->buf = buf;
	it->pos = v.off;
	it->end = (size_t)v.off + v.len;
}

static bool all_tchar(const uint8_t *buf, size_t s, size_t e)
{
	if (s == e)
		return false;
	for (; s < e; s++)
		if (!is(buf[s], C_TCHAR))
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Host syntax: uri-host [":" port], RFC 3986 section 3.2.2            */

static bool check_host(const uint8_t *p, size_t len, bool need_port)
{
	size_t i = 0, colon;

	if (len > 0 && p[0] == '[') {
		for (i = 1; i < len && (is(p[i], C_HOST) || p[i] == ':'); i++)
			;
		if (i == 1 || i == len || p[i] != ']')
			return false;
		i++;
	} else {
		while (i < len && is(p[i], C_HOST))
			i++;
		if (need_port && i == 0)
			return false;
	}
	if (i == len)
		return !need_port;
	if (p[i] != ':')
		return false;
	colon = i++;
	while (i < len && p[i] >= '0' && p[i] <= '9')
		i++;
	return i == len && (!need_port || i > colon + 1);
}

/* ------------------------------------------------------------------ */
/* Limits and line finding                                              */

struct lims {
	size_t max_head, max_line, max_fields, max_chunk_line;
};

static struct lims resolve(const struct h1_limits *lim)
{
	struct lims l = {H1_DEFAULT_MAX_HEAD, 0, H1_DEFAULT_MAX_FIELDS, H1_DEFAULT_MAX_CHUNK_LINE};

	if (lim) {
		if (lim->max_head)
			l.max_head = lim->max_head;
		l.max_line = lim->max_line;
		if (lim->max_fields)
			l.max_fields = lim->max_fields;
		if (lim->max_chunk_line)
			l.max_chunk_line = lim->max_chunk_line;
	}
	/* spans are 32-bit offsets */
	if (l.max_head > UINT32_MAX - 1)
		l.max_head = UINT32_MAX - 1;
	if (!l.max_line || l.max_line > l.max_head)
		l.max_line = l.max_head;
	return l;
}

enum { STAGE_START = 0, STAGE_FIELDS };

/* Find the LF ending the line at pr->pos, searching only bytes not searched
 * before. */
static bool find_lf(const uint8_t *buf, size_t len, struct h1_progress *pr, size_t *nl)
{
	size_t from = (size_t)pr->pos + pr->scan;
	const uint8_t *p = NULL;

	if (from < len)
		p = memchr(buf + from, '\n', len - from);
	if (!p) {
		pr->scan = len > pr->pos ? (uint32_t)(len - pr->pos) : 0;
		return false;
	}
	*nl = (size_t)(p - buf);
	return true;
}

static void next_line(struct h1_progress *pr, size_t nl)
{
	pr->pos = (uint32_t)(nl + 1);
	pr->scan = 0;
}

/* ------------------------------------------------------------------ */
/* Field lines (heads and trailers)                                     */

/* Split the complete line [s, e) (CR excluded) into name and value. */
static bool split_field(const uint8_t *buf, size_t s, size_t e, struct h1_field *f,
                        enum h1_error *err)
{
	size_t i = s, vs, ve;

	if (is_ows(buf[s])) {
		*err = H1_ERR_OBS_FOLD;
		return false;
	}
	while (i < e && is(buf[i], C_TCHAR))
		i++;
	if (i == e || buf[i] != ':' || i == s) {
		if (i < e && is_ows(buf[i]))
			*err = H1_ERR_SPACE_BEFORE_COLON;
		else if (i < e && buf[i] == '\r')
			*err = H1_ERR_BARE_CR;
		else
			*err = H1_ERR_BAD_FIELD_NAME;
		return false;
	}
	f->name.off = (uint32_t)s;
	f->name.len = (uint32_t)(i - s);
	for (i++; i < e && is_ows(buf[i]); i++)
		;
	vs = ve = i;
	for (; i < e; i++) {
		uint8_t c = buf[i];

		if (!is(c, C_VALUE)) {
			*err = c == '\r' ? H1_ERR_BARE_CR : H1_ERR_BAD_FIELD_VALUE;
			return false;
		}
		if (!is_ows(c))
			ve = i + 1;
	}
	f->value.off = (uint32_t)vs;
	f->value.len = (uint32_t)(ve - vs);
	return true;
}

/* What one head is being parsed for. */
enum kind { K_REQ = 0, K_RESP, K_TRAILERS };

struct head {
	enum kind kind;
	const uint8_t *buf;
	size_t len; /* bytes visible: min(len, max_head) */
	struct h1_progress *pr;
	struct h1_field *fields;
	uint32_t cap;
	uint32_t *nfields;
	size_t max_fields;
	uint32_t *seen;
	struct h1_req *req;   /* K_REQ */
	struct h1_resp *resp; /* K_RESP */
};

static bool content_length(const uint8_t *buf, struct h1_span v, struct h1_progress *pr,
                           uint64_t *cl)
{
	struct list_iter it;
	size_t s, e;
	int n = 0;

	list_init(&it, buf, v);
	while (list_next(&it, &s, &e)) {
		uint64_t x = 0;

		if (s == e)
			return false;
		for (; s < e; s++) {
			unsigned d = (unsigned)buf[s] - '0';

			if (d > 9 || x > (CL_MAX - d) / 10)
				return false;
			x = x * 10 + d;
		}
		if ((pr->cl_count || n) && x != *cl)
			return false;
		*cl = x;
		n++;
	}
	if (n > 1)
		pr->cl_list = true;
	pr->cl_count++;
	return true;
}

/* Transfer-Encoding lines add up to one list; the verdict on its shape is
 * given when the head is complete. */
static bool transfer_encoding(const uint8_t *buf, struct h1_span v, struct h1_progress *pr)
{
	struct list_iter it;
	size_t s, e;

	list_init(&it, buf, v);
	while (list_next(&it, &s, &e)) {
		if (!all_tchar(buf, s, e))
			return false; /* empty element, parameters, or garbage */
		pr->te_elems++;
		if (e - s == 7 && mem_eq_ci(buf + s, "chunked", 7)) {
			pr->te_chunked++;
			pr->te_last_chunked = true;
		} else {
			pr->te_other = true;
			pr->te_last_chunked = false;
		}
	}
	return true;
}

/* Connection options. Empty elements are allowed (RFC 9110 section 5.6.1). */
static bool connection(const uint8_t *buf, struct h1_span v, bool *close, bool *ka, bool *up)
{
	struct list_iter it;
	size_t s, e;

	list_init(&it, buf, v);
	while (list_next(&it, &s, &e)) {
		if (s == e)
			continue;
		if (!all_tchar(buf, s, e))
			return false;
		if (e - s == 5 && mem_eq_ci(buf + s, "close", 5))
			*close = true;
		else if (e - s == 10 && mem_eq_ci(buf + s, "keep-alive", 10))
			*ka = true;
		else if (up && e - s == 7 && mem_eq_ci(buf + s, "upgrade", 7))
			*up = true;
	}
	return true;
}

static bool req_field(struct head *h, const struct h1_field *f, enum h1_error *err)
{
	struct h1_req *req = h->req;
	const uint8_t *buf = h->buf;

	switch (f->id) {
	case H1_F_HOST:
		if (++h->pr->host_count > 1) {
			*err = H1_ERR_DUPLICATE_HOST;
			return false;
		}
		if (!check_host(buf + f->value.off, f->value.len, false)) {
			*err = H1_ERR_BAD_HOST;
			return false;
		}
		req->host = f->value;
		req->has_host = true;
		return true;
	case H1_F_EXPECT:
		if (!h1_span_eq_ci(buf, f->value, "100-continue")) {
			*err = H1_ERR_UNSUPPORTED_EXPECT;
			return false;
		}
		/* an HTTP/1.0 client cannot know 100 Continue (RFC 9110 10.1.1) */
		req->expect_continue = req->version_minor == 1;
		return true;
	case H1_F_UPGRADE:
		/* websocket only when it is the one protocol of the one Upgrade */
		req->websocket = !(req->seen & H1_SEEN(H1_F_UPGRADE)) &&
		                 h1_span_eq_ci(buf, f->value, "websocket");
		return true;
	case H1_F_CONNECTION:
		if (!connection(buf, f->value, &req->conn_close, &req->conn_keep_alive,
		                &req->upgrade)) {
			*err = H1_ERR_BAD_FIELD_VALUE;
			return false;
		}
		return true;
	default:
		return true;
	}
}

/* Fields that shape the framing, for requests and responses alike. */
static bool framing_field(struct head *h, const struct h1_field *f, uint64_t *cl,
                          enum h1_error *err)
{
	if (f->id == H1_F_CONTENT_LENGTH && !content_length(h->buf, f->value, h->pr, cl)) {
		*err = H1_ERR_BAD_CONTENT_LENGTH;
		return false;
	}
	if (f->id == H1_F_TRANSFER_ENCODING && !transfer_encoding(h->buf, f->value, h->pr)) {
		*err = H1_ERR_BAD_TRANSFER_ENCODING;
		return false;
	}
	return true;
}

static bool on_field(struct head *h, const struct h1_field *f, enum h1_error *err)
{
	switch (h->kind) {
	case K_REQ:
		return framing_field(h, f, &h->req->content_length, err) && req_field(h, f, err);
	case K_RESP:
		if (f->id == H1_F_CONNECTION && !connection(h->buf, f->value, &h->resp->conn_close,
		                                            &h->resp->conn_keep_alive, NULL)) {
			*err = H1_ERR_BAD_FIELD_VALUE;
			return false;
		}
		return framing_field(h, f, &h->resp->content_length, err);
	default:
		return true;
	}
}

/* Field lines up to and including the empty line. */
static enum h1_result walk_fields(struct head *h, enum h1_error *err)
{
	struct h1_progress *pr = h->pr;
	const uint8_t *buf = h->buf;
	size_t nl;

	while (find_lf(buf, h->len, pr, &nl)) {
		size_t s = pr->pos;
		struct h1_field f;

		if (nl == s || buf[nl - 1] != '\r') {
			*err = H1_ERR_BARE_LF;
			return H1_ERROR;
		}
		if (nl - 1 == s) {
			next_line(pr, nl);
			return H1_OK;
		}
		if (*h->nfields >= h->max_fields) {
			*err = h->kind == K_TRAILERS ? H1_ERR_TRAILERS_TOO_LARGE
			                             : H1_ERR_TOO_MANY_FIELDS;
			return H1_ERROR;
		}
		if (!split_field(buf, s, nl - 1, &f, err))
			return H1_ERROR;
		f.line_end = (uint32_t)(nl + 1);
		f.id = field_id(buf + f.name.off, f.name.len);
		f.flags = H1_FF_NONE;
		if (!on_field(h, &f, err))
			return H1_ERROR;
		*h->seen |= H1_SEEN(f.id);
		if (h->fields && *h->nfields < h->cap)
			h->fields[*h->nfields] = f;
		(*h->nfields)++;
		next_line(pr, nl);
	}
	return H1_NEED_MORE;
}

/* ------------------------------------------------------------------ */
/* Request line                                                         */

static const struct {
	const char *name;
	uint8_t len;
	uint8_t m;
} methods[] = {
    {"GET", 3, H1_METHOD_GET},         {"HEAD", 4, H1_METHOD_HEAD},
    {"POST", 4, H1_METHOD_POST},       {"PUT", 3, H1_METHOD_PUT},
    {"DELETE", 6, H1_METHOD_DELETE},   {"CONNECT", 7, H1_METHOD_CONNECT},
    {"OPTIONS", 7, H1_METHOD_OPTIONS}, {"TRACE", 5, H1_METHOD_TRACE},
    {"PATCH", 5, H1_METHOD_PATCH},
};

/* Methods are case-sensitive (RFC 9110 section 9.1). */
static enum h1_method method_of(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].len == len && memcmp(p, methods[i].name, len) == 0)
			return (enum h1_method)methods[i].m;
	return H1_METHOD_OTHER;
}

/* The method bytes of [from, to): a verdict as soon as a byte is not a token
 * character. Stops (no verdict) at the SP that ends it or at a CR, whose
 * fate the complete line decides. */
static bool early_method(const uint8_t *buf, size_t start, size_t from, size_t to,
                         struct h1_progress *pr, enum h1_error *err)
{
	size_t i;

	for (i = from; i < to && !pr->sp_seen; i++) {
		uint8_t c = buf[i];

		if (c == ' ' && i > start) {
			pr->sp_seen = true;
		} else if (c == '\r') {
			pr->sp_seen = true;
		} else if (!is(c, C_TCHAR)) {
			*err = H1_ERR_BAD_METHOD;
			return false;
		}
	}
	return true;
}

static enum h1_error version_of(const uint8_t *p, size_t len, uint8_t *minor)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] == '\r')
			return H1_ERR_BARE_CR;
	if (len != 8 || memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' ||
	    p[7] < '0' || p[7] > '9')
		return H1_ERR_BAD_VERSION;
	if (p[5] != '1' || p[7] > '1')
		return H1_ERR_UNSUPPORTED_VERSION;
	*minor = (uint8_t)(p[7] - '0');
	return H1_ERR_NONE;
}

/* Form of a target whose bytes are valid; the authority of absolute and
 * authority forms is checked as a uri-host. */
static bool target_form(const uint8_t *buf, struct h1_req *req)
{
	const uint8_t *p = buf + req->target.off;
	size_t len = req->target.len, i = 0, a;

	if (p[0] == '/') {
		req->form = H1_FORM_ORIGIN;
		return req->method != H1_METHOD_CONNECT;
	}
	if (len == 1 && p[0] == '*') {
		req->form = H1_FORM_ASTERISK;
		return req->method == H1_METHOD_OPTIONS;
	}
	if (req->method == H1_METHOD_CONNECT) {
		req->form = H1_FORM_AUTHORITY;
		req->authority = req->target;
		return check_host(p, len, true);
	}
	req->form = H1_FORM_ABSOLUTE;
	if (len > 7 && mem_eq_ci(p, "http://", 7))
		i = 7;
	else if (len > 8 && mem_eq_ci(p, "https://", 8))
		i = 8;
	else
		return false;
	for (a = i; i < len && p[i] != '/' && p[i] != '?'; i++)
		if (p[i] == '@')
			return false; /* userinfo (RFC 9110 section 4.2.4) */
	req->authority.off = (uint32_t)(req->target.off + a);
	req->authority.len = (uint32_t)(i - a);
	return i > a && check_host(p + a, i - a, false);
}

/* The complete request line [s, e), CR excluded; the method is valid up to
 * its SP or a CR. */
static bool request_line(const uint8_t *buf, size_t s, size_t e, struct h1_req *req,
                         enum h1_error *err)
{
	size_t i = s, t;

	while (i < e && is(buf[i], C_TCHAR))
		i++;
	if (i == e || buf[i] != ' ' || i == s) {
		*err = i == e           ? H1_ERR_BAD_REQUEST_LINE
		       : i == s         ? H1_ERR_BAD_METHOD
		       : buf[i] == '\r' ? H1_ERR_BARE_CR
		                        : H1_ERR_BAD_METHOD;
		return false;
	}
	req->method_span.off = (uint32_t)s;
	req->method_span.len = (uint32_t)(i - s);
	req->method = method_of(buf + s, i - s);
	for (t = ++i; i < e && is(buf[i], C_URI); i++)
		;
	if (i == e || buf[i] != ' ' || i == t) {
		*err = (i == e || i == t) ? H1_ERR_BAD_REQUEST_LINE
		       : buf[i] == '\r'   ? H1_ERR_BARE_CR
		                          : H1_ERR_BAD_TARGET;
		return false;
	}
	req->target.off = (uint32_t)t;
	req->target.len = (uint32_t)(i - t);
	*err = version_of(buf + i + 1, e - i - 1, &req->version_minor);
	if (*err != H1_ERR_NONE)
		return false;
	if (!target_form(buf, req)) {
		*err = H1_ERR_BAD_TARGET;
		return false;
	}
	req->line.off = (uint32_t)s;
	req->line.len = (uint32_t)(e - s);
	return true;
}

/* Empty lines, then the request line. */
static enum h1_result req_start(const uint8_t *buf, size_t len, const struct lims *l,
                                struct h1_req *req, enum h1_error *err)
{
	struct h1_progress *pr = &req->pr;
	size_t old = pr->scan, s, nl, lim_end;

	while (pr->scan == 0 && pr->pos < len && (buf[pr->pos] == '\r' || buf[pr->pos] == '\n')) {
		if (buf[pr->pos] == '\n') {
			*err = H1_ERR_BARE_LF;
			return H1_ERROR;
		}
		if (pr->pos + 1 == len)
			return H1_NEED_MORE;
		if (buf[pr->pos + 1] != '\n') {
			*err = H1_ERR_BARE_CR;
			return H1_ERROR;
		}
		pr->pos += 2;
	}
	s = req->start = pr->pos;
	/* Bytes past the one that makes the line too long are not looked at:
	 * the first offending byte decides, whatever follows it. */
	lim_end = s + l->max_line + 2;
	if (!find_lf(buf, len, pr, &nl)) {
		/* method bytes, then length: as the complete line below */
		if (!early_method(buf, s, s + old, len < lim_end ? len : lim_end, pr, err))
			return H1_ERROR;
		if (len - s > l->max_line + 1) {
			*err = H1_ERR_URI_TOO_LONG;
			return H1_ERROR;
		}
		return H1_NEED_MORE;
	}
	if (!early_method(buf, s, s + old, nl < lim_end ? nl : lim_end, pr, err))
		return H1_ERROR;
	if (nl - s > l->max_line + 1) {
		*err = H1_ERR_URI_TOO_LONG;
		return H1_ERROR;
	}
	if (buf[nl - 1] != '\r' || nl == s) {
		*err = H1_ERR_BARE_LF;
		return H1_ERROR;
	}
	if (!request_line(buf, s, nl - 1, req, err))
		return H1_ERROR;
	next_line(pr, nl);
	pr->stage = STAGE_FIELDS;
	return H1_OK;
}

/* Flag the fields named by Connection options. Host, Content-Length and
 * Transfer-Encoding stay: their removal would make the server see another
 * framing or another site than we checked. */
static void nominate(const uint8_t *buf, struct h1_req *req)
{
	uint32_t i, j;

	for (i = 0; i < req->nfields; i++) {
		struct list_iter it;
		size_t s, e;

		if (req->fields[i].id != H1_F_CONNECTION)
			continue;
		list_init(&it, buf, req->fields[i].value);
		while (list_next(&it, &s, &e)) {
			for (j = 0; s < e && j < req->nfields; j++) {
				struct h1_field *f = &req->fields[j];

				if (f->name.len != e - s || f->id == H1_F_HOST ||
				    f->id == H1_F_CONTENT_LENGTH ||
				    f->id == H1_F_TRANSFER_ENCODING || f->id == H1_F_CONNECTION ||
				    (f->flags & H1_FF_NOMINATED) ||
				    !mem_eq_ci(buf + f->name.off, (const char *)buf + s, e - s))
					continue;
				f->flags |= H1_FF_NOMINATED;
				req->nominated++;
			}
		}
	}
}

/* RFC 9112 section 6.1: Transfer-Encoding shapes, common to both sides. */
static enum h1_error te_shape(const struct h1_progress *pr, uint8_t minor)
{
	if (pr->cl_count)
		return H1_ERR_CL_AND_TE;
	if (minor == 0)
		return H1_ERR_TE_IN_HTTP10;
	if (pr->te_chunked > 1)
		return H1_ERR_BAD_TRANSFER_ENCODING;
	return H1_ERR_NONE;
}

/* Cross-field rules, once the head is complete. */
static bool req_finish(const uint8_t *buf, struct h1_req *req, enum h1_error *err)
{
	struct h1_progress *pr = &req->pr;

	if (req->version_minor == 1 && !req->has_host) {
		*err = H1_ERR_MISSING_HOST;
		return false;
	}
	if (req->form == H1_FORM_ABSOLUTE && req->has_host &&
	    !span_eq_span_ci(buf, req->authority, req->host)) {
		*err = H1_ERR_HOST_MISMATCH;
		return false;
	}
	if (pr->te_elems) {
		*err = te_shape(pr, req->version_minor);
		if (*err == H1_ERR_NONE && !pr->te_last_chunked)
			*err = H1_ERR_BAD_TRANSFER_ENCODING;
		if (*err == H1_ERR_NONE && pr->te_other)
			*err = H1_ERR_UNSUPPORTED_CODING;
		if (*err != H1_ERR_NONE)
			return false;
		req->framing = H1_FRAMING_CHUNKED;
	} else if (pr->cl_count) {
		req->framing = H1_FRAMING_LENGTH;
		req->cl_normalize = pr->cl_count > 1 || pr->cl_list;
	}
	if (req->version_minor == 1)
		req->keep_alive = !req->conn_close;
	else
		req->keep_alive = req->conn_keep_alive && !req->conn_close;
	/* req->upgrade holds the "upgrade" option until here */
	req->upgrade =
	    req->upgrade && req->version_minor == 1 && (req->seen & H1_SEEN(H1_F_UPGRADE));
	req->websocket = req->websocket && req->upgrade;
	if (req->seen & H1_SEEN(H1_F_CONNECTION))
		nominate(buf, req);
	return true;
}

void h1_req_init(struct h1_req *req, struct h1_field *fields, uint32_t cap)
{
	memset(req, 0, sizeof(*req));
	req->fields = fields;
	req->fields_cap = fields ? cap : 0;
}

enum h1_result h1_parse_request(const uint8_t *buf, size_t len, const struct h1_limits *lim,
                                struct h1_req *req, size_t *head_len, enum h1_error *err)
{
	struct lims l = resolve(lim);
	size_t vis = len < l.max_head ? len : l.max_head;
	struct head h = {
	    K_REQ,         buf,
	    vis,           &req->pr,
	    req->fields,   req->fields_cap,
	    &req->nfields, l.max_fields < req->fields_cap ? l.max_fields : req->fields_cap,
	    &req->seen,    req,
	    NULL};
	enum h1_result r = H1_OK;

	*head_len = 0;
	*err = H1_ERR_NONE;
	if (req->pr.stage == STAGE_START)
		r = req_start(buf, vis, &l, req, err);
	if (r == H1_OK)
		r = walk_fields(&h, err);
	if (r == H1_OK && !req_finish(buf, req, err))
		r = H1_ERROR;
	if (r == H1_NEED_MORE && len >= l.max_head) {
		/* the head does not fit: blame the request line if it does not */
		*err = req->pr.stage == STAGE_START && req->pr.pos < vis ? H1_ERR_URI_TOO_LONG
		                                                         : H1_ERR_HEAD_TOO_LARGE;
		r = H1_ERROR;
	}
	if (r == H1_OK)
		*head_len = req->pr.pos;
	return r;
}

/* ------------------------------------------------------------------ */
/* Responses                                                            */

/* "HTTP/1.x SP 3DIGIT [SP reason]", CR excluded. A missing reason is
 * tolerated: many servers send "HTTP/1.1 200\r\n". */
static bool status_line(const uint8_t *buf, size_t s, size_t e, struct h1_resp *resp,
                        enum h1_error *err)
{
	const uint8_t *p = buf + s;
	size_t len = e - s, i;

	*err = version_of(p, len < 8 ? len : 8, &resp->version_minor);
	if (*err == H1_ERR_BAD_VERSION)
		*err = H1_ERR_BAD_STATUS_LINE;
	if (*err != H1_ERR_NONE)
		return false;
	*err = H1_ERR_BAD_STATUS_LINE;
	if (len < 12 || p[8] != ' ' || p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9' || (len > 12 && p[12] != ' '))
		return false;
	resp->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	for (i = 13; i < len; i++) {
		if (!is(p[i], C_VALUE)) {
			*err = p[i] == '\r' ? H1_ERR_BARE_CR : H1_ERR_BAD_STATUS_LINE;
			return false;
		}
	}
	resp->reason.off = (uint32_t)(len > 12 ? s + 13 : e);
	resp->reason.len = (uint32_t)(len > 12 ? len - 13 : 0);
	*err = H1_ERR_NONE;
	return true;
}

static enum h1_result resp_start(const uint8_t *buf, size_t len, struct h1_resp *resp,
                                 enum h1_error *err)
{
	struct h1_progress *pr = &resp->pr;
	size_t nl;

	if (!find_lf(buf, len, pr, &nl))
		return H1_NEED_MORE;
	if (nl == 0 || buf[nl - 1] != '\r') {
		*err = H1_ERR_BARE_LF;
		return H1_ERROR;
	}
	/* no empty lines before a status line: bytes after the previous
	 * response's end are a framing anomaly */
	if (!status_line(buf, 0, nl - 1, resp, err))
		return H1_ERROR;
	next_line(pr, nl);
	pr->stage = STAGE_FIELDS;
	return H1_OK;
}

/* Framing of a complete response head, RFC 9112 section 6.3 in its order. */
static bool resp_finish(struct h1_resp *resp, const struct h1_req_info *rq, enum h1_error *err)
{
	struct h1_progress *pr = &resp->pr;
	enum h1_method m = rq ? rq->method : H1_METHOD_GET;
	int st = resp->status;

	if (pr->te_elems && (*err = te_shape(pr, resp->version_minor)) != H1_ERR_NONE)
		return false;
	if (st == 101) {
		if (!rq || !rq->upgrade) {
			*err = H1_ERR_UNEXPECTED_STATUS;
			return false;
		}
		resp->framing = H1_FRAMING_TUNNEL;
		return true;
	}
	if (st < 200) {
		resp->interim = true;
		resp->keep_alive = true; /* the final response decides */
		return true;
	}
	if (m == H1_METHOD_HEAD || st == 204 || st == 304)
		resp->framing = H1_FRAMING_NONE;
	else if (m == H1_METHOD_CONNECT && st < 300)
		resp->framing = H1_FRAMING_TUNNEL;
	else if (pr->te_elems)
		resp->framing = pr->te_last_chunked ? H1_FRAMING_CHUNKED : H1_FRAMING_CLOSE;
	else if (pr->cl_count)
		resp->framing = H1_FRAMING_LENGTH;
	else
		resp->framing = H1_FRAMING_CLOSE;
	if (resp->framing == H1_FRAMING_CLOSE || resp->framing == H1_FRAMING_TUNNEL)
		resp->keep_alive = false;
	else if (resp->version_minor == 1)
		resp->keep_alive = !resp->conn_close;
	else
		resp->keep_alive = resp->conn_keep_alive && !resp->conn_close;
	return true;
}

void h1_resp_init(struct h1_resp *resp, struct h1_field *fields, uint32_t cap)
{
	memset(resp, 0, sizeof(*resp));
	resp->fields = fields;
	resp->fields_cap = fields ? cap : 0;
}

enum h1_result h1_parse_response(const uint8_t *buf, size_t len, const struct h1_limits *lim,
                                 const struct h1_req_info *for_req, struct h1_resp *resp,
                                 size_t *head_len, enum h1_error *err)
{
	struct lims l = resolve(lim);
	size_t vis = len < l.max_head ? len : l.max_head;
	size_t maxf =
	    resp->fields && resp->fields_cap < l.max_fields ? resp->fields_cap : l.max_fields;
	struct head h = {
	    K_RESP,         buf,  vis,         &resp->pr, resp->fields, resp->fields_cap,
	    &resp->nfields, maxf, &resp->seen, NULL,      resp};
	enum h1_result r = H1_OK;

	*head_len = 0;
	*err = H1_ERR_NONE;
	if (resp->pr.stage == STAGE_START)
		r = resp_start(buf, vis, resp, err);
	if (r == H1_OK)
		r = walk_fields(&h, err);
	if (r == H1_OK && !resp_finish(resp, for_req, err))
		r = H1_ERROR;
	if (r == H1_NEED_MORE && len >= l.max_head) {
		*err = H1_ERR_HEAD_TOO_LARGE;
		r = H1_ERROR;
	}
	if (r == H1_OK)
		*head_len = resp->pr.pos;
	return r;
}

/* ------------------------------------------------------------------ */
/* Chunked bodies                                                       */

enum {
	P_SIZE0 = 0, /* first hex digit of a chunk size */
	P_SIZE,      /* more hex digits */
	P_BWS,       /* whitespace after the size: ';' must follow */
	P_EXT,       /* chunk extensions */
	P_SIZE_LF,   /* CR seen, LF expected */
	P_DATA,
	P_DATA_CR,
	P_DATA_LF,
	P_DONE, /* last-chunk line consumed: trailers follow */
	P_FAILED,
};

void h1_chunk_init(struct h1_chunk_state *st, const struct h1_limits *lim)
{
	struct lims l = resolve(lim);

	memset(st, 0, sizeof(*st));
	st->phase = P_SIZE0;
	st->max_line = (uint32_t)l.max_chunk_line;
}

/* One byte of a chunk-size line. Returns the error, or H1_ERR_NONE. */
static enum h1_error size_line_byte(struct h1_chunk_state *st, uint8_t c)
{
	if (st->phase != P_SIZE_LF && ++st->line_len > st->max_line && c != '\r')
		return st->phase == P_EXT || st->phase == P_BWS ? H1_ERR_BAD_CHUNK_EXT
		                                                : H1_ERR_BAD_CHUNK_SIZE;
	switch (st->phase) {
	case P_SIZE0:
	case P_SIZE:
		if (is(c, C_HEX)) {
			if (st->size > (CL_MAX - (unsigned)hex_digit_value(c)) / 16)
				return H1_ERR_CHUNK_SIZE_OVERFLOW;
			st->size = st->size * 16 + (unsigned)hex_digit_value(c);
			st->phase = P_SIZE;
			return H1_ERR_NONE;
		}
		if (st->phase == P_SIZE0)
			return c == '\n' ? H1_ERR_BARE_LF : H1_ERR_BAD_CHUNK_SIZE;
		st->phase = c == ';' ? P_EXT : c == '\r' ? P_SIZE_LF : is_ows(c) ? P_BWS : P_FAILED;
		return st->phase != P_FAILED ? H1_ERR_NONE
		       : c == '\n'           ? H1_ERR_BARE_LF
		                             : H1_ERR_BAD_CHUNK_SIZE;
	case P_BWS:
		if (c == ';')
			st->phase = P_EXT;
		return is_ows(c) || c == ';' ? H1_ERR_NONE : H1_ERR_BAD_CHUNK_SIZE;
	case P_EXT:
		if (c == '\r')
			st->phase = P_SIZE_LF;
		else if (!is(c, C_VALUE))
			return c == '\n' ? H1_ERR_BARE_LF : H1_ERR_BAD_CHUNK_EXT;
		return H1_ERR_NONE;
	default: /* P_SIZE_LF */
		if (c != '\n')
			return H1_ERR_BARE_CR;
		st->line_len = 0;
		if (st->size == 0) {
			st->phase = P_DONE;
		} else {
			st->phase = P_DATA;
			st->chunks++;
		}
		return H1_ERR_NONE;
	}
}

enum h1_result h1_chunk_feed(struct h1_chunk_state *st, const uint8_t *buf, size_t len,
                             size_t *consumed)
{
	size_t i = 0;

	*consumed = 0;
	if (st->phase == P_FAILED)
		return H1_ERROR;
	while (i < len && st->phase != P_DONE) {
		uint8_t c = buf[i];

		if (st->phase == P_DATA) {
			size_t n = len - i < st->size ? len - i : (size_t)st->size;

			i += n;
			st->size -= n;
			st->data += n;
			if (st->size == 0)
				st->phase = P_DATA_CR;
			continue;
		}
		if (st->phase == P_DATA_CR || st->phase == P_DATA_LF) {
			if (c != (st->phase == P_DATA_CR ? '\r' : '\n')) {
				st->err = H1_ERR_BAD_CHUNK_END;
				break;
			}
			st->phase = st->phase == P_DATA_CR ? P_DATA_LF : P_SIZE0;
			i++;
			continue;
		}
		st->err = size_line_byte(st, c);
		if (st->err != H1_ERR_NONE)
			break;
		i++;
	}
	*consumed = i;
	if (st->err != H1_ERR_NONE) {
		st->phase = P_FAILED;
		return H1_ERROR;
	}
	return st->phase == P_DONE ? H1_OK : H1_NEED_MORE;
}

/* ------------------------------------------------------------------ */
/* Trailers                                                             */

void h1_trailers_init(struct h1_trailers *tr)
{
	memset(tr, 0, sizeof(*tr));
	tr->pr.stage = STAGE_FIELDS;
}

enum h1_result h1_parse_trailers(const uint8_t *buf, size_t len, const struct h1_limits *lim,
                                 struct h1_trailers *tr, size_t *tlen, enum h1_error *err)
{
	struct lims l = resolve(lim);
	size_t vis = len < l.max_head ? len : l.max_head;
	struct head h = {K_TRAILERS,   buf,          vis,       &tr->pr, NULL, 0,
	                 &tr->nfields, l.max_fields, &tr->seen, NULL,    NULL};
	enum h1_result r;

	*tlen = 0;
	*err = H1_ERR_NONE;
	r = walk_fields(&h, err);
	if (r == H1_NEED_MORE && len >= l.max_head) {
		*err = H1_ERR_TRAILERS_TOO_LARGE;
		r = H1_ERROR;
	}
	if (r == H1_OK)
		*tlen = tr->pr.pos;
	return r;
}

static bool name_in(const uint8_t *name, size_t len, const char *const *del, size_t ndel)
{
	size_t i;

	for (i = 0; i < ndel; i++)
		if (del[i] && strlen(del[i]) == len && mem_eq_ci(name, del[i], len))
			return true;
	return false;
}

/* Fields that say how to frame, route or hold the connection: trailers
 * must not carry them (RFC 9110 section 6.5.1), and ours never forward them. */
static bool trailer_banned(uint8_t id)
{
	switch (id) {
	case H1_F_HOST:
	case H1_F_CONTENT_LENGTH:
	case H1_F_TRANSFER_ENCODING:
	case H1_F_CONNECTION:
	case H1_F_KEEP_ALIVE:
	case H1_F_PROXY_CONNECTION:
	case H1_F_CLOSE:
	case H1_F_TE:
	case H1_F_TRAILER:
	case H1_F_UPGRADE:
	case H1_F_X_FORWARDED_FOR:
		return true;
	default:
		return false;
	}
}

int h1_filter_trailers(const uint8_t *buf, size_t tlen, const char *const *del, size_t ndel,
                       uint8_t *out, size_t outlen)
{
	size_t pos = 0, n = 0;

	while (pos < tlen) {
		const uint8_t *lf = memchr(buf + pos, '\n', tlen - pos);
		size_t end = lf ? (size_t)(lf - buf) + 1 : tlen;
		const uint8_t *colon = memchr(buf + pos, ':', end - pos);
		size_t nlen = colon ? (size_t)(colon - (buf + pos)) : 0;

		if (!colon || (!trailer_banned(field_id(buf + pos, nlen)) &&
		               !name_in(buf + pos, nlen, del, ndel))) {
			if (outlen - n < end - pos)
				return H1_RW_NOSPACE;
			memcpy(out + n, buf + pos, end - pos);
			n += end - pos;
		}
		pos = end;
	}
	return (int)n;
}

/* ------------------------------------------------------------------ */
/* Request rewrite                                                      */

struct out {
	uint8_t *p;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const void *src, size_t n)
{
	if (o->full || o->cap - o->len < n) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, src, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Names ppbridge owns: the framing is what we checked, Connection is ours. */
static bool add_ok(const struct h1_add_field *a)
{
	size_t i;
	uint8_t id;

	if (!a->name || !all_tchar((const uint8_t *)a->name, 0, a->name_len))
		return false;
	id = field_id((const uint8_t *)a->name, a->name_len);
	if (id == H1_F_CONTENT_LENGTH || id == H1_F_TRANSFER_ENCODING || id == H1_F_CONNECTION)
		return false;
	if (a->value_len && (!a->value || is_ows((uint8_t)a->value[0]) ||
	                     is_ows((uint8_t)a->value[a->value_len - 1])))
		return false;
	for (i = 0; i < a->value_len; i++)
		if (!is((uint8_t)a->value[i], C_VALUE))
			return false;
	return true;
}

static bool keep_field(const uint8_t *buf, const struct h1_req *req, const struct h1_rewrite *rw,
                       const struct h1_field *f)
{
	bool upgrading = rw->keep_upgrade && req->upgrade;

	switch (f->id) {
	case H1_F_CONNECTION:
	case H1_F_KEEP_ALIVE:
	case H1_F_PROXY_CONNECTION:
	case H1_F_CLOSE: /* would read as our "close" option */
		return false;
	case H1_F_UPGRADE:
		return upgrading && !name_in(buf + f->name.off, f->name.len, rw->del, rw->ndel);
	case H1_F_CONTENT_LENGTH:
		return !req->cl_normalize;
	case H1_F_TRANSFER_ENCODING:
		return true; /* framing: never deleted, never nominated */
	default:
		break;
	}
	if (f->flags & H1_FF_NOMINATED)
		return false;
	return !name_in(buf + f->name.off, f->name.len, rw->del, rw->ndel);
}

static void put_connection(struct out *o, const struct h1_req *req, const struct h1_rewrite *rw)
{
	bool close =
	    rw->conn == H1_CONN_CLOSE || (rw->conn == H1_CONN_AS_CLIENT && !req->keep_alive);
	bool up = rw->keep_upgrade && req->upgrade;
	const char *opt = NULL;

	/* only what differs from the version's default */
	if (req->version_minor == 1 && close)
		opt = "close";
	else if (req->version_minor == 0 && !close)
		opt = "keep-alive";
	if (!opt && !up)
		return;
	put_str(o, "Connection: ");
	if (opt)
		put_str(o, opt);
	if (opt && up)
		put_str(o, ", ");
	if (up)
		put_str(o, "upgrade");
	put_str(o, "\r\n");
}

int h1_rewrite_request(const uint8_t *buf, const struct h1_req *req, const struct h1_rewrite *rw,
                       uint8_t *out, size_t outlen)
{
	struct out o = {out, outlen, 0, false};
	uint32_t i;
	size_t k;

	for (k = 0; k < rw->nadd; k++)
		if (!add_ok(&rw->add[k]))
			return H1_RW_INVALID;
	put(&o, buf + req->line.off, (size_t)req->line.len + 2);
	for (i = 0; i < req->nfields; i++) {
		const struct h1_field *f = &req->fields[i];

		if (keep_field(buf, req, rw, f))
			put(&o, buf + f->name.off, f->line_end - f->name.off);
	}
	if (req->cl_normalize) {
		char num[48];
		int n = snprintf(num, sizeof(num), "Content-Length: %llu\r\n",
		                 (unsigned long long)req->content_length);

		put(&o, num, (size_t)n);
	}
	put_connection(&o, req, rw);
	for (k = 0; k < rw->nadd; k++) {
		put(&o, rw->add[k].name, rw->add[k].name_len);
		put(&o, ": ", 2);
		put(&o, rw->add[k].value, rw->add[k].value_len);
		put(&o, "\r\n", 2);
	}
	put(&o, "\r\n", 2);
	return o.full ? H1_RW_NOSPACE : (int)o.len;
}

size_t h1_rewrite_bound(const struct h1_req *req, const struct h1_rewrite *rw)
{
	size_t n = (size_t)req->line.len + 2 + 2;
	size_t k;

	if (req->nfields)
		n += req->fields[req->nfields - 1].line_end - (req->line.off + req->line.len + 2);
	n += sizeof("Content-Length: 18446744073709551615\r\n");
	n += sizeof("Connection: keep-alive, upgrade\r\n");
	for (k = 0; k < rw->nadd; k++)
		n += rw->add[k].name_len + rw->add[k].value_len + 4;
	return n;
}

/* ------------------------------------------------------------------ */
/* Error answers                                                        */

static const struct {
	int status;
	const char *reason;
	const char *text;
} answers[] = {
    {200, "OK", "Service ready."},
    {400, "Bad request", "Your browser sent an invalid request."},
    {401, "Unauthorized", "You need a valid user and password to access this content."},
    {403, "Forbidden", "Request forbidden by administrative rules."},
    {404, "Not Found", "The resource could not be found."},
    {405, "Method Not Allowed", "A request was made of a resource using a request method not supported by that resource."},
    {407, "Unauthorized", "You need a valid user and password to access this content."},
    {408, "Request Time-out", "Your browser didn't send a complete request in time."},
    {410, "Gone", "The resource is no longer available and will not be available again."},
    {413, "Payload Too Large", "The request body is larger than the server accepts."},
    {414, "URI Too Long", "The request line is longer than the server accepts."},
    {417, "Expectation Failed", "The server cannot meet the request's Expect field."},
    {421, "Misdirected Request", "The request was sent to a server that cannot answer it."},
    {422, "Unprocessable Content", "The server cannot process the contained instructions."},
    {425, "Too Early", "Your browser sent early data."},
    {429, "Too Many Requests", "You have sent too many requests in a given amount of time."},
    {431, "Request Header Fields Too Large", "The request header fields are too large."},
    {500, "Internal Server Error", "An internal server error occurred."},
    {501, "Not Implemented",
     "The server does not support the functionality required to fulfill the request."},
    {502, "Bad Gateway", "The server returned an invalid or incomplete response."},
    {503, "Service Unavailable", "No server is available to handle this request."},
    {504, "Gateway Time-out", "The server didn't respond in time."},
    {505, "HTTP Version Not Supported", "The server only speaks HTTP/1.0 and HTTP/1.1."},
};

int h1_req_has_body(const struct h1_req *req)
{
	return req->framing == H1_FRAMING_CHUNKED ||
	       (req->framing == H1_FRAMING_LENGTH && req->content_length > 0);
}

int h1_build_error(int status, char *buf, size_t len)
{
	return h1_build_answer(status, 0, buf, len);
}

int h1_build_answer(int status, int keep_alive, char *buf, size_t len)
{
	const char *reason = "Error", *text = "The request could not be processed.";
	char body[320];
	size_t i;
	int b, n;

	if (status < 100 || status > 599)
		return -1;
	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		if (answers[i].status == status) {
			reason = answers[i].reason;
			text = answers[i].text;
		}
	}
	b = snprintf(body, sizeof(body), "<html><body><h1>%d %s</h1>\n%s\n</body></html>\n", status,
	             reason, text);
	n = snprintf(buf, len,
	             "HTTP/1.1 %d %s\r\ncontent-length: %d\r\ncache-control: no-cache\r\n"
	             "content-type: text/html\r\n%s\r\n%s",
	             status, reason, b, keep_alive ? "" : "connection: close\r\n", body);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}
