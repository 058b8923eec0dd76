/* stream_http.c - the HTTP/1.1 request loop of a `mode http` stream.
 *
 * One exchange at a time per client connection:
 *
 *   HTTP_REQ --head parsed, rewritten--> [CONNECTING] --> HTTP_XFER --both done--> HTTP_REQ
 *      |                                                     |
 *      +-- invalid head: 4xx, never forwarded, close         +-- 101: ESTABLISHED (tunnel)
 *
 * Every request of the connection (first, keep-alive, pipelined) goes
 * through the same parse and rewrite, so every one gets the same
 * X-Forwarded-For treatment. Bytes after a request's body wait in `cin`
 * until its response is complete (no request is parsed ahead of its
 * predecessor's response). Bodies and responses stream: they are walked
 * only as far as framing requires, never buffered whole.
 *
 * Server connections that end an exchange cleanly go to the worker's idle
 * pool (unless `http-reuse never`, `http-server-close`, or the server gets
 * a PROXY header, which ties a connection to one client). A request sent
 * on a reused connection keeps a copy (up to HTTP_REPLAY_MAX bytes) until
 * the first response byte, so a connection the server closed meanwhile
 * costs the client nothing: the request is replayed on a fresh one.
 */
#include <config.h>

#include "stream_int.h"

#include "acl.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "leaving.h"
#include "log.h"
#include "net.h"
#include "sample.h"
#include "stream.h"
#include "worker.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_IN_MAX (H1_DEFAULT_MAX_HEAD + 1024) /* a head, or a read's worth of body */
#define HTTP_REPLAY_MAX 16384
#define HTTP_LINGER_MS 1000      /* after an error answer, wait this long for the client's FIN */
#define HTTP_POOL_PER_SERVER 32  /* idle connections kept per server and thread */
#define HTTP_POOL_IDLE_MS 5000   /* HAProxy's pool-purge-delay */
/* A keep-alive client idle this long gives its server connection back. */
#define HTTP_PARK_IDLE_MS 1000


/* Read once from a side into a buffer. Returns bytes read, 0 on EOF
 * (side->eof set), -1 on a socket error, -2 when nothing was there. A
 * buffer not allocated yet (or given back when idle) reads through the
 * worker's scratch area first, so that it is only as large as what came. */
static ssize_t read_into(struct stream *s, struct strm_side *side, struct strm_buf *b)
{
	size_t want = b->len < 4096 ? 16384 - b->len : 4096;
	ssize_t n;

	if (!b->data) {
		n = strm_recv(side, s->w->scratch, s->w->scratch_len);
		if (n > 0 && strm_buf_append(b, s->w->scratch, (size_t)n) < 0)
			return -1;
	} else {
		if (strm_buf_room(b, want) < 0)
			return -1;
		n = strm_recv(side, b->data + b->len, b->cap - b->len);
		if (n > 0)
			b->len += (size_t)n;
	}
	if (n == STRM_IO_AGAIN)
		return -2;
	if (n == STRM_IO_ERROR)
		return -1;
	if (n == STRM_IO_EOF) {
		side->eof = 1;
		return 0;
	}
	side->bytes_read += (unsigned long long)n;
	if (side == &s->cli_side)
		strm_stk_bytes_in(s, (size_t)n);
	strm_ssl_more(side);
	return n;
}

/* ---- policies ---- */

static const struct cfg_proxy *fe_conf(const struct stream *s)
{
	return s->fe->conf;
}

static const struct cfg_proxy *be_conf(const struct stream *s)
{
	return s->be->conf;
}

static unsigned opts(const struct stream *s)
{
	return fe_conf(s)->options | be_conf(s)->options;
}

/* A server connection can serve several clients only without a PROXY
 * header (the spec forbids one client's header on a shared connection):
 * in `client-ip auto`, connections to a server that takes PROXY, and one
 * that carried a header, stay private to their client. */
static int poolable(const struct stream *s, const struct srv *srv)
{
	return be_conf(s)->http_reuse != CFG_REUSE_NEVER &&
	       srv->conf->send_proxy == CFG_SEND_PROXY_NONE &&
	       !(srv == s->srv && strm_conn_pp(s)) &&
	       !(strm_auto(s) && srv_pp_mode(srv) == SRV_PP_PROXY) &&
	       !(opts(s) & (CFG_OPT_HTTP_SERVER_CLOSE | CFG_OPT_HTTPCLOSE));
}

/* RFC 9110 9.2.2: "A proxy MUST NOT automatically retry non-idempotent
 * requests." Only these may be replayed after a reused connection died. */
static int idempotent(enum h1_method m)
{
	return m == H1_METHOD_GET || m == H1_METHOD_HEAD || m == H1_METHOD_PUT ||
	       m == H1_METHOD_DELETE || m == H1_METHOD_OPTIONS || m == H1_METHOD_TRACE;
}

/* HAProxy's http-reuse: which idle connections this request may take. */
static int reuse_min_uses(const struct stream *s, int *allowed)
{
	enum cfg_http_reuse mode = be_conf(s)->http_reuse;
	int first = s->http->nreq == 1;

	*allowed = 1;
	if (!first)
		return 0; /* safe, aggressive, always: later requests take any */
	if (mode == CFG_REUSE_ALWAYS)
		return 0;
	if (mode == CFG_REUSE_AGGRESSIVE)
		return 2; /* only connections proven reusable */
	*allowed = 0; /* safe: a session's first request opens its own */
	return 0;
}

static unsigned head_timeout(const struct stream *s)
{
	const struct strm_http *h = s->http;
	unsigned req = fe_conf(s)->timeout.http_request;
	unsigned ka = fe_conf(s)->timeout.http_keep_alive;

	if (!req)
		req = cfg_timeout_client(fe_conf(s));
	if (h->nreq > 0 && !h->head_started && ka)
		return ka;
	return req;
}

/* ---- the server connection between requests ---- */

/* The kept connection is about to be closed while idle: reset it (no
 * TIME_WAIT on our port, see conn_close_idle()). */
