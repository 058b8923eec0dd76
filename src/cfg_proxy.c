/* cfg_proxy.c - frontend, backend, listen and defaults sections: their
 * lifecycle and defaults inheritance, the proxy keyword table, timeouts
 * and options. `bind`, `server` and the rules have files of their own.
 */
#include <config.h>

#include "cfg_int.h"

#include "acl.h"
#include "net.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_proxy_free(struct cfg_proxy *p)
{
	struct cfg_bind *b = p->binds;
	struct cfg_server *s = p->servers;

	while (b) {
		struct cfg_bind *next = b->next;
		cfg_bind_free(b);
		b = next;
	}
	while (s) {
		struct cfg_server *next = s->next;
		cfg_server_free_fields(s);
		free(s);
		s = next;
	}
	cfg_server_free_fields(&p->defsrv);
	cfg_httpchk_clear_rules(&p->httpchk);
	cfg_tcp_rules_free(p->tcp_conn_rules);
	cfg_tcp_rules_free(p->tcp_content_rules);
	while (p->use_backends) {
		struct cfg_use_backend *next = p->use_backends->next;
		acl_cond_free(p->use_backends->cond);
		free(p->use_backends->name);
		free(p->use_backends);
		p->use_backends = next;
	}
	cfg_http_rules_free(p->http_rules);
	cfg_stats_free(&p->stats);
	free(p->monitor_uri);
	cfg_monitor_fails_free(p->monitor_fails);
	free(p->forwardfor.header);
	acl_list_free(p->acls);
	cfg_log_free_list(p->logs);
	free(p->default_backend);
	free(p->name);
	free(p);
}

/* What a proxy starts with when no defaults section precedes it. */
struct cfg_proxy *cfg_proxy_new_builtin(void)
{
	struct cfg_proxy *p = cfg_xcalloc(1, sizeof(*p));

	p->mode = CFG_MODE_TCP;
	p->balance = CFG_BALANCE_ROUNDROBIN;
	p->retries = CFG_DEFAULT_RETRIES;
	p->redispatch_interval = -1;
	cfg_server_init_defaults(&p->defsrv);
	return p;
}

/* A proxy copies every setting of its defaults section (HAProxy copies
 * the whole defaults proxy, then the section overrides what it writes).
 * Binds and servers are not settings a defaults section can hold. */
void cfg_proxy_inherit(struct cfg_proxy *p, const struct cfg_proxy *def)
{
	p->mode = def->mode;
	p->mode_where = def->mode_where;
	if (def->default_backend && (p->caps & (CFG_CAP_FE | CFG_CAP_DEF))) {
		p->default_backend = cfg_xstrdup(def->default_backend);
		p->default_backend_where = def->default_backend_where;
	}
	p->balance = def->balance;
	p->hash_type = def->hash_type;
	p->hash_fn = def->hash_fn;
	p->hash_avalanche = def->hash_avalanche;
	cfg_server_free_fields(&p->defsrv);
	cfg_server_copy_settings(&p->defsrv, &def->defsrv);
	p->timeout = def->timeout;
	p->maxconn = def->maxconn;
	p->retries = def->retries;
	p->redispatch_interval = def->redispatch_interval;
	p->options = def->options;
	p->options_set = def->options_set;
	free(p->forwardfor.header);
	p->forwardfor = def->forwardfor;
	p->forwardfor.header = cfg_xstrdup(def->forwardfor.header);
	p->http_reuse = def->http_reuse;
	p->srv_state_load = def->srv_state_load;
	cfg_stats_inherit(&p->stats, &def->stats);
	if (p->caps & (CFG_CAP_FE | CFG_CAP_DEF))
		cfg_set_str(&p->monitor_uri, def->monitor_uri);
	/* http-request rules stay with their section: HAProxy 2.6 does not
	 * copy them from defaults. */
	cfg_httpchk_clear_rules(&p->httpchk);
	cfg_httpchk_copy(&p->httpchk, &def->httpchk);
	cfg_log_free_list(p->logs);
	p->logs = cfg_log_copy_list(def->logs);
	p->log_global = def->log_global;
}

struct cfg_proxy *cfg_find_proxy(const struct cfg *cfg, const char *name, unsigned caps)
{
	for (struct cfg_proxy *p = cfg->proxies; p; p = p->next)
		if ((p->caps & caps) && !strcmp(p->name, name))
			return p;
	return NULL;
}

struct cfg_proxy *cfg_find_defaults(const struct cfg *cfg, const char *name)
{
	struct cfg_proxy *found = NULL;

