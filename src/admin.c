/* admin.c - the runtime admin socket: HAProxy's CLI on a unix socket.
 *
 * Parsing (adm_parse) is pure; execution (adm_exec) reads the generation's
 * counters and writes only the admin flags of a server (maint, drain,
 * weight: atomics that the workers' selection reads); the socket code
 * moves lines in and answers out on the main thread's event base with
 * bufferevents, so a slow or dead client costs a buffer, never a block.
 */
#include <config.h>

#include "admin.h"

#include "backend.h"
#include "cfg.h"
#include "detect.h"
#include "gen.h"
#include "log.h"
#include "net.h"
#include "proxy_proto.h"
#include "refusals.h"
#include "state.h"
#include "tls.h"
#include "worker.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ADM_MAX_WORDS 8               /* words of one command */
#define ADM_KW_WORDS 5                /* keywords of a row, with the NULL after them */
#define ADM_ARG "*"                   /* in a row's keywords: one argument */
#define ADM_DEFAULT_TIMEOUT_MS 10000u /* HAProxy's `stats timeout` default */

/* What a command does to the connection that sent it, besides its answer. */
enum adm_conn_op {
	ADM_CONN_KEEP = 0, /* nothing */
	ADM_CONN_PROMPT,   /* toggle interactive mode */
	ADM_CONN_QUIT,     /* close it, without an answer */
	ADM_CONN_SEVERITY, /* mark error answers as cmd->severity says */
};

/* One admin command, all of it: a new command is a new row of adm_kws[]
 * plus its handler. */
struct adm_kw {
	/* The keywords that name it, NULL after the last; ADM_ARG holds
	 * the place of an argument between two keywords. A line that has
	 * the keywords before an ADM_ARG but matches no row whole goes to
	 * the first such row's parser, which says what is wrong. */
	const char *words[ADM_KW_WORDS];
	const char *usage;     /* the help's left column */
	const char *help;      /* the help's right column */
	enum adm_level level;  /* the least level that may run it */
	enum adm_conn_op conn; /* what the socket layer does besides answering */
	/* Take the arguments into `cmd` (w[0..n-1] are all the words);
	 * 0, or -1 with a one-line message. NULL: it takes no argument. */
	int (*parse)(char w[][ADM_NAME_MAX], int n, struct adm_cmd *cmd, char *err, size_t errlen);
	/* Answer it (appended to `out`); 0, or -1 for an error answer.
	 * NULL: nothing to answer beyond `conn`. */
	int (*exec)(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
	            struct adm_out *out);
};

/* ------------------------------------------------------------------ */
/* Answers */

void adm_out_free(struct adm_out *out)
{
	free(out->buf);
	memset(out, 0, sizeof(*out));
}

static int out_reserve(struct adm_out *out, size_t more)
{
	size_t cap = out->cap ? out->cap : 4096;

	if (out->len + more + 1 > ADM_OUT_MAX) {
		out->truncated = true;
		return -1;
	}
	while (cap < out->len + more + 1)
		cap *= 2;
	if (cap != out->cap) {
		char *b = realloc(out->buf, cap);
		if (!b) {
			out->truncated = true;
			return -1;
		}
		out->buf = b;
		out->cap = cap;
	}
	return 0;
}

