/* cfg_global.c - the global section, and log targets (global and proxies). */
#include <config.h>

#include "cfg_int.h"

#include "net.h"
#include "proxy_proto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char *const facility_names[] = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "auth2",  "ftp",    "ntp",    "audit",  "alert",  "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

static const char *const level_names[] = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

/* ------------------------------------------------------------------ */
/* Log targets (global and proxies) */

void cfg_log_free_list(struct cfg_log *l)
{
	while (l) {
		struct cfg_log *next = l->next;
		free(l->path);
		free(l);
		l = next;
	}
}

struct cfg_log *cfg_log_copy_list(const struct cfg_log *src)
{
	struct cfg_log *head = NULL, **tail = &head;

	for (; src; src = src->next) {
		struct cfg_log *l = cfg_xcalloc(1, sizeof(*l));
		*l = *src;
		l->next = NULL;
		l->path = cfg_xstrdup(src->path);
		*tail = l;
		tail = &l->next;
	}
	return head;
}

/* "1.2.3.4", "1.2.3.4:514", "[::1]:514", "::1", "udp@..." */
static int log_udp_addr(const char *text, struct cfg_addr *addr, const char **err)
{
	char host[256];
	uint16_t port = 514;
	const char *colon = strrchr(text, ':');

	if (net_parse_ip(text, &addr->ss, &addr->len) == 0) {
		net_set_port((struct sockaddr *)&addr->ss, port);
		return 0;
	}
	if (colon && colon[1] == '\0') {
		/* "1.2.3.4:" or "[::1]:": the port is optional */
		size_t n = (size_t)(colon - text);
		if (n >= sizeof(host)) {
			*err = "address too long";
			return -1;
		}
		memcpy(host, text, n);
		host[n] = '\0';
		if (host[0] == '[' && n >= 2 && host[n - 1] == ']') {
			host[n - 1] = '\0';
			memmove(host, host + 1, n - 1);
		}
	} else if (net_split_host_port(text, host, sizeof(host), &port, err) < 0) {
		return -1;
	}
	if (net_parse_ip(host, &addr->ss, &addr->len) < 0) {
		*err = "a UDP log target must be a literal IP address (names are not resolved)";
		return -1;
	}
	if (port == 0) {
		*err = "log port must not be 0";
		return -1;
	}
	net_set_port((struct sockaddr *)&addr->ss, port);
	return 0;
}

static int log_target(const char *text, struct cfg_log *l, const char **err)
{
	if (!strcmp(text, "stdout") || !strcmp(text, "fd@1")) {
		l->kind = CFG_LOG_STDOUT;
		return 0;
	}
	if (!strcmp(text, "stderr") || !strcmp(text, "fd@2")) {
		l->kind = CFG_LOG_STDERR;
		return 0;
	}
	if (!strncmp(text, "unix@", 5))
		text += 5;
	if (text[0] == '/') {
		l->kind = CFG_LOG_UNIX;
		l->path = cfg_xstrdup(text);
		return 0;
	}
	if (!strncmp(text, "udp@", 4))
		text += 4;
	else if (strchr(text, '@')) {
		*err = "unsupported log target type (expected stdout, stderr, /path, "
		       "udp@host:port or host:port)";
		return -1;
	}
	l->kind = CFG_LOG_UDP;
	return log_udp_addr(text, &l->addr, err);
}

/* `log <target> [len N] [format F] <facility> [<max level> [<min level>]]`
 * (the row makes sure there is a target). `log global` is handled by the
 * caller. */