static void idle_reset(struct stream *s)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	(void)setsockopt(s->srv_side.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static unsigned pool_idle_ms(const struct srv *srv)
{
	unsigned idle = cfg_timeout_server(srv->be->conf);

	return idle < HTTP_POOL_IDLE_MS ? idle : HTTP_POOL_IDLE_MS;
}

/* The session no longer needs its kept server connection: the connection
 * goes to the pool by pointer when others may use it, else it is closed. */
static void park_server(struct stream *s)
{
	struct strm_http *h = s->http;
	struct srv_conn *conn = s->conn;
	int fd = s->srv_side.fd;

	if (fd < 0)
		return;
	if (!h->srv_idle || !poolable(s, s->srv) || s->srv_side.eof) {
		if (h->srv_idle && !s->srv_side.eof)
			idle_reset(s);
		strm_close_server_fd(s);
		h->srv_idle = 0;
		return;
	}
	s->srv_side.fd = -1;
	if (s->srv_side.rev_on)
		event_del(s->srv_side.rev);
	if (s->srv_side.wev_on)
		event_del(s->srv_side.wev);
	s->srv_side.rev_on = s->srv_side.wev_on = 0;
	s->conn = NULL;
	conn_pool_put(s->w, s->gen, conn, fd, s->srv_side.ssl, pool_idle_ms(s->srv),
		      HTTP_POOL_PER_SERVER);
	s->srv_side.ssl = NULL;
	h->srv_idle = 0;
}

int strm_http_take_bytes(struct stream *s, const uint8_t *data, size_t len)
{
	return strm_buf_append(&s->http->req.buf, data, len);
}

/* ---- refusals ---- */

/* Answer with an error and close: nothing of the request is forwarded
 * after this. The close lingers so the answer is not destroyed by a reset
 * when the client still has unread bytes in flight. */
int strm_http_fail(struct stream *s, int status, const char *why, char who, char phase)
{
	struct strm_http *h = s->http;
	char page[H1_ERROR_MAX];
	int n;

	strm_set_term(s, who, phase);
	if ((status >= 400 && status < 500) ||
	    (s->http->edge_rule && s->http->edge_rule->action != CFG_HTTP_USE_SERVICE)) {
		char msg[160];
		snprintf(msg, sizeof(msg), "HTTP %d: %s", status, why);
		strm_log_refusal(s, msg);
	} else {
		log_msg(LOG_WARNING, "frontend %s: stream %llu: HTTP %d: %s", fe_conf(s)->name, s->id,
			status, why);
	}
	strm_release_srv(s);
	strm_close_server_fd(s);
	h->status = status;
	h->closing = 1;
	h->close_after = 1;
	clock_gettime(CLOCK_MONOTONIC, &h->closing_since);
	if (h->resp_bytes == 0 && (n = h1_build_error(status, page, sizeof(page))) > 0) {
		if (h->head_only) /* content-length stays: what the body would have been */
			n = (int)(strstr(page, "\r\n\r\n") + 4 - page);
		h->resp_bytes += (unsigned long long)n;
		if (strm_deliver(&s->cli_side, (const uint8_t *)page, (size_t)n) < 0) {
			strm_http_log(s);
			strm_close(s);
			return -1;
		}
	}
	strm_http_log(s);
	h->logged = 1;
	if (s->state != STRM_ST_HTTP_REQ)
		strm_set_state(s, STRM_ST_HTTP_REQ);
	if (s->cli_side.q_len == 0 && !s->cli_side.shut) {
		shutdown(s->cli_side.fd, SHUT_WR);
		s->cli_side.shut = 1;
	}
	strm_update_interest(s);
	return -1;
}

/* ---- starting a request ---- */

static void reset_exchange(struct strm_http *h)
{
	memset(&h->t_req, 0, sizeof(h->t_req)); /* no request head yet */
	h->req.done = h->rsp.done = h->rsp.head_done = 0;
	h->req.trailers = h->rsp.trailers = 0;
	h->req.left = h->rsp.left = 0;
	h->resp_bytes = 0;
	h->status = 0;
	h->from_pool = 0;
	h->replayable = 0;
	h->replays = 0;
	h->replay.len = 0;
	h->logged = 0;
	h->t_connect_ms = -1;
	h->reqline[0] = '\0';
	h->svc_kind = SVC_NONE;
	h->svc_px = NULL;
	h1_req_init(&h->req_head, h->fields, H1_DEFAULT_MAX_FIELDS);
	h1_resp_init(&h->rsp_head, h->fields, H1_DEFAULT_MAX_FIELDS);
}

static void note_request(struct stream *s)
{
	struct strm_http *h = s->http;
	size_t len = h->req_head.line.len < sizeof(h->reqline) - 1 ? h->req_head.line.len
							      : sizeof(h->reqline) - 1;

	memcpy(h->reqline, h->req.buf.data + h->req_head.line.off, len);
	h->reqline[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (h->reqline[i] == '"')
			h->reqline[i] = '\'';
}

/* Take a server connection for this request: the pool when the reuse
 * policy allows, else a fresh connect. Returns -1 when the stream ended. */
static int take_connection(struct stream *s, struct srv *srv)
{
	struct strm_http *h = s->http;
	int allowed;
	unsigned min_uses = reuse_min_uses(s, &allowed);
	struct srv_conn *conn = NULL;
	char sni[256];

	/* A TLS connection is only reused for the SNI it was opened with. */
	sni[0] = '\0';
	if (srv->conf->ssl)
		strm_server_sni(s, srv, sni, sizeof(sni));
	if (s->srv_side.fd >= 0 && h->srv_idle && !idempotent(h->req_head.method) &&
	    !conn_still_open(s->srv_side.fd)) {
		strm_close_server_fd(s); /* the server closed it meanwhile */
		h->srv_idle = 0;
	}
	if (s->srv_side.fd >= 0 && s->srv == srv && h->srv_idle && s->conn &&
	    strcmp(s->conn->sni ? s->conn->sni : "", sni) == 0) {
		h->srv_idle = 0;
		/* The connection this session kept from its previous request. */
		h->from_pool = 1;
		s->attempts = 1;
		atomic_fetch_add(&srv->cur_conns, 1);
		s->srv_held = 1;
		h->t_connect_ms = 0;
		strm_set_state(s, STRM_ST_HTTP_XFER);
		return 0;
	}
	park_server(s); /* a kept connection to another server */
	free(s->req_sni);
	s->req_sni = srv->conf->ssl ? strdup(sni) : NULL;
	h->rsp.buf.len = 0;
	s->srv = srv;
	s->attempts = 0;
	free(s->tried);
	s->tried = NULL;
	if (allowed && poolable(s, srv))
		conn = conn_pool_take(s->w, srv, sni, min_uses, !idempotent(h->req_head.method));
	if (!conn) {
		s->presel = srv;
		strm_connect_next(s);
		return s->state == STRM_ST_CLOSED ? -1 : 0;
	}
	h->from_pool = 1;
	h->replayable = 1;
	s->attempts = 1;
	atomic_fetch_add(&srv->cur_conns, 1);
	s->srv_held = 1;
	strm_attach_conn(s, conn);
	h->t_connect_ms = 0;
	strm_set_state(s, STRM_ST_HTTP_XFER);
	return 0;
}

/* Body bytes that came with the head are checked before the head leaves:
 * a chunked body that is already visibly broken is refused whole (what
 * arrives later streams and can only be cut). */
static int chunks_look_valid(struct stream *s, size_t head_len)
{
	struct strm_http *h = s->http;
	struct h1_chunk_state probe;
	size_t used = 0;

	h1_chunk_init(&probe, NULL);
	if (h->req.buf.len <= head_len ||
	    h1_chunk_feed(&probe, h->req.buf.data + head_len, h->req.buf.len - head_len, &used) != H1_ERROR)
		return 1;
	atomic_fetch_add(&s->fe->ctr.http_errors, 1);
	strm_http_fail(s, 400, h1_strerror(probe.err), 'P', 'R');
	return 0;
}

static int start_request(struct stream *s, size_t head_len)
{
	struct strm_http *h = s->http;
	enum svc_kind svc;
	struct srv *srv;

	h->nreq++;
	memcpy(s->term, "--", 3); /* each request logs its own end, not the last one's */
	gettimeofday(&h->t_req, NULL);
	clock_gettime(CLOCK_MONOTONIC, &h->mono_req);
	note_request(s);
	h->edge_rule = NULL;
	strm_stk_request(s);
	if (h->req_head.method == H1_METHOD_CONNECT)
		return strm_http_fail(s, 405, "CONNECT is not allowed", 'P', 'R');
	/* decided once, before any answer is built: an answer that ends the
	 * connection says `connection: close` */
	h->close_after = !h->req_head.keep_alive || (opts(s) & CFG_OPT_HTTPCLOSE) ||
	                 strm_http_superseded(s);
	/* monitor-uri, use-service, stats uri: answered here, in that order */
	svc = strm_svc_pick(s);
	if (svc != SVC_NONE)
		return strm_svc_start(s, svc, head_len);
	/* client-ip auto chose the first request's server already, to pick
	 * the path: the same one (a second pick would move roundrobin on). */
	srv = h->nreq == 1 && s->presel && srv_usable(s->presel)
		  ? s->presel
		  : be_select(s->be, (const struct sockaddr *)&s->cli_addr, NULL);
	s->presel = NULL;
	if (!srv)
		return strm_http_fail(s, 503, "no server available", 'S', 'C');
	/* Keep server connections alive unless told otherwise; whether one may
	 * serve other clients later is poolable()'s business. */
	h->srv_keep_wanted = !(opts(s) & (CFG_OPT_HTTP_SERVER_CLOSE | CFG_OPT_HTTPCLOSE));
	if (h->req_head.framing == H1_FRAMING_CHUNKED && !chunks_look_valid(s, head_len))
		return -1;
	h->replayable = 1;
	if (take_connection(s, srv) < 0)
		return -1;
	if (strm_http_forward_head(s) < 0)
		return strm_http_fail(s, 500, "cannot build the request", 'R', 'R');
	strm_buf_consume(&h->req.buf, head_len);
	switch (h->req_head.framing) {
	case H1_FRAMING_LENGTH:
		h->req.left = h->req_head.content_length;
		h->req.done = h->req.left == 0;
		break;
	case H1_FRAMING_CHUNKED:
		h1_chunk_init(&h->req.chunk, NULL);
		break;
	default:
		h->req.done = 1;
	}
	return 0;
}

/* The header index a head is parsed into (2.4 KB): taken when a head
 * starts, given back when the connection goes idle. */
static int fields_ready(struct strm_http *h)
{
	if (h->fields)
		return 0;
	h->fields = malloc(H1_DEFAULT_MAX_FIELDS * sizeof(*h->fields));
	if (!h->fields)
		return -1;
	h->req_head.fields = h->rsp_head.fields = h->fields;
	h->req_head.fields_cap = h->rsp_head.fields_cap = H1_DEFAULT_MAX_FIELDS;
	return 0;
}

/* Parse the head in `cin`. Returns 1 when a request started, 0 to wait
 * for more bytes, -1 when the stream ended or is closing. */
static int try_request(struct stream *s)
{
	struct strm_http *h = s->http;
	size_t head_len = 0;
	enum h1_error err = H1_ERR_NONE;

	if (h->req.buf.len == 0)
		return 0;
	if (fields_ready(h) < 0) {
		log_msg(LOG_ERR, "frontend %s: out of memory parsing a request (stream %llu)",
			s->fe->conf->name, s->id);
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return -1;
	}
	if (!h->head_started) {
		h->head_started = 1;
		clock_gettime(CLOCK_MONOTONIC, &h->head_start);
	}
	switch (h1_parse_request(h->req.buf.data, h->req.buf.len, NULL, &h->req_head, &head_len, &err)) {
	case H1_NEED_MORE:
		return 0;
	case H1_ERROR:
		atomic_fetch_add(&s->fe->ctr.http_errors, 1);
		strm_stk_request(s); /* a request for the stick counters too, as HAProxy */
		h->bad_request = 1;
		return strm_http_fail(s, h1_error_status(err), h1_strerror(err), 'P', 'R');
	case H1_OK:
		break;
	}
	h->head_started = 0;
	if (start_request(s, head_len) < 0)
		return -1;
	return 1;
}

/* ---- request body ---- */

static int send_body(struct stream *s, const uint8_t *data, size_t len)
{
	struct strm_http *h = s->http;

	if (h->replayable && h->resp_bytes == 0 && h->rsp.buf.len == 0) {
		if (h->replay.len + len > HTTP_REPLAY_MAX || strm_buf_append(&h->replay, data, len) < 0)
			h->replayable = 0;
	} else {
		h->replayable = 0; /* the copy would miss these bytes */
	}
	if (strm_deliver(&s->srv_side, data, len) < 0) {
		strm_side_failed(s, &s->srv_side);
		return -1;
	}
	return 0;
}

static int body_error(struct stream *s, enum h1_error err)
{
	return strm_http_fail(s, 400, h1_strerror(err), 'P', 'D');
}

/* ---- response ---- */

static int resp_error(struct stream *s, int status, const char *why)
{
	struct strm_http *h = s->http;

	h->srv_keep = 0;
	if (h->resp_bytes > 0) {
		/* Part of a response went out: all we can do is cut it. */
		log_msg(LOG_WARNING, "frontend %s: stream %llu: %s after %llu response bytes",
			fe_conf(s)->name, s->id, why, h->resp_bytes);
		strm_set_term(s, 'S', 'D');
		strm_http_log(s);
		strm_close(s);
		return -1;
	}
	return strm_http_fail(s, status, why, 'S', 'H');
}

static int send_client(struct stream *s, const uint8_t *data, size_t len)
{
	struct strm_http *h = s->http;

	h->resp_bytes += len;
	if (strm_deliver(&s->cli_side, data, len) < 0) {
		strm_side_failed(s, &s->cli_side);
		return -1;
	}
	return 0;
}

/* 101 Switching Protocols: from now on bytes flow both ways untouched. */
static int become_tunnel(struct stream *s)
{
	struct strm_http *h = s->http;

	if (h->req.buf.len > 0 && strm_deliver(&s->srv_side, h->req.buf.data, h->req.buf.len) < 0) {
		strm_side_failed(s, &s->srv_side);
		return -1;
	}
	if (h->rsp.buf.len > 0 && send_client(s, h->rsp.buf.data, h->rsp.buf.len) < 0)
		return -1;
	h->req.buf.len = h->rsp.buf.len = 0;
	strm_http_log(s);
	h->logged = 1;
	strm_set_state(s, STRM_ST_ESTABLISHED);
	strm_update_interest(s); /* the relay's interest, not the HTTP one */
	return -1; /* the L4 relay takes over */
}

/* The client connection closes after this response: say so in it, as
 * HAProxy does, or a keep-alive client would send its next request into
 * our close. Other fields go through byte-exact. */
static int send_head_closing(struct stream *s, size_t head_len, size_t extra)
{
	struct strm_http *h = s->http;
	const uint8_t *b = h->rsp.buf.data;
	const uint8_t *eol = memchr(b + h->rsp_head.start, '\n', head_len - h->rsp_head.start);
	uint8_t *out = s->w->hbuf;
	size_t len, cap = s->w->hbuf_len;
	static const char closing[] = "Connection: close\r\n\r\n";

	if (!eol || head_len + extra + sizeof(closing) > cap)
		return send_client(s, b, head_len + extra); /* cannot happen within the limits */
	len = (size_t)(eol + 1 - (b + h->rsp_head.start));
	memcpy(out, b + h->rsp_head.start, len);
	for (uint32_t i = 0; i < h->rsp_head.nfields && i < h->rsp_head.fields_cap; i++) {
		const struct h1_field *f = &h->rsp_head.fields[i];
		if (f->id == H1_F_CONNECTION || f->id == H1_F_KEEP_ALIVE ||
		    f->id == H1_F_PROXY_CONNECTION)
			continue;
		memcpy(out + len, b + f->name.off, f->line_end - f->name.off);
		len += f->line_end - f->name.off;
	}
	memcpy(out + len, closing, sizeof(closing) - 1);
	len += sizeof(closing) - 1;
	memcpy(out + len, b + head_len, extra); /* the body's first bytes, same send */
	len += extra;
	h->resp_bytes += head_len + extra - len; /* count what the server sent, not our edit */
	return send_client(s, out, len);
}


/* A reload happened (this stream runs on an older generation) or the
 * worker is soft-stopping: keep-alive connections move over to the new
 * configuration by closing after their current response. */
int strm_http_superseded(const struct stream *s)
{
	return s->gen != s->w->gen || s->w->stopping || leaving_now() ||
	       (int)s->strategy != atomic_load_explicit(&s->fe->client_ip, memory_order_relaxed) ||
	       /* auto: its server takes PROXY now; the next connection passes through */
	       (strm_auto(s) && s->srv && srv_pp_mode(s->srv) == SRV_PP_PROXY);
}

/* Set up the body's framing, then send the head together with the body
 * bytes already here: one send for a whole small response. */
static int forward_response_head(struct stream *s, size_t head_len)
{
	struct strm_http *h = s->http;
	size_t extra = 0;

	if (strm_http_superseded(s))
		h->close_after = 1;

	h->rsp.head_done = 1;
	h->srv_keep = h->rsp_head.keep_alive && h->srv_keep_wanted;
	switch (h->rsp_head.framing) {
	case H1_FRAMING_TUNNEL:
		if (send_client(s, h->rsp.buf.data, head_len) < 0)
			return -1;
		strm_buf_consume(&h->rsp.buf, head_len);
		return become_tunnel(s);
	case H1_FRAMING_LENGTH:
		h->rsp.left = h->rsp_head.content_length;
		extra = h->rsp.buf.len - head_len;
		if (extra > h->rsp.left)
			extra = (size_t)h->rsp.left;
		h->rsp.left -= extra;
		h->rsp.done = h->rsp.left == 0;
		break;
	case H1_FRAMING_CHUNKED:
		h1_chunk_init(&h->rsp.chunk, NULL);
		break;
	case H1_FRAMING_CLOSE:
		h->srv_keep = 0;
		h->close_after = 1; /* the client needs our close to see the end */
		break;
	default:
		h->rsp.done = 1;
	}
	if (!(h->close_after || h->rsp_head.framing == H1_FRAMING_CLOSE)) {
		if (send_client(s, h->rsp.buf.data, head_len + extra) < 0)
			return -1;
	} else if (send_head_closing(s, head_len, extra) < 0) {
		return -1;
	}
	strm_buf_consume(&h->rsp.buf, head_len + extra);
	return 1;
}

/* Send the request again on a fresh connection to the same server. */
static int replay(struct stream *s)
{
	struct strm_http *h = s->http;
	struct srv *srv = s->srv;

	h->replays++;
	h->rsp.buf.len = 0;
	h1_resp_init(&h->rsp_head, h->fields, H1_DEFAULT_MAX_FIELDS);
	strm_close_server_fd(s);
	strm_release_srv(s);
	s->srv_side.q_len = s->srv_side.q_off = 0;
	if (strm_queue(&s->srv_side, h->replay.data, h->replay.len) < 0) {
		log_msg(LOG_ERR, "%s/%s: out of memory replaying stream %llu", be_conf(s)->name,
			srv->conf->name, s->id);
		strm_set_term(s, 'R', 'C');
		strm_close(s);
		return 1;
	}
	h->from_pool = 0;
	s->presel = srv;
	s->attempts = 0;
	strm_set_state(s, STRM_ST_HTTP_REQ); /* CONNECTING is entered from here */
	strm_connect_next(s);
	return 1;
}

static int parse_response_head(struct stream *s)
{
	struct strm_http *h = s->http;
	struct h1_req_info info = {.method = h->req_head.method, .upgrade = h->req_head.websocket};
	size_t head_len = 0;
	enum h1_error err = H1_ERR_NONE;

	switch (h1_parse_response(h->rsp.buf.data, h->rsp.buf.len, NULL, &info, &h->rsp_head, &head_len, &err)) {
	case H1_NEED_MORE:
		return h->rsp.buf.len >= HTTP_IN_MAX ? resp_error(s, 502, "response head too large") : 0;
	case H1_ERROR:
		return resp_error(s, 502, h1_strerror(err));
	case H1_OK:
		break;
	}
	/* auto: HAProxy answers a PROXY header it does not expect with 400
	 * and a close, on the first request of the connection. Only a safe
	 * request is sent again: an application's own 400 to a POST must
	 * reach the client as it is. */
	if (h->rsp_head.status == 400 && h->rsp_head.conn_close && strm_conn_pp(s) && !s->srv_side.ssl &&
	    !h->from_pool && s->conn->uses == 0 && h->replayable && h->replays < 2 &&
	    (h->req_head.method == H1_METHOD_GET || h->req_head.method == H1_METHOD_HEAD ||
	     h->req_head.method == H1_METHOD_OPTIONS) &&
	    strm_auto_flip(s, "HTTP 400 and close to the first request after a PROXY header")) {
		replay(s);
		return -1; /* the exchange starts over on a new connection */
	}
	h->replayable = 0; /* the server answered: no replay from here on */
	strm_buf_free(&h->replay);
	h->status = h->rsp_head.status;
	if (h->rsp_head.interim) {
		/* 100 Continue and friends: forwarded, another head follows */
		if (send_client(s, h->rsp.buf.data, head_len) < 0)
			return -1;
		strm_buf_consume(&h->rsp.buf, head_len);
		h1_resp_init(&h->rsp_head, h->fields, H1_DEFAULT_MAX_FIELDS);
		return 1;
	}
	return forward_response_head(s, head_len);
}

/* ---- bodies, both directions ---- */

/* What differs between the two directions of a body. */
struct body_dir {
	/* the side the body goes to: it must have taken what came before */
	struct strm_side *(*to)(struct stream *s);
	int (*send)(struct stream *s, const uint8_t *data, size_t len);
	int (*fail)(struct stream *s, enum h1_error err);
	/* request trailers are filtered: X-Forwarded-For (and other fields
	 * with no place there) never reach the server */
	int filter_trailers;
};

static struct strm_side *to_server(struct stream *s)
{
	return &s->srv_side;
}

static struct strm_side *to_client(struct stream *s)
{
	return &s->cli_side;
}

static int resp_body_error(struct stream *s, enum h1_error err)
{
	return resp_error(s, 502, h1_strerror(err));
}

static const struct body_dir req_dir = {to_server, send_body, body_error, 1};
static const struct body_dir rsp_dir = {to_client, send_client, resp_body_error, 0};

/* The trailer section, whole, then the message is done. */
static int body_trailers(struct stream *s, struct http_msg *m, const struct body_dir *d)
{
	size_t tlen = 0;
	enum h1_error err = H1_ERR_NONE;
	uint8_t out[H1_DEFAULT_MAX_HEAD];
	int n;

	switch (h1_parse_trailers(m->buf.data, m->buf.len, NULL, &m->tr, &tlen, &err)) {
	case H1_NEED_MORE:
		return 0;
	case H1_ERROR:
		return d->fail(s, err);
	case H1_OK:
		break;
	}
	if (d->filter_trailers) {
		n = h1_filter_trailers(m->buf.data, tlen, NULL, 0, out, sizeof(out));
		if (n < 0)
			return d->fail(s, H1_ERR_TRAILERS_TOO_LARGE);
		if (d->send(s, out, (size_t)n) < 0)
			return -1;
	} else if (d->send(s, m->buf.data, tlen) < 0) {
		return -1;
	}
	strm_buf_consume(&m->buf, tlen);
	m->done = 1;
	return 1;
}

/* One step of a body: the bytes its framing allows now go on. Returns 1
 * after progress, 0 when more bytes are needed, -1 when the stream ended
 * or is closing. */
static int body_step(struct stream *s, struct http_msg *m, enum h1_framing framing,
		     const struct body_dir *d)
{
	size_t n = 0;
	enum h1_result r;

	switch (framing) {
	case H1_FRAMING_LENGTH:
		n = m->buf.len < m->left ? m->buf.len : (size_t)m->left;
		m->left -= n;
		m->done = m->left == 0;
		break;
	case H1_FRAMING_CLOSE:
		n = m->buf.len; /* until the server closes */
		break;
	case H1_FRAMING_CHUNKED:
		if (m->trailers)
			return body_trailers(s, m, d);
		r = h1_chunk_feed(&m->chunk, m->buf.data, m->buf.len, &n);
		if (r == H1_ERROR)
			return d->fail(s, m->chunk.err);
		if (r == H1_OK) {
			m->trailers = 1;
			h1_trailers_init(&m->tr);
		}
		break;
	default:
		m->done = 1;
		return 1;
	}
	if (n > 0) {
		if (d->send(s, m->buf.data, n) < 0)
			return -1;
		strm_buf_consume(&m->buf, n);
	}
	return 1;
}

/* Move a body on while its receiver takes it (a queue there pauses it:
 * backpressure). Returns -1 when the stream ended or is closing. */
static int pump_body(struct stream *s, struct http_msg *m, enum h1_framing framing,
		     const struct body_dir *d)
{
	while (!m->done && m->buf.len > 0 && d->to(s)->q_len == 0) {
		int r = body_step(s, m, framing, d);
		if (r <= 0)
			return r;
	}
	return 0;
}

static int pump_request(struct stream *s)
{
	return pump_body(s, &s->http->req, s->http->req_head.framing, &req_dir);
}

/* Response heads first (1xx ones, then the final one), then its body. */
static int pump_response(struct stream *s)
{
	struct strm_http *h = s->http;

	while (!h->rsp.head_done && !h->rsp.done && h->rsp.buf.len > 0 &&
	       s->cli_side.q_len == 0) {
		int r = parse_response_head(s);
		if (r <= 0)
			return r;
	}
	if (h->rsp.head_done && pump_body(s, &h->rsp, h->rsp_head.framing, &rsp_dir) < 0)
		return -1;
	/* Bytes after a complete response on a kept connection are an anomaly:
	 * that connection must not serve anyone else. */
	if (h->rsp.done && h->rsp.buf.len > 0)
		h->srv_keep = 0;
	return 0;
}

/* ---- end of an exchange ---- */

static void release_server(struct stream *s)
{
	struct strm_http *h = s->http;

	/* An answer of ppbridge's own leaves a kept server connection as it
	 * was: idle, for the next request. */
	if (s->srv_side.fd < 0 || h->svc_kind != SVC_NONE)
		return;
	/* A clean end on a kept-alive connection: the session keeps it for its
	 * next request (no event churn per request); it reaches the pool when
	 * the session ends or moves to another server. */
	if (h->srv_keep && h->req.done && s->srv_side.q_len == 0 && !s->srv_side.eof) {
		h->srv_idle = 1;
		s->conn->uses++;
	} else {
		if (h->req.done && h->rsp.done && s->srv_side.q_len == 0 && !s->srv_side.eof &&
		    h->rsp_head.framing != H1_FRAMING_CLOSE)
			idle_reset(s); /* complete and idle: no TIME_WAIT on our port */
		strm_close_server_fd(s);
		h->srv_idle = 0;
		h->rsp.buf.len = 0; /* stray bytes of the closed connection */
	}
	strm_release_srv(s);
}

/* What only a request in flight needs: the header index and the buffers
 * (the server's one only once no server connection is attached). */
static void release_buffers(struct stream *s)
{
	struct strm_http *h = s->http;

	free(h->fields);
	h->fields = NULL;
	h->req_head.fields = h->rsp_head.fields = NULL;
	h->req_head.fields_cap = h->rsp_head.fields_cap = 0;
	strm_buf_free(&h->req.buf);
	if (s->srv_side.fd < 0 || h->rsp.buf.len == 0)
		strm_buf_free(&h->rsp.buf);
	strm_buf_free(&h->replay);
}

/* Both directions of the exchange are complete. Returns 1 to go on with
 * the next request, 0 to wait, -1 when the stream ended. */
static int finish_exchange(struct stream *s)
{
	struct strm_http *h = s->http;

	if (!h->logged)
		strm_http_log(s);
	release_server(s);
	/* A client's FIN after pipelined requests still wants them answered:
	 * close only when nothing of theirs is left to parse. */
	if (h->close_after || (s->cli_side.eof && h->req.buf.len == 0)) {
		h->closing = 1;
		clock_gettime(CLOCK_MONOTONIC, &h->closing_since);
		strm_set_state(s, STRM_ST_HTTP_REQ);
		if (s->cli_side.q_len == 0) {
			strm_close(s);
			return -1;
		}
		strm_update_interest(s);
		return 0;
	}
	/* Nothing of the client's waits: the buffers and the header index go
	 * back now, so that 10k idle clients hold none. Measured: with them
	 * kept until the idle tick, 13.3 KB per idle HTTP client (the burst
	 * that opened them all peaks before any tick); freed here, 2.7 KB; and
	 * no throughput cost on the keep-alive bench (1.22x HAProxy either way). */
	if (h->req.buf.len == 0)
		release_buffers(s);
	reset_exchange(h);
	h->head_started = 0;
	clock_gettime(CLOCK_MONOTONIC, &h->head_start);
	strm_set_state(s, STRM_ST_HTTP_REQ);
	return 1;
}

/* ---- answers of ppbridge's own (stream_svc.c) ---- */

/* Send the answer, log, end the exchange: finish_exchange()'s result. */
static int answer_exchange(struct stream *s, int status, const uint8_t *answer, size_t len)
{
	struct strm_http *h = s->http;

	h->status = status;
	h->resp_bytes = len;
	h->req.done = h->rsp.done = 1;
	atomic_fetch_add(&s->fe->ctr.bytes_out, len);
	if (strm_deliver(&s->cli_side, answer, len) < 0) {
		strm_set_term(s, 'C', 'D');
		strm_http_log(s);
		strm_close(s);
		return -1;
	}
	if (h->svc_kind == SVC_MONITOR)
		h->logged = 1; /* a probe every second: HAProxy does not log it either */
	return finish_exchange(s);
}

int strm_http_answered(struct stream *s, int status, const uint8_t *answer, size_t len)
{
	return answer_exchange(s, status, answer, len) < 0 ? -1 : 0;
}

/* ---- the loop ---- */

static int http_progress(struct stream *s)
{
	struct strm_http *h = s->http;

	for (;;) {
		int r;
		if (h->closing)
			return 0;
		switch (s->state) {
		case STRM_ST_HTTP_REQ:
			r = try_request(s);
			if (r <= 0)
				return r;
			break;
		case STRM_ST_HTTP_SVC:
			return strm_svc_progress(s);
		case STRM_ST_HTTP_XFER:
			if (pump_request(s) < 0 || pump_response(s) < 0)
				return -1;
			if (s->state != STRM_ST_HTTP_XFER)
				return -1;
			if (!(h->req.done && h->rsp.done && s->srv_side.q_len == 0))
				return 0;
			r = finish_exchange(s);
			if (r <= 0)
				return r;
			break;
		default:
			return 0;
		}
	}
}

/* A keep-alive client idle for a second gives its server connection back
 * (to the pool, or closed when the pool is full or the connection is
 * private): ten thousand idle clients must not hold ten thousand server
 * connections and their TLS (HAProxy closes its server side too). */
static void release_idle(struct stream *s)
{
	struct strm_http *h = s->http;

	if (h->srv_idle) {
		park_server(s);
		strm_update_interest(s);
	}
}

/* ---- events from stream.c ---- */

/* A page rendered by the main thread came back (stream_svc.c). */
void strm_http_svc_back(struct stream *s, int status, const uint8_t *answer, size_t len)
{
	if (answer_exchange(s, status, answer, len) < 0 || http_progress(s) < 0)
		return;
	strm_update_interest(s);
}


void strm_http_begin(struct stream *s)
{
	struct strm_http *h = s->http;

	reset_exchange(h);
	clock_gettime(CLOCK_MONOTONIC, &h->head_start);
	strm_set_state(s, STRM_ST_HTTP_REQ);
	if (http_progress(s) < 0)
		return;
	strm_update_interest(s);
}

void strm_http_connected(struct stream *s)
{
	struct strm_http *h = s->http;

	h->t_connect_ms = strm_ms_since(&h->mono_req);
	strm_set_state(s, STRM_ST_HTTP_XFER);
	if (strm_flush(&s->srv_side) < 0) {
		strm_side_failed(s, &s->srv_side);
		return;
	}
	if (http_progress(s) < 0)
		return;
	strm_update_interest(s);
}

/* A connection that died before answering: a pooled one is replayed on a
 * fresh one; in `client-ip auto`, a fresh one says the server's mode
 * changed (a router that now wants PROXY closes on a bare request, one
 * that no longer does on the header): replayed the other way. Returns 1
 * when replayed. */
static int try_replay(struct stream *s)
{
	struct strm_http *h = s->http;

	if (!h->replayable || h->resp_bytes > 0 || h->rsp.buf.len > 0)
		return 0;
	if (h->from_pool) {
		/* It may have reached the server: never again unless idempotent. */
		if (h->replays > 0 || !idempotent(h->req_head.method))
			return 0;
		log_msg(LOG_INFO,
			"%s/%s: reused connection closed before answering; replaying stream %llu",
			be_conf(s)->name, s->srv->conf->name, s->id);
		return replay(s);
	}
	/* After a pooled connection's replay too: a router reloading behind
	 * it is what closed both. strm_auto_flip() allows two flips. */
	if (h->replays < 2 &&
	    strm_auto_flip(s, strm_conn_pp(s) ? "closed a PROXY-prefixed connection before answering"
					 : "closed a connection without PROXY header before answering"))
		return replay(s);
	return 0;
}

static void server_ended(struct stream *s, int error)
{
	struct strm_http *h = s->http;

	if (try_replay(s))
		return;
	if (!h->rsp.head_done) {
		if (resp_error(s, 502, error ? "server reset before answering"
					     : "server closed before answering") < 0)
			return;
		return;
	}
	if (h->rsp_head.framing == H1_FRAMING_CLOSE) {
		h->rsp.done = 1;
		h->srv_keep = 0;
		if (http_progress(s) < 0)
			return;
		strm_update_interest(s);
		return;
	}
	if (!h->rsp.done) {
		strm_set_term(s, 'S', 'D');
		strm_http_log(s);
		h->logged = 1;
		strm_close(s);
		return;
	}
	strm_update_interest(s);
}

/* An incomplete head, then the client left: it cannot be completed, so
 * the stream ends now (not at the http-request timeout), once the answers
 * to the client's earlier requests have left. Returns 1 when handled. */
static int client_left_midhead(struct stream *s)
{
	struct strm_http *h = s->http;

	if (!s->cli_side.eof || s->state != STRM_ST_HTTP_REQ || h->closing)
		return 0;
	if (s->cli_side.q_len > 0) {
		h->closing = 1;
		clock_gettime(CLOCK_MONOTONIC, &h->closing_since);
		strm_update_interest(s);
		return 1;
	}
	strm_close(s);
	return 1;
}

void strm_http_on_srv_io(struct stream *s, short what)
{
	struct strm_http *h = s->http;

	if (s->state != STRM_ST_HTTP_XFER) {
		/* Between requests the kept connection must stay silent: a close
		 * (or any byte) ends it; the next request connects afresh. */
		strm_close_server_fd(s);
		h->srv_idle = 0;
		strm_update_interest(s);
		return;
	}
	if ((what & EV_WRITE) && strm_flush(&s->srv_side) < 0) {
		server_ended(s, 1);
		return;
	}
	if (what & EV_READ) {
		ssize_t n = read_into(s, &s->srv_side, &h->rsp.buf);
		if (n == -1 || n == 0) {
			/* Deliver what arrived before the end first. */
			if (http_progress(s) < 0)
				return;
			if (s->state == STRM_ST_HTTP_XFER)
				server_ended(s, n == -1);
			else
				client_left_midhead(s);
			return;
		}
	}
	if (http_progress(s) < 0 || client_left_midhead(s))
		return;
	strm_update_interest(s);
}

void strm_http_on_cli_io(struct stream *s, short what)
{
	struct strm_http *h = s->http;

	if ((what & EV_WRITE) && strm_flush(&s->cli_side) < 0) {
		strm_side_failed(s, &s->cli_side);
		return;
	}
	if (h->closing) {
		/* Lingering after our last answer: drain and wait for the FIN. */
		if (s->cli_side.q_len == 0 && !s->cli_side.shut) {
			shutdown(s->cli_side.fd, SHUT_WR);
			s->cli_side.shut = 1;
		}
		if (what & EV_READ) {
			ssize_t n = strm_recv(&s->cli_side, s->w->scratch, s->w->scratch_len);
			if (n == STRM_IO_EOF || n == STRM_IO_ERROR) {
				strm_close(s);
				return;
			}
		}
		if (s->cli_side.q_len == 0 && s->cli_side.eof) {
			strm_close(s);
			return;
		}
		strm_update_interest(s);
		return;
	}
	if (what & EV_READ) {
		ssize_t n = read_into(s, &s->cli_side, &h->req.buf);
		if (n == -1) {
			strm_side_failed(s, &s->cli_side);
			return;
		}
		if (n == 0 && s->state == STRM_ST_HTTP_REQ && h->req.buf.len == 0) {
			strm_close(s); /* a keep-alive client left between requests */
			return;
		}
	}
	if (http_progress(s) < 0)
		return;
	if (s->cli_side.eof && s->state == STRM_ST_HTTP_SVC && !h->svc_submitted) {
		strm_set_term(s, 'C', 'D'); /* the client left mid-body */
		strm_http_log(s);
		strm_close(s);
		return;
	}
	if (s->cli_side.eof && s->state == STRM_ST_HTTP_XFER && !h->req.done) {
		strm_set_term(s, 'C', 'D'); /* the client left mid-request */
		strm_http_log(s);
		strm_close(s);
		return;
	}
	if (client_left_midhead(s))
		return;
	if (h->closing && s->cli_side.q_len == 0 && s->cli_side.eof) {
		strm_close(s);
		return;
	}
	strm_update_interest(s);
}

int strm_http_connect_failed(struct stream *s, char cause)
{
	const char *why = cause == 's'   ? "connect timeout"
			  : cause == 'N' ? "no server available"
			  : cause == 'R' ? "out of descriptors"
					 : "no server accepted the connection";

	strm_http_fail(s, 503, why, cause == 'N' ? 'S' : cause, 'C');
	return 1;
}

void strm_http_interest(struct stream *s, int *cli_read, int *srv_read)
{
	struct strm_http *h = s->http;
	int room_c = h->req.buf.len < HTTP_IN_MAX;
	int room_s = h->rsp.buf.len < HTTP_IN_MAX;

	if (h->closing) {
		*cli_read = !s->cli_side.eof;
		*srv_read = 0;
		return;
	}
	switch (s->state) {
	case STRM_ST_HTTP_REQ:
		*cli_read = !s->cli_side.eof && room_c;
		*srv_read = s->srv_side.fd >= 0 && h->srv_idle; /* notice a kept connection closing */
		break;
	case STRM_ST_CONNECTING:
		*cli_read = !s->cli_side.eof && room_c;
		*srv_read = 0;
		break;
	case STRM_ST_HTTP_SVC:
		/* A POST body until it is whole; then nothing while it renders. */
		*cli_read = !s->cli_side.eof && room_c && h->svc_kind != SVC_MONITOR &&
			    !h->svc_submitted;
		*srv_read = s->srv_side.fd >= 0 && h->srv_idle;
		break;
	case STRM_ST_HTTP_XFER:
		/* While a request is in flight read its body; the next request
		 * may wait in cin, bounded by room_c. */
		*cli_read = !s->cli_side.eof && room_c && s->srv_side.q_len == 0;
		*srv_read = !s->srv_side.eof && room_s && s->cli_side.q_len == 0;
		break;
	default:
		*cli_read = *srv_read = 0;
	}
}

/* HTTP's own clocks; returns 1 when the stream was closed. */
int strm_http_tick(struct stream *s)
{
	struct strm_http *h = s->http;

	if (h->tarpit)
		return 0; /* its own timer answers (stream_stick.c) */
	if (h->closing) {
		if (strm_ms_since(&h->closing_since) >= HTTP_LINGER_MS) {
			strm_close(s);
			return 1;
		}
		return 0;
	}
	if (s->state == STRM_ST_HTTP_REQ && !h->head_started && h->req.buf.len == 0 &&
	    strm_http_superseded(s)) {
		strm_close(s); /* idle keep-alive connection of an older config */
		return 1;
	}
	if (s->state == STRM_ST_HTTP_REQ && !h->head_started && h->req.buf.len == 0 &&
	    strm_ms_since(&h->head_start) >= HTTP_PARK_IDLE_MS)
		release_idle(s);
	if (s->state == STRM_ST_HTTP_REQ &&
	    strm_ms_since(&h->head_start) >= (long)head_timeout(s)) {
		/* An idle keep-alive connection closes silently. One that never
		 * sent its first request gets 408 and a log line, as in HAProxy
		 * 2.6 (h1_handle_req_tout), silently only with dontlognull:
		 * closed without a word, a client that finished its TLS handshake
		 * and then held the connection left no trace. */
		if (!h->head_started && (h->nreq > 0 || (opts(s) & CFG_OPT_DONTLOGNULL))) {
			strm_close(s);
			return 1;
		}
		strm_http_fail(s, 408, "timeout http-request", 'c', 'R');
		return 0;
	}
	if (s->state == STRM_ST_HTTP_SVC && !h->svc_submitted &&
	    s->cli_side.idle_ms >= cfg_timeout_client(fe_conf(s))) {
		strm_set_term(s, 'c', 'D'); /* a POST body that stopped coming */
		strm_http_log(s);
		strm_close(s);
		return 1;
	}
	if (s->state == STRM_ST_HTTP_XFER) {
		if (s->srv_side.idle_ms >= cfg_timeout_server(be_conf(s))) {
			if (h->resp_bytes == 0)
				strm_http_fail(s, 504, "timeout server", 's', 'H');
			else {
				strm_set_term(s, 's', 'D');
				strm_http_log(s);
				strm_close(s);
				return 1;
			}
			return 0;
		}
		if ((!h->req.done || s->cli_side.q_len > 0) &&
		    s->cli_side.idle_ms >= cfg_timeout_client(fe_conf(s))) {
			strm_set_term(s, 'c', 'D');
			strm_http_log(s);
			strm_close(s);
			return 1;
		}
	}
	return 0;
}

void strm_http_free(struct stream *s)
{
	struct strm_http *h = s->http;

	if (!h)
		return;
	strm_svc_release(s);
	if (h->tarpit_ev)
		event_free(h->tarpit_ev);
	park_server(s);
	strm_buf_free(&h->req.buf);
	strm_buf_free(&h->rsp.buf);
	strm_buf_free(&h->replay);
	free(h->fields);
	free(h);
	s->http = NULL;
}