	/* The list is in declaration order: the last one of a name wins. */
	for (struct cfg_proxy *p = cfg->defaults; p; p = p->next)
		if (p->name && !strcmp(p->name, name))
			found = p;
	return found;
}

/* ------------------------------------------------------------------ */
/* Proxy keywords */

static int kw_mode(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;

	if (!strcmp(argv[1], "tcp")) {
		ps->cur->mode = CFG_MODE_TCP;
	} else if (!strcmp(argv[1], "http")) {
		ps->cur->mode = CFG_MODE_HTTP;
	} else if (!strcmp(argv[1], "health")) {
		ERR(ps, "'mode' expects %s ('health' is not supported)", k->usage);
		return -1;
	} else {
		return cfg_kw_usage(c, k);
	}
	ps->cur->mode_where = ps->where;
	return 0;
}

static int kw_default_backend(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;

	if (!cfg_valid_name(argv[1]))
		return cfg_kw_usage(c, k);
	cfg_set_str(&ps->cur->default_backend, argv[1]);
	ps->cur->default_backend_where = ps->where;
	return 0;
}

static int kw_balance(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	static const char *const names[] = {"roundrobin", "source", "leastconn"};
	int i = argc >= 2 ? cfg_name_index(names, 3, argv[1]) : -1;

	if (i < 0 || argc != 2) {
		ERR(c->ps,
		    "'balance'%s%s%s: supported algorithms are roundrobin, source and "
		    "leastconn",
		    argc >= 2 ? " '" : "", argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
		return -1;
	}
	c->ps->cur->balance = (enum cfg_balance)i;
	return 0;
}

static int kw_hash_type(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	static const char *const fns[] = {"sdbm", "djb2", "wt6", "crc32", "none"};
	struct cfg_pstate *ps = c->ps;
	struct cfg_proxy *p = ps->cur;
	int fn = CFG_HASH_FN_SDBM, aval = 0;

	if (argc >= 3 && (fn = cfg_name_index(fns, 5, argv[2])) < 0) {
		ERR(ps, "'hash-type': unknown hash function '%s' (sdbm, djb2, wt6, crc32, none)",
		    argv[2]);
		return -1;
	}
	if (argc == 4) {
		if (strcmp(argv[3], "avalanche") != 0) {
			ERR(ps, "'hash-type': unknown modifier '%s' (avalanche)", argv[3]);
			return -1;
		}
		aval = 1;
	}
	if (!strcmp(argv[1], "map-based")) {
		p->hash_type = CFG_HASH_MAP_BASED;
	} else if (!strcmp(argv[1], "consistent")) {
		p->hash_type = CFG_HASH_CONSISTENT;
	} else {
		ERR(ps, "'hash-type': unknown method '%s' (map-based or consistent)", argv[1]);
		return -1;
	}
	p->hash_fn = (enum cfg_hash_fn)fn;
	p->hash_avalanche = aval;
	return 0;
}

static int kw_log(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;

	if (!strcmp(argv[1], "global")) {
		if (argc > 2) {
			ERR(ps, "'log global' takes no value");
			return -1;
		}
		ps->cur->log_global = 1;
		return 0;
	}
	return cfg_log_parse(ps, argc, argv, &ps->cur->logs);
}

static const char *const client_ip_names[] = {NULL, "none", "xff", "proxy-v1", "proxy-v2", "auto"};

const char *cfg_client_ip_name(enum cfg_client_ip v)
{
	if (v == CFG_CLIENT_IP_UNSET ||
	    (unsigned)v >= sizeof(client_ip_names) / sizeof(client_ip_names[0]))
		return "unset";
	return client_ip_names[v];
}

int cfg_client_ip_parse(const char *name)
{
	for (size_t i = 1; i < sizeof(client_ip_names) / sizeof(client_ip_names[0]); i++)
		if (!strcmp(name, client_ip_names[i]))
			return (int)i;
	return -1;
}

/* `client-ip none|xff|proxy-v1|proxy-v2|auto` (a ppbridge keyword). */
static int kw_client_ip(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	int v = cfg_client_ip_parse(argv[1]);

	if (v < 0)
		return cfg_kw_usage(c, k);
	c->ps->cur->client_ip = (enum cfg_client_ip)v;
	return 0;
}

static int kw_http_reuse(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	/* In enum cfg_http_reuse order. */
	static const char *const names[] = {"safe", "never", "aggressive", "always"};
	int i = argc == 2 ? cfg_name_index(names, 4, argv[1]) : -1;

	if (i < 0) {
		ERR(c->ps, "'http-reuse' expects never, safe, aggressive or always%s%s%s",
		    argc >= 2 ? ", got '" : "", argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
		return -1;
	}
	c->ps->cur->http_reuse = (enum cfg_http_reuse)i;
	return 0;
}

static int kw_load_server_state(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;

	if (!strcmp(argv[1], "global")) {
		ps->cur->srv_state_load = CFG_SRV_STATE_GLOBAL;
		return 0;
	}
	if (!strcmp(argv[1], "none")) {
		ps->cur->srv_state_load = CFG_SRV_STATE_NONE;
		return 0;
	}
	if (!strcmp(argv[1], "local")) {
		ERR(ps, "'load-server-state-from-file local' is not supported: use 'global' with "
		        "'server-state-file' in the global section");
		return -1;
	}
	return cfg_kw_usage(c, k);
}

/* ---- timeouts: `timeout <name> <time>` ---- */

/* The object the timeout table fills: the proxy's timeouts. */
#define TO struct cfg_timeouts

const struct cfg_kw cfg_timeout_kws[] = {
    CFG_KW_TIME("connect", CAP_DEF | CAP_BE, TO, connect, 0),
    CFG_KW_TIME("client", CAP_DEF | CAP_FE, TO, client, 0),
    CFG_KW_TIME("server", CAP_DEF | CAP_BE, TO, server, 0),
    CFG_KW_TIME("check", CAP_DEF | CAP_BE, TO, check, 0),
    CFG_KW_TIME("queue", CAP_DEF | CAP_BE, TO, queue, 0),
    CFG_KW_TIME("http-request", CAP_ALL, TO, http_request, 0),
    CFG_KW_TIME("http-keep-alive", CAP_ALL, TO, http_keep_alive, 0),
    CFG_KW_TIME("client-hs", CAP_DEF | CAP_FE, TO, client_hs, 0),
    CFG_KW_TIME("tunnel", CAP_DEF | CAP_BE, TO, tunnel, 0),
    CFG_KW_TIME("client-fin", CAP_DEF | CAP_FE, TO, client_fin, 0),
    CFG_KW_TIME("server-fin", CAP_DEF | CAP_BE, TO, server_fin, 0),
    CFG_KW_TIME("tarpit", CAP_ALL, TO, tarpit, 0),
    CFG_KW_END,
};
#undef TO

static int kw_timeout(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	const struct cfg_kw *t = cfg_kw_find(cfg_timeout_kws, argv[1]);
	struct cfg_ctx sub = {.ps = ps, .obj = &ps->cur->timeout};
	char name[64];

	if (!t) {
		ERR(ps, "unknown keyword 'timeout %s' in '%s' section", argv[1],
		    cfg_sec_name(ps->cur->caps));
		return -1;
	}
	snprintf(name, sizeof(name), "timeout %s", t->kw);
	sub.name = name;
	return cfg_kw_run(&sub, t, ps->cur->caps, argc - 1, argv + 1);
}

/* ---- options: `option <name> [...]`, `no option <name>` ---- */

static void set_option(struct cfg_proxy *p, unsigned bit, int on)
{
	/* tcplog and httplog choose one log format: the last one wins. */
	if (on && (bit & (CFG_OPT_TCPLOG | CFG_OPT_HTTPLOG)))
		p->options &= ~(unsigned)(CFG_OPT_TCPLOG | CFG_OPT_HTTPLOG);
	/* So do the connection modes httpclose and http-server-close. */
	if (on && (bit & (CFG_OPT_HTTPCLOSE | CFG_OPT_HTTP_SERVER_CLOSE)))
		p->options &= ~(unsigned)(CFG_OPT_HTTPCLOSE | CFG_OPT_HTTP_SERVER_CLOSE);
	if (on)
		p->options |= bit;
	else
		p->options &= ~bit;
	p->options_set |= bit;
}

/* Options are words alone unless their handler says otherwise. */
static int opt_no_value(struct cfg_ctx *c, int argc, char **argv)
{
	if (argc > 1) {
		ERR(c->ps, "'%s' takes no value, got '%s'", c->name, argv[1]);
		return -1;
	}
	return 0;
}

int cfg_kw_option_bits(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	if (opt_no_value(c, argc, argv) < 0)
		return -1;
	set_option(c->ps->cur, k->bits, 1);
	return 0;
}

static int opt_redispatch(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	long v = -1;

	if (argc > 2 || (argc == 2 && cfg_parse_long(argv[1], -1000, 1000, &v) < 0)) {
		ERR(c->ps,
		    "'option redispatch' expects an optional interval (an integer), got '%s'",
		    argv[1]);
		return -1;
	}
	c->ps->cur->redispatch_interval = (int)v;
	set_option(c->ps->cur, k->bits, 1);
	return 0;
}

static int opt_httpchk(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_httpchk *hc = &c->ps->cur->httpchk;

	cfg_hc_own(c->ps);
	hc->enabled = 1;
	if (argc == 2) {
		cfg_set_str(&hc->uri, argv[1]); /* the old form: option httpchk <uri> */
	} else if (argc >= 3) {
		cfg_set_str(&hc->method, argv[1]);
		cfg_set_str(&hc->uri, argv[2]);
		if (argc == 4)
			cfg_set_str(&hc->version, argv[3]);
	}
	return 0;
}

/* `option forwardfor [except <net>] [header <name>] [if-none]`, arguments
 * in any order. As in HAProxy, the line replaces every earlier setting,
 * inherited or not. */
static int opt_forwardfor(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_forwardfor ff = {.enabled = 1};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "if-none")) {
			ff.if_none = 1;
		} else if (!strcmp(argv[i], "except")) {
			if (i + 1 >= argc || net_parse_cidr(argv[i + 1], &ff.except) < 0) {
				ERR(ps,
				    "'option forwardfor': 'except' expects a network "
				    "(<address>[/<prefix>])%s%s%s",
				    i + 1 < argc ? ", got '" : "", i + 1 < argc ? argv[i + 1] : "",
				    i + 1 < argc ? "'" : "");
				goto fail;
			}
			ff.has_except = 1;
			i++;
		} else if (!strcmp(argv[i], "header")) {
			if (i + 1 >= argc) {
				ERR(ps, "'option forwardfor': 'header' expects a header name");
				goto fail;
			}
			if (cfg_check_header_name(ps, "'option forwardfor'", argv[i + 1]) < 0)
				goto fail;
			cfg_set_str(&ff.header, argv[++i]);
		} else {
			ERR(ps,
			    "'option forwardfor': unknown argument '%s' (expected except "
			    "<network>, header <name>, if-none)",
			    argv[i]);
			goto fail;
		}
	}
	free(ps->cur->forwardfor.header);
	ps->cur->forwardfor = ff;
	return 0;