void adm_printf(struct adm_out *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || out->truncated || out_reserve(out, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(out->buf + out->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	out->len += (size_t)n;
}

static int err_answer(struct adm_out *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int err_answer(struct adm_out *out, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	adm_printf(out, "%s\n", msg);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Lookups and server state */

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

static struct be *find_backend(struct gen *gen, const char *name)
{
	for (int i = 0; i < gen->nbe; i++)
		if (!strcmp(gen->bes[i].conf->name, name))
			return &gen->bes[i];
	return NULL;
}

static struct srv *find_server(struct gen *gen, const struct adm_cmd *cmd, struct adm_out *out)
{
	struct be *be = find_backend(gen, cmd->backend);

	if (!be) {
		err_answer(out, "No such backend.");
		return NULL;
	}
	for (int i = 0; i < be->nsrv; i++)
		if (!strcmp(be->srvs[i].conf->name, cmd->server))
			return &be->srvs[i];
	err_answer(out, "No such server.");
	return NULL;
}

static int ld(const atomic_int *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static unsigned long long ldu(const atomic_ullong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

/* HAProxy's status column for a server. */
static const char *srv_status(const struct srv *s)
{
	if (ld(&s->maint))
		return "MAINT";
	if (!s->conf->check)
		return ld(&s->drain) ? "DRAIN" : "no check";
	if (!ld(&s->up))
		return "DOWN";
	return ld(&s->drain) ? "DRAIN" : "UP";
}

static void count_usable(const struct be *be, int *act, int *bck)
{
	*act = *bck = 0;
	for (int i = 0; i < be->nsrv; i++) {
		if (!srv_usable(&be->srvs[i]))
			continue;
		if (be->srvs[i].conf->backup)
			(*bck)++;
		else
			(*act)++;
	}
}

static void log_state_change(const struct srv *s, const char *what)
{
	int act, bck;

	count_usable(s->be, &act, &bck);
	log_msg(LOG_WARNING,
	        "Server %s/%s %s. %d active and %d backup servers left. %u sessions active.",
	        s->be->conf->name, s->conf->name, what, act, bck,
	        atomic_load_explicit(&s->cur_conns, memory_order_relaxed));
}

static void set_maint(struct srv *s, int on)
{
	if (ld(&s->maint) == on)
		return;
	atomic_store(&s->maint, on);
	srv_state_changed(s);
	if (on)
		log_state_change(s, "is going DOWN for maintenance");
	else
		log_state_change(s, ld(&s->up) ? "is UP/READY (leaving forced maintenance)"
		                               : "is DOWN (leaving forced maintenance)");
}

static void set_drain(struct srv *s, int on)
{
	if (ld(&s->drain) == on)
		return;
	atomic_store(&s->drain, on);
	srv_state_changed(s);
	log_state_change(s, on ? "enters drain state" : "is UP/READY (leaving forced drain)");
}

static int exec_disable(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                        struct adm_out *out)
{
	struct srv *s = find_server(gen, cmd, out);

	if (!s)
		return -1;
	set_maint(s, 1);
	return 0;
}

static int exec_enable(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                       struct adm_out *out)
{
	struct srv *s = find_server(gen, cmd, out);

	if (!s)
		return -1;
	set_maint(s, 0);
	return 0;
}

static int exec_set_state(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                          struct adm_out *out)
{
	struct srv *s = find_server(gen, cmd, out);

	if (!s)
		return -1;
	switch (cmd->state) {
	case ADM_STATE_READY:
		set_maint(s, 0);
		set_drain(s, 0);
		break;
	case ADM_STATE_DRAIN:
		set_maint(s, 0);
		set_drain(s, 1);
		break;
	case ADM_STATE_MAINT:
		set_maint(s, 1);
		break;
	}
	return 0;
}

static int exec_set_weight(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                           struct adm_out *out)
{
	struct srv *s = find_server(gen, cmd, out);
	int w, old;

	if (!s)
		return -1;
	w = cmd->weight_pct ? s->conf->weight * cmd->weight / 100 : cmd->weight;
	old = atomic_exchange(&s->weight, w);
	if (old != w) {
		srv_state_changed(s);
		log_msg(LOG_NOTICE, "Server %s/%s weight changed from %d to %d.", s->be->conf->name,
		        s->conf->name, old, w);
	}
	return 0;
}

static int exec_set_client_ip(struct gen *gen, const struct adm_hooks *app,
                              const struct adm_cmd *cmd, struct adm_out *out)
{
	char msg[512];

	if (app->set_client_ip(cmd->frontend, cmd->client_ip, msg, sizeof(msg)) < 0)
		return err_answer(out, "%s", msg);
	adm_printf(out, "%s\n", msg);
	return 0;
}

static int exec_reload(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                       struct adm_out *out)
{
	char msg[4096] = "";
	int rc = app->reload(msg, sizeof(msg));
	size_t n = strlen(msg);

	adm_printf(out, "Success=%d\n--\n%s%s", rc == 0, msg, n && msg[n - 1] != '\n' ? "\n" : "");
	return rc == 0 ? 0 : -1;
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
	unsigned long long perr = ldu(&c->pp_timeout) + ldu(&c->pp_closed);

	for (int i = 0; i < PP_ERR_COUNT; i++)
		perr += ldu(&c->pp_errors[i]);
	memset(&r, 0, sizeof(r));
	row_set(&r, "pxname", "%s", fe->conf->name);
	row_set(&r, "svname", "FRONTEND");
	row_set(&r, "scur", "%u", atomic_load_explicit((atomic_uint *)&fe->cur_conns,
							memory_order_relaxed));
	row_set(&r, "slim", "%u", fe->conf->maxconn ? fe->conf->maxconn : gen->cfg->global.maxconn);
	row_set(&r, "stot", "%llu", ldu(&c->conns));
	row_set(&r, "bin", "%llu", ldu(&c->bytes_in));
	row_set(&r, "bout", "%llu", ldu(&c->bytes_out));
	row_set(&r, "dreq", "%llu", ldu(&c->rejected));
	row_set(&r, "ereq", "%llu", ldu(&c->http_errors) + perr);
	row_set(&r, "status", "OPEN");
	row_set(&r, "pid", "1");
	row_set(&r, "iid", "%d", proxy_id(gen, fe->conf));
	row_set(&r, "sid", "0");
	row_set(&r, "type", "0");
	row_set(&r, "mode", "%s", mode_name(fe->conf));
	row_set(&r, "conn_tot", "%llu", ldu(&c->conns));
	row_set(&r, "dcon", "%llu", ldu(&c->rejected));
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
	row_set(&r, "stot", "%llu", ldu(&s->total_conns));
	row_set(&r, "bin", "%llu", ldu(&s->bytes_out)); /* HAProxy: bytes sent to the server */
	row_set(&r, "bout", "%llu", ldu(&s->bytes_in));
	row_set(&r, "econ", "%llu", ldu(&s->conn_failures));
	row_set(&r, "status", "%s", srv_status(s));
	row_set(&r, "weight", "%d", srv_weight(s));
	row_set(&r, "act", "%d", !s->conf->backup);
	row_set(&r, "bck", "%d", s->conf->backup);
	row_set(&r, "pid", "1");
	row_set(&r, "iid", "%d", proxy_id(gen, s->be->conf));
	row_set(&r, "sid", "%d", s->conf->id);
	row_set(&r, "lbtot", "%llu", ldu(&s->total_conns));
	row_set(&r, "type", "2");
	if (s->conf->check) {
		row_set(&r, "check_status", "%s", ld(&s->up) ? "L4OK" : "L4CON");
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
		tot += ldu(&s->total_conns);
		in += ldu(&s->bytes_out);
		outb += ldu(&s->bytes_in);
		econ += ldu(&s->conn_failures);
		if (srv_usable(s) && !s->conf->backup)
			weight += srv_weight(s);
	}
	count_usable(be, &act, &bck);
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
static int show_stat(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
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

static int show_servers_state(struct gen *gen, const struct adm_hooks *app,
                              const struct adm_cmd *cmd, struct adm_out *out)
{
	if (cmd->backend[0] && !find_backend(gen, cmd->backend))
		return err_answer(out, "Can't find backend.");
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

static int show_frontends(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                          struct adm_out *out)
{
	adm_printf(out, "# name mode backend binds client_ip client_ip_from\n");
	for (int i = 0; i < gen->nfe; i++) {
		const struct fe *fe = &gen->fes[i];
		adm_printf(out, "%s %s %s ", fe->conf->name, mode_name(fe->conf),
		           fe->be->conf->name);
		for (const struct cfg_bind *b = fe->conf->binds; b; b = b->next)
			adm_printf(out, "%s%s%s%s", b->text, b->ssl ? "(ssl)" : "",
			           b->accept_proxy ? "(accept-proxy)" : "", b->next ? "," : "");
		adm_printf(out, " %s %s\n", client_ip_strategy(fe), gen_cip_from_name(fe->cip_from));
	}
	return 0;
}

/* The migration at a glance: per frontend, its strategy and the paths its
 * connections took; per server, what `client-ip auto` found it takes. */
static int show_client_ip(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                          struct adm_out *out)
{
	adm_printf(out, "# frontend client_ip conns path_xff path_proxy path_plain auto_retries "
			"switches\n");
	for (int i = 0; i < gen->nfe; i++) {
		const struct fe *fe = &gen->fes[i];
		const struct fe_counters *c = &fe->ctr;
		adm_printf(out, "%s %s %llu %llu %llu %llu %llu %llu\n", fe->conf->name,
			   client_ip_strategy(fe), ldu(&c->conns), ldu(&c->path_xff),
			   ldu(&c->path_proxy), ldu(&c->path_plain), ldu(&c->auto_retries),
			   ldu(&c->switches));
	}
	adm_printf(out, "# backend/server pp_mode changes last_probes\n");
	for (int b = 0; b < gen->nbe; b++)
		for (int k = 0; k < gen->bes[b].nsrv; k++) {
			const struct srv *s = &gen->bes[b].srvs[k];
			adm_printf(out, "%s/%s %s %llu %s\n", gen->bes[b].conf->name, s->conf->name,
				   srv_pp_mode_name(srv_pp_mode(s)), ldu(&s->pp_mode_changes),
				   det_last(s->det));
		}
	return 0;
}

/* HAProxy's `show backend`: names only. */
static int show_backend(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                        struct adm_out *out)
{
	adm_printf(out, "# name\n");
	for (int i = 0; i < gen->nbe; i++)
		adm_printf(out, "%s\n", gen->bes[i].conf->name);
	return 0;
}

static int show_backends(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                         struct adm_out *out)
{
	adm_printf(out, "# name mode algo servers active backup\n");
	for (int i = 0; i < gen->nbe; i++) {
		const struct be *be = &gen->bes[i];
		int act, bck;
		count_usable(be, &act, &bck);
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
static int show_errors(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
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
/* show metrics: Prometheus text exposition */

/* A label value with Prometheus' escapes (\\, \", \n). */
static void label_escape(const char *in, char *buf, size_t len)
{
	size_t n = 0;

	for (; *in && n + 3 < len; in++) {
		if (*in == '\\' || *in == '"' || *in == '\n') {
			buf[n++] = '\\';
			buf[n++] = *in == '\n' ? 'n' : *in;
		} else {
			buf[n++] = *in;
		}
	}
	buf[n] = '\0';
}

static void metric_head(struct adm_out *out, const char *name, const char *type, const char *help)
{
	adm_printf(out, "# HELP ppbridge_%s %s\n# TYPE ppbridge_%s %s\n", name, help, name, type);
}

/* Per-frontend counter: one atomic at byte offset `off` of fe_counters. */
static void fe_metric(const struct gen *gen, struct adm_out *out, const char *name,
                      const char *help, size_t off)
{
	metric_head(out, name, "counter", help);
	for (int i = 0; i < gen->nfe; i++) {
		const atomic_ullong *v =
		    (const atomic_ullong *)((const char *)&gen->fes[i].ctr + off);
		char fe[256];
		label_escape(gen->fes[i].conf->name, fe, sizeof(fe));
		adm_printf(out, "ppbridge_%s{frontend=\"%s\"} %llu\n", name, fe, ldu(v));
	}
}

static void fe_proxy_errors(const struct gen *gen, struct adm_out *out)
{
	metric_head(out, "frontend_proxy_errors_total", "counter",
	            "Connections refused for a bad or missing PROXY header, by class.");
	for (int i = 0; i < gen->nfe; i++) {
		const struct fe_counters *c = &gen->fes[i].ctr;
		char fe[256];
		label_escape(gen->fes[i].conf->name, fe, sizeof(fe));
		for (int k = 1; k < PP_ERR_COUNT; k++)
			adm_printf(out,
			           "ppbridge_frontend_proxy_errors_total{frontend=\"%s\",class=\"%"
			           "s\"} %llu\n",
			           fe, pp_strerror((enum pp_error)k), ldu(&c->pp_errors[k]));
		adm_printf(out,
		           "ppbridge_frontend_proxy_errors_total{frontend=\"%s\",class=\"timeout\"}"
		           " %llu\n",
		           fe, ldu(&c->pp_timeout));
		adm_printf(
		    out,
		    "ppbridge_frontend_proxy_errors_total{frontend=\"%s\",class=\"closed\"} %llu\n",
		    fe, ldu(&c->pp_closed));
	}
}

enum srv_val {
	SV_UP = 0,
	SV_MAINT,
	SV_DRAIN,
	SV_WEIGHT,
	SV_CUR,
	SV_TOTAL,
	SV_FAIL,
	SV_IN,
	SV_OUT,
	SV_HEALTH,
	SV_PROXY_MODE,
	SV_PROXY_CHANGES,
	SV_TLS_RESUMED,
	SV_TLS_FULL,
};

/* Handshakes of our TLS connections to a server (`ssl`), 0 without. */
static unsigned long srv_tls_count(const struct srv *s, int resumed)
{
	unsigned long r = 0, f = 0;

	if (s->tls)
		tls_client_stats(s->tls, &r, &f);
	return resumed ? r : f;
}

static unsigned long long srv_value(const struct srv *s, enum srv_val v)
{
	switch (v) {
	case SV_UP:
		return (unsigned long long)ld(&s->up);
	case SV_MAINT:
		return (unsigned long long)ld(&s->maint);
	case SV_DRAIN:
		return (unsigned long long)ld(&s->drain);
	case SV_WEIGHT:
		return (unsigned long long)srv_weight(s);
	case SV_CUR:
		return atomic_load_explicit(&s->cur_conns, memory_order_relaxed);
	case SV_TOTAL:
		return ldu(&s->total_conns);
	case SV_FAIL:
		return ldu(&s->conn_failures);
	case SV_IN:
		return ldu(&s->bytes_out); /* into the server, as HAProxy's bin */
	case SV_OUT:
		return ldu(&s->bytes_in);
	case SV_HEALTH:
		return (unsigned long long)s->health.health;
	case SV_PROXY_MODE:
		return srv_pp_mode(s) == SRV_PP_PROXY;
	case SV_PROXY_CHANGES:
		return ldu(&s->pp_mode_changes);
	case SV_TLS_RESUMED:
		return srv_tls_count(s, 1);
	case SV_TLS_FULL:
		return srv_tls_count(s, 0);
	}
	return 0;
}

static void srv_metric(const struct gen *gen, struct adm_out *out, const char *name,
                       const char *type, const char *help, enum srv_val v)
{
	metric_head(out, name, type, help);
	for (int b = 0; b < gen->nbe; b++) {
		char be[256], sv[256];
		label_escape(gen->bes[b].conf->name, be, sizeof(be));
		for (int i = 0; i < gen->bes[b].nsrv; i++) {
			const struct srv *s = &gen->bes[b].srvs[i];
			label_escape(s->conf->name, sv, sizeof(sv));
			adm_printf(out, "ppbridge_%s{backend=\"%s\",server=\"%s\"} %llu\n", name,
			           be, sv, srv_value(s, v));
		}
	}
}

static int show_metrics(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                        struct adm_out *out)
{
	metric_head(out, "process_current_connections", "gauge", "Live client connections.");
	adm_printf(out, "ppbridge_process_current_connections %u\n", workers_conns());
	metric_head(out, "process_uptime_seconds", "gauge", "Seconds since start.");
	adm_printf(out, "ppbridge_process_uptime_seconds %ld\n", app->uptime_seconds());
	fe_metric(gen, out, "frontend_connections_total", "Connections accepted.",
	          offsetof(struct fe_counters, conns));
	fe_metric(gen, out, "frontend_bytes_in_total", "Bytes from clients.",
	          offsetof(struct fe_counters, bytes_in));
	fe_metric(gen, out, "frontend_bytes_out_total", "Bytes to clients.",
	          offsetof(struct fe_counters, bytes_out));
	fe_metric(gen, out, "frontend_http_errors_total", "Requests refused as invalid (4xx).",
	          offsetof(struct fe_counters, http_errors));
	fe_metric(gen, out, "frontend_rejected_total", "Refused by tcp-request connection reject.",
	          offsetof(struct fe_counters, rejected));
	fe_metric(gen, out, "frontend_no_server_total", "Refused: no usable server.",
	          offsetof(struct fe_counters, no_server));
	fe_metric(gen, out, "frontend_connect_failures_total", "Every server attempt failed.",
	          offsetof(struct fe_counters, conn_fail));
	fe_proxy_errors(gen, out);
	fe_metric(gen, out, "frontend_path_xff_total",
		  "Connections terminated (or plain HTTP) with X-Forwarded-For.",
		  offsetof(struct fe_counters, path_xff));
	fe_metric(gen, out, "frontend_path_proxy_total",
		  "Connections passed through behind a PROXY header.",
		  offsetof(struct fe_counters, path_proxy));
	fe_metric(gen, out, "frontend_path_plain_total",
		  "Connections passed through as they came.",
		  offsetof(struct fe_counters, path_plain));
	fe_metric(gen, out, "frontend_auto_retries_total",
		  "client-ip auto: connections retried the other way.",
		  offsetof(struct fe_counters, auto_retries));
	fe_metric(gen, out, "frontend_tls_handshakes_total",
		  "Client TLS handshakes completed.", offsetof(struct fe_counters, tls_handshakes));
	fe_metric(gen, out, "frontend_tls_resumed_total",
		  "Client TLS handshakes that resumed a session.",
		  offsetof(struct fe_counters, tls_resumed));
	fe_metric(gen, out, "frontend_client_ip_switches_total",
		  "Runtime client-ip strategy changes.", offsetof(struct fe_counters, switches));
	fe_metric(gen, out, "frontend_descriptor_shortages_total",
		  "Out of descriptors: accept paused, or a server connection refused (503/close).",
		  offsetof(struct fe_counters, fd_exhausted));
	srv_metric(gen, out, "server_up", "gauge", "Health: 1 UP, 0 DOWN.", SV_UP);
	srv_metric(gen, out, "server_maint", "gauge", "1 in maintenance.", SV_MAINT);
	srv_metric(gen, out, "server_drain", "gauge", "1 draining.", SV_DRAIN);
	srv_metric(gen, out, "server_weight", "gauge", "Runtime weight.", SV_WEIGHT);
	srv_metric(gen, out, "server_current_connections", "gauge", "Live connections.", SV_CUR);
	srv_metric(gen, out, "server_connections_total", "counter", "Connections.", SV_TOTAL);
	srv_metric(gen, out, "server_connect_failures_total", "counter",
	           "Connect errors and timeouts.", SV_FAIL);
	srv_metric(gen, out, "server_bytes_in_total", "counter", "Bytes sent to the server.",
	           SV_IN);
	srv_metric(gen, out, "server_bytes_out_total", "counter", "Bytes received from the server.",
	           SV_OUT);
	srv_metric(gen, out, "server_check_health", "gauge",
	           "Health-check counter (UP at >= rise).", SV_HEALTH);
	srv_metric(gen, out, "server_proxy_mode", "gauge",
	           "client-ip auto: 1 when the server takes a PROXY header.", SV_PROXY_MODE);
	srv_metric(gen, out, "server_proxy_mode_changes_total", "counter",
	           "client-ip auto: changes of the detected PROXY mode.", SV_PROXY_CHANGES);
	srv_metric(gen, out, "server_tls_resumed_total", "counter",
	           "TLS handshakes to the server that resumed a session.", SV_TLS_RESUMED);
	srv_metric(gen, out, "server_tls_full_total", "counter",
	           "Full TLS handshakes to the server.", SV_TLS_FULL);
	return 0;
}

/* ------------------------------------------------------------------ */
/* show info, show version */

static int show_info(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                     struct adm_out *out)
{
	long up = app->uptime_seconds();
	unsigned long long cum = 0;
	char host[256] = "";

	for (int i = 0; i < gen->nfe; i++)
		cum += ldu(&gen->fes[i].ctr.conns);
	gethostname(host, sizeof(host) - 1);
	adm_printf(out, "Name: ppbridge\nVersion: %s\n", PACKAGE_VERSION);
	adm_printf(out, "Nbthread: %d\nPid: %d\n",
	           gen->cfg->global.nbthread > 0 ? gen->cfg->global.nbthread : 1, (int)getpid());
	adm_printf(out, "Uptime: %ldd %ldh%02ldm%02lds\nUptime_sec: %ld\n", up / 86400,
	           up / 3600 % 24, up / 60 % 60, up % 60, up);
	adm_printf(out, "Maxconn: %u\nCurrConns: %u\nCumConns: %llu\n", gen->cfg->global.maxconn,
	           workers_conns(), cum);
	adm_printf(out, "node: %s\nFrontends: %d\nBackends: %d\n", host, gen->nfe, gen->nbe);
	return 0;
}

static int show_version(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                        struct adm_out *out)
{
	adm_printf(out, "%s\n", PACKAGE_VERSION);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Parsers (pure): one a row, when the row takes arguments */

static int split_words(const char *line, char words[][ADM_NAME_MAX], int max)
{
	int n = 0;

	while (*line) {
		size_t len = 0;
		while (*line == ' ' || *line == '\t' || *line == '\r')
			line++;
		if (!*line)
			break;
		if (n == max)
			return -1;
		while (line[len] && line[len] != ' ' && line[len] != '\t' && line[len] != '\r')
			len++;
		if (len >= ADM_NAME_MAX)
			return -1;
		memcpy(words[n], line, len);
		words[n][len] = '\0';
		line += len;
		n++;
	}
	return n;
}

static int fail(char *err, size_t errlen, int rc, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return rc;
}

/* "<backend>/<server>" into the command. */
static int parse_target(const char *word, struct adm_cmd *out, char *err, size_t errlen)
{
	const char *slash = strchr(word, '/');

	if (!slash || slash == word || !slash[1])
		return fail(err, errlen, -1, "Require 'backend/server'.");
	snprintf(out->backend, sizeof(out->backend), "%.*s", (int)(slash - word), word);
	snprintf(out->server, sizeof(out->server), "%s", slash + 1);
	return 0;
}

/* "N" (0..256) or "N%" (a share of the configured weight, as HAProxy). */
static int parse_weight(const char *text, struct adm_cmd *out, char *err, size_t errlen)
{
	char *end;
	long v;

	if (text[0] < '0' || text[0] > '9')
		return fail(err, errlen, -1, "Empty weight string empty or preceded by garbage");
	v = strtol(text, &end, 10);
	if (*end == '%' && end[1] == '\0') {
		if (v > 100)
			return fail(err, errlen, -1,
			            "Relative weight can only be between 0 and 100% inclusive.");
		out->weight = (int)v;
		out->weight_pct = 1;
		return 0;
	}
	if (*end)
		return fail(err, errlen, -1, "Trailing garbage in weight string");
	if (v > CFG_MAX_WEIGHT)
		return fail(err, errlen, -1,
		            "Absolute weight can only be between 0 and 256 inclusive.");
	out->weight = (int)v;
	return 0;
}

/* `help <anything>` lists everything too, as HAProxy's does. */
static int parse_any(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err, size_t errlen)
{
	return 0;
}

static int parse_servers_state(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                               size_t errlen)
{
	if (n > 4)
		return fail(err, errlen, -1, "usage: show servers state [<backend>]");
	if (n == 4)
		snprintf(out->backend, sizeof(out->backend), "%s", w[3]);
	return 0;
}

/* `enable server <bk>/<srv>`, `disable server <bk>/<srv>` */
static int parse_server_toggle(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                               size_t errlen)
{
	if (n != 3)
		return fail(err, errlen, -1, "Require 'backend/server'.");
	return parse_target(w[2], out, err, errlen);
}

/* `set server <bk>/<srv> <what> ...`: what the state and weight rows
 * share. Their parser also answers the lines of the family that are
 * neither (`set server`, `set server b/s addr x`), with HAProxy's words. */
static int parse_set_server(char w[][ADM_NAME_MAX], int n, const char *what, struct adm_cmd *out,
                            char *err, size_t errlen)
{
	if (n < 4)
		return fail(err, errlen, -1,
		            n < 3 ? "Require 'backend/server'."
		                  : "usage: set server <backend>/<server> state | weight");
	if (parse_target(w[2], out, err, errlen) < 0)
		return -1;
	if (strcmp(w[3], what) != 0)
		return fail(err, errlen, -1, "usage: set server <backend>/<server> state | weight");
	return 0;
}

static int parse_set_state(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                           size_t errlen)
{
	static const char *const names[] = {
	    [ADM_STATE_READY] = "ready", [ADM_STATE_DRAIN] = "drain", [ADM_STATE_MAINT] = "maint"};

	if (parse_set_server(w, n, "state", out, err, errlen) < 0)
		return -1;
	for (size_t i = 0; n == 5 && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(w[4], names[i])) {
			out->state = (enum adm_state)i;
			return 0;
		}
	}
	return fail(err, errlen, -1, "'set server <srv> state' expects 'ready', 'drain' and 'maint'.");
}

static int parse_set_weight(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                            size_t errlen)
{
	if (parse_set_server(w, n, "weight", out, err, errlen) < 0)
		return -1;
	if (n != 5)
		return fail(err, errlen, -1, "'set server <srv> weight' expects an integer.");
	return parse_weight(w[4], out, err, errlen);
}

static int parse_set_client_ip(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                               size_t errlen)
{
	int v;

	if (n != 5 || strcmp(w[3], "client-ip") != 0)
		return fail(err, errlen, -1,
		            "usage: set frontend <frontend> client-ip "
		            "none|xff|proxy-v1|proxy-v2|auto");
	v = cfg_client_ip_parse(w[4]);
	if (v < 0)
		return fail(err, errlen, -1,
		            "'client-ip' expects none, xff, proxy-v1, proxy-v2 or auto.");
	snprintf(out->frontend, sizeof(out->frontend), "%s", w[2]);
	out->client_ip = (enum cfg_client_ip)v;
	return 0;
}

static int parse_severity(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                          size_t errlen)
{
	if (n == 3 && !strcmp(w[2], "none"))
		out->severity = ADM_SEVERITY_NONE;
	else if (n == 3 && !strcmp(w[2], "number"))
		out->severity = ADM_SEVERITY_NUMBER;
	else
		return fail(err, errlen, -1,
		            "one of 'none' or 'number' is expected (\"string\" is not supported).");
	return 0;
}

/* ------------------------------------------------------------------ */
/* The commands: one row each */

static int exec_help(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                     struct adm_out *out);

/* In the order of the help, which is HAProxy's layout. */
static const struct adm_kw adm_kws[] = {
    {{"help"}, "help", "list the commands", ADM_LEVEL_USER, ADM_CONN_KEEP, parse_any, exec_help},
    {{"prompt"}, "prompt", "toggle interactive mode with prompt", ADM_LEVEL_USER,
     ADM_CONN_PROMPT, NULL, NULL},
    {{"quit"}, "quit", "disconnect", ADM_LEVEL_USER, ADM_CONN_QUIT, NULL, NULL},
    {{"show", "info"}, "show info", "report information about the running process",
     ADM_LEVEL_USER, ADM_CONN_KEEP, NULL, show_info},
    {{"show", "stat"}, "show stat", "report counters for each proxy and server (CSV)",
     ADM_LEVEL_USER, ADM_CONN_KEEP, NULL, show_stat},
    {{"show", "servers", "state"}, "show servers state [<backend>]",
     "dump volatile server information", ADM_LEVEL_USER, ADM_CONN_KEEP, parse_servers_state,
     show_servers_state},
    {{"show", "frontends"}, "show frontends",
     "list frontends with their binds and client-IP strategy", ADM_LEVEL_USER, ADM_CONN_KEEP,
     NULL, show_frontends},
    {{"show", "client-ip"}, "show client-ip",
     "paths taken per frontend; servers' detected PROXY mode (auto)", ADM_LEVEL_USER,
     ADM_CONN_KEEP, NULL, show_client_ip},
    {{"show", "backend"}, "show backend", "list backends (names only, as HAProxy)",
     ADM_LEVEL_USER, ADM_CONN_KEEP, NULL, show_backend},
    {{"show", "backends"}, "show backends", "list backends with their servers' states",
     ADM_LEVEL_USER, ADM_CONN_KEEP, NULL, show_backends},
    {{"show", "errors"}, "show errors", "report the last refused connections and requests",
     ADM_LEVEL_USER, ADM_CONN_KEEP, NULL, show_errors},
    {{"show", "metrics"}, "show metrics", "report counters in Prometheus text format",
     ADM_LEVEL_USER, ADM_CONN_KEEP, NULL, show_metrics},
    {{"show", "version"}, "show version", "show the version of the current process",
     ADM_LEVEL_USER, ADM_CONN_KEEP, NULL, show_version},
    {{"disable", "server"}, "disable server <bk>/<srv>",
     "put a server in maintenance (operator)", ADM_LEVEL_OPERATOR, ADM_CONN_KEEP,
     parse_server_toggle, exec_disable},
    {{"enable", "server"}, "enable server <bk>/<srv>",
     "take a server out of maintenance (operator)", ADM_LEVEL_OPERATOR, ADM_CONN_KEEP,
     parse_server_toggle, exec_enable},
    {{"set", "server", ADM_ARG, "state"}, "set server <bk>/<srv> state <st>",
     "ready, drain or maint (operator)", ADM_LEVEL_OPERATOR, ADM_CONN_KEEP, parse_set_state,
     exec_set_state},
    {{"set", "server", ADM_ARG, "weight"}, "set server <bk>/<srv> weight <w>",
     "0..256, or N% of the configured weight (operator)", ADM_LEVEL_OPERATOR, ADM_CONN_KEEP,
     parse_set_weight, exec_set_weight},
    {{"set", "frontend", ADM_ARG, "client-ip"}, "set frontend <f> client-ip <strategy>",
     "none, xff, proxy-v1, proxy-v2 or auto for new connections (operator)",
     ADM_LEVEL_OPERATOR, ADM_CONN_KEEP, parse_set_client_ip, exec_set_client_ip},
    {{"set", "severity-output"}, "set severity-output <fmt>",
     "none or number: prefix errors with [3]:", ADM_LEVEL_USER, ADM_CONN_SEVERITY,
     parse_severity, NULL},
    {{"reload"}, "reload", "reload the configuration; Success=1 or Success=0 (admin)",
     ADM_LEVEL_ADMIN, ADM_CONN_KEEP, NULL, exec_reload},
};

#define ADM_NKWS (sizeof(adm_kws) / sizeof(adm_kws[0]))

static void show_help(struct adm_out *out)
{
	for (size_t i = 0; i < ADM_NKWS; i++)
		adm_printf(out, "  %-38s: %s\n", adm_kws[i].usage, adm_kws[i].help);
}

static int exec_help(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                     struct adm_out *out)
{
	adm_printf(out, "The following commands are valid at this level:\n");
	show_help(out);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Dispatch */

enum kw_match {
	KW_MATCH_NONE = 0,
	KW_MATCH_FAMILY, /* the keywords before its first ADM_ARG match */
	KW_MATCH_ALL,    /* every keyword matches (ADM_ARG takes any word) */
};

static enum kw_match kw_match(const struct adm_kw *kw, char w[][ADM_NAME_MAX], int n)
{
	bool past_arg = false;

	for (int i = 0; kw->words[i]; i++) {
		bool arg = !strcmp(kw->words[i], ADM_ARG);
		if (i >= n || (!arg && strcmp(kw->words[i], w[i]) != 0))
			return (past_arg || arg) ? KW_MATCH_FAMILY : KW_MATCH_NONE;
		past_arg = past_arg || arg;
	}
	return KW_MATCH_ALL;
}

/* The row every keyword of which the words match; or else the first row
 * of their family, whose parser explains what is wrong; or NULL. */
static const struct adm_kw *kw_find(char w[][ADM_NAME_MAX], int n)
{
	const struct adm_kw *family = NULL;

	for (size_t i = 0; i < ADM_NKWS; i++) {
		enum kw_match m = kw_match(&adm_kws[i], w, n);
		if (m == KW_MATCH_ALL)
			return &adm_kws[i];
		if (m == KW_MATCH_FAMILY && !family)
			family = &adm_kws[i];
	}
	return family;
}

static int kw_nwords(const struct adm_kw *kw)
{
	int n = 0;

	while (kw->words[n])
		n++;
	return n;
}

/* A row without a parser: its keywords and nothing after them. */
static int parse_none(const struct adm_kw *kw, int n, char *err, size_t errlen)
{
	int nwords = kw_nwords(kw);
	char name[ADM_NAME_MAX] = "";

	if (n == nwords)
		return 0;
	for (int i = 0; i < nwords; i++)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "%s%s", i ? " " : "",
		         kw->words[i]);
	snprintf(err, errlen, "'%s' takes no argument.", name);
	return -1;
}

int adm_parse(const char *line, struct adm_cmd *out, char *err, size_t errlen)
{
	char w[ADM_MAX_WORDS][ADM_NAME_MAX];
	int n = split_words(line, w, ADM_MAX_WORDS);

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (n < 0)
		return fail(err, errlen, -1, "Command too long (too many or too long words).");
	if (n == 0)
		return 0; /* the empty command: no row, no answer */
	out->kw = kw_find(w, n);
	if (!out->kw)
		return fail(err, errlen, -2, "Unknown command.");
	if (!out->kw->parse)
		return parse_none(out->kw, n, err, errlen);
	return out->kw->parse(w, n, out, err, errlen);
}

const char *adm_cmd_usage(const struct adm_cmd *cmd)
{
	return cmd->kw ? cmd->kw->usage : "";
}

enum adm_level adm_cmd_level(const struct adm_cmd *cmd)
{
	return cmd->kw ? cmd->kw->level : ADM_LEVEL_USER;
}

int adm_next_cmd(const char **line, char *buf, size_t len)
{
	const char *p = *line;
	size_t n = 0;

	if (!*p)
		return -1;
	for (; *p && *p != ';'; p++) {
		if (p[0] == '\\' && p[1] == ';')
			p++;
		if (n + 1 < len)
			buf[n++] = *p;
	}
	buf[n] = '\0';
	*line = *p ? p + 1 : p;
	return 0;
}

int adm_exec(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
             enum adm_level level, struct adm_out *out)
{
	if (level < adm_cmd_level(cmd))
		return err_answer(out, "Permission denied");
	if (!cmd->kw || !cmd->kw->exec)
		return 0; /* the empty command, or one for its connection only */
	return cmd->kw->exec(gen, app, cmd, out);
}

/* ------------------------------------------------------------------ */
/* The socket */

struct adm_client {
	struct adm_client *next;
	struct bufferevent *bev;
	bool interactive;           /* `prompt` */
	enum adm_severity severity; /* `set severity-output` */
	bool closing;               /* answer queued; close once it is written */
};

static struct {
	struct event_base *base;
	struct evconnlistener *lsn;
	char *path;
	enum adm_level level;
	unsigned timeout_ms;
	struct adm_hooks app; /* the application, as given to adm_start() */
	struct adm_client *clients;
} adm;

static void client_free(struct adm_client *c)
{
	for (struct adm_client **p = &adm.clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	bufferevent_free(c->bev);
	free(c);
}

/* What a command does to its connection; -1 asks to close it. */
static int client_conn_op(struct adm_client *c, const struct adm_cmd *cmd)
{
	switch (cmd->kw->conn) {
	case ADM_CONN_KEEP:
		break;
	case ADM_CONN_PROMPT:
		c->interactive = !c->interactive;
		break;
	case ADM_CONN_QUIT:
		return -1;
	case ADM_CONN_SEVERITY:
		c->severity = cmd->severity;
		break;
	}
	return 0;
}

/* One command of a line: answer it; -1 asks to close the connection. */
static int client_command(struct adm_client *c, const char *text, struct evbuffer *wr)
{
	struct adm_cmd cmd;
	struct adm_out out = {0};
	char err[256];
	int rc = adm_parse(text, &cmd, err, sizeof(err));

	if (rc == 0 && !cmd.kw)
		return 0; /* the empty command has no answer */
	if (rc == 0 && client_conn_op(c, &cmd) < 0)
		return -1;
	if (rc == -2) {
		adm_printf(&out,
		           "Unknown command. Please enter one of the following commands only :\n");
		show_help(&out);
	} else if (rc < 0) {
		adm_printf(&out, "%s\n", err);
	} else {
		rc = adm_exec(adm.app.current_gen(), &adm.app, &cmd, adm.level, &out);
	}
	if (rc < 0 && c->severity == ADM_SEVERITY_NUMBER)
		evbuffer_add_printf(wr, "[3]: ");
	if (out.len)
		evbuffer_add(wr, out.buf, out.len);
	if (out.truncated)
		evbuffer_add_printf(wr, "[answer truncated at %u bytes]\n", ADM_OUT_MAX);
	evbuffer_add(wr, "\n", 1); /* the empty line that ends an answer */
	adm_out_free(&out);
	return 0;
}

/* A whole line: its commands in order. Returns -1 to close after writing. */
static int client_line(struct adm_client *c, const char *line)
{
	struct evbuffer *wr = bufferevent_get_output(c->bev);
	/* Room for the longest accepted line: a command is never cut short
	 * (a cut `weight 100` would run as `weight 10`). */
	char cmd[ADM_LINE_MAX + 1];

	if (strlen(line) > ADM_LINE_MAX) {
		evbuffer_add_printf(wr, "Command line too long.\n\n");
		return -1;
	}
	while (adm_next_cmd(&line, cmd, sizeof(cmd)) == 0)
		if (client_command(c, cmd, wr) < 0)
			return -1;
	if (!c->interactive)
		return -1;
	evbuffer_add(wr, "> ", 2);
	return 0;
}

static void client_close_after_write(struct adm_client *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		client_free(c);
}

static void on_client_read(struct bufferevent *bev, void *arg)
{
	struct adm_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;

	while (!c->closing && (line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF))) {
		int rc = client_line(c, line);
		free(line);
		if (rc < 0) {
			client_close_after_write(c);
			return;
		}
	}
	if (!c->closing && evbuffer_get_length(in) > ADM_LINE_MAX) {
		evbuffer_add_printf(bufferevent_get_output(bev), "Command line too long.\n\n");
		client_close_after_write(c);
	}
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
	struct adm_client *c = arg;

	if (c->closing)
		client_free(c);
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct adm_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	/* `printf 'show stat' | socat`: a last line without '\n' still counts */
	if ((what & BEV_EVENT_EOF) && !c->closing && evbuffer_get_length(in) > 0) {
		size_t n = evbuffer_get_length(in);
		char *line = malloc(n + 1);
		if (line) {
			evbuffer_remove(in, line, n);
			line[n] = '\0';
			client_line(c, line);
			free(line);
		}
		client_close_after_write(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && c->closing)
		return; /* the client half-closed; our answer still goes out */
	client_free(c);
}

static void on_accept(struct evconnlistener *lsn, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	struct adm_client *c = calloc(1, sizeof(*c));
	struct timeval tv = {adm.timeout_ms / 1000, (adm.timeout_ms % 1000) * 1000};

	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->bev = bufferevent_socket_new(adm.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->next = adm.clients;
	adm.clients = c;
	/* an idle or stuck client is dropped after `stats timeout` */
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	/* input is bounded too: reading pauses at two lines' worth */
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * ADM_LINE_MAX);
	bufferevent_setcb(c->bev, on_client_read, on_client_write, on_client_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static int socket_owner(const struct cfg_global *g, char *err, size_t errlen)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (g->stats_user) {
		struct passwd *pw = getpwnam(g->stats_user);
		if (!pw) {
			snprintf(err, errlen, "stats socket: unknown user '%s'", g->stats_user);
			return -1;
		}
		uid = pw->pw_uid;
	}
	if (g->stats_group) {
		struct group *gr = getgrnam(g->stats_group);
		if (!gr) {
			snprintf(err, errlen, "stats socket: unknown group '%s'", g->stats_group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if ((g->stats_user || g->stats_group) && chown(g->stats_socket, uid, gid) != 0) {
		snprintf(err, errlen, "stats socket %s: chown: %s", g->stats_socket,
		         strerror(errno));
		return -1;
	}
	return 0;
}

/* A stale socket file from a previous run is replaced; any other file is
 * left alone (a typo in the path must not delete someone's data). */
static int bind_unix(const char *path, unsigned mode, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "stats socket %s: path too long", path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "stats socket %s: exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, mode) != 0 || listen(fd, 16) != 0) {
		snprintf(err, errlen, "stats socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int adm_start(struct event_base *base, const struct cfg_global *g, const struct adm_hooks *app,
              char *err, size_t errlen)
{
	int fd;

	if (!g->stats_socket)
		return 0;
	fd = bind_unix(g->stats_socket, g->stats_mode ? g->stats_mode : 0600, err, errlen);
	if (fd < 0)
		return -1;
	adm.base = base;
	adm.app = *app;
	adm.level = g->stats_level;
	adm.timeout_ms = g->stats_timeout_ms ? g->stats_timeout_ms : ADM_DEFAULT_TIMEOUT_MS;
	adm.path = strdup(g->stats_socket);
	adm.lsn = evconnlistener_new(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!adm.path || !adm.lsn || socket_owner(g, err, errlen) < 0) {
		if (!adm.lsn) {
			close(fd);
			snprintf(err, errlen, "stats socket %s: cannot listen", g->stats_socket);
		}
		adm_stop();
		return -1;
	}
	return 0;
}

void adm_stop(void)
{
	while (adm.clients)
		client_free(adm.clients);
	if (adm.lsn)
		evconnlistener_free(adm.lsn);
	if (adm.path)
		unlink(adm.path);
	free(adm.path);
	memset(&adm, 0, sizeof(adm));
}

/* ------------------------------------------------------------------ */
/* ppbridge ctl <socket> <command...> */

static int ctl_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "ppbridge ctl: %s: path too long\n", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		fprintf(stderr, "ppbridge ctl: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The answer with the error marker removed; 1 when it was an error. */
static int ctl_print(const char *ans, size_t len)
{
	int bad = 0;

	if (len >= 5 && !memcmp(ans, "[3]: ", 5)) {
		ans += 5;
		len -= 5;
		bad = 1;
	}
	if (len >= 10 && !memcmp(ans, "Success=0\n", 10))
		bad = 1;
	/* drop the empty line that ends the answer */
	if (len >= 2 && ans[len - 1] == '\n' && ans[len - 2] == '\n')
		len--;
	fwrite(ans, 1, len, stdout);
	return bad;
}

int adm_ctl_main(int argc, char **argv)
{
	struct adm_out line = {0}, ans = {0};
	char buf[16384];
	ssize_t n;
	int fd, bad;

	if (argc < 3) {
		fprintf(stderr, "Usage: ppbridge ctl <socket> <command...>\n");
		return 2;
	}
	/* the answer starts with "[3]: " exactly when the command failed */
	adm_printf(&line, "set severity-output number;");
	for (int i = 2; i < argc; i++)
		adm_printf(&line, "%s%s", argv[i], i + 1 < argc ? " " : "\n");
	fd = ctl_connect(argv[1]);
	if (fd < 0 || write_all(fd, line.buf, line.len) < 0) {
		if (fd >= 0)
			close(fd);
		adm_out_free(&line);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			adm_printf(&ans, "%.*s", (int)n, buf);
	close(fd);
	/* the first answer (to set severity-output) is an empty line */
	bad = ans.len < 1 || ctl_print(ans.buf + 1, ans.len - 1);
	adm_out_free(&line);
	adm_out_free(&ans);
	return bad ? 1 : 0;
}
