/* prom.c - Prometheus text exposition of a generation (see prom.h).
 *
 * One table row per family: name, type, help, an optional label of its
 * own (with a function naming its values) and a value function. The
 * objects a scope covers are prepared once per render (their label text
 * escaped, backend sums and server states worked out), so writing a line
 * is copies and an integer conversion: no lookup, no printf. A config of
 * 100 backends x 10 servers renders in well under 5 ms (contrib/bench/
 * prom-render.sh).
 */
#include <config.h>

#include "prom.h"

#include "admin.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "prom_query.h"
#include "proxy_proto.h"
#include "stktable.h"
#include "tls.h"
#include "worker.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Values a row may give instead of a number. */
#define PROM_NAN UINT64_MAX        /* printed NaN: HAProxy's empty field (no limit) */
#define PROM_SKIP (UINT64_MAX - 1) /* no line for this object */

/* A row's own label: its name, the function naming its values, the value. */
#define BY(lab, values, fn) .label = (lab), .label_value = (values), .val = (fn)

enum prom_type {
	PROM_GAUGE = 0,
	PROM_COUNTER,
};

/* One metric family. `val(obj, k, arg)` is the value for the k-th value
 * of the row's own label (k = 0 without one); `arg` is the row's. */
struct prom_row {
	const char *name;
	enum prom_type type;
	const char *help;
	const char *label;                 /* the row's own label, NULL: none */
	const char *(*label_value)(int k); /* its k-th value, NULL past the last */
	uint64_t (*val)(const void *obj, int k, size_t arg);
	size_t arg; /* e.g. the offset of a counter */
};

/* ------------------------------------------------------------------ */
/* Output: lines gathered in a block, appended to the answer when full */

struct pw {
	struct adm_out *out;
	size_t n;
	char buf[16384];
};

static void pw_flush(struct pw *w)
{
	if (w->n)
		adm_write(w->out, w->buf, w->n);
	w->n = 0;
}

static void pw_put(struct pw *w, const char *s, size_t len)
{
	if (len > sizeof(w->buf) - w->n) {
		pw_flush(w);
		if (len > sizeof(w->buf)) {
			adm_write(w->out, s, len);
			return;
		}
	}
	memcpy(w->buf + w->n, s, len);
	w->n += len;
}

static void pw_str(struct pw *w, const char *s)
{
	pw_put(w, s, strlen(s));
}

/* ------------------------------------------------------------------ */
/* The objects of a scope, each with its label text */

struct obj {
	const void *p;
	const char *lab; /* `proxy="..."[,server="..."]`, "" for the process */
	size_t llen;
};

/* A label value with Prometheus' escapes (\\, \", \n); `dst` holds
 * 2 * strlen(src). Returns the end. */
static char *escape(char *dst, const char *src)
{
	for (; *src; src++) {
		if (*src == '\\' || *src == '"' || *src == '\n')
			*dst++ = '\\';
		*dst++ = *src == '\n' ? 'n' : *src;
	}
	return dst;
}

/* Label texts live in one block per render. */
struct arena {
	char *buf;
	size_t len, cap;
};

static size_t label_room(const char *proxy, const char *server)
{
	return 2 * strlen(proxy) + (server ? 2 * strlen(server) : 0) + 24;
}

static void obj_label(struct arena *a, struct obj *o, const char *proxy, const char *server)
{
	char *start = a->buf + a->len, *p = start;

	memcpy(p, "proxy=\"", 7);
	p = escape(p + 7, proxy);
	*p++ = '"';
	if (server) {
		memcpy(p, ",server=\"", 9);
		p = escape(p + 9, server);
		*p++ = '"';
	}
	o->lab = start;
	o->llen = (size_t)(p - start);
	a->len += o->llen;
}

/* ------------------------------------------------------------------ */
/* Reading what the workers update */

static uint64_t ldu(const atomic_ullong *v)
{
	return atomic_load_explicit((atomic_ullong *)v, memory_order_relaxed);
}

static unsigned ldui(const atomic_uint *v)
{
	return atomic_load_explicit((atomic_uint *)v, memory_order_relaxed);
}

static int ldi(const atomic_int *v)
{
	return atomic_load_explicit((atomic_int *)v, memory_order_relaxed);
}

/* A one-hot gauge: 1 for the object's current value of the label. */
static uint64_t is(int cur, int k)
{
	return cur == k;
}

/* ------------------------------------------------------------------ */
/* global: the process */

struct p_proc {
	unsigned nbthread, maxconn, cur, listeners;
	uint64_t cum, max_fds;
	long uptime;
	long long start;
};

#define PROC(p) ((const struct p_proc *)(p))

static uint64_t proc_u(const void *p, int k, size_t off)
{
	return *(const unsigned *)((const char *)p + off);
}

static uint64_t proc_one(const void *p, int k, size_t arg)
{
	return 1;
}

