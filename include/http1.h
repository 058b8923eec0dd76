/* http1.h - strict HTTP/1.1 codec: request and response heads, body framing,
 * chunked bodies and trailers, the X-Forwarded-For rewrite, error responses.
 *
 * Pure code: no sockets, no libevent, no allocation, no global state. The
 * caller provides the bytes (one contiguous buffer, e.g. from
 * evbuffer_pullup() up to the head limit) and the storage for header fields.
 * Spans are offsets into that buffer, so the buffer may move between calls
 * (a pullup after more data arrived) as long as its first bytes stay the same.
 *
 * Head parsers are incremental: h1_req_init() once per request, then
 * h1_parse_request() on the growing buffer until it stops saying NEED_MORE.
 * A call resumes at the first line not parsed yet, so a head received one
 * byte at a time costs O(n) in total. Strict prefixes of a valid head always
 * answer NEED_MORE; an error is reported as soon as a complete line (or, for
 * the request line, a method byte) proves the head invalid, and the same
 * error is reported for every longer input.
 *
 * Policies (RFC 9112 / RFC 9110; what HAProxy 2.6 does in parentheses):
 *  - Line ends are CRLF. A bare LF is rejected (bare_lf), never normalised;
 *    a CR not followed by LF is rejected (bare_cr). (HAProxy accepts bare LF.)
 *  - Empty lines (CRLF) before the request line are skipped, any number within
 *    the head limit; they count in head_len and are not forwarded.
 *  - Request line: exactly "method SP target SP HTTP/1.x"; one SP each.
 *    HTTP/1.0 and HTTP/1.1 only: another well-formed "HTTP/d.d" (HTTP/2.0 of
 *    the h2 preface included) is 505, anything else is 400.
 *  - Target bytes: 0x21-0x7E except '#'; CTLs, SP, DEL and bytes >= 0x80 are
 *    400 (HAProxy 2.6.15+ also rejects '#'). Forms: origin ("/..."), absolute
 *    (http or https only, no userinfo), authority (CONNECT only, port
 *    required), asterisk (OPTIONS only).
 *  - Sizes: a request line longer than max_line, or a head that fills
 *    max_head while still in the request line, is 414; a head over max_head
 *    is 431; more than max_fields header fields is 431. (HAProxy: 400.)
 *  - Field lines: name is a token immediately followed by ':'; whitespace
 *    before the colon (400), an empty name (400), obs-fold (400). Values:
 *    VCHAR, obs-text, SP and HTAB; any other control byte is 400.
 *  - Content-Length: 1*DIGIT, at most 2^63-1, no sign, no inner spaces.
 *    Identical duplicates (several lines, or a list "5, 5") are accepted as
 *    one value and forwarded as one normalised line; differing values are 400.
 *  - Transfer-Encoding (all lines together as one list, no empty elements):
 *    with Content-Length 400; in an HTTP/1.0 request 400; chunked not last
 *    or chunked twice 400; any other coding before a final chunked 501 (we
 *    only forward what we can frame and check). Responses accept other
 *    codings before chunked and read until close when chunked is not last.
 *  - Host: HTTP/1.1 needs exactly one (missing or repeated: 400), HTTP/1.0
 *    at most one; its syntax is checked (uri-host [":" port]); with an
 *    absolute-form target it must equal the authority, ignoring case (400).
 *  - Expect: "100-continue" is the only expectation (others 417); ignored in
 *    HTTP/1.0 as RFC 9110 requires.
 *  - Connection options name hop-by-hop fields, which the rewrite drops,
 *    except Host, Content-Length and Transfer-Encoding: dropping those would
 *    change the framing or routing between us and the server, so such an
 *    option is ignored. Fields ppbridge adds are deleted from the client's
 *    head first and the forwarded Connection field carries only close,
 *    keep-alive and upgrade, so nothing we add can be nominated away.
 *  - Upgrade counts only in HTTP/1.1 with the "upgrade" Connection option;
 *    websocket is reported apart so the daemon can refuse others (h2c).
 *  - CONNECT parses (authority-form) and is reported; the daemon refuses it
 *    unless configured.
 *  - Chunked: 1*HEXDIG size up to 2^63-1, extensions allowed (VCHAR, SP,
 *    HTAB, obs-text) within max_chunk_line, whitespace after the size only
 *    before ';', CRLF everywhere. Trailers are field lines with the head
 *    rules; the filter drops X-Forwarded-For, the caller's delete list and
 *    fields that must not appear in trailers (framing, routing, hop-by-hop).
 */
