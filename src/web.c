/* web.c - the main thread's side of the requests ppbridge answers itself
 * (svc.h, web.h): who may see what, the answers' headers, the stats
 * page's actions.
 *
 * One request, on the main thread:
 *   prometheus-exporter -> the exposition (prom.c), GET/HEAD only
 *   stats uri           -> `stats http-request` rules, then the implicit
 *                          `auth` of `stats auth` lines (HAProxy's order);
 *                          GET/HEAD: the page (stats_page.c) or ;csv;
 *                          POST: an action (stats_form.c), only when
 *                          `stats admin` holds, from the page's own origin
 *                          -> 303 to <uri>;st=<code>, as HAProxy answers.
 * Actions run as admin socket commands at the operator level, so the page
 * can do nothing the socket's operator could not, and never a reload.
 */
#include <config.h>

#include "web.h"

#include "acl.h"
#include "admin.h"
#include "admin_int.h"
#include "auth.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "log.h"
#include "net.h"
#include "prom.h"
#include "prom_query.h"
#include "stats_form.h"
#include "stats_hist.h"
#include "stats_page.h"
#include "stktable.h"
#include "svc.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static struct {
	struct event_base *base;
	struct adm_hooks app;
	struct stats_hist *hist;
	struct event *hist_timer;
} web;

/* ---- answers ---- */

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 303:
		return "See Other";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 405:
		return "Method Not Allowed";
	case 415:
		return "Unsupported Media Type";
	case 500:
		return "Internal Server Error";
	default:
		return "Service Unavailable";
	}
}

/* Every answer: never cached, never framed by another site. */
static void respond(struct svc_req *r, int status, const char *ctype, const char *extra,
		    const char *body, size_t blen)
{
	struct adm_out out = {0};

	adm_printf(&out,
		   "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\n"
		   "cache-control: no-store\r\nx-frame-options: DENY\r\n"
		   "content-security-policy: default-src 'none'; style-src 'unsafe-inline'; "
		   "img-src data:; form-action 'self'; frame-ancestors 'none'\r\n"
		   "x-content-type-options: nosniff\r\nreferrer-policy: same-origin\r\n%s%s\r\n",
		   status, reason(status), ctype, blen, extra ? extra : "",
		   r->close ? "connection: close\r\n" : "");
	if (!r->head && blen) {
		/* the body as bytes: a page may hold any character */
		size_t need = out.len + blen;
		char *grown = need < ADM_OUT_MAX ? realloc(out.buf, need + 1) : NULL;
		if (grown) {
			memcpy(grown + out.len, body, blen);
			out.buf = grown;
			out.len = need;
			out.buf[need] = '\0';
		} else {
			out.truncated = true;
		}
	}
	if (out.truncated) {
		adm_out_free(&out);
		r->answer = NULL; /* the worker answers 500 */
		return;
	}
	r->answer = out.buf;
	r->answer_len = out.len;
	r->status = status;
}

static void respond_text(struct svc_req *r, int status, const char *extra, const char *text)
{
	respond(r, status, "text/plain; charset=utf-8", extra, text, strlen(text));
}

/* A refusal, as an HTML page like HAProxy's own error pages. */
static void respond_error(struct svc_req *r, int status, const char *extra, const char *why)
{
	char page[512];
	int n = snprintf(page, sizeof(page), "<html><body><h1>%d %s</h1>\n%s\n</body></html>\n",
			 status, reason(status), why);

	respond(r, status, "text/html", extra, page, n > 0 && (size_t)n < sizeof(page) ? (size_t)n : 0);
}

/* ---- who is asking ---- */

/* src_*() in the stats rules: the client's entry in the named table or
 * the stats proxy's own. A stats request tracks nothing: sc_*() have no
 * value here. */
static int stk_of_request(void *arg, int sc, const char *table, int data, int64_t *out)
{
	const struct svc_req *r = arg;
	struct stktable *t;
	uint8_t key[STK_KEY_LEN];
	int64_t v;

	if (sc >= 0)
		return 0;
	t = table ? gen_table_named(r->gen, table) : gen_table_of(r->gen, r->px);
	if (!t || !stk_key(t, (const struct sockaddr *)&r->src, key))
		return 0;
	v = stk_lookup_value(t, key, (enum stk_data)data, gen_tables_now());
	if (v < 0)
		return 0;
	*out = v;
	return 1;
}

/* What a stats condition reads: the copy of the request, the servers'
 * state now, the configuration's userlists. */