static uint64_t proc_uptime(const void *p, int k, size_t arg)
{
	return PROC(p)->uptime < 0 ? 0 : (uint64_t)PROC(p)->uptime;
}

static uint64_t proc_start(const void *p, int k, size_t arg)
{
	return PROC(p)->start < 0 ? 0 : (uint64_t)PROC(p)->start;
}

static uint64_t proc_cum(const void *p, int k, size_t arg)
{
	return PROC(p)->cum;
}

static uint64_t proc_max_fds(const void *p, int k, size_t arg)
{
	return PROC(p)->max_fds;
}

static const char *version_value(int k)
{
	return k == 0 ? PACKAGE_VERSION : NULL;
}

#define PROC_U(f) .val = proc_u, .arg = offsetof(struct p_proc, f)

static const struct prom_row proc_rows[] = {
    {"haproxy_process_nbthread", PROM_GAUGE, "Number of started threads (global.nbthread)",
     PROC_U(nbthread)},
    {"haproxy_process_nbproc", PROM_GAUGE,
     "Number of started worker processes (historical, always 1)", .val = proc_one},
    {"haproxy_process_relative_process_id", PROM_GAUGE, "Relative worker process number (1)",
     .val = proc_one},
    {"haproxy_process_uptime_seconds", PROM_GAUGE,
     "How long ago this worker process was started (seconds)", .val = proc_uptime},
    {"haproxy_process_max_fds", PROM_GAUGE,
     "Hard limit on the number of per-process file descriptors", .val = proc_max_fds},
    {"haproxy_process_max_connections", PROM_GAUGE,
     "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)",
     PROC_U(maxconn)},
    {"haproxy_process_current_connections", PROM_GAUGE,
     "Current number of connections on this worker process", PROC_U(cur)},
    {"haproxy_process_connections_total", PROM_COUNTER,
     "Total number of connections on this worker process since started", .val = proc_cum},
    {"haproxy_process_listeners", PROM_GAUGE,
     "Current number of active listeners on the current worker process", PROC_U(listeners)},
    {"haproxy_process_build_info", PROM_GAUGE, "Build info",
     BY("version", version_value, proc_one)},
    {"haproxy_process_start_time_seconds", PROM_GAUGE, "Start time in seconds", .val = proc_start},
};

static void proc_fill(const struct gen *gen, long uptime, struct p_proc *p)
{
	struct rlimit rl;

	memset(p, 0, sizeof(*p));
	p->nbthread = gen->cfg->global.nbthread > 0 ? (unsigned)gen->cfg->global.nbthread : 1;
	p->maxconn = gen->cfg->global.maxconn;
	p->cur = workers_conns();
	p->uptime = uptime;
	/* the application counts uptime from its start in whole seconds, so
	 * this is its start time (off by one only if the second ticks
	 * between its time() and this one, microseconds apart) */
	p->start = (long long)time(NULL) - uptime;
	for (int i = 0; i < gen->nfe; i++) {
		p->cum += ldu(&gen->fes[i].ctr.conns);
		p->listeners += (unsigned)gen->fes[i].nbinds;
	}
	/* what accept() runs into: the soft limit (HAProxy's ulimit-n) */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		p->max_fds = rl.rlim_cur;
	else
		p->max_fds = PROM_NAN;
}

/* ------------------------------------------------------------------ */
/* frontend */

struct p_fe {
	const struct fe *fe;
	unsigned limit; /* its maxconn, else the global one */
};

#define FE(p) (((const struct p_fe *)(p))->fe)

static uint64_t fe_ctr(const void *p, int k, size_t off)
{
	return ldu((const atomic_ullong *)((const char *)&FE(p)->ctr + off));
}

static uint64_t fe_cur(const void *p, int k, size_t arg)
{
	return ldui(&FE(p)->cur_conns);
}

static uint64_t fe_limit(const void *p, int k, size_t arg)
{
	return ((const struct p_fe *)p)->limit;
}

/* HAProxy's sessions: connections not refused by tcp-request connection. */
static uint64_t fe_sessions(const void *p, int k, size_t arg)
{
	uint64_t conns = ldu(&FE(p)->ctr.conns), rej = ldu(&FE(p)->ctr.rejected);

	return conns > rej ? conns - rej : 0;
}

/* The refusal causes of a PROXY header: the codec's classes, then a
 * client that stayed silent or closed before a whole header. */
static const char *pp_cause(int k)
{
	if (k < PP_ERR_COUNT - 1)
		return pp_strerror((enum pp_error)(k + 1));
	return k == PP_ERR_COUNT - 1 ? "timeout" : k == PP_ERR_COUNT ? "closed" : NULL;
}

static uint64_t fe_pp_refusal(const void *p, int k, size_t arg)
{
	const struct fe_counters *c = &FE(p)->ctr;

	if (k < PP_ERR_COUNT - 1)
		return ldu(&c->pp_errors[k + 1]);
	return k == PP_ERR_COUNT - 1 ? ldu(&c->pp_timeout) : ldu(&c->pp_closed);
}

