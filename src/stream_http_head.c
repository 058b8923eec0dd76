/* stream_http_head.c - what the HTTP loop sends the server in place of
 * the client's head: the same request line and fields, minus what the
 * rules delete, plus X-Forwarded-For (or Forwarded) and the rules' own
 * fields, with our Connection field; and one access-log line per request
 * in HAProxy's httplog format. Every request of a connection (first,
 * keep-alive, pipelined) goes through here.
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
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#define HTTP_MAX_ADD 16

static const struct cfg_proxy *fe_conf(const struct stream *s)
{
	return s->fe->conf;
}

static const struct cfg_proxy *be_conf(const struct stream *s)
{
	return s->be->conf;
}

/* ---- access log ---- */

/* The request's date and total time. A head that never completed (408, a
 * 400 on a broken head) has no request time: its clock starts when
 * ppbridge began to wait for it, at the accept for a connection's first. */
static long request_times(const struct stream *s, struct timeval *date)
{
	const struct strm_http *h = s->http;
	const struct timespec *since = h->nreq == 0 ? &s->mono_accept : &h->head_start;
	long total;

	if (h->t_req.tv_sec) {
		*date = h->t_req;
		return strm_ms_since(&h->mono_req);
	}
	total = strm_ms_since(since);
	gettimeofday(date, NULL);
	date->tv_sec -= total / 1000;
	date->tv_usec -= (total % 1000) * 1000;
	if (date->tv_usec < 0) {
		date->tv_sec--;
		date->tv_usec += 1000000;
	}
	return total;
}

/* HAProxy's names for what answered: a server, or one of its applets. */
static const char *log_server_name(const struct stream *s)
{
	switch (s->http->svc_kind) {
	case SVC_STATS:
		return "<STATS>";
	case SVC_PROMETHEUS:
		return "<PROMEX>";
	case SVC_MONITOR:
		return "<MONITOR>";
	default:
		return s->srv ? s->srv->conf->name : "<NOSRV>";
	}
}

void strm_http_log(struct stream *s)
{
	const struct cfg_proxy *fc = fe_conf(s);
	struct strm_http *h = s->http;
	char cli[NET_ADDRSTRLEN], date[64], line[1024];
	struct timeval when;
	struct tm tm;
	long total;

	/* the request's end for the stick counters */
	strm_stk_request_end(s, (h->status >= 400 && h->status < 500) || h->bad_request ||
	                            (h->edge_rule && h->edge_rule->action != CFG_HTTP_USE_SERVICE));
	if (!fc->log_global && !fc->logs && !log_debug_enabled())
		return;
	total = request_times(s, &when);
	net_format_addr((const struct sockaddr *)&s->cli_addr, cli, sizeof(cli));
	localtime_r(&when.tv_sec, &tm);
	strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S", &tm);
	/* HAProxy's httplog fields: client [date] frontend backend/server
	 * TR/Tw/Tc/Tr/Ta status bytes_read - - termination
	 * actconn/feconn/beconn/srv_conn/retries "request line" */
	snprintf(line, sizeof(line), "%s [%s.%03ld] %s %s/%s 0/-1/%ld/-1/%ld %d %llu - - %s %u/-/-/%u/%d \"%s\"",
		 cli, date, (long)when.tv_usec / 1000, fc->name,
		 h->svc_px ? h->svc_px->name : be_conf(s)->name, log_server_name(s),
		 h->t_connect_ms, total, h->status,
		 h->resp_bytes, s->term, atomic_load(&s->w->nconns),
		 s->srv ? atomic_load(&s->srv->cur_conns) : 0, s->attempts > 0 ? s->attempts - 1 : 0,
		 h->reqline[0] ? h->reqline : "<BADREQ>");
	log_access(fc->logs, fc->log_global, line);
}

/* ---- building the forwarded head ---- */

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
	for (i = h1_find_field(h->req.buf.data, h->req_head.fields, h->req_head.nfields, 0, nm); i >= 0;
	     i = h1_find_field(h->req.buf.data, h->req_head.fields, h->req_head.nfields, (uint32_t)i + 1, nm))
		idx = i;
	if (idx < 0)
		return -1;
	*val = h->req.buf.data + h->req_head.fields[idx].value.off;
	*val_len = h->req_head.fields[idx].value.len;
	return 1; /* sample.h: > 0 means present */
}

void strm_http_sample_ctx(struct stream *s, struct sample_ctx *ctx)
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
	return h1_find_field(s->http->req.buf.data, s->http->req_head.fields, s->http->req_head.nfields, 0,
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
	struct acl_ctx actx;

	strm_acl_ctx(s, &actx);
	for (int k = 0; k < 2; k++) {
		if (k == 1 && px[1] == px[0])
			break;
		s->rule_px = px[k];
		for (const struct cfg_http_rule *r = px[k]->http_rules; r; r = r->next) {
			char value[512];
			/* only the header rules: a service, deny or tarpit that held
			 * would have answered, track-sc ran before (stream_svc.c) */
			if ((r->action != CFG_HTTP_DEL_HEADER && r->action != CFG_HTTP_SET_HEADER &&
			     r->action != CFG_HTTP_ADD_HEADER) ||
			    !acl_cond_eval(r->cond, &actx))
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
	s->rule_px = NULL;
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

	if (!((fe_conf(s)->options | be_conf(s)->options) & CFG_OPT_FORWARDED))
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
int strm_http_forward_head(struct stream *s)
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
	rw.keep_upgrade = h->req_head.websocket;
	bound = h1_rewrite_bound(&h->req_head, &rw);
	out = bound <= s->w->hbuf_len ? s->w->hbuf : malloc(bound);
	if (!out)
		return -1;
	n = h1_rewrite_request(h->req.buf.data, &h->req_head, &rw, out, bound);
	if (n >= 0 && h->replayable && strm_buf_append(&h->replay, out, (size_t)n) < 0)
		h->replayable = 0;
	/* Connected (a kept connection): straight to the socket; else queued
	 * for the connect to flush. */
	if (n < 0 || (s->state == STRM_ST_HTTP_XFER ? strm_deliver(&s->srv_side, out, (size_t)n)
						       : strm_queue(&s->srv_side, out, (size_t)n)) < 0)
		n = -1;
	if (out != s->w->hbuf)
		free(out);
	return n < 0 ? -1 : 0;
}