int cfg_log_parse(struct cfg_pstate *ps, int argc, char **argv, struct cfg_log **list)
{
	struct cfg_log *l;
	const char *err = NULL;
	int i = 2;
	long v;

	l = cfg_xcalloc(1, sizeof(*l));
	l->where = ps->where;
	l->max_level = 7;
	l->maxlen = CFG_DEFAULT_LOG_LEN;
	if (log_target(argv[1], l, &err) < 0) {
		ERR(ps, "'log %s': %s", argv[1], err);
		goto fail;
	}
	for (; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "len")) {
			if (cfg_parse_long(argv[i + 1], 80, 65535, &v) < 0) {
				ERR(ps, "'log': 'len' expects 80..65535, got '%s'", argv[i + 1]);
				goto fail;
			}
			l->maxlen = (int)v;
		} else if (!strcmp(argv[i], "format")) {
			if (!strcmp(argv[i + 1], "rfc3164")) {
				l->format = CFG_LOG_FMT_RFC3164;
			} else if (!strcmp(argv[i + 1], "raw")) {
				l->format = CFG_LOG_FMT_RAW;
			} else {
				ERR(ps, "'log': format '%s' is not supported (rfc3164 or raw)",
				    argv[i + 1]);
				goto fail;
			}
		} else if (!strcmp(argv[i], "sample")) {
			ERR(ps, "'log': 'sample' is not supported");
			goto fail;
		} else {
			break;
		}
	}
	if (i >= argc) {
		ERR(ps, "'log %s': missing <facility>", argv[1]);
		goto fail;
	}
	l->facility = cfg_name_index(facility_names, 24, argv[i]);
	if (l->facility < 0) {
		ERR(ps, "'log %s': unknown facility '%s'", argv[1], argv[i]);
		goto fail;
	}
	if (++i < argc) {
		l->max_level = cfg_name_index(level_names, 8, argv[i]);
		if (l->max_level < 0) {
			ERR(ps, "'log %s': unknown level '%s'", argv[1], argv[i]);
			goto fail;
		}
	}
	if (++i < argc) {
		l->min_level = cfg_name_index(level_names, 8, argv[i]);
		if (l->min_level < 0) {
			ERR(ps, "'log %s': unknown level '%s'", argv[1], argv[i]);
			goto fail;
		}
	}
	if (++i < argc) {
		ERR(ps, "'log %s': unexpected word '%s'", argv[1], argv[i]);
		goto fail;
	}
	while (*list)
		list = &(*list)->next;
	*list = l;
	return 0;
fail:
	cfg_log_free_list(l);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Global section */

static int g_log(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	if (!strcmp(argv[1], "global")) {
		ERR(c->ps, "'log global' is only valid in a proxy section");
		return -1;
	}
	return cfg_log_parse(c->ps, argc, argv, &c->ps->cfg->global.logs);
}

/* `ssl-default-bind-options` / `ssl-default-server-options`: the subset
 * of the bind and server options that has a meaning here. */
static int g_ssl_default_options(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	int *min_ver = (int *)(void *)((char *)c->obj + k->off);
	int ver = *min_ver;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *err;

		if (!strcmp(opt, "ssl-min-ver")) {
			if (i + 1 >= argc) {
				ERR(ps, "'%s': 'ssl-min-ver' expects a value", argv[0]);
				return -1;
			}
			if (cfg_parse_tls_version(argv[++i], &ver, &err) < 0) {
				ERR(ps, "'%s': 'ssl-min-ver %s': %s", argv[0], argv[i], err);
				return -1;
			}
		} else if (!strcmp(opt, "no-sslv3") || !strcmp(opt, "no-tlsv10") ||
		           !strcmp(opt, "no-tlsv11")) {
			NOTICE(ps,
			       "%s: '%s' has no effect: ppbridge never offers TLS versions "
			       "below 1.2",
			       argv[0], opt);
		} else if (!strcmp(opt, "no-tls-tickets")) {
			ERR(ps,
			    "'%s': 'no-tls-tickets' is not supported (session tickets stay on "
			    "so that returning clients resume)",
			    argv[0]);
			return -1;
		} else {
			ERR(ps,
			    "'%s': '%s' is not supported (only ssl-min-ver, no-sslv3, "
			    "no-tlsv10, no-tlsv11)",
			    argv[0], opt);
			return -1;
		}
	}
	*min_ver = ver;
	return 0;
}

static int g_ssl_server_verify(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	if (!strcmp(argv[1], "none"))
		c->ps->cfg->global.ssl_server_verify_none = 1;
	else if (!strcmp(argv[1], "required"))
		c->ps->cfg->global.ssl_server_verify_none = 0;
	else
		return cfg_kw_usage(c, k);
	return 0;
}