/* ereq, as `show stat`: invalid HTTP requests and refused PROXY headers. */
static uint64_t fe_req_errors(const void *p, int k, size_t arg)
{
	uint64_t n = ldu(&FE(p)->ctr.http_errors);

	for (int i = 0; pp_cause(i); i++)
		n += fe_pp_refusal(p, i, 0);
	return n;
}

static const char *up_down(int k)
{
	static const char *const v[] = {"DOWN", "UP"};
	return k < 2 ? v[k] : NULL;
}

/* A frontend is never stopped alone: it serves while the process does. */
static uint64_t fe_status(const void *p, int k, size_t arg)
{
	return is(1, k);
}

/* The strategies `set frontend ... client-ip` takes, in enum order. */
static const char *strategy_value(int k)
{
	return k + CFG_CLIENT_IP_NONE <= CFG_CLIENT_IP_AUTO
	           ? cfg_client_ip_name((enum cfg_client_ip)(k + CFG_CLIENT_IP_NONE))
	           : NULL;
}

static uint64_t fe_strategy(const void *p, int k, size_t arg)
{
	return is(ldi(&FE(p)->client_ip) - CFG_CLIENT_IP_NONE, k);
}

static const char *path_value(int k)
{
	static const char *const v[] = {"xff", "proxy", "plain"};
	return k < 3 ? v[k] : NULL;
}

static uint64_t fe_path(const void *p, int k, size_t arg)
{
	const struct fe_counters *c = &FE(p)->ctr;

	return ldu(k == 0 ? &c->path_xff : k == 1 ? &c->path_proxy : &c->path_plain);
}

#define FE_CTR(f) .val = fe_ctr, .arg = offsetof(struct fe_counters, f)

static const struct prom_row fe_rows[] = {
    {"haproxy_frontend_current_sessions", PROM_GAUGE,
     "Number of current sessions on the frontend, backend or server", .val = fe_cur},
    {"haproxy_frontend_limit_sessions", PROM_GAUGE,
     "Frontend/listener/server's maxconn, backend's fullconn", .val = fe_limit},
    {"haproxy_frontend_sessions_total", PROM_COUNTER,
     "Total number of sessions since process started", .val = fe_sessions},
    {"haproxy_frontend_bytes_in_total", PROM_COUNTER,
     "Total number of request bytes since process started", FE_CTR(bytes_in)},
    {"haproxy_frontend_bytes_out_total", PROM_COUNTER,
     "Total number of response bytes since process started", FE_CTR(bytes_out)},
    {"haproxy_frontend_request_errors_total", PROM_COUNTER,
     "Total number of invalid requests since process started", .val = fe_req_errors},
    {"haproxy_frontend_status", PROM_GAUGE, "Current status of the service, per state label value.",
     BY("state", up_down, fe_status)},
    {"haproxy_frontend_connections_total", PROM_COUNTER,
     "Total number of new connections accepted on this frontend since the worker process "
     "started",
     FE_CTR(conns)},
    {"haproxy_frontend_denied_connections_total", PROM_COUNTER,
     "Total number of incoming connections blocked on a listener/frontend by a tcp-request "
     "connection rule since the worker process started",
     FE_CTR(rejected)},
    {"haproxy_frontend_requests_denied_total", PROM_COUNTER,
     "Total number of denied requests since process started", FE_CTR(denied_req)},
};

static const struct prom_row ppb_fe_rows[] = {
    {"ppbridge_frontend_client_ip", PROM_GAUGE,
     "Client-IP strategy in force (1 for the current one, per strategy label value).",
     BY("strategy", strategy_value, fe_strategy)},
    {"ppbridge_frontend_client_ip_paths_total", PROM_COUNTER,
     "Connections by the client-IP path they took: xff (terminated, or plain HTTP, with "
     "X-Forwarded-For), proxy (passed through behind a PROXY header), plain (passed through "
     "as they came).",
     BY("path", path_value, fe_path)},
    {"ppbridge_frontend_auto_retries_total", PROM_COUNTER,
     "client-ip auto: connections retried the other way.", FE_CTR(auto_retries)},
    {"ppbridge_frontend_client_ip_switches_total", PROM_COUNTER,
     "Runtime client-ip strategy changes.", FE_CTR(switches)},
    {"ppbridge_frontend_proxy_accepted_total", PROM_COUNTER,
     "Connections whose PROXY header was accepted (accept-proxy).", FE_CTR(pp_accepted)},
    {"ppbridge_frontend_proxy_refusals_total", PROM_COUNTER,
     "Connections refused for a bad or missing PROXY header, per cause label value.",
     BY("cause", pp_cause, fe_pp_refusal)},
    {"ppbridge_frontend_no_server_total", PROM_COUNTER, "Connections refused: no usable server.",
     FE_CTR(no_server)},
    {"ppbridge_frontend_connect_failures_total", PROM_COUNTER,
     "Connections for which every server attempt failed.", FE_CTR(conn_fail)},
    {"ppbridge_frontend_tls_handshakes_total", PROM_COUNTER,
     "Client TLS handshakes completed (bind ... ssl).", FE_CTR(tls_handshakes)},
    {"ppbridge_frontend_tls_resumed_total", PROM_COUNTER,
     "Client TLS handshakes that resumed a session.", FE_CTR(tls_resumed)},
    {"ppbridge_frontend_descriptor_shortages_total", PROM_COUNTER,
     "Out of descriptors: accept paused, or a server connection refused (503/close).",
     FE_CTR(fd_exhausted)},
};

