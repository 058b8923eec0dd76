/* stream_svc.c - requests a stream answers itself (svc.h): which one, in
 * HAProxy 2.6's order, and the round trip to the main thread.
 *
 *   HTTP_REQ --head--> pick: monitor-uri   -> answered here, next request
 *                            use-service,
 *                            stats uri     -> HTTP_SVC: body (POST), then
 *                                             the main thread renders;
 *                                             the answer goes out, HTTP_REQ
 *
 * While the main thread renders, the stream reads nothing more from its
 * client (a pipelined request waits its turn, as behind a server).
 */
#include <config.h>

#include "stream_int.h"

#include "acl.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "log.h"
#include "svc.h"
#include "worker.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*svc_renderer)(struct svc_req *req);
/* Set by the main thread at start and stop, read by the workers. */
static _Atomic(svc_renderer) renderer;

void svc_set_renderer(void (*render)(struct svc_req *req))
{
	atomic_store(&renderer, render);
}

void svc_req_free(struct svc_req *req)
{
	if (!req)
		return;
	if (req->gen)
		gen_unref(req->gen);
	free(req->target);
	for (int i = 0; i < SVC_HDR_COUNT; i++)
		free(req->hdr[i]);
	free(req->body);
	free(req->answer);
	free(req);
}

/* ---- which service ---- */

/* monitor-uri matches the whole request-target, query included (HAProxy
 * 2.6: "/healthz?x" goes to the backend). */
static int is_monitor(const struct stream *s, const char *target, size_t len)
{
	const char *uri = s->fe->conf->monitor_uri;

	return uri && strlen(uri) == len && !memcmp(uri, target, len);
}

/* The frontend's http-request rules, then the backend's, in order, for
 * the actions that end or count a request here: the first use-service,
 * deny or tarpit whose condition holds ends the walk; track-sc counts
 * and goes on. The header rules are applied when the request leaves
 * (stream_http_head.c): nothing after a final action would see them. */
static enum svc_kind rule_service(struct stream *s)
{
	const struct cfg_proxy *px[2] = {s->fe->conf, s->be->conf};
	struct acl_ctx ctx;

	strm_acl_ctx(s, &ctx);
	for (int k = 0; k < 2; k++) {
		if (k == 1 && px[1] == px[0])
			break;
		s->rule_px = px[k];
		for (const struct cfg_http_rule *r = px[k]->http_rules; r; r = r->next) {
			if ((r->action != CFG_HTTP_USE_SERVICE && r->action != CFG_HTTP_TRACK_SC &&
			     r->action != CFG_HTTP_DENY && r->action != CFG_HTTP_TARPIT) ||
			    !acl_cond_eval(r->cond, &ctx))
				continue;
			if (r->action == CFG_HTTP_TRACK_SC) {
				strm_stk_track(s, &r->track, STRM_TRACK_HTTP);
				continue;
			}
			s->http->edge_rule = r;
			s->rule_px = NULL;
			return r->action == CFG_HTTP_USE_SERVICE ? SVC_PROMETHEUS
			       : r->action == CFG_HTTP_DENY      ? SVC_DENY
			                                         : SVC_TARPIT;
		}
	}
	s->rule_px = NULL;
	return SVC_NONE;
}

/* Whose `stats` settings serve this stream: the frontend's, else its
 * backend's (HAProxy checks both sides), NULL when neither has any. */
static const struct cfg_proxy *stats_proxy(const struct stream *s)
{
	if (s->fe->conf->stats.enabled)
		return s->fe->conf;
	if (s->be->conf->stats.enabled)
		return s->be->conf;
	return NULL;
}

/* HAProxy compares the stats prefix with the start of the request-target
 * (the default "/haproxy?stats" has a query in it). */
static int is_stats(const struct cfg_proxy *px, const char *target, size_t len)
{
	const char *uri = px->stats.uri ? px->stats.uri : CFG_STATS_DEFAULT_URI;
	size_t n = strlen(uri);

	return len >= n && !memcmp(target, uri, n);
}

enum svc_kind strm_svc_pick(struct stream *s)
{
	struct strm_http *h = s->http;
	const char *target = (const char *)h->req.buf.data + h->req_head.target.off;
	size_t len = h->req_head.target.len;
	const struct cfg_proxy *st;
	enum svc_kind k;