fail:
	free(ff.header);
	return -1;
}

static void forwardfor_clear(struct cfg_forwardfor *ff)
{
	free(ff->header);
	memset(ff, 0, sizeof(*ff));
}

/* Keep-alive is the default connection mode: it undoes the other two. */
static int opt_http_keep_alive(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	unsigned both = CFG_OPT_HTTPCLOSE | CFG_OPT_HTTP_SERVER_CLOSE;

	if (opt_no_value(c, argc, argv) < 0)
		return -1;
	c->ps->cur->options &= ~both;
	c->ps->cur->options_set |= both;
	return 0;
}

/* HAProxy 2.8's `option forwarded` takes parameters choosing the fields;
 * ppbridge has only the plain form. */
static int opt_forwarded(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	if (argc > 1) {
		ERR(c->ps,
		    "'option forwarded': only 'option forwarded' without arguments is supported, "
		    "got '%s'",
		    argv[1]);
		return -1;
	}
	set_option(c->ps->cur, k->bits, 1);
	return 0;
}

#define L7_LATER "is not supported (outside the L7 HTTP subset)"

const struct cfg_kw cfg_option_kws[] = {
    CFG_KW_OPTION("tcplog", CAP_DEF | CAP_FE, CFG_OPT_TCPLOG),
    CFG_KW_OPTION("httplog", CAP_DEF | CAP_FE, CFG_OPT_HTTPLOG),
    CFG_KW_OPTION("dontlognull", CAP_DEF | CAP_FE, CFG_OPT_DONTLOGNULL),
    CFG_KW_OPTION("http-server-close", CAP_ALL, CFG_OPT_HTTP_SERVER_CLOSE),
    CFG_KW_OPTION("httpclose", CAP_ALL, CFG_OPT_HTTPCLOSE),
    CFG_KW_FN("http-keep-alive", 0, 0, CAP_ALL, opt_http_keep_alive, NULL),
    CFG_KW_FN("forwardfor", 0, CFG_MANY, CAP_ALL, opt_forwardfor, NULL),
    CFG_KW_FN_BITS("forwarded", 0, 0, CAP_DEF | CAP_BE, opt_forwarded, NULL, CFG_OPT_FORWARDED),
    CFG_KW_FN_BITS("redispatch", 0, 1, CAP_DEF | CAP_BE, opt_redispatch, NULL, CFG_OPT_REDISPATCH),
    CFG_KW_OPTION("log-health-checks", CAP_DEF | CAP_BE, CFG_OPT_LOG_HEALTH_CHECKS),
    CFG_KW_OPTION("tcpka", CAP_ALL, CFG_OPT_TCPKA),
    CFG_KW_OPTION("clitcpka", CAP_DEF | CAP_FE, CFG_OPT_CLITCPKA),
    CFG_KW_OPTION("srvtcpka", CAP_DEF | CAP_BE, CFG_OPT_SRVTCPKA),
    CFG_KW_OPTION("allbackups", CAP_DEF | CAP_BE, CFG_OPT_ALLBACKUPS),
    CFG_KW_FN("httpchk", 0, 3, CAP_DEF | CAP_BE, opt_httpchk,
              "[<method> <uri> [<version>]] or [<uri>]"),
    CFG_KW_REFUSE("originalto", CAP_ALL, L7_LATER),
    CFG_KW_REFUSE("http-buffer-request", CAP_ALL, L7_LATER),
    CFG_KW_END,
};