/* ------------------------------------------------------------------ */
/* server */

/* HAProxy's server states, in its order. */
enum p_srv_state {
	SST_DOWN = 0,
	SST_UP,
	SST_MAINT,
	SST_DRAIN,
	SST_NOLB, /* HAProxy's stopping state: ppbridge has none, never set */
	SST_COUNT,
};

static const char *srv_state_value(int k)
{
	static const char *const v[SST_COUNT] = {"DOWN", "UP", "MAINT", "DRAIN", "NOLB"};
	return k < SST_COUNT ? v[k] : NULL;
}

static enum p_srv_state srv_state(const struct srv *s)
{
	if (ldi(&s->maint))
		return SST_MAINT;
	if (!ldi(&s->up))
		return SST_DOWN;
	return ldi(&s->drain) ? SST_DRAIN : SST_UP;
}

/* HAProxy's check statuses that end a check, in its order; the check
 * module words its outcomes as HAProxy's descriptions of them. */
static const struct {
	const char *code;
	const char *reason; /* what our outcome starts with, NULL: never ours */
} check_statuses[] = {
    {"HANA", NULL},
    {"SOCKERR", NULL},
    {"L4OK", "Layer4 check passed"},
    {"L4TOUT", "Layer4 timeout"},
    {"L4CON", "Layer4 connection problem"},
    {"L6OK", "Layer6 check passed"},
    {"L6TOUT", "Layer6 timeout"},
    {"L6RSP", "Layer6 invalid response"},
    {"L7TOUT", "Layer7 timeout"},
    {"L7RSP", "Layer7 invalid response"},
    {"L7OK", "Layer7 check passed"},
    {"L7OKC", NULL},
    {"L7STS", "Layer7 wrong status"},
    {"PROCERR", NULL},
    {"PROCTOUT", NULL},
    {"PROCOK", NULL},
};
#define NCHECK_ST ((int)(sizeof(check_statuses) / sizeof(check_statuses[0])))

static const char *check_value(int k)
{
	return k < NCHECK_ST ? check_statuses[k].code : NULL;
}

/* The index of an outcome's status, -1 before the first check. */
static int check_index(const char *reason)
{
	for (int i = 0; reason && i < NCHECK_ST; i++)
		if (check_statuses[i].reason &&
		    !strncmp(reason, check_statuses[i].reason, strlen(check_statuses[i].reason)))
			return i;
	return -1;
}

/* The HTTP status of a layer 7 outcome ("...: 503"), 0 for others. */
static unsigned check_code(const char *reason)
{
	const char *colon = reason && !strncmp(reason, "Layer7 ", 7) ? strrchr(reason, ':') : NULL;
	unsigned code = 0;

	for (const char *p = colon ? colon + 2 : ""; *p >= '0' && *p <= '9' && code < 1000; p++)
		code = code * 10 + (unsigned)(*p - '0');
	return code < 1000 ? code : 0;
}

struct p_srv {
	const struct srv *s;
	enum p_srv_state state;
	int checked; /* HAProxy prints check lines only while checks run */
	int check;   /* index in check_statuses[], -1 none yet */
	unsigned code;
};

#define SRV(p) (((const struct p_srv *)(p))->s)
#define PSRV(p) ((const struct p_srv *)(p))

static void srv_fill(const struct srv *s, struct p_srv *p)
{
	p->s = s;
	p->state = srv_state(s);
	/* HAProxy pauses the checks of a server in maintenance */
	p->checked = s->conf->check && p->state != SST_MAINT;
	p->check = check_index(s->last_check);
	p->code = check_code(s->last_check);
}

static uint64_t srv_ctr(const void *p, int k, size_t off)
{
	return ldu((const atomic_ullong *)((const char *)SRV(p) + off));
}

static uint64_t srv_cur(const void *p, int k, size_t arg)
{
	return ldui(&SRV(p)->cur_conns);
}

static uint64_t srv_limit(const void *p, int k, size_t arg)
{
	return SRV(p)->conf->maxconn > 0 ? (uint64_t)SRV(p)->conf->maxconn : PROM_NAN;
}

static uint64_t srv_status(const void *p, int k, size_t arg)
{
	return is((int)PSRV(p)->state, k);
}

static uint64_t srv_weight_v(const void *p, int k, size_t arg)
{
	return (uint64_t)srv_weight(SRV(p));
}

