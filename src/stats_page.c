/* stats_page.c - the HTML stats page (see stats_page.h).
 *
 * Written row by row into a local buffer and appended to the answer once
 * per row: a thousand servers cost a thousand appends, not ten thousand
 * printf calls. No I/O; reads the generation as admin_show.c does.
 */
#include <config.h>

#include "stats_page.h"

#include "admin.h"
#include "backend.h"
#include "cfg.h"
#include "detect.h"
#include "gen.h"
#include "stats_hist.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Escaping, and the row buffer */

/* The entity that stands for `c` in text and attribute values, or NULL. */
static const char *entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

size_t stats_html_escape(const char *in, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return 0;
	for (; *in; in++) {
		const char *ent = entity(*in);
		size_t k = ent ? strlen(ent) : 1;
		if (n + k >= len)
			break; /* never half an entity */
		if (ent)
			memcpy(buf + n, ent, k);
		else
			buf[n] = *in;
		n += k;
	}
	buf[n] = '\0';
	return n;
}

/* Room for one table row with a few names escaped (128 bytes each, at
 * most 6 bytes an escaped byte). */
#define ROW_MAX 8192

struct row {
	char b[ROW_MAX];
	size_t n;
};

static void r_put(struct row *r, const char *s)
{
	size_t k = strlen(s);

	if (r->n + k >= ROW_MAX)
		k = ROW_MAX - 1 - r->n;
	memcpy(r->b + r->n, s, k);
	r->n += k;
}

static void r_esc(struct row *r, const char *s)
{
	r->n += stats_html_escape(s, r->b + r->n, ROW_MAX - r->n);
}