static void cond_ctx(const struct svc_req *r, struct gen *now, struct acl_ctx *ctx)
{
	const char *authz = r->hdr[SVC_HDR_AUTHORIZATION];

	memset(ctx, 0, sizeof(*ctx));
	ctx->src = (const struct sockaddr *)&r->src;
	ctx->uri = r->target;
	ctx->uri_len = strlen(r->target);
	ctx->nbsrv = gen_nbsrv;
	ctx->nbsrv_arg = now;
	ctx->authorization = authz;
	ctx->authorization_len = authz ? strlen(authz) : 0;
	ctx->userlists = r->gen->cfg->userlists;
	ctx->stk = stk_of_request;
	ctx->stk_arg = (void *)r;
}

/* Who the request's Basic credentials name, checked once per request. */
struct creds {
	char user[AUTH_USER_MAX]; /* "" when no credentials are valid */
	int stats_auth;           /* they match a `stats auth` line */
};

/* A `stats auth` pair, else a user of a userlist (the conditions decide
 * what that user may do). */
static void who(const struct svc_req *r, struct creds *c)
{
	const struct cfg_stats *st = &r->px->stats;
	const char *authz = r->hdr[SVC_HDR_AUTHORIZATION];
	char u[AUTH_USER_MAX], p[AUTH_PASS_MAX];
	int known;

	memset(c, 0, sizeof(*c));
	if (!authz || auth_basic_parse(authz, strlen(authz), u, sizeof(u), p, sizeof(p)) < 0)
		return;
	c->stats_auth = auth_plain_check((const char *const *)st->auths, st->nauths, u, p);
	known = c->stats_auth;
	for (const struct cfg_userlist *ul = r->gen->cfg->userlists; ul && !known; ul = ul->next)
		known = auth_userlist_check(ul, u, p);
	if (known)
		snprintf(c->user, sizeof(c->user), "%s", u);
	explicit_bzero(p, sizeof(p));
}

enum access {
	ACCESS_ALLOW = 0,
	ACCESS_DENY,
	ACCESS_AUTH,
};

/* `stats http-request` rules in order, then the implicit "auth unless the
 * credentials match a `stats auth` line" that HAProxy adds after them. */
static enum access stats_access(const struct svc_req *r, const struct acl_ctx *ctx,
				const struct creds *c, const char **realm)
{
	const struct cfg_stats *st = &r->px->stats;

	*realm = st->realm ? st->realm : CFG_STATS_DEFAULT_REALM;
	for (const struct cfg_stats_rule *rule = st->rules; rule; rule = rule->next) {
		if (!acl_cond_eval(rule->cond, ctx))
			continue;
		if (rule->action == CFG_STATS_AUTH && rule->realm)
			*realm = rule->realm;
		return rule->action == CFG_STATS_ALLOW  ? ACCESS_ALLOW
		       : rule->action == CFG_STATS_DENY ? ACCESS_DENY
							: ACCESS_AUTH;
	}
	if (st->nauths > 0 && !c->stats_auth)
		return ACCESS_AUTH;
	return ACCESS_ALLOW;
}

/* Actions need `stats admin` to hold and, unless the configuration is the
 * loopback-only `stats admin if LOCALHOST` case cfg_finish.c allows, an
 * authenticated user. */
static int may_act(const struct svc_req *r, const struct acl_ctx *ctx, const char *user)
{
	const struct cfg_stats *st = &r->px->stats;

	if (!st->admin || !acl_cond_eval(st->admin, ctx))
		return 0;
	return user[0] || cfg_stats_loopback_admin(r->px);
}

/* ---- same origin ---- */

/* "scheme://host" + (end, '/', '?' or '#' when `prefix`): is `url` the
 * request's own site? */
static int names_site(const char *url, const char *host, int tls, int prefix)
{
	const char *scheme = tls ? "https://" : "http://";
	size_t sl = strlen(scheme), hl = strlen(host);

	if (strncasecmp(url, scheme, sl) != 0 || strncasecmp(url + sl, host, hl) != 0)
		return 0;
	url += sl + hl;
	return *url == '\0' || (prefix && (*url == '/' || *url == '?' || *url == '#'));
}

int web_same_origin(const char *origin, const char *referer, const char *host, int tls)
{
	if (origin)
		return host && strcmp(origin, "null") != 0 && names_site(origin, host, tls, 0);
	if (referer)
		return host && names_site(referer, host, tls, 1);
	return 1;
}

/* ---- the stats page ---- */