static uint64_t srv_check_status(const void *p, int k, size_t arg)
{
	if (!PSRV(p)->checked)
		return PROM_SKIP;
	return is(PSRV(p)->check, k);
}

static uint64_t srv_check_code(const void *p, int k, size_t arg)
{
	return PSRV(p)->checked ? PSRV(p)->code : PROM_SKIP;
}

static uint64_t srv_health(const void *p, int k, size_t arg)
{
	return SRV(p)->conf->check ? (uint64_t)SRV(p)->health.health : PROM_SKIP;
}

static const char *pp_mode_value(int k)
{
	static const char *const v[] = {"plain", "proxy", "unknown"};
	return k < 3 ? v[k] : NULL;
}

static uint64_t srv_pp_mode_v(const void *p, int k, size_t arg)
{
	enum srv_pp_mode m = srv_pp_mode(SRV(p));

	return is(m == SRV_PP_PLAIN ? 0 : m == SRV_PP_PROXY ? 1 : 2, k);
}

/* Handshakes of our TLS connections to the server (`ssl`): all (arg 0)
 * or resumed (arg 1); no line without `ssl`. */
static uint64_t srv_tls(const void *p, int k, size_t resumed)
{
	unsigned long r = 0, f = 0;

	if (!SRV(p)->tls)
		return PROM_SKIP;
	tls_client_stats(SRV(p)->tls, &r, &f);
	return resumed ? r : r + f;
}

#define SRV_CTR(f) .val = srv_ctr, .arg = offsetof(struct srv, f)

static const struct prom_row srv_rows[] = {
    {"haproxy_server_current_sessions", PROM_GAUGE,
     "Number of current sessions on the frontend, backend or server", .val = srv_cur},
    {"haproxy_server_limit_sessions", PROM_GAUGE,
     "Frontend/listener/server's maxconn, backend's fullconn", .val = srv_limit},
    {"haproxy_server_sessions_total", PROM_COUNTER,
     "Total number of sessions since process started", SRV_CTR(total_conns)},
    /* HAProxy's bytes in are what the client sent, on every object */
    {"haproxy_server_bytes_in_total", PROM_COUNTER,
     "Total number of request bytes since process started", SRV_CTR(bytes_out)},
    {"haproxy_server_bytes_out_total", PROM_COUNTER,
     "Total number of response bytes since process started", SRV_CTR(bytes_in)},
    {"haproxy_server_connection_errors_total", PROM_COUNTER,
     "Total number of failed connections to server since the worker process started",
     SRV_CTR(conn_failures)},
    {"haproxy_server_status", PROM_GAUGE, "Current status of the service, per state label value.",
     BY("state", srv_state_value, srv_status)},
    {"haproxy_server_weight", PROM_GAUGE,
     "Server's effective weight, or sum of active servers' effective weights for a backend",
     .val = srv_weight_v},
    {"haproxy_server_loadbalanced_total", PROM_COUNTER,
     "Total number of requests routed by load balancing since the worker process started "
     "(ignores queue pop and stickiness)",
     SRV_CTR(total_conns)},
    {"haproxy_server_check_status", PROM_GAUGE,
     "Status of last health check, per state label value.",
     BY("state", check_value, srv_check_status)},
    {"haproxy_server_check_code", PROM_GAUGE,
     "layer5-7 code, if available of the last health check.", .val = srv_check_code},
    {"haproxy_server_uweight", PROM_GAUGE,
     "Server's user weight, or sum of active servers' user weights for a backend",
     .val = srv_weight_v},
};

static const struct prom_row ppb_srv_rows[] = {
    {"ppbridge_server_proxy_mode", PROM_GAUGE,
     "client-ip auto: what the server was found to take on its data port, per mode label "
     "value.",
     BY("mode", pp_mode_value, srv_pp_mode_v)},
    {"ppbridge_server_proxy_mode_changes_total", PROM_COUNTER,
     "client-ip auto: changes of the detected PROXY mode.", SRV_CTR(pp_mode_changes)},
    {"ppbridge_server_check_health", PROM_GAUGE,
     "Health-check counter (UP at >= rise, 0..rise+fall-1).", .val = srv_health},
    {"ppbridge_server_tls_handshakes_total", PROM_COUNTER,
     "TLS handshakes to the server (server ... ssl), full and resumed.", .val = srv_tls, .arg = 0},
    {"ppbridge_server_tls_resumed_total", PROM_COUNTER,
     "TLS handshakes to the server that resumed a session.", .val = srv_tls, .arg = 1},
};

/* ------------------------------------------------------------------ */
/* backend: sums over its servers */

struct p_be {
	unsigned cur, weight, act, bck;
	uint64_t tot, in, out, econ;
	int up;
	unsigned agg[SST_COUNT]; /* servers per state */
};

#define PBE(p) ((const struct p_be *)(p))