/* `stats socket` options after the path, as HAProxy's bind options. */
static int stats_socket_opt(struct cfg_pstate *ps, const char *opt, const char *val)
{
	struct cfg_global *g = &ps->cfg->global;
	char *end;

	if (!strcmp(opt, "mode")) {
		unsigned long m = strtoul(val, &end, 8);
		if (!*val || *end || m > 07777) {
			ERR(ps, "'stats socket': 'mode' expects octal permission bits, got '%s'",
			    val);
			return -1;
		}
		g->stats_mode = (unsigned)m;
	} else if (!strcmp(opt, "level")) {
		int lv = !strcmp(val, "user")       ? ADM_LEVEL_USER
		         : !strcmp(val, "operator") ? ADM_LEVEL_OPERATOR
		         : !strcmp(val, "admin")    ? ADM_LEVEL_ADMIN
		                                    : -1;
		if (lv < 0) {
			ERR(ps, "'stats socket': 'level' expects user, operator or admin, got '%s'",
			    val);
			return -1;
		}
		g->stats_level = (enum adm_level)lv;
	} else if (!strcmp(opt, "user")) {
		cfg_set_str(&g->stats_user, val);
	} else if (!strcmp(opt, "group")) {
		cfg_set_str(&g->stats_group, val);
	} else {
		ERR(ps, "'stats socket': '%s' is not supported (mode, level, user, group)", opt);
		return -1;
	}
	return 0;
}

/* `stats socket <path> [opts]` (unix sockets only) and `stats timeout`. */
static int g_stats(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	/* `stats timeout` is a typed row of its own, out of the table: the
	 * `stats` line has two forms. */
	static const struct cfg_kw timeout =
	    CFG_KW_TIME("timeout", 0, struct cfg_global, stats_timeout_ms, 1);
	struct cfg_pstate *ps = c->ps;
	struct cfg_global *g = &ps->cfg->global;

	if (!strcmp(argv[1], "timeout")) {
		struct cfg_ctx sub = {.ps = ps, .obj = g, .name = "stats timeout"};
		return cfg_kw_time(&sub, &timeout, argc - 1, argv + 1);
	}
	if (argc < 3 || strcmp(argv[1], "socket") != 0)
		return cfg_kw_usage(c, k);
	if (argv[2][0] != '/') {
		ERR(ps, "'stats socket': only a unix socket path (absolute) is supported, got '%s'",
		    argv[2]);
		return -1;
	}
	if (g->stats_socket)
		WARN(ps,
		     "'stats socket': only one admin socket is supported; this one replaces '%s'",
		     g->stats_socket);
	cfg_set_str(&g->stats_socket, argv[2]);
	g->stats_mode = 0600;
	g->stats_level = ADM_LEVEL_OPERATOR;
	for (int i = 3; i < argc; i += 2) {
		if (i + 1 >= argc) {
			ERR(ps, "'stats socket': '%s' expects a value", argv[i]);
			return -1;
		}
		if (stats_socket_opt(ps, argv[i], argv[i + 1]) < 0)
			return -1;
	}
	return 0;
}

/* `uid`/`gid`: `user`/`group` given as a number (names are looked up at
 * start-up, not here: the parser does no I/O). */
static int g_numeric_id(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	long v;

	if (!*argv[1])
		return cfg_kw_usage(c, k);
	if (cfg_parse_long(argv[1], 0, INT_MAX, &v) < 0) {
		ERR(c->ps, "'%s' expects a number, got '%s'", argv[0], argv[1]);
		return -1;
	}
	cfg_set_str((char **)(void *)((char *)c->obj + k->off), argv[1]);
	return 0;
}

/* `chroot <dir>`: accepted for HAProxy configurations (the OpenShift
 * helper node's carries one), not applied: ppbridge itself reads its
 * files again at every reload. */
static int g_chroot(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	if (!*argv[1])
		return cfg_kw_usage(c, k);
	WARN(c->ps,
	     "'chroot %s' is not applied: ppbridge re-reads its configuration, certificates "
	     "and state files at reload; the systemd unit's sandboxing (ProtectSystem=strict, "
	     "ProtectHome=yes, PrivateTmp=yes, PrivateDevices=yes, NoNewPrivileges=yes, "
	     "CapabilityBoundingSet=CAP_NET_BIND_SERVICE) confines it instead",
	     argv[1]);
	return 0;
}

/* The object the global table fills. */
#define G struct cfg_global
#define SSL_OPTIONS "options (ssl-min-ver, no-sslv3, no-tlsv10, no-tlsv11)"
#define STATS_USAGE                                                                                \
	"'socket <path> [mode <octal>] [level user|operator|admin] [user <name>] "                 \
	"[group <name>]' or 'timeout <time>'"