#ifndef PPB_HTTP1_H
#define PPB_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits ---- */

#define H1_DEFAULT_MAX_HEAD 16384      /* tune.bufsize */
#define H1_DEFAULT_MAX_FIELDS 101      /* tune.http.maxhdr */
#define H1_DEFAULT_MAX_CHUNK_LINE 4096 /* chunk size + extensions, CRLF excluded */
#define H1_ERROR_MAX 512               /* enough for any h1_build_error() answer */

struct h1_limits {
	uint32_t max_head;       /* whole head, empty lines and final CRLF included;
	                          * 0: H1_DEFAULT_MAX_HEAD */
	uint32_t max_line;       /* request line, CRLF excluded; 0: max_head */
	uint32_t max_fields;     /* 0: H1_DEFAULT_MAX_FIELDS (also bounded by fields_cap) */
	uint32_t max_chunk_line; /* 0: H1_DEFAULT_MAX_CHUNK_LINE */
};

/* ---- results and errors ---- */

enum h1_result {
	H1_NEED_MORE = 0, /* every byte so far is a valid prefix; read more */
	H1_OK,            /* complete: see *head_len / *consumed */
	H1_ERROR,         /* invalid: *err says why; answer and close */
};

/* Error classes. The names from h1_strerror() are stable (counters, logs);
 * h1_error_status() gives the status to answer a request error with. A
 * response error is a 502 for the client and a dropped server connection. */
enum h1_error {
	H1_ERR_NONE = 0,              /* "none" */
	H1_ERR_BAD_METHOD,            /* "bad_method" 400: empty or not a token */
	H1_ERR_BAD_REQUEST_LINE,      /* "bad_request_line" 400: spacing, missing parts */
	H1_ERR_BAD_TARGET,            /* "bad_target" 400: bytes, form, userinfo */
	H1_ERR_BAD_VERSION,           /* "bad_version" 400: not HTTP/d.d */
	H1_ERR_UNSUPPORTED_VERSION,   /* "unsupported_version" 505: not 1.0/1.1 */
	H1_ERR_URI_TOO_LONG,          /* "uri_too_long" 414 */
	H1_ERR_HEAD_TOO_LARGE,        /* "head_too_large" 431 */
	H1_ERR_TOO_MANY_FIELDS,       /* "too_many_fields" 431 */
	H1_ERR_BARE_CR,               /* "bare_cr" 400 */
	H1_ERR_BARE_LF,               /* "bare_lf" 400 */
	H1_ERR_OBS_FOLD,              /* "obs_fold" 400 */
	H1_ERR_SPACE_BEFORE_COLON,    /* "space_before_colon" 400 */
	H1_ERR_BAD_FIELD_NAME,        /* "bad_field_name" 400: empty, not a token, no colon */
	H1_ERR_BAD_FIELD_VALUE,       /* "bad_field_value" 400: NUL or control byte, bad list */
	H1_ERR_BAD_CONTENT_LENGTH,    /* "bad_content_length" 400: syntax, overflow, differing */
	H1_ERR_CL_AND_TE,             /* "cl_and_te" 400 */
	H1_ERR_BAD_TRANSFER_ENCODING, /* "bad_transfer_encoding" 400 */
	H1_ERR_TE_IN_HTTP10,          /* "te_in_http10" 400 */
	H1_ERR_UNSUPPORTED_CODING,    /* "unsupported_coding" 501 */
	H1_ERR_MISSING_HOST,          /* "missing_host" 400 */
	H1_ERR_DUPLICATE_HOST,        /* "duplicate_host" 400 */
	H1_ERR_BAD_HOST,              /* "bad_host" 400 */
	H1_ERR_HOST_MISMATCH,         /* "host_mismatch" 400 */
	H1_ERR_UNSUPPORTED_EXPECT,    /* "unsupported_expect" 417 */
	H1_ERR_BAD_STATUS_LINE,       /* "bad_status_line" (responses) */
	H1_ERR_UNEXPECTED_STATUS,     /* "unexpected_status" (101 nobody asked for) */
	H1_ERR_BAD_CHUNK_SIZE,        /* "bad_chunk_size" 400 */
	H1_ERR_CHUNK_SIZE_OVERFLOW,   /* "chunk_size_overflow" 400: > 2^63-1 */
	H1_ERR_BAD_CHUNK_EXT,         /* "bad_chunk_ext" 400: control byte, too long */
	H1_ERR_BAD_CHUNK_END,         /* "bad_chunk_end" 400: no CRLF after chunk data */
	H1_ERR_TRAILERS_TOO_LARGE,    /* "trailers_too_large" 400 (the body has started) */
	H1_ERR_COUNT                  /* number of values above, not an error */
};