/* HAProxy's farm: UP, neither in maintenance nor draining, weight > 0;
 * a full server (maxconn) stays in it. */
static void be_fill(const struct be *be, struct p_be *p)
{
	unsigned wact = 0, wbck = 0;

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < be->nsrv; i++) {
		const struct srv *s = &be->srvs[i];
		enum p_srv_state st = srv_state(s);
		int w = srv_weight(s);
		p->cur += ldui(&s->cur_conns);
		p->tot += ldu(&s->total_conns);
		p->in += ldu(&s->bytes_out);
		p->out += ldu(&s->bytes_in);
		p->econ += ldu(&s->conn_failures);
		p->agg[st]++;
		if (st != SST_UP || w <= 0)
			continue;
		if (s->conf->backup) {
			p->bck++;
			wbck += (unsigned)w;
		} else {
			p->act++;
			wact += (unsigned)w;
		}
	}
	/* the backup servers carry the load only when no active one can */
	p->weight = p->act ? wact : wbck;
	p->up = be->nsrv == 0 || p->weight > 0;
}

static uint64_t be_u(const void *p, int k, size_t off)
{
	return *(const unsigned *)((const char *)p + off);
}

static uint64_t be_u64(const void *p, int k, size_t off)
{
	return *(const uint64_t *)((const char *)p + off);
}

static uint64_t be_status(const void *p, int k, size_t arg)
{
	return is(PBE(p)->up, k);
}

static uint64_t be_agg(const void *p, int k, size_t arg)
{
	return PBE(p)->agg[k];
}

#define BE_U(f) .val = be_u, .arg = offsetof(struct p_be, f)
#define BE_U64(f) .val = be_u64, .arg = offsetof(struct p_be, f)

static const struct prom_row be_rows[] = {
    {"haproxy_backend_current_sessions", PROM_GAUGE,
     "Number of current sessions on the frontend, backend or server", BE_U(cur)},
    {"haproxy_backend_sessions_total", PROM_COUNTER,
     "Total number of sessions since process started", BE_U64(tot)},
    {"haproxy_backend_bytes_in_total", PROM_COUNTER,
     "Total number of request bytes since process started", BE_U64(in)},
    {"haproxy_backend_bytes_out_total", PROM_COUNTER,
     "Total number of response bytes since process started", BE_U64(out)},
    {"haproxy_backend_connection_errors_total", PROM_COUNTER,
     "Total number of failed connections to server since the worker process started", BE_U64(econ)},
    {"haproxy_backend_status", PROM_GAUGE, "Current status of the service, per state label value.",
     BY("state", up_down, be_status)},
    {"haproxy_backend_weight", PROM_GAUGE,
     "Server's effective weight, or sum of active servers' effective weights for a backend",
     BE_U(weight)},
    {"haproxy_backend_active_servers", PROM_GAUGE,
     "Total number of active UP servers with a non-zero weight", BE_U(act)},
    {"haproxy_backend_backup_servers", PROM_GAUGE,
     "Total number of backup UP servers with a non-zero weight", BE_U(bck)},
    {"haproxy_backend_loadbalanced_total", PROM_COUNTER,
     "Total number of requests routed by load balancing since the worker process started "
     "(ignores queue pop and stickiness)",
     BE_U64(tot)},
    {"haproxy_backend_uweight", PROM_GAUGE,
     "Server's user weight, or sum of active servers' user weights for a backend", BE_U(weight)},
    {"haproxy_backend_agg_server_status", PROM_GAUGE,
     "Backend's aggregated gauge of servers' status", BY("state", srv_state_value, be_agg)},
};

/* ------------------------------------------------------------------ */
/* Writing families */

static const char *type_name(enum prom_type t)
{
	return t == PROM_COUNTER ? "counter" : "gauge";
}

static void put_head(struct pw *w, const struct prom_row *r)
{
	pw_str(w, "# HELP ");
	pw_str(w, r->name);
	pw_put(w, " ", 1);
	pw_str(w, r->help);
	pw_str(w, "\n# TYPE ");
	pw_str(w, r->name);
	pw_put(w, " ", 1);
	pw_str(w, type_name(r->type));
	pw_put(w, "\n", 1);
}

static char *mem_put(char *p, const char *s, size_t len)
{
	memcpy(p, s, len);
	return p + len;
}