/* The row of `option <opt>`, admitted in this section, with `sub` named
 * "option <opt>" (in `name`). */
static const struct cfg_kw *find_option(struct cfg_ctx *sub, const char *opt, char *name,
                                        size_t len)
{
	struct cfg_pstate *ps = sub->ps;
	const struct cfg_kw *o = cfg_kw_find(cfg_option_kws, opt);

	if (!o) {
		ERR(ps, "unknown option '%s' in '%s' section", opt, cfg_sec_name(ps->cur->caps));
		return NULL;
	}
	snprintf(name, len, "option %s", o->kw);
	sub->name = name;
	return o;
}

static int kw_option(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_ctx sub = *c;
	char name[80];
	const struct cfg_kw *o = find_option(&sub, argv[1], name, sizeof(name));

	if (!o)
		return -1;
	return cfg_kw_run(&sub, o, c->ps->cur->caps, argc - 1, argv + 1);
}

static int kw_no(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_ctx sub = *c;
	const struct cfg_kw *o;
	char name[80];

	if (argc == 2 && !strcmp(argv[1], "log")) {
		cfg_log_free_list(ps->cur->logs);
		ps->cur->logs = NULL;
		ps->cur->log_global = 0;
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "option") != 0)
		return cfg_kw_usage(c, k);
	o = find_option(&sub, argv[2], name, sizeof(name));
	if (!o || cfg_kw_admit(&sub, o, ps->cur->caps) < 0)
		return -1;
	if (o->fn == opt_forwardfor) {
		forwardfor_clear(&ps->cur->forwardfor);
		return 0;
	}
	if (o->fn == opt_http_keep_alive)
		return 0; /* keep-alive is the default: nothing to turn off (as HAProxy) */
	if (!o->bits) {
		ERR(ps, "'no %s': only boolean options can be negated", name);
		return -1;
	}
	set_option(ps->cur, o->bits, 0);
	return 0;
}