/* Stable lower-case name ("bare_lf"); "unknown" if out of range. */
const char *h1_strerror(enum h1_error err);
/* HTTP status to answer a request error with (400, 414, 417, 431, 501, 505);
 * 502 for the response-only classes; 0 for H1_ERR_NONE. */
int h1_error_status(enum h1_error err);

/* ---- spans and fields ---- */

/* Bytes buf[off .. off+len) of the buffer that was parsed. */
struct h1_span {
	uint32_t off;
	uint32_t len;
};

/* Fields the parser recognises by name (any case). */
enum h1_field_id {
	H1_F_OTHER = 0,
	H1_F_HOST,
	H1_F_CONTENT_LENGTH,
	H1_F_TRANSFER_ENCODING,
	H1_F_CONNECTION,
	H1_F_UPGRADE,
	H1_F_EXPECT,
	H1_F_KEEP_ALIVE,
	H1_F_PROXY_CONNECTION,
	H1_F_TE,
	H1_F_TRAILER,
	H1_F_X_FORWARDED_FOR,
	H1_F_X_FORWARDED_PROTO,
	H1_F_X_FORWARDED_PORT,
	H1_F_X_REAL_IP,
	H1_F_FORWARDED,
	H1_F_CLOSE, /* reserved name (RFC 9110 16.3.2.2): never forwarded */
	H1_F_COUNT
};

#define H1_SEEN(id) (1u << (id)) /* bit of struct h1_req.seen */

enum h1_field_flag {
	H1_FF_NONE = 0,
	H1_FF_NOMINATED = 1 << 0, /* named by a Connection option: hop-by-hop */
};

struct h1_field {
	struct h1_span name;
	struct h1_span value; /* without leading and trailing whitespace */
	uint32_t line_end;    /* just past the CRLF: the line is [name.off, line_end) */
	uint8_t id;           /* enum h1_field_id */
	uint8_t flags;        /* enum h1_field_flag */
};

/* Case-insensitive comparison of buf's span with a NUL-terminated name. */
bool h1_span_eq_ci(const uint8_t *buf, struct h1_span sp, const char *name);
/* Index of the first field at or after `from` with that name, or -1. */
int h1_find_field(const uint8_t *buf, const struct h1_field *fields, uint32_t nfields,
                  uint32_t from, const char *name);

/* ---- message framing ---- */

enum h1_framing {
	H1_FRAMING_NONE = 0, /* no body */
	H1_FRAMING_LENGTH,   /* content_length bytes (may be 0) */
	H1_FRAMING_CHUNKED,  /* h1_chunk_feed() until H1_OK, then the trailers */
	H1_FRAMING_CLOSE,    /* response body until the server closes: no reuse */
	H1_FRAMING_TUNNEL,   /* 101 or CONNECT 2xx: bytes both ways until close */
};

/* Progress of an incremental head parse (private to http1.c). */
struct h1_progress {
	uint32_t pos;  /* first byte of the first line not parsed yet */
	uint32_t scan; /* bytes after pos already searched for LF */
	uint8_t stage; /* start line or fields */
	bool sp_seen;  /* request line: the early method check is over */
	uint32_t host_count, cl_count, te_elems, te_chunked;
	bool cl_list, te_last_chunked, te_other;
};

/* ---- requests ---- */

enum h1_method {
	H1_METHOD_OTHER = 0, /* any other token (forwarded as is) */
	H1_METHOD_GET,
	H1_METHOD_HEAD,
	H1_METHOD_POST,
	H1_METHOD_PUT,
	H1_METHOD_DELETE,
	H1_METHOD_CONNECT,
	H1_METHOD_OPTIONS,
	H1_METHOD_TRACE,
	H1_METHOD_PATCH,
};

enum h1_target_form {
	H1_FORM_ORIGIN = 0, /* "/path?query" */
	H1_FORM_ABSOLUTE,   /* "http://authority/path" */
	H1_FORM_AUTHORITY,  /* "host:port" (CONNECT) */
	H1_FORM_ASTERISK,   /* "*" (OPTIONS) */
};