static void stats_redirect(struct svc_req *r, enum stats_st st)
{
	const char *uri = r->px->stats.uri ? r->px->stats.uri : CFG_STATS_DEFAULT_URI;
	char loc[1024];

	snprintf(loc, sizeof(loc), "location: %s;st=%s\r\n", uri, stats_st_name(st));
	respond_text(r, 303, loc, "");
}

/* One admin socket command at the operator level; 0 when it did it. */
static int run_command(const char *line, char *msg, size_t len)
{
	struct adm_cmd cmd;
	struct adm_out out = {0};
	int rc;

	if (adm_parse(line, &cmd, msg, len) < 0)
		return -1;
	rc = adm_exec(web.app.current_gen(), &web.app, &cmd, ADM_LEVEL_OPERATOR, &out);
	snprintf(msg, len, "%.*s", out.buf ? (int)strcspn(out.buf, "\n") : 0,
		 out.buf ? out.buf : "");
	adm_out_free(&out);
	return rc;
}

static void audit(const struct svc_req *r, const char *user, const char *line, int rc,
		  const char *msg)
{
	char src[NET_ADDRSTRLEN];

	net_format_addr((const struct sockaddr *)&r->src, src, sizeof(src));
	log_msg(LOG_NOTICE, "stats page: user '%s' from %s: '%s': %s%s%s", user[0] ? user : "-",
		src, line, rc == 0 ? "done" : "refused", msg[0] ? ": " : "", msg);
}

/* The servers of one backend, or a frontend's client-ip: 303 with HAProxy's
 * result code either way. */
static void stats_act(struct svc_req *r, const char *user)
{
	struct stats_form *f = calloc(1, sizeof(*f));
	enum stats_form_rc rc;
	char line[ADM_LINE_MAX], msg[256];
	int total = 0, done = 0;

	if (!f) {
		respond_error(r, 500, NULL, "Out of memory.");
		return;
	}
	rc = stats_form_parse((const char *)r->body, r->body_len, f);
	if (rc != STATS_FORM_OK) {
		stats_redirect(r, stats_form_st(rc));
		free(f);
		return;
	}
	if (f->kind == STATS_FORM_CLIENT_IP) {
		snprintf(line, sizeof(line), "set frontend %s client-ip %s", f->frontend,
			 cfg_client_ip_name(f->client_ip));
		total = 1;
		done = run_command(line, msg, sizeof(msg)) == 0;
		audit(r, user, line, done ? 0 : -1, msg);
	} else {
		const struct cfg_proxy *be =
		    stats_form_backend(web.app.current_gen()->cfg, f->backend);
		for (int i = 0; be && i < f->nservers; i++) {
			snprintf(line, sizeof(line), "set server %s/%s state %s", be->name,
				 f->servers[i], stats_form_action_name(f->action));
			int ok = run_command(line, msg, sizeof(msg)) == 0;
			audit(r, user, line, ok ? 0 : -1, msg);
			total++;
			done += ok;
		}
		if (!be) {
			free(f);
			stats_redirect(r, STATS_ST_ERRP);
			return;
		}
	}
	free(f);
	stats_redirect(r, stats_st_of_result(total, done));
}

static void stats_show(struct svc_req *r, const struct stats_uri *q, int admin)
{
	const struct cfg_stats *st = &r->px->stats;
	struct gen *gen = web.app.current_gen();
	struct stats_page_opts o = {0};
	struct adm_out out = {0};
	char host[256] = "";

	if (q->csv) {
		adm_show_stat(gen, &web.app, NULL, &out);
		respond(r, 200, "text/plain; charset=utf-8", NULL, out.buf, out.len);
		adm_out_free(&out);
		return;
	}
	gethostname(host, sizeof(host) - 1);
	o.uri = st->uri ? st->uri : CFG_STATS_DEFAULT_URI;
	o.refresh_s = st->refresh_ms / 1000;
	o.norefresh = q->norefresh;
	o.hide_down = q->up;
	o.hide_version = st->hide_version;
	o.show_admin = admin;
	o.st = q->st;
	o.uptime_s = web.app.uptime_seconds();
	o.now = time(NULL);
	o.node = host;
	stats_page_render(gen, &o, web.hist, &out);
	if (out.truncated)
		respond_error(r, 500, NULL, "The page is too large.");
	else
		respond(r, 200, "text/html; charset=utf-8", NULL, out.buf, out.len);
	adm_out_free(&out);
}