/* The decimal digits of v (or NaN) at p; returns the end. */
static char *u64_put(char *p, uint64_t v)
{
	char t[24], *d = t + sizeof(t);

	if (v == PROM_NAN)
		return mem_put(p, "NaN", 3);
	do {
		*--d = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return mem_put(p, d, (size_t)(t + sizeof(t) - d));
}

/* `name{labels} value\n`, written straight into the block: one room
 * check a line, the hot path of a render. */
static void put_line(struct pw *w, const struct prom_row *r, size_t nlen, const struct obj *o,
                     const char *lv, uint64_t v)
{
	size_t lablen = r->label ? strlen(r->label) : 0, lvlen = r->label ? strlen(lv) : 0;
	size_t room = nlen + o->llen + lablen + lvlen + 8 + 24;
	char *p;

	if (room > sizeof(w->buf) - w->n)
		pw_flush(w);
	if (room > sizeof(w->buf)) {
		pw_put(w, "# label too long\n", 17); /* a name of 8 KiB: not ours to print */
		return;
	}
	p = mem_put(w->buf + w->n, r->name, nlen);
	if (o->llen || r->label) {
		*p++ = '{';
		p = mem_put(p, o->lab, o->llen);
		if (r->label) {
			if (o->llen)
				*p++ = ',';
			p = mem_put(p, r->label, lablen);
			p = mem_put(p, "=\"", 2);
			p = mem_put(p, lv, lvlen);
			*p++ = '"';
		}
		*p++ = '}';
	}
	*p++ = ' ';
	p = u64_put(p, v);
	*p++ = '\n';
	w->n = (size_t)(p - w->buf);
}

/* Each family for every object, HAProxy's way: a family's lines together,
 * its HELP and TYPE before the first. */
static void put_rows(struct pw *w, const struct prom_row *rows, size_t nrows,
                     const struct obj *objs, size_t nobj)
{
	for (size_t r = 0; r < nrows; r++) {
		const struct prom_row *row = &rows[r];
		size_t nlen = strlen(row->name);
		int head = 0;
		for (size_t i = 0; i < nobj; i++) {
			const char *lv;
			for (int k = 0; (lv = row->label_value ? row->label_value(k)
			                      : k              ? NULL
			                                       : "");
			     k++) {
				uint64_t v = row->val(objs[i].p, k, row->arg);
				if (v == PROM_SKIP)
					continue;
				if (!head)
					put_head(w, row);
				head = 1;
				put_line(w, row, nlen, &objs[i], lv, v);
			}
		}
	}
}

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

/* ------------------------------------------------------------------ */
/* The render: objects prepared once, then the scopes in HAProxy's order */

struct prep {
	struct arena a;
	struct p_fe *fes;
	struct p_be *bes;
	struct p_srv *srvs;
	struct obj *fe_objs, *be_objs, *srv_objs;
	size_t nsrv;
};

static void prep_free(struct prep *p)
{
	free(p->a.buf);
	free(p->fes);
	free(p->bes);
	free(p->srvs);
	free(p->fe_objs);
	free(p->be_objs);
	free(p->srv_objs);
}

static size_t count_room(const struct gen *gen, size_t *nsrv)
{
	size_t room = 0;

	*nsrv = 0;
	for (int i = 0; i < gen->nfe; i++)
		room += label_room(gen->fes[i].conf->name, NULL);
	for (int b = 0; b < gen->nbe; b++) {
		room += label_room(gen->bes[b].conf->name, NULL);
		for (int k = 0; k < gen->bes[b].nsrv; k++)
			room += label_room(gen->bes[b].conf->name, gen->bes[b].srvs[k].conf->name);
		*nsrv += (size_t)gen->bes[b].nsrv;
	}
	return room;
}

static int prep_alloc(const struct gen *gen, struct prep *p)
{
	size_t nfe = (size_t)gen->nfe + 1, nbe = (size_t)gen->nbe + 1, ns;

	memset(p, 0, sizeof(*p));
	p->a.cap = count_room(gen, &ns) + 1;
	ns++;
	p->a.buf = malloc(p->a.cap);
	p->fes = calloc(nfe, sizeof(*p->fes));
	p->fe_objs = calloc(nfe, sizeof(*p->fe_objs));
	p->bes = calloc(nbe, sizeof(*p->bes));
	p->be_objs = calloc(nbe, sizeof(*p->be_objs));
	p->srvs = calloc(ns, sizeof(*p->srvs));
	p->srv_objs = calloc(ns, sizeof(*p->srv_objs));
	return p->a.buf && p->fes && p->fe_objs && p->bes && p->be_objs && p->srvs && p->srv_objs
	           ? 0
	           : -1;
}

static void prep_fill(const struct gen *gen, unsigned scopes, bool no_maint, struct prep *p)
{
	for (int i = 0; i < gen->nfe; i++) {
		const struct fe *fe = &gen->fes[i];
		p->fes[i].fe = fe;
		p->fes[i].limit = fe->conf->maxconn ? fe->conf->maxconn : gen->cfg->global.maxconn;
		p->fe_objs[i].p = &p->fes[i];
		obj_label(&p->a, &p->fe_objs[i], fe->conf->name, NULL);
	}
	for (int b = 0; b < gen->nbe; b++) {
		const struct be *be = &gen->bes[b];
		if (scopes & PROM_SCOPE_BACKEND)
			be_fill(be, &p->bes[b]);
		p->be_objs[b].p = &p->bes[b];
		obj_label(&p->a, &p->be_objs[b], be->conf->name, NULL);
		for (int k = 0; k < be->nsrv && (scopes & PROM_SCOPE_SERVER); k++) {
			struct p_srv *ps = &p->srvs[p->nsrv];
			srv_fill(&be->srvs[k], ps);
			if (no_maint && ps->state == SST_MAINT)
				continue;
			p->srv_objs[p->nsrv].p = ps;
			obj_label(&p->a, &p->srv_objs[p->nsrv], be->conf->name,
			          be->srvs[k].conf->name);
			p->nsrv++;
		}
	}
}

/* ---- stick tables: HAProxy's two gauges, ppbridge's two counters ---- */

#define TBL(p) ((const struct stktable *)(p))

static uint64_t tbl_size(const void *p, int k, size_t arg)
{
	return TBL(p)->size;
}

static uint64_t tbl_used(const void *p, int k, size_t arg)
{
	return atomic_load_explicit((atomic_uint *)&TBL(p)->used, memory_order_relaxed);
}

static uint64_t tbl_ctr(const void *p, int k, size_t arg)
{
	return ldu((const atomic_ullong *)((const char *)p + arg));
}

static const struct prom_row tbl_rows[] = {
    {"haproxy_sticktable_size", PROM_GAUGE, "Stick table size.", .val = tbl_size},
    {"haproxy_sticktable_used", PROM_GAUGE, "Number of entries used in this stick table.",
     .val = tbl_used},
    {"ppbridge_sticktable_evicted_total", PROM_COUNTER,
     "Unused entries dropped to make room for a new source.", .val = tbl_ctr,
     .arg = offsetof(struct stktable, evicted)},
    {"ppbridge_sticktable_untracked_total", PROM_COUNTER,
     "Sources not tracked because every entry was in use (fail-open).", .val = tbl_ctr,
     .arg = offsetof(struct stktable, untracked)},
};

/* Labels `name="<table>",type="ip"`, as HAProxy's exporter writes them. */
static void put_tables(struct pw *w, const struct gen *gen)
{
	struct obj *objs = calloc((size_t)gen->ntables + 1, sizeof(*objs));
	struct arena a = {0};

	for (int i = 0; i < gen->ntables; i++)
		a.cap += 2 * strlen(gen->tables[i].t->name) + 32;
	a.buf = malloc(a.cap + 1);
	if (!objs || !a.buf) {
		free(objs);
		free(a.buf);
		w->out->truncated = true;
		return;
	}
	for (int i = 0; i < gen->ntables; i++) {
		const struct stktable *t = gen->tables[i].t;
		char *start = a.buf + a.len, *p = start;
		memcpy(p, "name=\"", 6);
		p = escape(p + 6, t->name);
		p += sprintf(p, "\",type=\"%s\"", stk_type_name(t->type));
		objs[i].p = t;
		objs[i].lab = start;
		objs[i].llen = (size_t)(p - start);
		a.len += objs[i].llen;
	}
	put_rows(w, tbl_rows, NROWS(tbl_rows), objs, (size_t)gen->ntables);
	free(objs);
	free(a.buf);
}

void prom_render(const struct gen *gen, const struct prom_opts *o, long uptime_s,
                 struct adm_out *out)
{
	struct prom_opts all = {.scopes = PROM_SCOPE_ALL, .no_maint = false};
	struct pw *w = malloc(sizeof(*w)); /* 16 KiB: not on the stack */
	struct p_proc proc;
	struct obj proc_obj = {&proc, "", 0};
	struct prep p;

	if (!o)
		o = &all;
	if (prep_alloc(gen, &p) < 0 || !w) {
		free(w);
		prep_free(&p);
		out->truncated = true; /* the caller answers an error */
		return;
	}
	w->out = out;
	w->n = 0;
	prep_fill(gen, o->scopes, o->no_maint, &p);
	if (o->scopes & PROM_SCOPE_GLOBAL) {
		proc_fill(gen, uptime_s, &proc);
		put_rows(w, proc_rows, NROWS(proc_rows), &proc_obj, 1);
	}
	if (o->scopes & PROM_SCOPE_FRONTEND) {
		put_rows(w, fe_rows, NROWS(fe_rows), p.fe_objs, (size_t)gen->nfe);
		put_rows(w, ppb_fe_rows, NROWS(ppb_fe_rows), p.fe_objs, (size_t)gen->nfe);
	}
	if (o->scopes & PROM_SCOPE_BACKEND)
		put_rows(w, be_rows, NROWS(be_rows), p.be_objs, (size_t)gen->nbe);
	if (o->scopes & PROM_SCOPE_SERVER) {
		put_rows(w, srv_rows, NROWS(srv_rows), p.srv_objs, p.nsrv);
		put_rows(w, ppb_srv_rows, NROWS(ppb_srv_rows), p.srv_objs, p.nsrv);
	}
	if (o->scopes & PROM_SCOPE_STICKTABLE)
		put_tables(w, gen);
	pw_flush(w);
	free(w);
	prep_free(&p);
}
