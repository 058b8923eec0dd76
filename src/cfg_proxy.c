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

static int kw_mode(struct cfg_pstate *ps, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "tcp")) {
		ps->cur->mode = CFG_MODE_TCP;
	} else if (argc == 2 && !strcmp(argv[1], "http")) {
		ps->cur->mode = CFG_MODE_HTTP;
	} else {
		ERR(ps, "'mode' expects 'tcp' or 'http'%s",
		    argc == 2 && !strcmp(argv[1], "health") ? " ('health' is not supported)" : "");
		return -1;
	}
	ps->cur->mode_where = ps->where;
	return 0;
}

static int kw_default_backend(struct cfg_pstate *ps, int argc, char **argv)
{
	if (argc != 2 || !cfg_valid_name(argv[1])) {
		ERR(ps, "'default_backend' expects one backend name");
		return -1;
	}
	cfg_set_str(&ps->cur->default_backend, argv[1]);
	ps->cur->default_backend_where = ps->where;
	return 0;
}

static int kw_balance(struct cfg_pstate *ps, int argc, char **argv)
{
	static const char *const names[] = {"roundrobin", "source", "leastconn"};
	int i = argc >= 2 ? cfg_name_index(names, 3, argv[1]) : -1;

	if (i < 0 || argc != 2) {
		ERR(ps,
		    "'balance'%s%s%s: supported algorithms are roundrobin, source and "
		    "leastconn",
		    argc >= 2 ? " '" : "", argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
		return -1;
	}
	ps->cur->balance = (enum cfg_balance)i;
	return 0;
}

static int kw_hash_type(struct cfg_pstate *ps, int argc, char **argv)
{
	static const char *const fns[] = {"sdbm", "djb2", "wt6", "crc32", "none"};
	struct cfg_proxy *p = ps->cur;
	int fn = CFG_HASH_FN_SDBM, aval = 0;

	if (argc < 2 || argc > 4) {
		ERR(ps, "'hash-type' expects map-based|consistent [<function> [avalanche]]");
		return -1;
	}
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

/* ---- timeouts ---- */

struct timeout_kw {
	const char *name;
	unsigned caps;
	size_t off;
};

#define TO(f) offsetof(struct cfg_timeouts, f)

static const struct timeout_kw timeout_kws[] = {
    {"connect", CAP_DEF | CAP_BE, TO(connect)},
    {"client", CAP_DEF | CAP_FE, TO(client)},
    {"server", CAP_DEF | CAP_BE, TO(server)},
    {"check", CAP_DEF | CAP_BE, TO(check)},
    {"queue", CAP_DEF | CAP_BE, TO(queue)},
    {"http-request", CAP_ALL, TO(http_request)},
    {"http-keep-alive", CAP_ALL, TO(http_keep_alive)},
    {"client-hs", CAP_DEF | CAP_FE, TO(client_hs)},
    {"tunnel", CAP_DEF | CAP_BE, TO(tunnel)},
    {"client-fin", CAP_DEF | CAP_FE, TO(client_fin)},
    {"server-fin", CAP_DEF | CAP_BE, TO(server_fin)},
    {NULL, 0, 0},
};

static int kw_timeout(struct cfg_pstate *ps, int argc, char **argv)
{
	const struct timeout_kw *t = timeout_kws;
	char kw[64];
	unsigned v;

	if (argc < 2) {
		ERR(ps, "'timeout' expects <name> <time>");
		return -1;
	}
	while (t->name && strcmp(t->name, argv[1]) != 0)
		t++;
	if (!t->name) {
		ERR(ps, "unknown keyword 'timeout %s' in '%s' section", argv[1],
		    cfg_sec_name(ps->cur->caps));
		return -1;
	}
	snprintf(kw, sizeof(kw), "timeout %s", t->name);
	if (cfg_check_caps(ps, kw, t->caps) < 0 || cfg_kw_time_at(ps, kw, argc, argv, 2, &v) < 0)
		return -1;
	*(unsigned *)(void *)((char *)&ps->cur->timeout + t->off) = v;
	return 0;
}

/* ---- misc numbers ---- */

static int kw_maxconn(struct cfg_pstate *ps, int argc, char **argv)
{
	long v;

	if (cfg_kw_number(ps, argc, argv, 0, INT_MAX, &v) < 0)
		return -1;
	ps->cur->maxconn = (unsigned)v;
	return 0;
}

static int kw_retries(struct cfg_pstate *ps, int argc, char **argv)
{
	long v;

	if (cfg_kw_number(ps, argc, argv, 0, 100, &v) < 0)
		return -1;
	ps->cur->retries = (int)v;
	return 0;
}

/* ---- option / no option ---- */

static int opt_redispatch(struct cfg_pstate *ps, int argc, char **argv)
{
	long v = -1;

	if (argc > 3 || (argc == 3 && cfg_parse_long(argv[2], -1000, 1000, &v) < 0)) {
		ERR(ps, "'option redispatch' expects an optional interval (an integer), got '%s'",
		    argv[2]);
		return -1;
	}
	ps->cur->redispatch_interval = (int)v;
	return 0;
}

static int opt_httpchk(struct cfg_pstate *ps, int argc, char **argv)
{
	struct cfg_httpchk *c = &ps->cur->httpchk;

	if (argc > 5) {
		ERR(ps, "'option httpchk' expects [<method> <uri> [<version>]] or [<uri>]");
		return -1;
	}
	cfg_hc_own(ps);
	c->enabled = 1;
	if (argc == 3) {
		cfg_set_str(&c->uri, argv[2]); /* the old form: option httpchk <uri> */
	} else if (argc >= 4) {
		cfg_set_str(&c->method, argv[2]);
		cfg_set_str(&c->uri, argv[3]);
		if (argc == 5)
			cfg_set_str(&c->version, argv[4]);
	}
	return 0;
}

/* `option forwardfor [except <net>] [header <name>] [if-none]`, arguments
 * in any order. As in HAProxy, the line replaces every earlier setting,
 * inherited or not. */
static int opt_forwardfor(struct cfg_pstate *ps, int argc, char **argv)
{
	struct cfg_forwardfor ff = {.enabled = 1};

	for (int i = 2; i < argc; i++) {
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
static int opt_http_keep_alive(struct cfg_pstate *ps, int argc, char **argv)
{
	unsigned both = CFG_OPT_HTTPCLOSE | CFG_OPT_HTTP_SERVER_CLOSE;

	if (argc > 2) {
		ERR(ps, "'option http-keep-alive' takes no value, got '%s'", argv[2]);
		return -1;
	}
	ps->cur->options &= ~both;
	ps->cur->options_set |= both;
	return 0;
}

/* HAProxy 2.8's `option forwarded` takes parameters choosing the fields;
 * ppbridge has only the plain form. */
static int opt_forwarded(struct cfg_pstate *ps, int argc, char **argv)
{
	if (argc > 2) {
		ERR(ps,
		    "'option forwarded': only 'option forwarded' without arguments is supported, "
		    "got '%s'",
		    argv[2]);
		return -1;
	}
	return 0;
}

struct opt_kw {
	const char *name;
	unsigned caps;
	unsigned bit; /* a plain boolean when `fn` is NULL */
	int (*fn)(struct cfg_pstate *ps, int argc, char **argv);
	const char *later;
};

#define L7_LATER "is not supported (outside the L7 HTTP subset)"

static const struct opt_kw opt_kws[] = {
    {"tcplog", CAP_DEF | CAP_FE, CFG_OPT_TCPLOG, NULL, NULL},
    {"httplog", CAP_DEF | CAP_FE, CFG_OPT_HTTPLOG, NULL, NULL},
    {"dontlognull", CAP_DEF | CAP_FE, CFG_OPT_DONTLOGNULL, NULL, NULL},
    {"http-server-close", CAP_ALL, CFG_OPT_HTTP_SERVER_CLOSE, NULL, NULL},
    {"httpclose", CAP_ALL, CFG_OPT_HTTPCLOSE, NULL, NULL},
    {"http-keep-alive", CAP_ALL, 0, opt_http_keep_alive, NULL},
    {"forwardfor", CAP_ALL, 0, opt_forwardfor, NULL},
    {"forwarded", CAP_DEF | CAP_BE, CFG_OPT_FORWARDED, opt_forwarded, NULL},
    {"redispatch", CAP_DEF | CAP_BE, CFG_OPT_REDISPATCH, opt_redispatch, NULL},
    {"log-health-checks", CAP_DEF | CAP_BE, CFG_OPT_LOG_HEALTH_CHECKS, NULL, NULL},
    {"tcpka", CAP_ALL, CFG_OPT_TCPKA, NULL, NULL},
    {"clitcpka", CAP_DEF | CAP_FE, CFG_OPT_CLITCPKA, NULL, NULL},
    {"srvtcpka", CAP_DEF | CAP_BE, CFG_OPT_SRVTCPKA, NULL, NULL},
    {"allbackups", CAP_DEF | CAP_BE, CFG_OPT_ALLBACKUPS, NULL, NULL},
    {"httpchk", CAP_DEF | CAP_BE, 0, opt_httpchk, NULL},
    {"originalto", CAP_ALL, 0, NULL, L7_LATER},
    {"http-buffer-request", CAP_ALL, 0, NULL, L7_LATER},
    {NULL, 0, 0, NULL, NULL},
};

static const struct opt_kw *find_opt(struct cfg_pstate *ps, const char *name, char *kw, size_t kwlen)
{
	const struct opt_kw *o = opt_kws;

	while (o->name && strcmp(o->name, name) != 0)
		o++;
	if (!o->name) {
		ERR(ps, "unknown option '%s' in '%s' section", name, cfg_sec_name(ps->cur->caps));
		return NULL;
	}
	snprintf(kw, kwlen, "option %s", o->name);
	if (o->later) {
		ERR(ps, "'%s' %s", kw, o->later);
		return NULL;
	}
	if (cfg_check_caps(ps, kw, o->caps) < 0)
		return NULL;
	return o;
}

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

static int kw_option(struct cfg_pstate *ps, int argc, char **argv)
{
	const struct opt_kw *o;
	char kw[80];

	if (argc < 2) {
		ERR(ps, "'option' expects an option name");
		return -1;
	}
	o = find_opt(ps, argv[1], kw, sizeof(kw));
	if (!o)
		return -1;
	if (o->fn) {
		if (o->fn(ps, argc, argv) < 0)
			return -1;
	} else if (argc > 2) {
		ERR(ps, "'%s' takes no value, got '%s'", kw, argv[2]);
		return -1;
	}
	if (o->bit)
		set_option(ps->cur, o->bit, 1);
	return 0;
}

static int kw_no(struct cfg_pstate *ps, int argc, char **argv)
{
	const struct opt_kw *o;
	char kw[80];

	if (argc == 2 && !strcmp(argv[1], "log")) {
		cfg_log_free_list(ps->cur->logs);
		ps->cur->logs = NULL;
		ps->cur->log_global = 0;
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "option") != 0) {
		ERR(ps, "'no' expects 'option <name>' or 'log'");
		return -1;
	}
	o = find_opt(ps, argv[2], kw, sizeof(kw));
	if (!o)
		return -1;
	if (o->fn == opt_forwardfor) {
		forwardfor_clear(&ps->cur->forwardfor);
		return 0;
	}
	if (o->fn == opt_http_keep_alive)
		return 0; /* keep-alive is the default: nothing to turn off (as HAProxy) */
	if (!o->bit) {
		ERR(ps, "'no %s': only boolean options can be negated", kw);
		return -1;
	}
	set_option(ps->cur, o->bit, 0);
	return 0;
}

static int kw_log(struct cfg_pstate *ps, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "global")) {
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
	if (v == CFG_CLIENT_IP_UNSET || (unsigned)v >= sizeof(client_ip_names) / sizeof(client_ip_names[0]))
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
static int kw_client_ip(struct cfg_pstate *ps, int argc, char **argv)
{
	int v = argc == 2 ? cfg_client_ip_parse(argv[1]) : -1;

	if (v < 0) {
		ERR(ps, "'client-ip' expects none, xff, proxy-v1, proxy-v2 or auto");
		return -1;
	}
	ps->cur->client_ip = (enum cfg_client_ip)v;
	return 0;
}

static int kw_http_reuse(struct cfg_pstate *ps, int argc, char **argv)
{
	/* In enum cfg_http_reuse order. */
	static const char *const names[] = {"safe", "never", "aggressive", "always"};
	int i = argc == 2 ? cfg_name_index(names, 4, argv[1]) : -1;

	if (i < 0) {
		ERR(ps, "'http-reuse' expects never, safe, aggressive or always%s%s%s",
		    argc >= 2 ? ", got '" : "", argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
		return -1;
	}
	ps->cur->http_reuse = (enum cfg_http_reuse)i;
	return 0;
}

static int kw_load_server_state(struct cfg_pstate *ps, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "global")) {
		ps->cur->srv_state_load = CFG_SRV_STATE_GLOBAL;
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "none")) {
		ps->cur->srv_state_load = CFG_SRV_STATE_NONE;
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "local")) {
		ERR(ps, "'load-server-state-from-file local' is not supported: use 'global' with "
			"'server-state-file' in the global section");
		return -1;
	}
	ERR(ps, "'load-server-state-from-file' expects global or none");
	return -1;
}