static void r_fmt(struct row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void r_fmt(struct row *r, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(r->b + r->n, ROW_MAX - r->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		r->n += (size_t)k < ROW_MAX - r->n ? (size_t)k : ROW_MAX - 1 - r->n;
}

/* A number without printf: the page has ten of them per server. */
static void r_num(struct row *r, unsigned long long v)
{
	char tmp[24];
	int i = sizeof(tmp);

	tmp[--i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	r_put(r, tmp + i);
}

static void r_flush(struct row *r, struct adm_out *out)
{
	adm_write(out, r->b, r->n);
	r->n = 0;
}

/* "<td>N</td>" */
static void r_td_num(struct row *r, unsigned long long v)
{
	r_put(r, "<td>");
	r_num(r, v);
	r_put(r, "</td>");
}

/* Bytes, short ("1.2 MB"), the exact count in the tooltip. */
static void r_td_bytes(struct row *r, unsigned long long v)
{
	static const char *const unit[] = {" B", " kB", " MB", " GB", " TB", " PB", " EB"};
	unsigned long long tenths = v * 10; /* in tenths of the unit */
	int u = 0;

	if (v >= 1000000000000000000ull) /* v * 10 would not fit */
		tenths = v / 100, u = 1;
	while (tenths >= 10000 && u < 6) {
		tenths = (tenths + 500) / 1000; /* to the nearest */
		u++;
	}
	r_put(r, "<td title=\"");
	r_num(r, v);
	r_put(r, " bytes\">");
	r_num(r, tenths / 10);
	if (u > 0) {
		r_put(r, ".");
		r_num(r, tenths % 10);
	}
	r_put(r, unit[u]);
	r_put(r, "</td>");
}

/* "3d 4h", "5m12s", "40s" */
static void r_age(struct row *r, long long s)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		r_fmt(r, "%lldd %lldh", s / 86400, s / 3600 % 24);
	else if (s >= 3600)
		r_fmt(r, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else if (s >= 60)
		r_fmt(r, "%lldm%02llds", s / 60, s % 60);
	else
		r_fmt(r, "%llds", s);
}

static unsigned long long ldu(const atomic_ullong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static int ldi(const atomic_int *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* Names */

static const char *uri_of(const struct stats_page_opts *o)
{
	return o->uri && *o->uri ? o->uri : "/";
}

/* HAProxy's status word (the order of `show stat`'s), and a CSS class. */
static const char *srv_status(const struct srv *s, const char **cls)
{
	bool drain = ldi(&s->drain);

	if (ldi(&s->maint))
		return *cls = "st-maint", "MAINT";
	if (!s->conf->check)
		return drain ? (*cls = "st-drain", "DRAIN") : (*cls = "st-nocheck", "no check");
	if (!ldi(&s->up))
		return *cls = "st-down", "DOWN";
	return drain ? (*cls = "st-drain", "DRAIN") : (*cls = "st-up", "UP");
}

static enum cfg_client_ip fe_strategy(const struct fe *fe)
{
	return (enum cfg_client_ip)ldi((const atomic_int *)&fe->client_ip);
}

/* HAProxy numbers proxies in declaration order, 1-based (admin_show.c). */
static int proxy_id(const struct gen *gen, const struct cfg_proxy *px)
{
	int id = 1;

	for (const struct cfg_proxy *p = gen->cfg->proxies; p && p != px; p = p->next)
		id++;
	return id;
}

/* The request's own options, for links that keep them (";up;norefresh"). */
static void r_flags(struct row *r, const struct stats_page_opts *o, bool up, bool norefresh)
{
	if (up)
		r_put(r, ";up");
	if (norefresh && o->refresh_s)
		r_put(r, ";norefresh");
}

/* ------------------------------------------------------------------ */
/* Head, title bar, notice */

static const char page_css[] =
    ":root{--up:#1a7f37;--down:#cf222e;--maint:#9a6700;--drain:#0969da;--muted:#59636e;"
    "--xff:#3b6fd4;--proxy:#1a9e5c;--plain:#d9822b;--empty:#d0d7de}"
    "*{box-sizing:border-box}"
    "body{font:13px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "margin:0;color:#1f2328;background:#f6f8fa}"
    "header{background:#24292f;color:#fff;padding:10px 20px;display:flex;flex-wrap:wrap;"
    "align-items:baseline;gap:4px 20px}"
    "header h1{font-size:18px;margin:0}header .ver,header .info{color:#c9d1d9}"
    "header nav a{color:#9ecbff;margin-right:14px}"
    "main{padding:12px 20px;max-width:1400px}"
    "section{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:0 0 14px;"
    "padding:10px 14px;overflow-x:auto}"
    "section section{border:0;padding:0;margin:14px 0 0}"
    "table.srvs{table-layout:fixed;min-width:1200px}table.srvs td{overflow:hidden;text-overflow:ellipsis}"
    "h2{font-size:15px;margin:0 0 8px}h3{font-size:14px;margin:0 8px 4px 0;display:inline-block}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{padding:3px 8px;text-align:right;border-bottom:1px solid #eaeef2;white-space:nowrap}"
    "th{background:#f6f8fa;font-weight:600;color:var(--muted);font-size:12px}"
    "th.l,td.l{text-align:left}td.wrap{white-space:normal}"
    "tr.betotal td{font-weight:600;background:#f6f8fa}"
    ".badge{display:inline-block;padding:0 7px;border-radius:10px;font-size:11px;"
    "font-weight:600;color:#fff}"
    ".st-up{background:var(--up)}.st-down{background:var(--down)}.st-maint{background:var(--maint)}"
    ".st-drain{background:var(--drain)}.st-nocheck{background:#6e7781}"
    ".pp-proxy{color:var(--proxy);font-weight:600}.pp-plain{color:var(--plain);font-weight:600}"
    ".pp-unknown{color:var(--muted)}"
    ".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 3px 0 2px}"
    ".sw-xff{background:var(--xff)}.sw-proxy{background:var(--proxy)}"
    ".sw-plain{background:var(--plain)}"
    ".muted{color:var(--muted)}.small{font-size:11px}"
    "svg.bar{vertical-align:middle;border-radius:3px;margin-right:6px}"
    "#notice{padding:8px 12px;border:1px solid;border-radius:6px;margin:0 0 14px}"
    ".n-ok{background:#dafbe1;border-color:#1a7f37}.n-err{background:#ffebe9;border-color:#cf222e}"
    ".n-info{background:#ddf4ff;border-color:#0969da}#notice a{float:right}"
    ".acts{margin-top:6px}select,button{font:inherit}";

static void page_head(const struct stats_page_opts *o, struct row *r, struct adm_out *out)
{
	r_put(r, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
	if (o->refresh_s && !o->norefresh) {
		/* reload the page itself, without the ;st= of an old action */
		r_fmt(r, "<meta http-equiv=\"refresh\" content=\"%u;url=", o->refresh_s);
		r_esc(r, uri_of(o));
		r_flags(r, o, o->hide_down, false);
		r_put(r, "\">\n");
	}
	r_put(r, "<title>Statistics Report for ppbridge");
	if (o->node) {
		r_put(r, " on ");
		r_esc(r, o->node);
	}
	r_put(r, "</title>\n<style>");
	r_put(r, page_css);
	r_put(r, "</style></head>\n<body>\n");
	r_flush(r, out);
}

static void page_title(const struct stats_page_opts *o, struct row *r, struct adm_out *out)
{
	long up = o->uptime_s;

	r_put(r, "<header><h1>ppbridge statistics");
	if (o->node) {
		r_put(r, " <span class=\"ver\">on ");
		r_esc(r, o->node);
		r_put(r, "</span>");
	}
	if (!o->hide_version) {
		r_put(r, " <span class=\"ver\">");
		r_esc(r, o->version ? o->version : PACKAGE_VERSION);
		r_put(r, "</span>");
	}
	r_fmt(r, "</h1><span class=\"info\">up %ldd %ldh%02ldm%02lds</span><nav>", up / 86400,
	      up / 3600 % 24, up / 60 % 60, up % 60);
	/* the links keep the request's other options, as HAProxy's do */
	r_put(r, "<a href=\"");
	r_esc(r, uri_of(o));
	r_flags(r, o, !o->hide_down, o->norefresh);
	r_put(r, o->hide_down ? "\">Show all servers</a>" : "\">Hide DOWN servers</a>");
	if (o->refresh_s) {
		r_put(r, "<a href=\"");
		r_esc(r, uri_of(o));
		r_flags(r, o, o->hide_down, !o->norefresh);
		r_put(r, o->norefresh ? "\">Enable refresh</a>" : "\">Disable refresh</a>");
	}
	r_put(r, "<a id=\"csv\" href=\"");
	r_esc(r, uri_of(o));
	r_put(r, ";csv\">CSV export</a>");
	if (o->show_metrics) {
		r_put(r, "<a id=\"metrics\" href=\"");
		r_esc(r, o->metrics_uri ? o->metrics_uri : "/metrics");
		r_put(r, "\">Prometheus metrics</a>");
	}
	r_put(r, "</nav></header>\n<main>\n");
	r_flush(r, out);
}

/* HAProxy's answers to an action, in our words; class n-ok/n-err/n-info. */
static const char *st_text(enum stats_st st, const char **cls)
{
	switch (st) {
	case STATS_ST_DONE:
		return *cls = "n-ok", "Action processed successfully.";
	case STATS_ST_PART:
		return *cls = "n-info", "Action processed for some of the servers only.";
	case STATS_ST_NONE:
		return *cls = "n-info", "Nothing done: no server was selected.";
	case STATS_ST_ERRP:
		return *cls = "n-err",
		       "Action not processed: invalid parameters (an unknown or unsupported "
		       "action, or an unknown backend, server or frontend).";
	case STATS_ST_EXCD:
		return *cls = "n-err",
		       "Action not processed: too much data. Retry with fewer servers at a time.";
	case STATS_ST_DENY:
		return *cls = "n-err", "Action denied.";
	case STATS_ST_IVAL:
		return *cls = "n-err", "Invalid request.";
	case STATS_ST_UNKN:
		return *cls = "n-info", "Unexpected result.";
	default:
		return *cls = "n-info", NULL;
	}
}

static void page_notice(const struct stats_page_opts *o, struct row *r, struct adm_out *out)
{
	const char *cls;
	const char *text = st_text(o->st, &cls);

	if (!text && !(o->notice && *o->notice))
		return;
	r_fmt(r, "<div id=\"notice\" class=\"%s\" data-st=\"%s\">", cls, stats_st_name(o->st));
	r_put(r, "<a href=\"");
	r_esc(r, uri_of(o));
	r_flags(r, o, o->hide_down, o->norefresh);
	r_put(r, "\" title=\"Remove this message\">[X]</a>");
	if (text)
		r_put(r, text);
	if (text && o->notice && *o->notice)
		r_put(r, " ");
	if (o->notice)
		r_esc(r, o->notice);
	r_put(r, "</div>\n");
	r_flush(r, out);
}

/* ------------------------------------------------------------------ */
/* The migration at a glance */

static const char *const path_label[STATS_PATHS] = {"XFF", "PROXY", "plain"};
static const char *const path_cls[STATS_PATHS] = {"xff", "proxy", "plain"};
static const char *const path_fill[STATS_PATHS] = {"#3b6fd4", "#1a9e5c", "#d9822b"};

/* Biggest share first, so the text reads "34% PROXY, 66% XFF" and not a
 * list of zeros. */
static void share_order(const struct stats_share *sh, int *ord)
{
	for (int i = 0; i < STATS_PATHS; i++)
		ord[i] = i;
	for (int i = 1; i < STATS_PATHS; i++)
		for (int k = i; k > 0 && sh->n[ord[k]] > sh->n[ord[k - 1]]; k--) {
			int t = ord[k];
			ord[k] = ord[k - 1];
			ord[k - 1] = t;
		}
}

/* A stacked bar (0..100 wide) of the paths, each part titled with its
 * figures; grey when there was nothing to share. */
static void r_bar(struct row *r, const struct stats_share *sh)
{
	unsigned x = 0;

	r_put(r, "<svg class=\"bar\" width=\"200\" height=\"14\" viewBox=\"0 0 100 10\" "
	         "preserveAspectRatio=\"none\" role=\"img\" aria-label=\"");
	for (int i = 0; i < STATS_PATHS; i++)
		r_fmt(r, "%s%u%% %s", i ? ", " : "", sh->pct[i], path_label[i]);
	r_put(r, "\">");
	if (!sh->paths)
		r_put(r, "<rect width=\"100\" height=\"10\" fill=\"#d0d7de\"/>");
	for (int i = 0; i < STATS_PATHS && sh->paths; i++) {
		if (!sh->pct[i])
			continue;
		r_fmt(r,
		      "<rect class=\"p-%s\" x=\"%u\" width=\"%u\" height=\"10\" fill=\"%s\">"
		      "<title>%s %u%% (%llu)</title></rect>",
		      path_cls[i], x, sh->pct[i], path_fill[i], path_label[i], sh->pct[i],
		      sh->n[i]);
		x += sh->pct[i];
	}
	r_put(r, "</svg>");
}

/* The bar and the same figures as text: readable without colour. */
static void r_share(struct row *r, const struct stats_hist *hist, const char *fe)
{
	struct stats_share sh;
	int ord[STATS_PATHS];

	if (!hist || stats_hist_share(hist, fe, &sh) < 0 || !sh.window_ms) {
		r_put(r, "<td class=\"l\"><span class=\"share muted\">no sample yet</span></td>");
		return;
	}
	share_order(&sh, ord);
	r_put(r, "<td class=\"l\">");
	r_bar(r, &sh);
	r_put(r, "<span class=\"share\">");
	if (!sh.paths)
		r_put(r, "no new connection");
	for (int i = 0, first = 1; i < STATS_PATHS && sh.paths; i++) {
		int p = ord[i];
		if (!sh.n[p] && !first)
			continue;
		r_fmt(r, "%s<span class=\"sw sw-%s\"></span>%u%% %s", first ? "" : ", ",
		      path_cls[p], sh.pct[p], path_label[p]);
		first = 0;
	}
	r_fmt(r,
	      "</span><br><span class=\"muted small\">%llu connections, %llu.%02llu/s over the "
	      "last %llu s</span></td>",
	      sh.n[STATS_CTR_CONNS], sh.rate_x100 / 100, sh.rate_x100 % 100,
	      (unsigned long long)(sh.window_ms + 500) / 1000);
}

/* Which server is on which mode, as a tooltip: "proxy: router-0". */
static void r_mode_list(struct row *r, const struct be *be)
{
	r_put(r, "<span title=\"");
	for (int i = 0; i < be->nsrv; i++) {
		r_put(r, i ? ", " : "");
		r_esc(r, be->srvs[i].conf->name);
		r_put(r, " ");
		r_put(r, srv_pp_mode_name(srv_pp_mode(&be->srvs[i])));
	}
	r_put(r, "\">");
}

/* "3 servers: 1 proxy, 2 plain" for auto; the count alone otherwise. */
static void r_modes(struct row *r, const struct fe *fe, enum cfg_client_ip st)
{
	int n[3] = {0, 0, 0}; /* unknown, plain, proxy */
	const struct be *be = fe->be;

	for (int i = 0; be && i < be->nsrv; i++) {
		int m = srv_pp_mode(&be->srvs[i]);
		n[m == SRV_PP_PROXY ? 2 : m == SRV_PP_PLAIN ? 1 : 0]++;
	}
	r_fmt(r, "<td class=\"l modes\">%d server%s", be ? be->nsrv : 0,
	      be && be->nsrv == 1 ? "" : "s");
	if (st != CFG_CLIENT_IP_AUTO || !be) {
		r_put(r, " <span class=\"muted\">(probed in auto only)</span></td>");
		return;
	}
	r_put(r, ":");
	r_mode_list(r, be);
	r_fmt(r, " <span class=\"pp-proxy\" data-n=\"%d\">%d proxy</span>,", n[2], n[2]);
	r_fmt(r, " <span class=\"pp-plain\" data-n=\"%d\">%d plain</span>", n[1], n[1]);
	if (n[0])
		r_fmt(r, ", <span class=\"pp-unknown\" data-n=\"%d\">%d unknown</span>", n[0],
		      n[0]);
	r_put(r, "</span></td>");
}

static void r_strategy(struct row *r, const struct fe *fe, enum cfg_client_ip st)
{
	enum cfg_client_ip conf = gen_config_client_ip(fe->conf);

	r_put(r, "<td class=\"l\"><b>");
	r_put(r, cfg_client_ip_name(st));
	r_fmt(r, "</b> <span class=\"muted\">from %s", gen_cip_from_name(fe->cip_from));
	if (conf != st)
		r_fmt(r, "; the configuration says %s", cfg_client_ip_name(conf));
	r_put(r, "</span></td>");
}

/* The switch: hidden action and fe, a select of the strategies this
 * frontend can take (xff needs mode http). */
static void r_cip_form(struct row *r, const struct stats_page_opts *o, const struct fe *fe,
                       enum cfg_client_ip st)
{
	r_put(r, "<td class=\"l\"><form class=\"cipform\" method=\"post\" action=\"");
	r_esc(r, uri_of(o));
	r_put(r, "\"><input type=\"hidden\" name=\"action\" value=\"set-client-ip\">"
	         "<input type=\"hidden\" name=\"fe\" value=\"");
	r_esc(r, fe->conf->name);
	r_put(r, "\"><select name=\"client_ip\" aria-label=\"client-ip strategy\">");
	for (int v = CFG_CLIENT_IP_NONE; v <= CFG_CLIENT_IP_AUTO; v++) {
		if (!gen_client_ip_allowed(fe, (enum cfg_client_ip)v))
			continue;
		r_fmt(r, "<option value=\"%s\"%s>%s</option>", cfg_client_ip_name(v),
		      v == (int)st ? " selected" : "", cfg_client_ip_name(v));
	}
	r_put(r, "</select> <button type=\"submit\">Switch</button></form></td>");
}

static void r_binds(struct row *r, const struct fe *fe)
{
	r_put(r, "<br><span class=\"muted small\">");
	for (const struct cfg_bind *b = fe->conf->binds; b; b = b->next) {
		r_esc(r, b->text);
		r_put(r, b->ssl ? " ssl" : "");
		r_put(r, b->next ? ", " : "");
	}
	r_put(r, "</span>");
}

static void page_migration(const struct gen *gen, const struct stats_page_opts *o,
                           const struct stats_hist *hist, struct row *r, struct adm_out *out)
{
	r_put(r, "<section id=\"migration\"><h2>Client-IP migration</h2>\n<table><tr>"
	         "<th class=\"l\">Frontend (VIP)</th><th class=\"l\">Strategy</th>"
	         "<th class=\"l\">Servers by detected mode</th>"
	         "<th class=\"l\">New connections by path, last minute</th>");
	if (o->show_admin)
		r_put(r, "<th class=\"l\">Switch client-ip</th>");
	r_put(r, "</tr>\n");
	r_flush(r, out);
	for (int i = 0; i < gen->nfe; i++) {
		const struct fe *fe = &gen->fes[i];
		enum cfg_client_ip st = fe_strategy(fe);
		if (fe->be->nsrv == 0 && cfg_serves_itself(fe->conf))
			continue; /* a monitoring listener, not a VIP */
		r_put(r, "<tr class=\"mig\" id=\"mig-");
		r_esc(r, fe->conf->name);
		r_fmt(r, "\" data-strategy=\"%s\" data-from=\"%s\"><td class=\"l\"><b>",
		      cfg_client_ip_name(st), gen_cip_from_name(fe->cip_from));
		r_esc(r, fe->conf->name);
		r_put(r, "</b>");
		r_binds(r, fe);
		r_put(r, "</td>");
		r_strategy(r, fe, st);
		r_modes(r, fe, st);
		r_share(r, hist, fe->conf->name);
		if (o->show_admin)
			r_cip_form(r, o, fe, st);
		r_put(r, "</tr>\n");
		r_flush(r, out);
	}
	r_put(r, "</table></section>\n");
	r_flush(r, out);
}

/* ------------------------------------------------------------------ */
/* Frontends */

/* The sum of the refusals and failures, and what it is made of. */
static unsigned long long fe_errors(const struct fe_counters *c, char *what, size_t len)
{
	unsigned long long pp = ldu(&c->pp_timeout) + ldu(&c->pp_closed);

	for (int i = 0; i < PP_ERR_COUNT; i++)
		pp += ldu(&c->pp_errors[i]);
	snprintf(what, len,
	         "invalid HTTP %llu, PROXY header %llu, rejected %llu, denied %llu, no server "
	         "%llu, connect failed %llu, out of descriptors %llu",
	         ldu(&c->http_errors), pp, ldu(&c->rejected), ldu(&c->denied_req),
	         ldu(&c->no_server), ldu(&c->conn_fail), ldu(&c->fd_exhausted));
	return pp + ldu(&c->http_errors) + ldu(&c->rejected) + ldu(&c->denied_req) +
	       ldu(&c->no_server) + ldu(&c->conn_fail) + ldu(&c->fd_exhausted);
}

static void r_fe_rate(struct row *r, const struct stats_hist *hist, const char *fe)
{
	struct stats_share sh;

	if (!hist || stats_hist_share(hist, fe, &sh) < 0 || !sh.window_ms) {
		r_put(r, "<td class=\"muted\">-</td>");
		return;
	}
	r_fmt(r, "<td title=\"new connections per second over the last %llu s\">%llu.%02llu</td>",
	      (unsigned long long)(sh.window_ms + 500) / 1000, sh.rate_x100 / 100,
	      sh.rate_x100 % 100);
}

static void fe_row(const struct fe *fe, const struct stats_hist *hist, struct row *r,
                   struct adm_out *out)
{
	const struct fe_counters *c = &fe->ctr;
	enum cfg_client_ip st = fe_strategy(fe);
	char what[256];
	unsigned long long nerr = fe_errors(c, what, sizeof(what));

	r_put(r, "<tr class=\"fe\" id=\"fe-");
	r_esc(r, fe->conf->name);
	r_fmt(r, "\" data-strategy=\"%s\"><td class=\"l\">", cfg_client_ip_name(st));
	r_esc(r, fe->conf->name);
	r_fmt(r,
	      "</td><td class=\"l\">%s</td><td class=\"l\">%s <span class=\"muted\">(%s)</span>"
	      "</td>",
	      fe->conf->mode == CFG_MODE_HTTP ? "http" : "tcp", cfg_client_ip_name(st),
	      gen_cip_from_name(fe->cip_from));
	r_td_num(r, atomic_load_explicit((atomic_uint *)&fe->cur_conns, memory_order_relaxed));
	r_td_num(r, ldu(&c->conns));
	r_fe_rate(r, hist, fe->conf->name);
	r_td_num(r, ldu(&c->path_xff));
	r_td_num(r, ldu(&c->path_proxy));
	r_td_num(r, ldu(&c->path_plain));
	r_td_num(r, ldu(&c->auto_retries));
	r_td_num(r, ldu(&c->switches));
	r_td_bytes(r, ldu(&c->bytes_in));
	r_td_bytes(r, ldu(&c->bytes_out));
	r_fmt(r, "<td title=\"%s\">%llu</td></tr>\n", what, nerr);
	r_flush(r, out);
}

static void page_frontends(const struct gen *gen, const struct stats_hist *hist, struct row *r,
                           struct adm_out *out)
{
	r_put(r,
	      "<section id=\"frontends\"><h2>Frontends</h2>\n<table><tr>"
	      "<th class=\"l\">Frontend</th><th class=\"l\">Mode</th><th class=\"l\">client-ip</th>"
	      "<th>Current</th><th>Total</th><th>Conn/s (1 min)</th><th>Path XFF</th>"
	      "<th>Path PROXY</th><th>Path plain</th><th>Auto retries</th><th>Switches</th>"
	      "<th>Bytes in</th><th>Bytes out</th><th>Errors</th></tr>\n");
	r_flush(r, out);
	for (int i = 0; i < gen->nfe; i++)
		fe_row(&gen->fes[i], hist, r, out);
	r_put(r, "</table></section>\n");
	r_flush(r, out);
}

/* ------------------------------------------------------------------ */
/* Backends and servers */

struct be_sum {
	unsigned long long cur, tot, in, out, econ;
	int weight, usable;
};

static void r_check(struct row *r, const struct srv *s)
{
	if (!s->conf->check) {
		r_put(r, "<td class=\"l muted\">-</td>");
		return;
	}
	r_fmt(r, "<td class=\"l wrap\" title=\"health %d of %d (UP from %d)\">", s->health.health,
	      s->health.rise + s->health.fall - 1, s->health.rise);
	r_esc(r, s->last_check ? s->last_check : (ldi(&s->up) ? "not checked yet" : "-"));
	r_put(r, "</td>");
}

static void r_pp_mode(struct row *r, const struct srv *s)
{
	enum srv_pp_mode m = srv_pp_mode(s);
	bool auto_be = atomic_load_explicit((atomic_int *)&s->be->check_pp, memory_order_relaxed) ==
	               BE_CHECK_PP_AUTO;

	if (!auto_be && m == SRV_PP_UNKNOWN) {
		r_put(r,
		      "<td class=\"l muted\" title=\"not probed: the backend is not in client-ip "
		      "auto\">-</td>");
		return;
	}
	r_fmt(r, "<td class=\"l pp-%s\" title=\"", srv_pp_mode_name(m));
	r_esc(r, det_last(s->det));
	r_fmt(r, "; %llu changes\">%s</td>", ldu(&s->pp_mode_changes), srv_pp_mode_name(m));
}

static void srv_row(const struct srv *s, const struct stats_page_opts *o, struct row *r,
                    struct adm_out *out)
{
	const char *cls;
	const char *status = srv_status(s, &cls);
	long long since =
	    atomic_load_explicit((atomic_llong *)&s->last_change, memory_order_relaxed);

	r_put(r, "<tr class=\"srv\" id=\"srv-");
	r_esc(r, s->be->conf->name);
	r_put(r, "/");
	r_esc(r, s->conf->name);
	r_fmt(r, "\" data-status=\"%s\" data-pp=\"%s\">", status, srv_pp_mode_name(srv_pp_mode(s)));
	if (o->show_admin) {
		r_put(r, "<td><input type=\"checkbox\" name=\"s\" value=\"");
		r_esc(r, s->conf->name);
		r_put(r, "\" aria-label=\"select\"></td>");
	}
	r_put(r, "<td class=\"l\">");
	r_esc(r, s->conf->name);
	r_put(r, s->conf->backup ? " <span class=\"muted small\">backup</span>" : "");
	r_fmt(r, "</td><td class=\"l\"><span class=\"badge %s\">%s</span></td>", cls, status);
	r_check(r, s);
	r_put(r, "<td>");
	r_age(r, (long long)o->now - since);
	r_put(r, "</td>");
	r_pp_mode(r, s);
	r_td_num(r, (unsigned long long)srv_weight(s));
	r_td_num(r, atomic_load_explicit((atomic_uint *)&s->cur_conns, memory_order_relaxed));
	r_td_num(r, ldu(&s->total_conns));
	r_td_bytes(r, ldu(&s->bytes_out)); /* HAProxy's bin: bytes sent to the server */
	r_td_bytes(r, ldu(&s->bytes_in));
	r_td_num(r, ldu(&s->conn_failures));
	r_put(r, "</tr>\n");
	r_flush(r, out);
}

static void be_add(struct be_sum *sum, const struct srv *s)
{
	sum->cur += atomic_load_explicit((atomic_uint *)&s->cur_conns, memory_order_relaxed);
	sum->tot += ldu(&s->total_conns);
	sum->in += ldu(&s->bytes_out);
	sum->out += ldu(&s->bytes_in);
	sum->econ += ldu(&s->conn_failures);
	if (srv_usable(s)) {
		sum->usable++;
		sum->weight += s->conf->backup ? 0 : srv_weight(s);
	}
}

static void be_total_row(const struct be_sum *sum, const struct stats_page_opts *o, struct row *r,
                         struct adm_out *out)
{
	const char *st = sum->usable ? "UP" : "DOWN";

	r_fmt(r,
	      "<tr class=\"betotal\" data-status=\"%s\">%s<td class=\"l\">Backend</td>"
	      "<td class=\"l\"><span class=\"badge st-%s\">%s</span></td><td></td><td></td>"
	      "<td></td>",
	      st, o->show_admin ? "<td></td>" : "", sum->usable ? "up" : "down", st);
	r_td_num(r, (unsigned long long)sum->weight);
	r_td_num(r, sum->cur);
	r_td_num(r, sum->tot);
	r_td_bytes(r, sum->in);
	r_td_bytes(r, sum->out);
	r_td_num(r, sum->econ);
	r_put(r, "</tr>\n");
	r_flush(r, out);
}

static bool srv_hidden(const struct srv *s, const struct stats_page_opts *o)
{
	const char *cls;
	const char *st = srv_status(s, &cls);

	return o->hide_down && (!strcmp(st, "DOWN") || !strcmp(st, "MAINT"));
}

/* HAProxy's admin form: the ticked servers, an action, the backend by id. */
static void be_form_tail(int iid, struct row *r, struct adm_out *out)
{
	r_fmt(r,
	      "<div class=\"acts\">Choose the action to perform on the checked servers: "
	      "<select name=\"action\"><option value=\"\">Choose...</option>"
	      "<option value=\"ready\">Set state to READY</option>"
	      "<option value=\"drain\">Set state to DRAIN</option>"
	      "<option value=\"maint\">Set state to MAINT</option></select>"
	      "<input type=\"hidden\" name=\"b\" value=\"#%d\"> "
	      "<button type=\"submit\">Apply</button></div></form>",
	      iid);
	r_flush(r, out);
}

static void be_head(const struct gen *gen, const struct be *be, const struct stats_page_opts *o,
                    struct row *r)
{
	int iid = proxy_id(gen, be->conf);
	int usable = 0;

	for (int i = 0; i < be->nsrv; i++)
		usable += srv_usable(&be->srvs[i]);
	r_put(r, "<section class=\"be\" id=\"be-");
	r_esc(r, be->conf->name);
	r_fmt(r, "\" data-iid=\"%d\"><h3>", iid);
	r_esc(r, be->conf->name);
	r_fmt(r, "</h3><span class=\"muted\">mode %s, #%d, %d of %d servers usable</span>\n",
	      be->conf->mode == CFG_MODE_HTTP ? "http" : "tcp", iid, usable, be->nsrv);
	if (o->show_admin) {
		r_put(r, "<form class=\"srvform\" method=\"post\" action=\"");
		r_esc(r, uri_of(o));
		r_put(r, "\">");
	}
	/* one set of widths for every backend: the columns line up down the page */
	r_fmt(r,
	      "<table class=\"srvs\"><colgroup>%s<col style=\"width:14%%\">"
	      "<col style=\"width:80px\"><col><col style=\"width:90px\">"
	      "<col style=\"width:90px\"><col span=\"6\" style=\"width:95px\"></colgroup>"
	      "<tr>%s<th class=\"l\">Server</th><th class=\"l\">Status</th>"
	      "<th class=\"l\">Last check</th><th>Last change</th><th class=\"l\">PROXY mode</th>"
	      "<th>Weight</th><th>Current</th><th>Total</th><th>Bytes in</th><th>Bytes out</th>"
	      "<th>Conn errors</th></tr>\n",
	      o->show_admin ? "<col style=\"width:30px\">" : "", o->show_admin ? "<th></th>" : "");
}

static void page_backend(const struct gen *gen, const struct be *be,
                         const struct stats_page_opts *o, struct row *r, struct adm_out *out)
{
	struct be_sum sum = {0};

	be_head(gen, be, o, r);
	r_flush(r, out);
	for (int i = 0; i < be->nsrv; i++) {
		be_add(&sum, &be->srvs[i]);
		if (!srv_hidden(&be->srvs[i], o))
			srv_row(&be->srvs[i], o, r, out);
	}
	be_total_row(&sum, o, r, out);
	r_put(r, "</table>");
	if (o->show_admin)
		be_form_tail(proxy_id(gen, be->conf), r, out);
	r_put(r, "</section>\n");
	r_flush(r, out);
}

/* ------------------------------------------------------------------ */

void stats_page_render(const struct gen *gen, const struct stats_page_opts *o,
                       const struct stats_hist *hist, struct adm_out *out)
{
	static struct row r; /* main thread only: 8 KiB off the stack */

	r.n = 0;
	page_head(o, &r, out);
	page_title(o, &r, out);
	page_notice(o, &r, out);
	page_migration(gen, o, hist, &r, out);
	page_frontends(gen, hist, &r, out);
	r_put(&r, "<section id=\"backends\"><h2>Backends</h2>\n");
	r_flush(&r, out);
	for (int i = 0; i < gen->nbe; i++)
		page_backend(gen, &gen->bes[i], o, &r, out);
	r_put(&r, "</section>\n</main></body></html>\n");
	r_flush(&r, out);
}
