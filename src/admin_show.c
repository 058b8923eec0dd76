/* admin_show.c - the answers of the show commands.
 *
 * Read-only: counters and states of a generation, in HAProxy's formats
 * where HAProxy has the command (show stat, show servers state, show
 * info); show metrics is prom.c's Prometheus exposition.
 */
#include <config.h>

#include "admin.h"
#include "admin_int.h"

#include "backend.h"
#include "cfg.h"
#include "detect.h"
#include "gen.h"
#include "leaving.h"
#include "net.h"
#include "prom.h"
#include "proxy_proto.h"
#include "refusals.h"
#include "state.h"
#include "worker.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Names and numbers as HAProxy prints them */

static const char *mode_name(const struct cfg_proxy *px)
{
	return px->mode == CFG_MODE_HTTP ? "http" : "tcp";
}

static const char *algo_name(const struct cfg_proxy *px)
{
	switch (px->balance) {
	case CFG_BALANCE_SOURCE:
		return "source";
	case CFG_BALANCE_LEASTCONN:
		return "leastconn";
	default:
		return "roundrobin";
	}
}

/* HAProxy numbers proxies in declaration order; so do we (1-based). */
static int proxy_id(const struct gen *gen, const struct cfg_proxy *px)
{
	int id = 1;

	for (const struct cfg_proxy *p = gen->cfg->proxies; p && p != px; p = p->next)
		id++;
	return id;
}

/* HAProxy's status column for a server. */
static const char *srv_status(const struct srv *s)
{
	if (adm_ld(&s->maint))
		return "MAINT";
	if (!s->conf->check)
		return adm_ld(&s->drain) ? "DRAIN" : "no check";
	if (!adm_ld(&s->up))
		return "DOWN";
	return adm_ld(&s->drain) ? "DRAIN" : "UP";
}

/* ------------------------------------------------------------------ */
/* show stat: HAProxy 2.6's CSV, column for column */

const char adm_stat_header[] =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,"
    "lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,"
    "hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,"
    "cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,"
    "ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,"
    "check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,"
    "conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,"
    "cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,"
    "safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,"
    "agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,"
    "h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,"
    "h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,"
    "h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,"
    "h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,"
    "h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,";

#define STAT_COLS 128
#define STAT_CELL 64

/* One CSV row being filled by column name; unset cells stay empty. */
struct stat_row {
	char cell[STAT_COLS][STAT_CELL];
};

static int stat_col(const char *name)
{
	const char *p = adm_stat_header + 2; /* after "# " */
	size_t len = strlen(name);

	for (int i = 0; i < STAT_COLS; i++) {
		const char *comma = strchr(p, ',');
		if ((size_t)(comma - p) == len && !memcmp(p, name, len))
			return i;
		p = comma + 1;
	}
	return -1;
}