	if (!s->fe->conf->serves_itself && !s->be->conf->serves_itself &&
	    !s->fe->conf->http_edge && !s->be->conf->http_edge)
		return SVC_NONE; /* every proxied request: nothing to look for */
	if (is_monitor(s, target, len))
		return SVC_MONITOR;
	k = rule_service(s);
	if (k != SVC_NONE)
		return k;
	st = stats_proxy(s);
	return st && is_stats(st, target, len) ? SVC_STATS : SVC_NONE;
}

/* ---- monitor-uri: answered here ---- */

static const char monitor_ok[] = "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n";
static const char monitor_fail[] = "<html><body><h1>503 Service Unavailable</h1>\nNo server is "
				   "available to handle this request.\n</body></html>\n";

static int monitor_failing(struct stream *s)
{
	struct acl_ctx ctx;

	strm_acl_ctx(s, &ctx);
	for (const struct cfg_monitor_fail *m = s->fe->conf->monitor_fails; m; m = m->next)
		if (acl_cond_eval(m->cond, &ctx))
			return 1;
	return 0;
}

/* The answer of monitor-uri, built into `buf`; its length. */
static int monitor_answer(struct stream *s, char *buf, size_t len, int *status)
{
	int fail = monitor_failing(s);
	const char *body = fail ? monitor_fail : monitor_ok;
	size_t blen = strlen(body);
	int n;

	*status = fail ? 503 : 200;
	n = snprintf(buf, len,
		     "HTTP/1.1 %s\r\ncontent-length: %zu\r\ncache-control: no-cache\r\n"
		     "content-type: text/html\r\n%s\r\n%s",
		     fail ? "503 Service Unavailable" : "200 OK", blen,
		     s->http->close_after ? "connection: close\r\n" : "",
		     s->http->req_head.method == H1_METHOD_HEAD ? "" : body);
	return n > 0 && (size_t)n < len ? n : -1;
}

/* ---- the hand-off ---- */

static char *field_copy(const struct strm_http *h, const char *name)
{
	const uint8_t *buf = h->req.buf.data;
	int i = h1_find_field(buf, h->req_head.fields, h->req_head.nfields, 0, name);
	char *v;

	if (i < 0)
		return NULL;
	v = malloc(h->req_head.fields[i].value.len + 1);
	if (!v)
		return NULL;
	memcpy(v, buf + h->req_head.fields[i].value.off, h->req_head.fields[i].value.len);
	v[h->req_head.fields[i].value.len] = '\0';
	return v;
}

static const char *const svc_fields[SVC_HDR_COUNT] = {
    [SVC_HDR_AUTHORIZATION] = "authorization",
    [SVC_HDR_ORIGIN] = "origin",
    [SVC_HDR_REFERER] = "referer",
    [SVC_HDR_HOST] = "host",
    [SVC_HDR_CONTENT_TYPE] = "content-type",
};

static struct svc_req *req_new(struct stream *s, enum svc_kind k)
{
	struct strm_http *h = s->http;
	struct svc_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->kind = k;
	r->gen = gen_ref(s->gen);
	r->px = k == SVC_STATS ? stats_proxy(s) : s->fe->conf;
	memcpy(&r->src, &s->cli_addr, sizeof(r->src));
	r->tls = s->cli_side.ssl != NULL;
	r->head = h->req_head.method == H1_METHOD_HEAD;
	r->post = h->req_head.method == H1_METHOD_POST;
	r->close = h->close_after;
	r->target = strndup((const char *)h->req.buf.data + h->req_head.target.off,
			    h->req_head.target.len);
	for (int i = 0; i < SVC_HDR_COUNT; i++)
		r->hdr[i] = field_copy(h, svc_fields[i]);
	r->w = s->w;
	r->s = s;
	if (!r->target) {
		svc_req_free(r);
		return NULL;
	}
	return r;
}

/* Back on the worker with the main thread's answer. */
static void svc_back(evutil_socket_t fd, short what, void *arg)
{
	struct svc_req *r = arg;
	struct stream *s = r->s;

	if (r->orphan) {
		svc_req_free(r);
		return;
	}
	s->http->svc = NULL;
	strm_enter(s);
	if (r->answer)
		strm_http_answered(s, r->status, (const uint8_t *)r->answer, r->answer_len);
	else
		strm_http_fail(s, 500, "the page could not be rendered", 'L', 'R');
	strm_leave(s);
	svc_req_free(r);
}