struct h1_req {
	/* storage, set by h1_req_init() */
	struct h1_field *fields;
	uint32_t fields_cap;
	uint32_t nfields;
	/* request line */
	uint32_t start;      /* offset of the request line (after empty lines) */
	struct h1_span line; /* request line, CRLF excluded */
	enum h1_method method;
	struct h1_span method_span;
	enum h1_target_form form;
	struct h1_span target;
	struct h1_span authority; /* absolute- and authority-form; else len 0 */
	uint8_t version_minor;    /* HTTP/1.<minor>: 0 or 1 */
	/* derived facts, valid after H1_OK */
	enum h1_framing framing; /* NONE, LENGTH or CHUNKED */
	uint64_t content_length;
	bool keep_alive;      /* the client wants the connection kept */
	bool conn_close;      /* Connection: close */
	bool conn_keep_alive; /* Connection: keep-alive */
	bool expect_continue; /* HTTP/1.1 Expect: 100-continue */
	bool upgrade;         /* HTTP/1.1 Upgrade + Connection: upgrade */
	bool websocket;       /* ... and the only protocol asked for is websocket */
	bool cl_normalize;    /* several Content-Length values: forward one line */
	bool has_host;
	struct h1_span host;   /* the Host value */
	uint32_t seen;         /* H1_SEEN(enum h1_field_id) of every field present */
	uint32_t nominated;    /* fields flagged H1_FF_NOMINATED */
	struct h1_progress pr; /* private */
};

/* Prepare for one request head; fields[cap] receives its header fields. */
void h1_req_init(struct h1_req *req, struct h1_field *fields, uint32_t cap);

/* Parse the head at the start of buf[0..len). lim may be NULL (defaults).
 * H1_OK: *req complete, *head_len = bytes of the head (leading empty lines
 * and final CRLF included; the body or next request follows).
 * H1_NEED_MORE / H1_ERROR: *head_len = 0; *err set (H1_ERR_NONE unless error).
 * After NEED_MORE call again with the same req and a longer buffer that
 * starts with the same bytes. After OK or ERROR, h1_req_init() again. */
enum h1_result h1_parse_request(const uint8_t *buf, size_t len, const struct h1_limits *lim,
                                struct h1_req *req, size_t *head_len, enum h1_error *err);

/* ---- request rewrite ---- */

struct h1_add_field {
	const char *name; /* a token */
	size_t name_len;
	const char *value; /* VCHAR, obs-text, SP, HTAB; no leading/trailing space */
	size_t value_len;
};

enum h1_conn_mode {
	H1_CONN_AS_CLIENT = 0, /* close or keep-alive as the client asked */
	H1_CONN_CLOSE,         /* ask the server to close after this response */
	H1_CONN_KEEP_ALIVE,    /* ask the server to keep the connection */
};

struct h1_rewrite {
	const char *const *del; /* field names to drop, any case (X-Forwarded-For...) */
	size_t ndel;
	const struct h1_add_field *add; /* appended in this order */
	size_t nadd;
	enum h1_conn_mode conn;
	bool keep_upgrade; /* forward Upgrade + "Connection: upgrade" when req->upgrade */
};

enum h1_rw_status {
	H1_RW_NOSPACE = -1, /* out too small: see h1_rewrite_bound() */
	H1_RW_INVALID = -2, /* an added name or value would break the head */
};

/* Write the head to forward into out: the request line and every field
 * byte-exact, except: fields named in rw->del, fields nominated by
 * Connection, Connection / Keep-Alive / Proxy-Connection / Close, Upgrade
 * unless kept, and several Content-Length lines (one normalised line). Then
 * one Connection field (close / keep-alive / upgrade, only when needed), the
 * added fields, and the final CRLF. Leading empty lines are not written.
 * Returns the length written or a negative enum h1_rw_status. */
int h1_rewrite_request(const uint8_t *buf, const struct h1_req *req, const struct h1_rewrite *rw,
                       uint8_t *out, size_t outlen);
/* An outlen that is always enough for h1_rewrite_request(). */
size_t h1_rewrite_bound(const struct h1_req *req, const struct h1_rewrite *rw);

/* ---- responses ---- */

/* What the response parser must know about the request it answers. */
struct h1_req_info {
	enum h1_method method; /* HEAD: no body; CONNECT: 2xx is a tunnel */
	bool upgrade;          /* an Upgrade was forwarded: 101 is a tunnel */
};