static void stats_answer(struct svc_req *r)
{
	const char *uri = r->px->stats.uri ? r->px->stats.uri : CFG_STATS_DEFAULT_URI;
	struct gen *now = web.app.current_gen();
	struct stats_uri q;
	struct acl_ctx ctx;
	const char *realm;
	struct creds c;
	char hdr[512];

	cond_ctx(r, now, &ctx);
	who(r, &c);
	switch (stats_access(r, &ctx, &c, &realm)) {
	case ACCESS_DENY:
		respond_error(r, 403, NULL, "Request forbidden by administrative rules.");
		return;
	case ACCESS_AUTH:
		snprintf(hdr, sizeof(hdr), "www-authenticate: Basic realm=\"%s\"\r\n", realm);
		respond_error(r, 401, hdr, "You need a valid user and password to access this content.");
		return;
	case ACCESS_ALLOW:
		break;
	}
	if (stats_uri_parse(r->target, strlen(r->target), uri, &q) < 0) {
		respond_error(r, 400, NULL, "Unknown stats options.");
		return;
	}
	if (!r->post) {
		stats_show(r, &q, may_act(r, &ctx, c.user));
		return;
	}
	if (!web_same_origin(r->hdr[SVC_HDR_ORIGIN], r->hdr[SVC_HDR_REFERER], r->hdr[SVC_HDR_HOST],
			     r->tls)) {
		audit(r, c.user, "POST from another site", -1, r->hdr[SVC_HDR_ORIGIN] ?
			 r->hdr[SVC_HDR_ORIGIN] : r->hdr[SVC_HDR_REFERER]);
		respond_error(r, 403, NULL, "A cross-site request: the page acts only on its own forms.");
		return;
	}
	if (!may_act(r, &ctx, c.user)) {
		audit(r, c.user, "POST", -1, "stats admin does not hold");
		stats_redirect(r, STATS_ST_DENY);
		return;
	}
	if (!r->hdr[SVC_HDR_CONTENT_TYPE] ||
	    strncasecmp(r->hdr[SVC_HDR_CONTENT_TYPE], "application/x-www-form-urlencoded", 33) != 0) {
		respond_error(r, 415, NULL, "A form (application/x-www-form-urlencoded) only.");
		return;
	}
	stats_act(r, c.user);
}

/* ---- Prometheus ---- */

static void prom_answer(struct svc_req *r)
{
	struct prom_opts o;
	struct adm_out out = {0};
	const char *q = strchr(r->target, '?');

	if (prom_parse_query(q ? q + 1 : NULL, &o) < 0) {
		respond_error(r, 400, NULL, "Unknown scope.");
		return;
	}
	prom_render(web.app.current_gen(), &o, web.app.uptime_seconds(), &out);
	if (out.truncated)
		respond_error(r, 500, NULL, "The exposition is too large.");
	else
		respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, out.buf, out.len);
	adm_out_free(&out);
}

/* ---- the hand-off ---- */

static void run_on_main(evutil_socket_t fd, short what, void *arg)
{
	struct svc_req *r = arg;

	if (r->kind == SVC_PROMETHEUS)
		prom_answer(r);
	else
		stats_answer(r);
	svc_answered(r);
}

/* Called on a worker: the main thread takes it at its next turn. */
static void take(struct svc_req *r)
{
	if (event_base_once(web.base, -1, EV_TIMEOUT, run_on_main, r, NULL) < 0)
		svc_answered(r); /* no answer: the worker says 500 */
}

static void hist_tick(evutil_socket_t fd, short what, void *arg)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	stats_hist_sample(web.hist, web.app.current_gen(),
			  (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

int web_start(struct event_base *base, const struct adm_hooks *app, char *err, size_t errlen)
{
	struct timeval step = {STATS_HIST_STEP_MS / 1000, 0};
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	web.base = base;
	web.app = *app;
	web.hist = stats_hist_new((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
	web.hist_timer = event_new(base, -1, EV_PERSIST, hist_tick, NULL);
	if (!web.hist || !web.hist_timer || event_add(web.hist_timer, &step) < 0) {
		snprintf(err, errlen, "stats page: cannot start its history sampler");
		web_stop();
		return -1;
	}
	hist_tick(-1, 0, NULL);
	svc_set_renderer(take);
	return 0;
}

void web_stop(void)
{
	svc_set_renderer(NULL);
	if (web.hist_timer)
		event_free(web.hist_timer);
	web.hist_timer = NULL;
	stats_hist_free(web.hist);
	web.hist = NULL;
}