void svc_answered(struct svc_req *req)
{
	/* Only this thread touches `req` until the worker's loop runs it. */
	if (event_base_once(req->w->base, -1, EV_TIMEOUT, svc_back, req, NULL) < 0)
		log_msg(LOG_ERR, "stats: cannot hand an answer back to worker %d", req->w->id);
}

/* The body is whole (or there is none): off to the main thread. */
static int submit(struct stream *s)
{
	struct strm_http *h = s->http;
	struct svc_req *r = h->svc;

	svc_renderer render = atomic_load(&renderer);

	h->svc_submitted = 1;
	if (!render)
		return strm_http_fail(s, 503, "no page renderer", 'L', 'R');
	render(r);
	return 0;
}

/* HTTP_SVC: collect the POST body from `req.buf`, then submit. Returns 0
 * to wait, -1 when the stream ended. */
int strm_svc_progress(struct stream *s)
{
	struct strm_http *h = s->http;
	struct svc_req *r = h->svc;
	size_t want;

	if (h->svc_submitted)
		return 0;
	want = (size_t)h->req_head.content_length - r->body_len;
	if (want > h->req.buf.len)
		want = h->req.buf.len;
	if (want > 0) {
		memcpy(r->body + r->body_len, h->req.buf.data, want);
		r->body_len += want;
		strm_buf_consume(&h->req.buf, want);
	}
	if (r->body_len < h->req_head.content_length)
		return 0;
	return submit(s);
}

static int start_render(struct stream *s, enum svc_kind k, size_t head_len)
{
	struct strm_http *h = s->http;
	struct svc_req *r;

	if (h->req_head.method != H1_METHOD_GET && h->req_head.method != H1_METHOD_HEAD &&
	    !(k == SVC_STATS && h->req_head.method == H1_METHOD_POST))
		return strm_http_fail(s, 405, "method not allowed here", 'L', 'R');
	if (h->req_head.framing == H1_FRAMING_CHUNKED)
		return strm_http_fail(s, 411, "a chunked body is not taken here", 'L', 'R');
	if (h->req_head.framing == H1_FRAMING_LENGTH &&
	    h->req_head.content_length > SVC_BODY_MAX)
		return strm_http_fail(s, 413, "body too large for the stats page", 'L', 'R');
	r = req_new(s, k);
	if (r && h->req_head.content_length > 0 && !(r->body = malloc(h->req_head.content_length))) {
		svc_req_free(r);
		r = NULL;
	}
	if (!r)
		return strm_http_fail(s, 500, "out of memory", 'L', 'R');
	strm_buf_consume(&h->req.buf, head_len);
	h->svc = r;
	h->svc_kind = k;
	h->svc_submitted = 0;
	strm_set_state(s, STRM_ST_HTTP_SVC);
	if (h->req_head.expect_continue && h->req.buf.len < h->req_head.content_length) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		if (strm_deliver(&s->cli_side, (const uint8_t *)cont, sizeof(cont) - 1) < 0) {
			strm_close(s);
			return -1;
		}
	}
	return strm_svc_progress(s);
}

int strm_svc_start(struct stream *s, enum svc_kind k, size_t head_len)
{
	struct strm_http *h = s->http;
	char answer[512];
	int status, n;

	if (k == SVC_DENY)
		return strm_http_deny(s, h->edge_rule, head_len);
	if (k == SVC_TARPIT)
		return strm_http_tarpit(s, h->edge_rule);
	strm_set_term(s, 'L', 'R');
	h->svc_kind = k;
	h->svc_px = k == SVC_STATS ? stats_proxy(s) : s->fe->conf;
	if (k != SVC_MONITOR)
		return start_render(s, k, head_len);
	if (h1_req_has_body(&h->req_head))
		return strm_http_fail(s, 400, "a body sent to monitor-uri", 'L', 'R');
	n = monitor_answer(s, answer, sizeof(answer), &status);
	strm_buf_consume(&h->req.buf, head_len);
	h->svc_kind = k;
	strm_set_state(s, STRM_ST_HTTP_SVC);
	if (n < 0)
		return strm_http_fail(s, 500, "monitor answer", 'L', 'R');
	return strm_http_answered(s, status, (const uint8_t *)answer, (size_t)n);
}

/* The stream ends: an answer still being rendered is the worker's to free
 * when it comes back. */
void strm_svc_release(struct stream *s)
{
	struct strm_http *h = s->http;

	if (!h || !h->svc)
		return;
	if (h->svc_submitted)
		h->svc->orphan = 1;
	else
		svc_req_free(h->svc);
	h->svc = NULL;
}