/* ---- the table ---- */

/* The object the proxy table fills. */
#define P struct cfg_proxy
#define REQREP_HINT                                                                                \
	"was removed from HAProxy in 2.1 and its replacement, 'http-request replace-header', is "  \
	"not supported: rewrite it as 'http-request del-header' and 'http-request set-header'"
#define TCP_REQUEST_USAGE                                                                          \
	"'connection <action> [if|unless <condition>]', 'content accept|reject ...' or "           \
	"'inspect-delay <time>'"

const struct cfg_kw cfg_proxy_kws[] = {
    CFG_KW_FN("bind", 1, CFG_MANY, CAP_FE, cfg_kw_bind, "<address>:<port>"),
    CFG_KW_FN("mode", 1, 1, CAP_ALL, kw_mode, "'tcp' or 'http'"),
    CFG_KW_FN("default_backend", 1, 1, CAP_DEF | CAP_FE, kw_default_backend, "one backend name"),
    CFG_KW_FN("balance", 1, 1, CAP_DEF | CAP_BE, kw_balance, NULL),
    CFG_KW_FN("hash-type", 1, 3, CAP_DEF | CAP_BE, kw_hash_type,
              "map-based|consistent [<function> [avalanche]]"),
    CFG_KW_FN("server", 2, CFG_MANY, CAP_BE, cfg_kw_server, "<name> <host>:<port> [options]"),
    CFG_KW_FN("default-server", 0, CFG_MANY, CAP_DEF | CAP_BE, cfg_kw_default_server, NULL),
    CFG_KW_FN("timeout", 1, CFG_MANY, CAP_ALL, kw_timeout, "<name> <time>"),
    CFG_KW_INT("maxconn", CAP_DEF | CAP_FE, P, maxconn, 0, INT_MAX),
    CFG_KW_INT("retries", CAP_DEF | CAP_BE, P, retries, 0, 100),
    CFG_KW_FN("option", 1, CFG_MANY, CAP_ALL, kw_option, "an option name"),
    CFG_KW_FN("no", 1, 2, CAP_ALL, kw_no, "'option <name>' or 'log'"),
    CFG_KW_FN("http-check", 1, CFG_MANY, CAP_DEF | CAP_BE, cfg_kw_http_check,
              "connect, send or expect"),
    CFG_KW_FN("log", 1, CFG_MANY, CAP_ALL, kw_log, CFG_LOG_USAGE),
    CFG_KW_FN("acl", 2, CFG_MANY, CAP_FE | CAP_BE, cfg_kw_acl, "<name> <fetch> [<pattern>...]"),
    CFG_KW_FN("tcp-request", 1, CFG_MANY, CAP_FE, cfg_kw_tcp_request, TCP_REQUEST_USAGE),
    CFG_KW_FN("use_backend", 1, CFG_MANY, CAP_FE, cfg_kw_use_backend,
              "a backend name [if|unless <condition>]"),
    CFG_KW_FN("client-ip", 1, 1, CAP_FE, kw_client_ip, "none, xff, proxy-v1, proxy-v2 or auto"),
    CFG_KW_FN("http-request", 1, CFG_MANY, CAP_FE | CAP_BE, cfg_kw_http_request,
              "an action (del-header, set-header, add-header, use-service, track-sc0|1|2, "
              "deny, tarpit)"),
    CFG_KW_FN("http-reuse", 1, 1, CAP_DEF | CAP_BE, kw_http_reuse, NULL),
    CFG_KW_FN("load-server-state-from-file", 1, 1, CAP_DEF | CAP_BE, kw_load_server_state,
              "global or none"),
    /* HAProxy removed the req* regex rules in 2.1: the one that deletes a
     * whole header is mapped onto del-header (cfg_rules.c). */
    CFG_KW_FN("reqidel", 1, CFG_MANY, CAP_FE | CAP_BE, cfg_kw_reqdel, "a regex"),
    CFG_KW_FN("reqdel", 1, CFG_MANY, CAP_FE | CAP_BE, cfg_kw_reqdel, "a regex"),
    CFG_KW_REFUSE("reqirep", CAP_FE | CAP_BE, REQREP_HINT),
    CFG_KW_REFUSE("reqrep", CAP_FE | CAP_BE, REQREP_HINT),
    CFG_KW_REFUSE("http-response", CAP_ALL, L7_LATER),
    CFG_KW_FN("stats", 1, CFG_MANY, CAP_ALL, cfg_kw_stats, "<keyword> [<arguments>]"),
    CFG_KW_FN("monitor-uri", 1, 1, CAP_DEF | CAP_FE, cfg_kw_monitor_uri, "<uri>"),
    CFG_KW_FN("monitor", 1, CFG_MANY, CAP_FE, cfg_kw_monitor, "fail if|unless <condition>"),
    CFG_KW_FN("stick-table", 4, CFG_MANY, CAP_FE | CAP_BE, cfg_kw_stick_table,
              "type ip|ipv6 size <n> [expire <time>] [store <data>,...]"),
    CFG_KW_END,
};
#undef P

void cfg_proxy_line(struct cfg_pstate *ps, int argc, char **argv)
{
	const struct cfg_kw *k = cfg_kw_find(cfg_proxy_kws, argv[0]);
	struct cfg_ctx c = {.ps = ps, .obj = ps->cur, .name = argv[0]};

	if (!k) {
		ERR(ps, "unknown keyword '%s' in '%s' section", argv[0],
		    cfg_sec_name(ps->cur->caps));
		return;
	}
	cfg_kw_run(&c, k, ps->cur->caps, argc, argv);
}