static void row_set(struct stat_row *r, const char *col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void row_set(struct stat_row *r, const char *col, const char *fmt, ...)
{
	int i = stat_col(col);
	va_list ap;

	if (i < 0)
		return; /* a typo here is caught by the unit tests' golden rows */
	va_start(ap, fmt);
	vsnprintf(r->cell[i], STAT_CELL, fmt, ap);
	va_end(ap);
	/* CSV: a comma inside a value would shift every following column */
	for (char *c = r->cell[i]; *c; c++)
		if (*c == ',' || *c == '\n')
			*c = ' ';
}

/* The module columns after "-": zeros where HAProxy prints zeros. */
static void row_modules(struct stat_row *r, int nzero)
{
	int dash = stat_col("-");

	snprintf(r->cell[dash], STAT_CELL, "-");
	for (int i = dash + 1; i < STAT_COLS && i <= dash + nzero; i++)
		snprintf(r->cell[i], STAT_CELL, "0");
}

static void row_print(const struct stat_row *r, struct adm_out *out)
{
	for (int i = 0; i < STAT_COLS; i++)
		adm_printf(out, "%s,", r->cell[i]);
	adm_printf(out, "\n");
}

static void stat_frontend(const struct gen *gen, const struct fe *fe, struct adm_out *out)
{
	struct stat_row r;
	const struct fe_counters *c = &fe->ctr;
	unsigned long long perr = adm_ldu(&c->pp_timeout) + adm_ldu(&c->pp_closed);

	for (int i = 0; i < PP_ERR_COUNT; i++)
		perr += adm_ldu(&c->pp_errors[i]);
	memset(&r, 0, sizeof(r));
	row_set(&r, "pxname", "%s", fe->conf->name);
	row_set(&r, "svname", "FRONTEND");
	row_set(&r, "scur", "%u",
	        atomic_load_explicit((atomic_uint *)&fe->cur_conns, memory_order_relaxed));
	row_set(&r, "slim", "%u", fe->conf->maxconn ? fe->conf->maxconn : gen->cfg->global.maxconn);
	row_set(&r, "stot", "%llu", adm_ldu(&c->conns));
	row_set(&r, "bin", "%llu", adm_ldu(&c->bytes_in));
	row_set(&r, "bout", "%llu", adm_ldu(&c->bytes_out));
	row_set(&r, "dreq", "%llu", adm_ldu(&c->rejected) + adm_ldu(&c->denied_req));
	row_set(&r, "ereq", "%llu", adm_ldu(&c->http_errors) + perr);
	row_set(&r, "status", "OPEN");
	row_set(&r, "pid", "1");
	row_set(&r, "iid", "%d", proxy_id(gen, fe->conf));
	row_set(&r, "sid", "0");
	row_set(&r, "type", "0");
	row_set(&r, "mode", "%s", mode_name(fe->conf));
	row_set(&r, "conn_tot", "%llu", adm_ldu(&c->conns));
	row_set(&r, "dcon", "%llu", adm_ldu(&c->rejected));
	row_modules(&r, 24);
	row_print(&r, out);
}

static void stat_server(const struct gen *gen, const struct srv *s, struct adm_out *out)
{
	struct stat_row r;
	char addr[64];

	memset(&r, 0, sizeof(r));
	row_set(&r, "pxname", "%s", s->be->conf->name);
	row_set(&r, "svname", "%s", s->conf->name);
	row_set(&r, "qcur", "0");
	row_set(&r, "scur", "%u", atomic_load_explicit(&s->cur_conns, memory_order_relaxed));
	if (s->conf->maxconn > 0)
		row_set(&r, "slim", "%d", s->conf->maxconn);
	row_set(&r, "stot", "%llu", adm_ldu(&s->total_conns));
	row_set(&r, "bin", "%llu", adm_ldu(&s->bytes_out)); /* HAProxy: bytes sent to the server */
	row_set(&r, "bout", "%llu", adm_ldu(&s->bytes_in));
	row_set(&r, "econ", "%llu", adm_ldu(&s->conn_failures));
	row_set(&r, "status", "%s", srv_status(s));
	row_set(&r, "weight", "%d", srv_weight(s));
	row_set(&r, "act", "%d", !s->conf->backup);
	row_set(&r, "bck", "%d", s->conf->backup);
	row_set(&r, "pid", "1");
	row_set(&r, "iid", "%d", proxy_id(gen, s->be->conf));
	row_set(&r, "sid", "%d", s->conf->id);
	row_set(&r, "lbtot", "%llu", adm_ldu(&s->total_conns));
	row_set(&r, "type", "2");
	if (s->conf->check) {
		row_set(&r, "check_status", "%s", adm_ld(&s->up) ? "L4OK" : "L4CON");
		row_set(&r, "check_desc", "%s", s->last_check ? s->last_check : "");
		row_set(&r, "check_rise", "%d", s->conf->rise);
		row_set(&r, "check_fall", "%d", s->conf->fall);
		row_set(&r, "check_health", "%d", s->health.health);
	}
	if (s->conf->addr.len &&
	    net_format_addr((const struct sockaddr *)&s->conf->addr.ss, addr, sizeof(addr)))
		row_set(&r, "addr", "%s", addr);
	row_set(&r, "mode", "%s", mode_name(s->be->conf));
	row_set(&r, "uweight", "%d", srv_weight(s));
	row_modules(&r, 3);
	row_print(&r, out);
}

static void stat_backend(const struct gen *gen, const struct be *be, struct adm_out *out)
{
	struct stat_row r;
	unsigned long long tot = 0, in = 0, outb = 0, econ = 0;
	unsigned cur = 0;
	int act, bck, weight = 0;

	for (int i = 0; i < be->nsrv; i++) {
		const struct srv *s = &be->srvs[i];
		cur += atomic_load_explicit(&s->cur_conns, memory_order_relaxed);
		tot += adm_ldu(&s->total_conns);
		in += adm_ldu(&s->bytes_out);
		outb += adm_ldu(&s->bytes_in);
		econ += adm_ldu(&s->conn_failures);
		if (srv_usable(s) && !s->conf->backup)
			weight += srv_weight(s);
	}
	adm_count_usable(be, &act, &bck);
	memset(&r, 0, sizeof(r));
	row_set(&r, "pxname", "%s", be->conf->name);
	row_set(&r, "svname", "BACKEND");
	row_set(&r, "qcur", "0");
	row_set(&r, "scur", "%u", cur);
	row_set(&r, "stot", "%llu", tot);
	row_set(&r, "bin", "%llu", in);
	row_set(&r, "bout", "%llu", outb);
	row_set(&r, "econ", "%llu", econ);
	row_set(&r, "status", "%s", act + bck > 0 ? "UP" : "DOWN");
	row_set(&r, "weight", "%d", weight);
	row_set(&r, "act", "%d", act);
	row_set(&r, "bck", "%d", bck);
	row_set(&r, "pid", "1");
	row_set(&r, "iid", "%d", proxy_id(gen, be->conf));
	row_set(&r, "sid", "0");
	row_set(&r, "lbtot", "%llu", tot);
	row_set(&r, "type", "1");
	row_set(&r, "mode", "%s", mode_name(be->conf));
	row_set(&r, "algo", "%s", algo_name(be->conf));
	row_set(&r, "uweight", "%d", weight);
	row_modules(&r, 24);
	row_print(&r, out);
}

/* Rows in HAProxy's order: per proxy, FRONTEND, its servers, BACKEND. */
int adm_show_stat(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                  struct adm_out *out)
{
	adm_printf(out, "%s\n", adm_stat_header);
	for (const struct cfg_proxy *px = gen->cfg->proxies; px; px = px->next) {
		for (int i = 0; i < gen->nfe; i++)
			if (gen->fes[i].conf == px)
				stat_frontend(gen, &gen->fes[i], out);
		for (int i = 0; i < gen->nbe; i++) {
			if (gen->bes[i].conf != px)
				continue;
			for (int k = 0; k < gen->bes[i].nsrv; k++)
				stat_server(gen, &gen->bes[i].srvs[k], out);
			stat_backend(gen, &gen->bes[i], out);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* show servers state: HAProxy's version 1 format */

static void emit_line(void *arg, const char *line)
{
	adm_printf(arg, "%s", line);
}

int adm_show_servers_state(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                           struct adm_out *out)
{
	if (cmd->backend[0] && !adm_find_backend(gen, cmd->backend))
		return adm_err_answer(out, "Can't find backend.");
	state_servers_dump(gen, cmd->backend[0] ? cmd->backend : NULL, emit_line, out);
	return 0;
}

/* ------------------------------------------------------------------ */
/* show frontends / backends */

/* How the servers learn the client's address through this frontend. */
static const char *client_ip_strategy(const struct fe *fe)
{
	return cfg_client_ip_name(
	    atomic_load_explicit((atomic_int *)&fe->client_ip, memory_order_relaxed));
}

/* `accept-proxy optional`: four more columns, only in a generation that
 * has such a bind (the output of every other configuration is unchanged);
 * "-" for the frontends without one. */
static int pp_optional_any(const struct gen *gen)
{
	for (int i = 0; i < gen->nfe; i++)
		if (cfg_pp_optional(gen->fes[i].conf))
			return 1;
	return 0;
}

static void pp_optional_cols(const struct fe *fe, struct adm_out *out)
{
	const struct fe_counters *c = &fe->ctr;

	if (!cfg_pp_optional(fe->conf)) {
		adm_printf(out, " - - - -");
		return;
	}
	adm_printf(out, " %llu %llu %llu %llu", adm_ldu(&c->pp_opt_with),
	           adm_ldu(&c->pp_opt_without), adm_ldu(&c->pp_opt_untrusted),
	           adm_ldu(&c->pp_opt_spoof));
}

static const char *bind_pp_name(const struct cfg_bind *b)
{
	if (b->accept_proxy == CFG_ACCEPT_PROXY_OPTIONAL)
		return "(accept-proxy-optional)";
	return b->accept_proxy ? "(accept-proxy)" : "";
}

int adm_show_frontends(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                       struct adm_out *out)
{
	int opt = pp_optional_any(gen);

	adm_printf(out, "# name mode backend binds client_ip client_ip_from%s\n",
	           opt ? " pp_with pp_without pp_untrusted pp_spoof" : "");
	for (int i = 0; i < gen->nfe; i++) {
		const struct fe *fe = &gen->fes[i];
		adm_printf(out, "%s %s %s ", fe->conf->name, mode_name(fe->conf),
		           fe->be->conf->name);
		for (const struct cfg_bind *b = fe->conf->binds; b; b = b->next)
			adm_printf(out, "%s%s%s%s", b->text, b->ssl ? "(ssl)" : "", bind_pp_name(b),
			           b->next ? "," : "");
		adm_printf(out, " %s %s", client_ip_strategy(fe), gen_cip_from_name(fe->cip_from));
		if (opt)
			pp_optional_cols(fe, out);
		adm_printf(out, "\n");
	}
	return 0;
}

/* The migration at a glance: per frontend, its strategy and the paths its
 * connections took; per server, what `client-ip auto` found it takes. */
int adm_show_client_ip(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                       struct adm_out *out)
{
	adm_printf(out, "# frontend client_ip conns path_xff path_proxy path_plain auto_retries "
	                "switches\n");
	for (int i = 0; i < gen->nfe; i++) {
		const struct fe *fe = &gen->fes[i];
		const struct fe_counters *c = &fe->ctr;
		adm_printf(out, "%s %s %llu %llu %llu %llu %llu %llu\n", fe->conf->name,
		           client_ip_strategy(fe), adm_ldu(&c->conns), adm_ldu(&c->path_xff),
		           adm_ldu(&c->path_proxy), adm_ldu(&c->path_plain),
		           adm_ldu(&c->auto_retries), adm_ldu(&c->switches));
	}
	adm_printf(out, "# backend/server pp_mode changes last_probes\n");
	for (int b = 0; b < gen->nbe; b++)
		for (int k = 0; k < gen->bes[b].nsrv; k++) {
			const struct srv *s = &gen->bes[b].srvs[k];
			adm_printf(out, "%s/%s %s %llu %s\n", gen->bes[b].conf->name, s->conf->name,
			           srv_pp_mode_name(srv_pp_mode(s)), adm_ldu(&s->pp_mode_changes),
			           det_last(s->det));
		}
	return 0;
}

/* HAProxy's `show backend`: names only. */
int adm_show_backend(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                     struct adm_out *out)
{
	adm_printf(out, "# name\n");
	for (int i = 0; i < gen->nbe; i++)
		adm_printf(out, "%s\n", gen->bes[i].conf->name);
	return 0;
}

int adm_show_backends(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                      struct adm_out *out)
{
	adm_printf(out, "# name mode algo servers active backup\n");
	for (int i = 0; i < gen->nbe; i++) {
		const struct be *be = &gen->bes[i];
		int act, bck;
		adm_count_usable(be, &act, &bck);
		adm_printf(out, "%s %s %s %d %d %d\n", be->conf->name, mode_name(be->conf),
		           algo_name(be->conf), be->nsrv, act, bck);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* show errors: the refusals the data path recorded */

static void format_date(const struct timeval *tv, char *buf, size_t len)
{
	struct tm tm;
	char day[32];

	localtime_r(&tv->tv_sec, &tm);
	strftime(day, sizeof(day), "%d/%b/%Y:%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03d", day, (int)(tv->tv_usec / 1000));
}

/* Oldest first, as a log reads. */
int adm_show_errors(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                    struct adm_out *out)
{
	struct refusal kept[REFUSALS_KEEP];
	unsigned long long total;
	size_t n = refusals_read(kept, &total);
	struct timeval now;
	char date[64];

	gettimeofday(&now, NULL);
	format_date(&now, date, sizeof(date));
	adm_printf(out, "Total events captured on [%s] : %llu\n", date, total);
	for (size_t i = 0; i < n; i++) {
		format_date(&kept[i].when, date, sizeof(date));
		adm_printf(out, "  [%s] frontend %s, client %s: %s\n", date, kept[i].frontend,
		           kept[i].client, kept[i].reason);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* show metrics: what the Prometheus endpoint serves, every scope */

int adm_show_metrics(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                     struct adm_out *out)
{
	prom_render(gen, NULL, app->uptime_seconds(), out);
	return 0;
}

/* ------------------------------------------------------------------ */
/* show info, show version */

int adm_show_info(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                  struct adm_out *out)
{
	long up = app->uptime_seconds();
	unsigned long long cum = 0;
	char host[256] = "";

	for (int i = 0; i < gen->nfe; i++)
		cum += adm_ldu(&gen->fes[i].ctr.conns);
	gethostname(host, sizeof(host) - 1);
	adm_printf(out, "Name: ppbridge\nVersion: %s\n", PACKAGE_VERSION);
	adm_printf(out, "Nbthread: %d\nPid: %d\n",
	           gen->cfg->global.nbthread > 0 ? gen->cfg->global.nbthread : 1, (int)getpid());
	adm_printf(out, "Uptime: %ldd %ldh%02ldm%02lds\nUptime_sec: %ld\n", up / 86400,
	           up / 3600 % 24, up / 60 % 60, up % 60, up);
	adm_printf(out, "Maxconn: %u\nCurrConns: %u\nCumConns: %llu\n", gen->cfg->global.maxconn,
	           workers_conns(), cum);
	adm_printf(out, "node: %s\nFrontends: %d\nBackends: %d\n", host, gen->nfe, gen->nbe);
	/* 1 while a monitor fail holds: keep-alive clients are sent away */
	adm_printf(out, "Leaving: %d\n", leaving_now());
	return 0;
}

int adm_show_version(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                     struct adm_out *out)
{
	adm_printf(out, "%s\n", PACKAGE_VERSION);
	return 0;
}