struct proxy_kw {
	const char *kw;
	unsigned caps;
	int (*fn)(struct cfg_pstate *ps, int argc, char **argv);
};

static const struct proxy_kw proxy_kws[] = {
    {"bind", CAP_FE, cfg_kw_bind},
    {"mode", CAP_ALL, kw_mode},
    {"default_backend", CAP_DEF | CAP_FE, kw_default_backend},
    {"balance", CAP_DEF | CAP_BE, kw_balance},
    {"hash-type", CAP_DEF | CAP_BE, kw_hash_type},
    {"server", CAP_BE, cfg_kw_server},
    {"default-server", CAP_DEF | CAP_BE, cfg_kw_default_server},
    {"timeout", CAP_ALL, kw_timeout},
    {"maxconn", CAP_DEF | CAP_FE, kw_maxconn},
    {"retries", CAP_DEF | CAP_BE, kw_retries},
    {"option", CAP_ALL, kw_option},
    {"no", CAP_ALL, kw_no},
    {"http-check", CAP_DEF | CAP_BE, cfg_kw_http_check},
    {"log", CAP_ALL, kw_log},
    {"acl", CAP_FE | CAP_BE, cfg_kw_acl},
    {"tcp-request", CAP_FE, cfg_kw_tcp_request},
    {"use_backend", CAP_FE, cfg_kw_use_backend},
    {"client-ip", CAP_FE, kw_client_ip},
    {"http-request", CAP_FE | CAP_BE, cfg_kw_http_request},
    {"http-reuse", CAP_DEF | CAP_BE, kw_http_reuse},
    {"load-server-state-from-file", CAP_DEF | CAP_BE, kw_load_server_state},
    {"reqidel", CAP_FE | CAP_BE, cfg_kw_reqdel},
    {"reqdel", CAP_FE | CAP_BE, cfg_kw_reqdel},
    {"reqirep", CAP_FE | CAP_BE, cfg_kw_reqrep},
    {"reqrep", CAP_FE | CAP_BE, cfg_kw_reqrep},
    {NULL, 0, NULL},
};

static const struct cfg_later proxy_later[] = {
    {"http-response", L7_LATER},
    {"stats", "is not supported (no HTTP stats page: use 'stats socket' in global and 'show stat')"},
    {NULL, NULL},
};

void cfg_proxy_line(struct cfg_pstate *ps, int argc, char **argv)
{
	const struct cfg_later *l = cfg_find_later(proxy_later, argv[0]);

	if (l) {
		ERR(ps, "'%s' %s", argv[0], l->why);
		return;
	}
	for (const struct proxy_kw *k = proxy_kws; k->kw; k++) {
		if (strcmp(k->kw, argv[0]) != 0)
			continue;
		if (cfg_check_caps(ps, k->kw, k->caps) == 0)
			k->fn(ps, argc, argv);
		return;
	}
	ERR(ps, "unknown keyword '%s' in '%s' section", argv[0], cfg_sec_name(ps->cur->caps));
}