const struct cfg_kw cfg_global_kws[] = {
    CFG_KW_INT("maxconn", 0, G, maxconn, 1, INT_MAX),
    CFG_KW_INT("nbthread", 0, G, nbthread, 1, CFG_MAX_THREADS),
    CFG_KW_FLAG_NOTICE("daemon", 0, G, daemon,
                       "ignored, ppbridge always runs in the foreground (use systemd or &)"),
    CFG_KW_STR("pidfile", 0, G, pidfile, "a path"),
    CFG_KW_FN("log", 1, CFG_MANY, 0, g_log, CFG_LOG_USAGE),
    CFG_KW_TIME("hard-stop-after", 0, G, hard_stop_after_ms, 0),
    CFG_KW_FLAG_NOTICE("log-send-hostname", 0, G, log_send_hostname, "accepted"),
    CFG_KW_INT("tune.bufsize", 0, G, tune_bufsize, 1024, 1L << 30),
    /* ppbridge's own: the largest PROXY header `accept-proxy` waits for. */
    CFG_KW_INT("tune.pp-max-header", 0, G, pp_max_header, PP_V1_MAX_LEN + 1, PP_V2_MAX_LEN),
    CFG_KW_STR("ssl-default-bind-ciphers", 0, G, ssl_default_bind_ciphers, "a cipher list"),
    CFG_KW_STR("ssl-default-bind-ciphersuites", 0, G, ssl_default_bind_ciphersuites,
               "a TLS 1.3 cipher suite list"),
    CFG_KW_FN_AT("ssl-default-bind-options", 1, CFG_MANY, 0, g_ssl_default_options, SSL_OPTIONS,
                 int, G, ssl_default_bind_min_ver),
    CFG_KW_STR("ssl-default-server-ciphers", 0, G, ssl_default_server_ciphers, "a cipher list"),
    CFG_KW_STR("ssl-default-server-ciphersuites", 0, G, ssl_default_server_ciphersuites,
               "a TLS 1.3 cipher suite list"),
    CFG_KW_FN_AT("ssl-default-server-options", 1, CFG_MANY, 0, g_ssl_default_options, SSL_OPTIONS,
                 int, G, ssl_default_server_min_ver),
    CFG_KW_FN("ssl-server-verify", 1, 1, 0, g_ssl_server_verify, "'none' or 'required'"),
    CFG_KW_INT_IGNORED("tune.ssl.default-dh-param", 0, 1024, 16384,
                       "accepted, no effect (ppbridge offers ECDHE key exchanges and "
                       "OpenSSL's built-in DH groups)"),
    CFG_KW_STR("ca-base", 0, G, ca_base, "a directory"),
    CFG_KW_STR("crt-base", 0, G, crt_base, "a directory"),
    CFG_KW_FN("stats", 1, CFG_MANY, 0, g_stats, STATS_USAGE),
    CFG_KW_STR("client-ip-state", 0, G, client_ip_state, "a file path"),
    CFG_KW_STR("server-state-file", 0, G, server_state_file, "a file path"),
    CFG_KW_STR("server-state-base", 0, G, server_state_base, "a directory"),
    /* Whom to run as once the sockets are bound. */
    CFG_KW_STR("user", 0, G, user, "a name"),
    CFG_KW_FN_AT("uid", 1, 1, 0, g_numeric_id, "a number", char *, G, user),
    CFG_KW_STR("group", 0, G, group, "a name"),
    CFG_KW_FN_AT("gid", 1, 1, 0, g_numeric_id, "a number", char *, G, group),
    CFG_KW_FN("chroot", 1, 1, 0, g_chroot, "a directory"),
    CFG_KW_END,
};
#undef G

void cfg_global_line(struct cfg_pstate *ps, int argc, char **argv)
{
	const struct cfg_kw *k = cfg_kw_find(cfg_global_kws, argv[0]);
	struct cfg_ctx c = {.ps = ps, .obj = &ps->cfg->global, .name = argv[0]};

	if (!k) {
		ERR(ps, "unknown keyword '%s' in 'global' section", argv[0]);
		return;
	}
	cfg_kw_run(&c, k, 0, argc, argv);
}
