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
#define HTTP_MAX_ADD 16

/* An idle server connection, owned by the worker's pool. */
struct pconn {
	struct pconn *next;
	struct pconn *prev;
	struct worker *w;
	struct srv *srv;
	int fd;
	SSL *ssl;  /* a TLS connection stays TLS: its session goes with it */
	struct gen *gen; /* keeps `srv` alive while pooled (a reload may retire it) */
	char *sni; /* the SNI it was opened with ("" for none) */
	unsigned uses;
	struct event *ev; /* readable (server closed) or idle timeout */
};

static int http_progress(struct stream *s);
static int poolable(const struct stream *s, const struct srv *srv);
static int replay(struct stream *s);
static void release_buffers(struct stream *s);

/* ---- small buffers ---- */

static int buf_append(struct strm_buf *b, const uint8_t *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		uint8_t *p;
		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static void buf_consume(struct strm_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

static void buf_free(struct strm_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Make room for one read at the end of a buffer. */
static int buf_room(struct strm_buf *b, size_t want)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *p;

	while (cap - b->len < want)
		cap *= 2;
	if (cap == b->cap)
		return 0;
	p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

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
		if (n > 0 && buf_append(b, s->w->scratch, (size_t)n) < 0)
			return -1;
	} else {
		if (buf_room(b, want) < 0)
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
	strm_ssl_more(side);
	return n;
}

/* ---- the idle connection pool ---- */

/* Close an idle server connection with a reset rather than a FIN: no
 * request is in flight on it, and an active close would leave our local
 * port in TIME_WAIT for a minute. At thousands of connections per second
 * that exhausts the ephemeral ports and makes every connect() search for
 * one (measured: twice the kernel time per request). */
static void close_idle(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void pool_unlink(struct pconn *pc)
{
	struct worker *w = pc->w;

	if (pc->prev)
		pc->prev->next = pc->next;
	else
		w->pool = pc->next;
	if (pc->next)
		pc->next->prev = pc->prev;
	w->npool--;
}

static void pool_drop(struct pconn *pc)
{
	pool_unlink(pc);
	event_free(pc->ev);
	if (pc->ssl)
		SSL_shutdown(pc->ssl); /* keeps its session resumable */
	SSL_free(pc->ssl);
	free(pc->sni);
	gen_unref(pc->gen);
	close_idle(pc->fd);
	free(pc);
}

/* Readable while idle means the server closed it (or sent garbage). */
static void pool_cb(evutil_socket_t fd, short what, void *arg)
{
	pool_drop(arg);
}

static unsigned count_pooled(const struct worker *w, const struct srv *srv)
{
	unsigned n = 0;

	for (const struct pconn *pc = w->pool; pc; pc = pc->next)
		n += pc->srv == srv;
	return n;
}

static void pool_put(struct worker *w, struct gen *gen, struct srv *srv, int fd, SSL *ssl,
		     const char *sni, unsigned uses)
{
	unsigned idle = cfg_timeout_server(srv->be->conf);
	struct timeval tv;
	struct pconn *pc = NULL;

	if (idle > HTTP_POOL_IDLE_MS)
		idle = HTTP_POOL_IDLE_MS;
	tv.tv_sec = idle / 1000;
	tv.tv_usec = (idle % 1000) * 1000;
	if (count_pooled(w, srv) >= HTTP_POOL_PER_SERVER || !(pc = calloc(1, sizeof(*pc))) ||
	    !(pc->sni = strdup(sni ? sni : "")) ||
	    !(pc->ev = event_new(w->base, fd, EV_READ, pool_cb, pc))) {
		if (pc)
			free(pc->sni);
		free(pc);
		SSL_free(ssl);
		close_idle(fd);
		return;
	}
	pc->w = w;
	pc->gen = gen_ref(gen);
	pc->srv = srv;
	pc->fd = fd;
	pc->ssl = ssl;
	pc->uses = uses;
	pc->next = w->pool;
	if (pc->next)
		pc->next->prev = pc;
	w->pool = pc;
	w->npool++;
	event_add(pc->ev, &tv);
}

/* The session no longer needs its kept server connection: give it to the
 * pool when others may use it, else close it. */
/* The kept connection is about to be closed while idle: reset it. */
static void idle_reset(struct stream *s)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	(void)setsockopt(s->srvs.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void park_server(struct stream *s)
{
	struct strm_http *h = s->http;
	int fd = s->srvs.fd;

	if (fd < 0)
		return;
	if (!h->srv_idle || !poolable(s, s->srv) || s->srvs.eof) {
		if (h->srv_idle && !s->srvs.eof)
			idle_reset(s);
		strm_close_server_fd(s);
		h->srv_idle = 0;
		return;
	}
	s->srvs.fd = -1;
	if (s->srvs.rev_on)
		event_del(s->srvs.rev);
	if (s->srvs.wev_on)
		event_del(s->srvs.wev);
	s->srvs.rev_on = s->srvs.wev_on = 0;
	pool_put(s->w, s->gen, s->srv, fd, s->srvs.ssl, s->srv_sni, h->srv_uses);
	s->srvs.ssl = NULL;
	h->srv_idle = 0;
}

/* RFC 9110 9.2.2: "A proxy MUST NOT automatically retry non-idempotent
 * requests." Only these may be replayed after a reused connection died. */
static int idempotent(enum h1_method m)
{
	return m == H1_METHOD_GET || m == H1_METHOD_HEAD || m == H1_METHOD_PUT ||
	       m == H1_METHOD_DELETE || m == H1_METHOD_OPTIONS || m == H1_METHOD_TRACE;
}

/* Has the server not closed this idle connection yet? Its FIN may wait
 * behind the client's event in the same loop round. A request that cannot
 * be replayed (above) checks before it rides a reused connection, so only
 * a true race with the server's close is left (as HAProxy's http-reuse
 * safe describes); one peek, spared to the idempotent ones. */
static int still_open(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* The most recently pooled connection to `srv` used at least `min_uses`
 * times (and still open, when `check`); returns its descriptor or -1. */
static int pool_take(struct worker *w, const struct srv *srv, const char *sni, unsigned min_uses,
		     int check, unsigned *uses, SSL **ssl)
{
	struct pconn *next;

	for (struct pconn *pc = w->pool; pc; pc = next) {
		int fd;
		next = pc->next;
		if (pc->srv != srv || pc->uses < min_uses || strcmp(pc->sni, sni) != 0)
			continue;
		if (check && !still_open(pc->fd)) {
			pool_drop(pc);
			continue;
		}
		fd = pc->fd;
		*uses = pc->uses;
		*ssl = pc->ssl;
		pool_unlink(pc);
		event_free(pc->ev);
		free(pc->sni);
		gen_unref(pc->gen); /* the taker holds the same generation */
		free(pc);
		return fd;
	}
	return -1;
}

int http_take_bytes(struct stream *s, const uint8_t *data, size_t len)
{
	return buf_append(&s->http->cin, data, len);
}

void strm_pool_flush(struct worker *w)
{
	while (w->pool)
		pool_drop(w->pool);
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
	       !(srv == s->srv && s->conn_pp) &&
	       !(s->is_auto && srv_pp_mode(srv) == SRV_PP_PROXY) &&
	       !(opts(s) & (CFG_OPT_HTTP_SERVER_CLOSE | CFG_OPT_HTTPCLOSE));
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

/* ---- access log and refusals ---- */

void http_log(struct stream *s)
{
	const struct cfg_proxy *fc = fe_conf(s);
	struct strm_http *h = s->http;
	char cli[NET_ADDRSTRLEN], date[64], line[1024];
	struct tm tm;
	long total = strm_ms_since(&h->mono_req);

	if (!fc->log_global && !fc->logs && !log_debug_enabled())
		return;
	net_format_addr((const struct sockaddr *)&s->cli_addr, cli, sizeof(cli));
	localtime_r(&h->t_req.tv_sec, &tm);
	strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S", &tm);
	/* HAProxy's httplog fields: client [date] frontend backend/server
	 * TR/Tw/Tc/Tr/Ta status bytes_read - - termination
	 * actconn/feconn/beconn/srv_conn/retries "request line" */
	snprintf(line, sizeof(line), "%s [%s.%03ld] %s %s/%s 0/-1/%ld/-1/%ld %d %llu - - %s %u/-/-/%u/%d \"%s\"",
		 cli, date, (long)h->t_req.tv_usec / 1000, fc->name, be_conf(s)->name,
		 s->srv ? s->srv->conf->name : "<NOSRV>", h->t_connect_ms, total, h->status,
		 h->resp_bytes, s->term, atomic_load(&s->w->nconns),
		 s->srv ? atomic_load(&s->srv->cur_conns) : 0, s->attempts > 0 ? s->attempts - 1 : 0,
		 h->reqline[0] ? h->reqline : "<BADREQ>");
	log_access(fc->logs, fc->log_global, line);
}

/* Answer with an error and close: nothing of the request is forwarded
 * after this. The close lingers so the answer is not destroyed by a reset
 * when the client still has unread bytes in flight. */
static int http_fail(struct stream *s, int status, const char *why, char who, char phase)
{
	struct strm_http *h = s->http;
	char page[H1_ERROR_MAX];
	int n;

	strm_set_term(s, who, phase);
	if (status >= 400 && status < 500) {
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
		h->resp_bytes += (unsigned long long)n;
		if (strm_deliver(&s->cli, (const uint8_t *)page, (size_t)n) < 0) {
			http_log(s);
			strm_close(s);
			return -1;
		}
	}
	http_log(s);
	h->logged = 1;
	if (s->state != STRM_ST_HTTP_REQ)
		strm_set_state(s, STRM_ST_HTTP_REQ);
	if (s->cli.q_len == 0 && !s->cli.shut) {
		shutdown(s->cli.fd, SHUT_WR);
		s->cli.shut = 1;
	}
	strm_update_interest(s);
	return -1;
}

/* ---- building the forwarded head ---- */

struct hdr_lookup {
	const struct strm_http *h;
};

static int req_hdr(void *arg, const char *name, size_t name_len, const uint8_t **val,
		   size_t *val_len)
{
	const struct strm_http *h = arg;
	char nm[128];
	int idx = -1, i;

	if (name_len >= sizeof(nm))
		return -1;
	memcpy(nm, name, name_len);
	nm[name_len] = '\0';
	/* HAProxy's req.hdr() returns the last occurrence. */
	for (i = h1_find_field(h->cin.data, h->req.fields, h->req.nfields, 0, nm); i >= 0;
	     i = h1_find_field(h->cin.data, h->req.fields, h->req.nfields, (uint32_t)i + 1, nm))
		idx = i;
	if (idx < 0)
		return -1;
	*val = h->cin.data + h->req.fields[idx].value.off;
	*val_len = h->req.fields[idx].value.len;
	return 1; /* sample.h: > 0 means present */
}

void http_sample_ctx(struct stream *s, struct sample_ctx *ctx)
{
	ctx->hdr = req_hdr;
	ctx->hdr_arg = s->http;
}

struct rewrite_plan {
	const char *del[HTTP_MAX_ADD * 2 + 4];
	size_t ndel;
	struct h1_add_field add[HTTP_MAX_ADD + 2];
	size_t nadd;
	char values[HTTP_MAX_ADD + 2][512];
};

static void plan_del(struct rewrite_plan *p, const char *name)
{
	if (p->ndel < sizeof(p->del) / sizeof(p->del[0]))
		p->del[p->ndel++] = name;
}

static int plan_add(struct rewrite_plan *p, const char *name, const char *value)
{
	size_t i = p->nadd;

	if (i >= sizeof(p->add) / sizeof(p->add[0]))
		return -1;
	snprintf(p->values[i], sizeof(p->values[i]), "%s", value);
	p->add[i].name = name;
	p->add[i].name_len = strlen(name);
	p->add[i].value = p->values[i];
	p->add[i].value_len = strlen(p->values[i]);
	p->nadd++;
	return 0;
}

static int client_has_header(const struct stream *s, const char *name)
{
	return h1_find_field(s->http->cin.data, s->http->req.fields, s->http->req.nfields, 0,
			     name) >= 0;
}

static int is_deleted(const struct rewrite_plan *p, const char *name)
{
	for (size_t i = 0; i < p->ndel; i++)
		if (strcasecmp(p->del[i], name) == 0)
			return 1;
	return 0;
}

/* The frontend's rules, then the backend's (once for a listen). */
static void plan_rules(struct stream *s, struct rewrite_plan *p)
{
	const struct cfg_proxy *px[2] = {fe_conf(s), be_conf(s)};
	struct sample_ctx ctx = {.src = (const struct sockaddr *)&s->cli_addr,
				 .sni = s->sni,
				 .hdr = req_hdr,
				 .hdr_arg = s->http};
	struct acl_ctx actx = {.src = (const struct sockaddr *)&s->cli_addr};

	for (int k = 0; k < 2; k++) {
		if (k == 1 && px[1] == px[0])
			break;
		for (const struct cfg_http_rule *r = px[k]->http_rules; r; r = r->next) {
			char value[512];
			if (!acl_cond_eval(r->cond, &actx))
				continue;
			if (r->action != CFG_HTTP_ADD_HEADER)
				plan_del(p, r->name);
			if (r->action == CFG_HTTP_DEL_HEADER)
				continue;
			if (!ctx.dst)
				ctx.dst = strm_frontend_addr(s); /* a syscall: only when a value may need it */
			if (sample_expand(r->fmt, &ctx, value, sizeof(value)) < 0)
				value[0] = '\0';
			plan_add(p, r->name, value);
		}
	}
}

/* option forwardfor from the frontend and the backend, merged as HAProxy:
 * the backend's header name wins, if-none holds only when both say so. */
static void plan_forwardfor(struct stream *s, struct rewrite_plan *p)
{
	const struct cfg_forwardfor *ff[2] = {&fe_conf(s)->forwardfor, &be_conf(s)->forwardfor};
	const char *name = "X-Forwarded-For";
	int on = 0, if_none = 1;
	char ip[NET_ADDRSTRLEN];

	for (int k = 0; k < 2; k++) {
		if (!ff[k]->enabled)
			continue;
		on = 1;
		if_none &= ff[k]->if_none;
		if (ff[k]->header)
			name = ff[k]->header;
		if (ff[k]->has_except &&
		    net_cidr_match(&ff[k]->except, (const struct sockaddr *)&s->cli_addr))
			return;
	}
	if (!on)
		return;
	if (if_none && client_has_header(s, name) && !is_deleted(p, name))
		return;
	net_format_ip((const struct sockaddr *)&s->cli_addr, ip, sizeof(ip));
	plan_add(p, name, ip);
}

/* ppbridge's `option forwarded`: RFC 7239, replacing what the client said. */
static void plan_forwarded(struct stream *s, struct rewrite_plan *p)
{
	char ip[NET_ADDRSTRLEN], value[128];

	if (!(opts(s) & CFG_OPT_FORWARDED))
		return;
	net_format_ip((const struct sockaddr *)&s->cli_addr, ip, sizeof(ip));
	plan_del(p, "Forwarded");
	if (s->cli_addr.ss_family == AF_INET6)
		snprintf(value, sizeof(value), "for=\"[%s]\";proto=http", ip);
	else
		snprintf(value, sizeof(value), "for=%s;proto=http", ip);
	plan_add(p, "Forwarded", value);
}

/* Rewrite the parsed head into the server's queue. */
static int forward_head(struct stream *s)
{
	struct strm_http *h = s->http;
	struct rewrite_plan plan;
	struct h1_rewrite rw;
	size_t bound;
	uint8_t *out;
	int n;

	memset(&plan, 0, sizeof(plan));
	plan_rules(s, &plan);
	plan_forwardfor(s, &plan);
	plan_forwarded(s, &plan);
	memset(&rw, 0, sizeof(rw));
	rw.del = plan.del;
	rw.ndel = plan.ndel;
	rw.add = plan.add;
	rw.nadd = plan.nadd;
	rw.conn = h->srv_keep_wanted ? H1_CONN_KEEP_ALIVE : H1_CONN_CLOSE;
	rw.keep_upgrade = h->req.websocket;
	bound = h1_rewrite_bound(&h->req, &rw);
	out = bound <= s->w->hbuf_len ? s->w->hbuf : malloc(bound);
	if (!out)
		return -1;
	n = h1_rewrite_request(h->cin.data, &h->req, &rw, out, bound);
	if (n >= 0 && h->replayable && buf_append(&h->replay, out, (size_t)n) < 0)
		h->replayable = 0;
	/* Connected (a kept connection): straight to the socket; else queued
	 * for the connect to flush. */
	if (n < 0 || (s->state == STRM_ST_HTTP_XFER ? strm_deliver(&s->srvs, out, (size_t)n)
						       : strm_queue(&s->srvs, out, (size_t)n)) < 0)
		n = -1;
	if (out != s->w->hbuf)
		free(out);
	return n < 0 ? -1 : 0;
}

/* ---- starting a request ---- */

static void reset_exchange(struct strm_http *h)
{
	h->req_done = h->resp_done = h->resp_head_done = 0;
	h->req_trailers = h->resp_trailers = 0;
	h->req_left = h->resp_left = 0;
	h->resp_bytes = 0;
	h->status = 0;
	h->from_pool = 0;
	h->replayable = 0;
	h->replays = 0;
	h->replay.len = 0;
	h->logged = 0;
	h->t_connect_ms = -1;
	h->reqline[0] = '\0';
	h1_req_init(&h->req, h->req_fields, H1_DEFAULT_MAX_FIELDS);
	h1_resp_init(&h->resp, h->req_fields, H1_DEFAULT_MAX_FIELDS);
}

static void note_request(struct stream *s)
{
	struct strm_http *h = s->http;
	size_t len = h->req.line.len < sizeof(h->reqline) - 1 ? h->req.line.len
							      : sizeof(h->reqline) - 1;

	memcpy(h->reqline, h->cin.data + h->req.line.off, len);
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
	unsigned uses = 0;
	int allowed, fd = -1;
	unsigned min_uses = reuse_min_uses(s, &allowed);
	char sni[256];
	SSL *ssl = NULL;

	/* A TLS connection is only reused for the SNI it was opened with. */
	sni[0] = '\0';
	if (srv->conf->ssl) {
		struct srv *prev = s->srv;
		s->srv = srv;
		strm_server_sni(s, sni, sizeof(sni));
		s->srv = prev;
	}
	if (s->srvs.fd >= 0 && h->srv_idle && !idempotent(h->req.method) &&
	    !still_open(s->srvs.fd)) {
		strm_close_server_fd(s); /* the server closed it meanwhile */
		h->srv_idle = 0;
	}
	if (s->srvs.fd >= 0 && s->srv == srv && h->srv_idle &&
	    strcmp(s->srv_sni ? s->srv_sni : "", sni) == 0) {
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
	h->sin.len = 0;
	s->srv = srv;
	s->attempts = 0;
	free(s->tried);
	s->tried = NULL;
	if (allowed && poolable(s, srv))
		fd = pool_take(s->w, srv, sni, min_uses, !idempotent(h->req.method), &uses, &ssl);
	if (fd < 0) {
		s->presel = srv;
		strm_connect_next(s);
		return s->state == STRM_ST_CLOSED ? -1 : 0;
	}
	h->from_pool = 1;
	h->srv_uses = uses;
	h->replayable = 1;
	s->attempts = 1;
	atomic_fetch_add(&srv->cur_conns, 1);
	s->srv_held = 1;
	strm_attach_server_fd(s, fd);
	s->srvs.ssl = ssl;
	free(s->srv_sni);
	s->srv_sni = strdup(sni);
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
	if (h->cin.len <= head_len ||
	    h1_chunk_feed(&probe, h->cin.data + head_len, h->cin.len - head_len, &used) != H1_ERROR)
		return 1;
	atomic_fetch_add(&s->fe->ctr.http_errors, 1);
	http_fail(s, 400, h1_strerror(probe.err), 'P', 'R');
	return 0;
}

static int start_request(struct stream *s, size_t head_len)
{
	struct strm_http *h = s->http;
	struct srv *srv;

	h->nreq++;
	gettimeofday(&h->t_req, NULL);
	clock_gettime(CLOCK_MONOTONIC, &h->mono_req);
	note_request(s);
	if (h->req.method == H1_METHOD_CONNECT)
		return http_fail(s, 405, "CONNECT is not allowed", 'P', 'R');
	h->close_after = !h->req.keep_alive || (opts(s) & CFG_OPT_HTTPCLOSE);
	/* client-ip auto chose the first request's server already, to pick
	 * the path: the same one (a second pick would move roundrobin on). */
	srv = h->nreq == 1 && s->presel && srv_usable(s->presel)
		  ? s->presel
		  : be_select(s->be, (const struct sockaddr *)&s->cli_addr, NULL);
	s->presel = NULL;
	if (!srv)
		return http_fail(s, 503, "no server available", 'S', 'C');
	/* Keep server connections alive unless told otherwise; whether one may
	 * serve other clients later is poolable()'s business. */
	h->srv_keep_wanted = !(opts(s) & (CFG_OPT_HTTP_SERVER_CLOSE | CFG_OPT_HTTPCLOSE));
	if (h->req.framing == H1_FRAMING_CHUNKED && !chunks_look_valid(s, head_len))
		return -1;
	h->replayable = 1;
	if (take_connection(s, srv) < 0)
		return -1;
	if (forward_head(s) < 0)
		return http_fail(s, 500, "cannot build the request", 'R', 'R');
	buf_consume(&h->cin, head_len);
	switch (h->req.framing) {
	case H1_FRAMING_LENGTH:
		h->req_left = h->req.content_length;
		h->req_done = h->req_left == 0;
		break;
	case H1_FRAMING_CHUNKED:
		h1_chunk_init(&h->req_chunk, NULL);
		break;
	default:
		h->req_done = 1;
	}
	return 0;
}

/* The header index a head is parsed into (2.4 KB): taken when a head
 * starts, given back when the connection goes idle. */
static int fields_ready(struct strm_http *h)
{
	if (h->req_fields)
		return 0;
	h->req_fields = malloc(H1_DEFAULT_MAX_FIELDS * sizeof(*h->req_fields));
	if (!h->req_fields)
		return -1;
	h->req.fields = h->resp.fields = h->req_fields;
	h->req.fields_cap = h->resp.fields_cap = H1_DEFAULT_MAX_FIELDS;
	return 0;
}

/* Parse the head in `cin`. Returns 1 when a request started, 0 to wait
 * for more bytes, -1 when the stream ended or is closing. */
static int try_request(struct stream *s)
{
	struct strm_http *h = s->http;
	size_t head_len = 0;
	enum h1_error err = H1_ERR_NONE;

	if (h->cin.len == 0)
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
	switch (h1_parse_request(h->cin.data, h->cin.len, NULL, &h->req, &head_len, &err)) {
	case H1_NEED_MORE:
		return 0;
	case H1_ERROR:
		atomic_fetch_add(&s->fe->ctr.http_errors, 1);
		return http_fail(s, h1_error_status(err), h1_strerror(err), 'P', 'R');
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

	if (h->replayable && h->resp_bytes == 0 && h->sin.len == 0) {
		if (h->replay.len + len > HTTP_REPLAY_MAX || buf_append(&h->replay, data, len) < 0)
			h->replayable = 0;
	} else {
		h->replayable = 0; /* the copy would miss these bytes */
	}
	if (strm_deliver(&s->srvs, data, len) < 0) {
		strm_side_failed(s, &s->srvs);
		return -1;
	}
	return 0;
}

static int body_error(struct stream *s, enum h1_error err)
{
	return http_fail(s, 400, h1_strerror(err), 'P', 'D');
}

/* Chunked trailers: X-Forwarded-For (and other fields with no place
 * there) never reach the server. */
static int forward_trailers(struct stream *s)
{
	struct strm_http *h = s->http;
	size_t tlen = 0;
	enum h1_error err = H1_ERR_NONE;
	uint8_t out[H1_DEFAULT_MAX_HEAD];
	int n;

	switch (h1_parse_trailers(h->cin.data, h->cin.len, NULL, &h->req_tr, &tlen, &err)) {
	case H1_NEED_MORE:
		return 0;
	case H1_ERROR:
		return body_error(s, err);
	case H1_OK:
		break;
	}
	n = h1_filter_trailers(h->cin.data, tlen, NULL, 0, out, sizeof(out));
	if (n < 0)
		return body_error(s, H1_ERR_TRAILERS_TOO_LARGE);
	if (send_body(s, out, (size_t)n) < 0)
		return -1;
	buf_consume(&h->cin, tlen);
	h->req_done = 1;
	return 0;
}

/* Move request body bytes from `cin` to the server while it takes them. */
static int pump_request(struct stream *s)
{
	struct strm_http *h = s->http;

	while (!h->req_done && h->cin.len > 0 && s->srvs.q_len == 0) {
		size_t n = 0;
		if (h->req.framing == H1_FRAMING_LENGTH) {
			n = h->cin.len < h->req_left ? h->cin.len : (size_t)h->req_left;
			h->req_left -= n;
			h->req_done = h->req_left == 0;
		} else if (h->req_trailers) {
			if (forward_trailers(s) < 0)
				return -1;
			if (!h->req_done)
				return 0;
			continue;
		} else {
			enum h1_result r = h1_chunk_feed(&h->req_chunk, h->cin.data, h->cin.len, &n);
			if (r == H1_ERROR)
				return body_error(s, h->req_chunk.err);
			if (r == H1_OK) {
				h->req_trailers = 1;
				h1_trailers_init(&h->req_tr);
			}
		}
		if (n > 0) {
			if (send_body(s, h->cin.data, n) < 0)
				return -1;
			buf_consume(&h->cin, n);
		}
	}
	return 0;
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
		http_log(s);
		strm_close(s);
		return -1;
	}
	return http_fail(s, status, why, 'S', 'H');
}

static int send_client(struct stream *s, const uint8_t *data, size_t len)
{
	struct strm_http *h = s->http;

	h->resp_bytes += len;
	if (strm_deliver(&s->cli, data, len) < 0) {
		strm_side_failed(s, &s->cli);
		return -1;
	}
	return 0;
}

/* 101 Switching Protocols: from now on bytes flow both ways untouched. */
static int become_tunnel(struct stream *s)
{
	struct strm_http *h = s->http;

	if (h->cin.len > 0 && strm_deliver(&s->srvs, h->cin.data, h->cin.len) < 0) {
		strm_side_failed(s, &s->srvs);
		return -1;
	}
	if (h->sin.len > 0 && send_client(s, h->sin.data, h->sin.len) < 0)
		return -1;
	h->cin.len = h->sin.len = 0;
	http_log(s);
	h->logged = 1;
	s->path = STRM_PATH_RELAY;
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
	const uint8_t *b = h->sin.data;
	const uint8_t *eol = memchr(b + h->resp.start, '\n', head_len - h->resp.start);
	uint8_t *out = s->w->hbuf;
	size_t len, cap = s->w->hbuf_len;
	static const char closing[] = "Connection: close\r\n\r\n";

	if (!eol || head_len + extra + sizeof(closing) > cap)
		return send_client(s, b, head_len + extra); /* cannot happen within the limits */
	len = (size_t)(eol + 1 - (b + h->resp.start));
	memcpy(out, b + h->resp.start, len);
	for (uint32_t i = 0; i < h->resp.nfields && i < h->resp.fields_cap; i++) {
		const struct h1_field *f = &h->resp.fields[i];
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

static int forward_response_head(struct stream *s, size_t head_len);

static int parse_response_head(struct stream *s)
{
	struct strm_http *h = s->http;
	struct h1_req_info info = {.method = h->req.method, .upgrade = h->req.websocket};
	size_t head_len = 0;
	enum h1_error err = H1_ERR_NONE;

	switch (h1_parse_response(h->sin.data, h->sin.len, NULL, &info, &h->resp, &head_len, &err)) {
	case H1_NEED_MORE:
		return h->sin.len >= HTTP_IN_MAX ? resp_error(s, 502, "response head too large") : 0;
	case H1_ERROR:
		return resp_error(s, 502, h1_strerror(err));
	case H1_OK:
		break;
	}
	/* auto: HAProxy answers a PROXY header it does not expect with 400
	 * and a close, on the first request of the connection. Only a safe
	 * request is sent again: an application's own 400 to a POST must
	 * reach the client as it is. */
	if (h->resp.status == 400 && h->resp.conn_close && s->conn_pp && !s->srvs.ssl &&
	    !h->from_pool && h->srv_uses == 0 && h->replayable && h->replays < 2 &&
	    (h->req.method == H1_METHOD_GET || h->req.method == H1_METHOD_HEAD ||
	     h->req.method == H1_METHOD_OPTIONS) &&
	    strm_auto_flip(s, "HTTP 400 and close to the first request after a PROXY header")) {
		replay(s);
		return -1; /* the exchange starts over on a new connection */
	}
	h->replayable = 0; /* the server answered: no replay from here on */
	buf_free(&h->replay);
	h->status = h->resp.status;
	if (h->resp.interim) {
		/* 100 Continue and friends: forwarded, another head follows */
		if (send_client(s, h->sin.data, head_len) < 0)
			return -1;
		buf_consume(&h->sin, head_len);
		h1_resp_init(&h->resp, h->req_fields, H1_DEFAULT_MAX_FIELDS);
		return 1;
	}
	return forward_response_head(s, head_len);
}

/* Set up the body's framing, then send the head together with the body
 * bytes already here: one send for a whole small response. */
/* A reload happened (this stream runs on an older generation) or the
 * worker is soft-stopping: keep-alive connections move over to the new
 * configuration by closing after their current response. */
static int superseded(const struct stream *s)
{
	return s->gen != s->w->gen || s->w->stopping ||
	       s->strategy != atomic_load_explicit(&s->fe->client_ip, memory_order_relaxed) ||
	       /* auto: its server takes PROXY now; the next connection passes through */
	       (s->is_auto && s->srv && srv_pp_mode(s->srv) == SRV_PP_PROXY);
}

static int forward_response_head(struct stream *s, size_t head_len)
{
	struct strm_http *h = s->http;
	size_t extra = 0;

	if (superseded(s))
		h->close_after = 1;

	h->resp_head_done = 1;
	h->srv_keep = h->resp.keep_alive && h->srv_keep_wanted;
	switch (h->resp.framing) {
	case H1_FRAMING_TUNNEL:
		if (send_client(s, h->sin.data, head_len) < 0)
			return -1;
		buf_consume(&h->sin, head_len);
		return become_tunnel(s);
	case H1_FRAMING_LENGTH:
		h->resp_left = h->resp.content_length;
		extra = h->sin.len - head_len;
		if (extra > h->resp_left)
			extra = (size_t)h->resp_left;
		h->resp_left -= extra;
		h->resp_done = h->resp_left == 0;
		break;
	case H1_FRAMING_CHUNKED:
		h1_chunk_init(&h->resp_chunk, NULL);
		break;
	case H1_FRAMING_CLOSE:
		h->srv_keep = 0;
		h->close_after = 1; /* the client needs our close to see the end */
		break;
	default:
		h->resp_done = 1;
	}
	if (!(h->close_after || h->resp.framing == H1_FRAMING_CLOSE)) {
		if (send_client(s, h->sin.data, head_len + extra) < 0)
			return -1;
	} else if (send_head_closing(s, head_len, extra) < 0) {
		return -1;
	}
	buf_consume(&h->sin, head_len + extra);
	return 1;
}

static int pump_response_body(struct stream *s)
{
	struct strm_http *h = s->http;
	size_t n = 0;

	if (h->resp.framing == H1_FRAMING_LENGTH) {
		n = h->sin.len < h->resp_left ? h->sin.len : (size_t)h->resp_left;
		h->resp_left -= n;
		h->resp_done = h->resp_left == 0;
	} else if (h->resp.framing == H1_FRAMING_CLOSE) {
		n = h->sin.len;
	} else if (h->resp_trailers) {
		size_t tlen = 0;
		enum h1_error err = H1_ERR_NONE;
		enum h1_result r = h1_parse_trailers(h->sin.data, h->sin.len, NULL, &h->resp_tr,
						     &tlen, &err);
		if (r == H1_ERROR)
			return resp_error(s, 502, h1_strerror(err));
		if (r == H1_NEED_MORE)
			return 0;
		n = tlen;
		h->resp_done = 1;
	} else {
		enum h1_result r = h1_chunk_feed(&h->resp_chunk, h->sin.data, h->sin.len, &n);
		if (r == H1_ERROR)
			return resp_error(s, 502, h1_strerror(h->resp_chunk.err));
		if (r == H1_OK) {
			h->resp_trailers = 1;
			h1_trailers_init(&h->resp_tr);
		}
	}
	if (n > 0) {
		if (send_client(s, h->sin.data, n) < 0)
			return -1;
		buf_consume(&h->sin, n);
	}
	return 1;
}

/* Move response bytes to the client while it takes them. */
static int pump_response(struct stream *s)
{
	struct strm_http *h = s->http;

	while (!h->resp_done && h->sin.len > 0 && s->cli.q_len == 0) {
		int r = h->resp_head_done ? pump_response_body(s) : parse_response_head(s);
		if (r <= 0)
			return r;
	}
	/* Bytes after a complete response on a kept connection are an anomaly:
	 * that connection must not serve anyone else. */
	if (h->resp_done && h->sin.len > 0)
		h->srv_keep = 0;
	return 0;
}

/* ---- end of an exchange ---- */

static void release_server(struct stream *s)
{
	struct strm_http *h = s->http;

	if (s->srvs.fd < 0)
		return;
	/* A clean end on a kept-alive connection: the session keeps it for its
	 * next request (no event churn per request); it reaches the pool when
	 * the session ends or moves to another server. */
	if (h->srv_keep && h->req_done && s->srvs.q_len == 0 && !s->srvs.eof) {
		h->srv_idle = 1;
		h->srv_uses++;
	} else {
		if (h->req_done && h->resp_done && s->srvs.q_len == 0 && !s->srvs.eof &&
		    h->resp.framing != H1_FRAMING_CLOSE)
			idle_reset(s); /* complete and idle: no TIME_WAIT on our port */
		strm_close_server_fd(s);
		h->srv_idle = 0;
		h->srv_uses = 0;
		h->sin.len = 0; /* stray bytes of the closed connection */
	}
	strm_release_srv(s);
}

/* Both directions of the exchange are complete. Returns 1 to go on with
 * the next request, 0 to wait, -1 when the stream ended. */
static int finish_exchange(struct stream *s)
{
	struct strm_http *h = s->http;

	if (!h->logged)
		http_log(s);
	release_server(s);
	/* A client's FIN after pipelined requests still wants them answered:
	 * close only when nothing of theirs is left to parse. */
	if (h->close_after || (s->cli.eof && h->cin.len == 0)) {
		h->closing = 1;
		clock_gettime(CLOCK_MONOTONIC, &h->closing_since);
		strm_set_state(s, STRM_ST_HTTP_REQ);
		if (s->cli.q_len == 0) {
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
	if (h->cin.len == 0)
		release_buffers(s);
	reset_exchange(h);
	h->head_started = 0;
	clock_gettime(CLOCK_MONOTONIC, &h->head_start);
	strm_set_state(s, STRM_ST_HTTP_REQ);
	return 1;
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
		case STRM_ST_HTTP_XFER:
			if (pump_request(s) < 0 || pump_response(s) < 0)
				return -1;
			if (s->state != STRM_ST_HTTP_XFER)
				return -1;
			if (!(h->req_done && h->resp_done && s->srvs.q_len == 0))
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

/* What only a request in flight needs: the header index and the buffers
 * (the server's one only once no server connection is attached). */
static void release_buffers(struct stream *s)
{
	struct strm_http *h = s->http;

	free(h->req_fields);
	h->req_fields = NULL;
	h->req.fields = h->resp.fields = NULL;
	h->req.fields_cap = h->resp.fields_cap = 0;
	buf_free(&h->cin);
	if (s->srvs.fd < 0 || h->sin.len == 0)
		buf_free(&h->sin);
	buf_free(&h->replay);
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

void http_begin(struct stream *s)
{
	struct strm_http *h = s->http;

	reset_exchange(h);
	clock_gettime(CLOCK_MONOTONIC, &h->head_start);
	strm_set_state(s, STRM_ST_HTTP_REQ);
	if (http_progress(s) < 0)
		return;
	strm_update_interest(s);
}

void http_connected(struct stream *s)
{
	struct strm_http *h = s->http;

	h->t_connect_ms = strm_ms_since(&h->mono_req);
	strm_set_state(s, STRM_ST_HTTP_XFER);
	if (strm_flush(&s->srvs) < 0) {
		strm_side_failed(s, &s->srvs);
		return;
	}
	if (http_progress(s) < 0)
		return;
	strm_update_interest(s);
}

/* Send the request again on a fresh connection to the same server. */
static int replay(struct stream *s)
{
	struct strm_http *h = s->http;
	struct srv *srv = s->srv;

	h->replays++;
	h->sin.len = 0;
	h1_resp_init(&h->resp, h->req_fields, H1_DEFAULT_MAX_FIELDS);
	strm_close_server_fd(s);
	strm_release_srv(s);
	s->srvs.q_len = s->srvs.q_off = 0;
	if (strm_queue(&s->srvs, h->replay.data, h->replay.len) < 0) {
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

/* A connection that died before answering: a pooled one is replayed on a
 * fresh one; in `client-ip auto`, a fresh one says the server's mode
 * changed (a router that now wants PROXY closes on a bare request, one
 * that no longer does on the header): replayed the other way. Returns 1
 * when replayed. */
static int try_replay(struct stream *s)
{
	struct strm_http *h = s->http;

	if (!h->replayable || h->resp_bytes > 0 || h->sin.len > 0)
		return 0;
	if (h->from_pool) {
		/* It may have reached the server: never again unless idempotent. */
		if (h->replays > 0 || !idempotent(h->req.method))
			return 0;
		log_msg(LOG_INFO,
			"%s/%s: reused connection closed before answering; replaying stream %llu",
			be_conf(s)->name, s->srv->conf->name, s->id);
		return replay(s);
	}
	/* After a pooled connection's replay too: a router reloading behind
	 * it is what closed both. strm_auto_flip() allows two flips. */
	if (h->replays < 2 &&
	    strm_auto_flip(s, s->conn_pp ? "closed a PROXY-prefixed connection before answering"
					 : "closed a connection without PROXY header before answering"))
		return replay(s);
	return 0;
}

static void server_ended(struct stream *s, int error)
{
	struct strm_http *h = s->http;

	if (try_replay(s))
		return;
	if (!h->resp_head_done) {
		if (resp_error(s, 502, error ? "server reset before answering"
					     : "server closed before answering") < 0)
			return;
		return;
	}
	if (h->resp.framing == H1_FRAMING_CLOSE) {
		h->resp_done = 1;
		h->srv_keep = 0;
		if (http_progress(s) < 0)
			return;
		strm_update_interest(s);
		return;
	}
	if (!h->resp_done) {
		strm_set_term(s, 'S', 'D');
		http_log(s);
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

	if (!s->cli.eof || s->state != STRM_ST_HTTP_REQ || h->closing)
		return 0;
	if (s->cli.q_len > 0) {
		h->closing = 1;
		clock_gettime(CLOCK_MONOTONIC, &h->closing_since);
		strm_update_interest(s);
		return 1;
	}
	strm_close(s);
	return 1;
}

void http_on_srv_io(struct stream *s, short what)
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
	if ((what & EV_WRITE) && strm_flush(&s->srvs) < 0) {
		server_ended(s, 1);
		return;
	}
	if (what & EV_READ) {
		ssize_t n = read_into(s, &s->srvs, &h->sin);
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

void http_on_cli_io(struct stream *s, short what)
{
	struct strm_http *h = s->http;

	if ((what & EV_WRITE) && strm_flush(&s->cli) < 0) {
		strm_side_failed(s, &s->cli);
		return;
	}
	if (h->closing) {
		/* Lingering after our last answer: drain and wait for the FIN. */
		if (s->cli.q_len == 0 && !s->cli.shut) {
			shutdown(s->cli.fd, SHUT_WR);
			s->cli.shut = 1;
		}
		if (what & EV_READ) {
			ssize_t n = strm_recv(&s->cli, s->w->scratch, s->w->scratch_len);
			if (n == STRM_IO_EOF || n == STRM_IO_ERROR) {
				strm_close(s);
				return;
			}
		}
		if (s->cli.q_len == 0 && s->cli.eof) {
			strm_close(s);
			return;
		}
		strm_update_interest(s);
		return;
	}
	if (what & EV_READ) {
		ssize_t n = read_into(s, &s->cli, &h->cin);
		if (n == -1) {
			strm_side_failed(s, &s->cli);
			return;
		}
		if (n == 0 && s->state == STRM_ST_HTTP_REQ && h->cin.len == 0) {
			strm_close(s); /* a keep-alive client left between requests */
			return;
		}
	}
	if (http_progress(s) < 0)
		return;
	if (s->cli.eof && s->state == STRM_ST_HTTP_XFER && !h->req_done) {
		strm_set_term(s, 'C', 'D'); /* the client left mid-request */
		http_log(s);
		strm_close(s);
		return;
	}
	if (client_left_midhead(s))
		return;
	if (h->closing && s->cli.q_len == 0 && s->cli.eof) {
		strm_close(s);
		return;
	}
	strm_update_interest(s);
}

int http_connect_failed(struct stream *s, char cause)
{
	const char *why = cause == 's'   ? "connect timeout"
			  : cause == 'N' ? "no server available"
					 : "no server accepted the connection";

	http_fail(s, 503, why, cause == 'N' ? 'S' : cause, 'C');
	return 1;
}

void http_interest(struct stream *s, int *cli_read, int *srv_read)
{
	struct strm_http *h = s->http;
	int room_c = h->cin.len < HTTP_IN_MAX;
	int room_s = h->sin.len < HTTP_IN_MAX;

	if (h->closing) {
		*cli_read = !s->cli.eof;
		*srv_read = 0;
		return;
	}
	switch (s->state) {
	case STRM_ST_HTTP_REQ:
		*cli_read = !s->cli.eof && room_c;
		*srv_read = s->srvs.fd >= 0 && h->srv_idle; /* notice a kept connection closing */
		break;
	case STRM_ST_CONNECTING:
		*cli_read = !s->cli.eof && room_c;
		*srv_read = 0;
		break;
	case STRM_ST_HTTP_XFER:
		/* While a request is in flight read its body; the next request
		 * may wait in cin, bounded by room_c. */
		*cli_read = !s->cli.eof && room_c && s->srvs.q_len == 0;
		*srv_read = !s->srvs.eof && room_s && s->cli.q_len == 0;
		break;
	default:
		*cli_read = *srv_read = 0;
	}
}

/* HTTP's own clocks; returns 1 when the stream was closed. */
int http_tick(struct stream *s)
{
	struct strm_http *h = s->http;

	if (h->closing) {
		if (strm_ms_since(&h->closing_since) >= HTTP_LINGER_MS) {
			strm_close(s);
			return 1;
		}
		return 0;
	}
	if (s->state == STRM_ST_HTTP_REQ && !h->head_started && h->cin.len == 0 &&
	    superseded(s)) {
		strm_close(s); /* idle keep-alive connection of an older config */
		return 1;
	}
	if (s->state == STRM_ST_HTTP_REQ && !h->head_started && h->cin.len == 0 &&
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
		http_fail(s, 408, "timeout http-request", 'c', 'R');
		return 0;
	}
	if (s->state == STRM_ST_HTTP_XFER) {
		if (s->srvs.idle_ms >= cfg_timeout_server(be_conf(s))) {
			if (h->resp_bytes == 0)
				http_fail(s, 504, "timeout server", 's', 'H');
			else {
				strm_set_term(s, 's', 'D');
				http_log(s);
				strm_close(s);
				return 1;
			}
			return 0;
		}
		if ((!h->req_done || s->cli.q_len > 0) &&
		    s->cli.idle_ms >= cfg_timeout_client(fe_conf(s))) {
			strm_set_term(s, 'c', 'D');
			http_log(s);
			strm_close(s);
			return 1;
		}
	}
	return 0;
}

void http_free(struct stream *s)
{
	struct strm_http *h = s->http;

	if (!h)
		return;
	park_server(s);
	buf_free(&h->cin);
	buf_free(&h->sin);
	buf_free(&h->replay);
	free(h->req_fields);
	free(h);
	s->http = NULL;
}