struct h1_resp {
	struct h1_field *fields; /* may be NULL: fields are checked, not stored */
	uint32_t fields_cap;
	uint32_t nfields; /* counted even when not stored */
	uint32_t start;
	uint8_t version_minor;
	int status;
	struct h1_span reason;
	enum h1_framing framing;
	uint64_t content_length;
	bool interim;    /* 1xx other than 101: the final response follows */
	bool keep_alive; /* the server connection may be reused after this one */
	bool conn_close;
	bool conn_keep_alive;
	uint32_t seen;
	struct h1_progress pr; /* private */
};

void h1_resp_init(struct h1_resp *resp, struct h1_field *fields, uint32_t cap);

/* Same contract as h1_parse_request(); for_req may be NULL (a GET without
 * Upgrade). Framing per RFC 9112 section 6.3.
 * Anomalies (Content-Length with Transfer-Encoding, bad or differing
 * Content-Length, Transfer-Encoding in HTTP/1.0, a 101 nobody asked for) are
 * errors: answer 502 and do not reuse the server connection. */
enum h1_result h1_parse_response(const uint8_t *buf, size_t len, const struct h1_limits *lim,
                                 const struct h1_req_info *for_req, struct h1_resp *resp,
                                 size_t *head_len, enum h1_error *err);

/* ---- chunked bodies ---- */

struct h1_chunk_state {
	uint8_t phase; /* private */
	bool bws;      /* private: whitespace after the size */
	enum h1_error err;
	uint64_t size;     /* current chunk size, then the bytes left of it */
	uint32_t line_len; /* bytes of the current chunk-size line */
	uint32_t max_line;
	uint64_t chunks; /* chunks seen, last-chunk excluded */
	uint64_t data;   /* chunk data bytes seen */
};

void h1_chunk_init(struct h1_chunk_state *st, const struct h1_limits *lim);

/* Walk body bytes in order (any split). The bytes are forwarded as they are
 * (no de-chunking).
 * H1_NEED_MORE: all len bytes were chunked body (*consumed = len).
 * H1_OK: *consumed bytes end with the last-chunk line ("0\r\n"); the trailer
 *   section follows: parse it with h1_parse_trailers() and forward
 *   h1_filter_trailers()'s output. Later calls return H1_OK, consuming 0.
 * H1_ERROR: st->err; *consumed = the valid bytes before the offending one. */
enum h1_result h1_chunk_feed(struct h1_chunk_state *st, const uint8_t *buf, size_t len,
                             size_t *consumed);

struct h1_trailers {
	uint32_t nfields;
	uint32_t seen;         /* H1_SEEN() of the trailer fields */
	struct h1_progress pr; /* private */
};

void h1_trailers_init(struct h1_trailers *tr);
/* The trailer section at the start of buf (after the last-chunk line): field
 * lines then CRLF. Same contract as h1_parse_request(); *tlen is its length
 * ("\r\n" alone: 2). Limits: max_head and max_fields; over them:
 * trailers_too_large. */
enum h1_result h1_parse_trailers(const uint8_t *buf, size_t len, const struct h1_limits *lim,
                                 struct h1_trailers *tr, size_t *tlen, enum h1_error *err);
/* Copy a trailer section parsed OK (tlen bytes) without X-Forwarded-For, the
 * names in del[], and the fields that have no place in trailers: Host,
 * Content-Length, Transfer-Encoding, Connection, Keep-Alive, Proxy-Connection,
 * Close, TE, Trailer, Upgrade. Returns the length (<= tlen) or H1_RW_NOSPACE. */
int h1_filter_trailers(const uint8_t *buf, size_t tlen, const char *const *del, size_t ndel,
                       uint8_t *out, size_t outlen);

/* ---- error answers ---- */

/* A complete HTTP/1.1 answer with Connection: close and a short HTML body,
 * HAProxy's wording where HAProxy has one. Unknown statuses get a generic
 * body. Returns the length (a NUL follows, not counted) or -1 when buf is
 * too small for both or status is not 100-599 (H1_ERROR_MAX is enough). */
int h1_build_error(int status, char *buf, size_t len);
/* The request has body bytes to come (chunked, or a Content-Length above
 * 0): an answer before reading them leaves the connection out of step. */
int h1_req_has_body(const struct h1_req *req);
/* The same page; `keep_alive`: without `connection: close` (an answer the
 * connection survives, as HAProxy's http-request deny). */
int h1_build_answer(int status, int keep_alive, char *buf, size_t len);

#endif
