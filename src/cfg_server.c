/* cfg_server.c - `server` and `default-server` lines and their options. */
#include <config.h>

#include "cfg_int.h"

#include "net.h"
#include "proxy_proto.h"
#include "sample.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Servers: lifecycle and the default-server template */

void cfg_server_init_defaults(struct cfg_server *s)
{
	memset(s, 0, sizeof(*s));
	s->inter_ms = CFG_DEFAULT_INTER;
	s->rise = CFG_DEFAULT_RISE;
	s->fall = CFG_DEFAULT_FALL;
	s->weight = CFG_DEFAULT_WEIGHT;
}

void cfg_server_free_fields(struct cfg_server *s)
{
	free(s->name);
	free(s->host);
	free(s->check_addr);
	free(s->check_sni);
	free(s->ca_file);
	free(s->sni_text);
	sample_free(s->sni);
	free(s->verifyhost);
	free(s->crt);
}

/* The server option `sni <expr>` is a sample expression, not a log-format
 * value: `ssl_fc_sni` is compiled as "%[ssl_fc_sni]". `str(<name>)`, the
 * fixed-name form, becomes literal text, and must be a host name. */
static struct sample_fmt *sni_compile(const char *expr, char *err, size_t errlen)
{
	size_t len = strlen(expr);
	struct sample_fmt *fmt;
	char *text;

	text = cfg_xcalloc(1, len + 4);
	if (len >= 5 && !strncmp(expr, "str(", 4) && expr[len - 1] == ')') {
		size_t n = len - 5;
		if (strspn(expr + 4, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                     "0123456789-._") != n) {
			if (err)
				snprintf(err, errlen, "'%.*s' is not a host name", (int)n,
				         expr + 4);
			free(text);
			return NULL;
		}
		memcpy(text, expr + 4, n);
	} else {
		snprintf(text, len + 4, "%%[%s]", expr);
	}
	fmt = sample_compile(text, err, errlen);
	free(text);
	return fmt;
}

/* Copy settings (not identity) from a default-server template. */
void cfg_server_copy_settings(struct cfg_server *dst, const struct cfg_server *src)
{
	*dst = *src;
	dst->next = NULL;
	dst->name = NULL;
	dst->host = NULL;
	dst->check_addr = cfg_xstrdup(src->check_addr);
	dst->check_sni = cfg_xstrdup(src->check_sni);
	dst->ca_file = cfg_xstrdup(src->ca_file);
	dst->sni_text = cfg_xstrdup(src->sni_text);
	/* It compiled once: it compiles again. */
	dst->sni = src->sni_text ? sni_compile(src->sni_text, NULL, 0) : NULL;
	dst->verifyhost = cfg_xstrdup(src->verifyhost);
	dst->crt = cfg_xstrdup(src->crt);
}

/* ---- server options ---- */

struct srv_ctx {
	struct cfg_pstate *ps;
	struct cfg_server *srv;
	const char *what; /* "server 'x'" or "default-server" */
	const char *opt;  /* the option being read */
};

static int so_number(struct srv_ctx *c, const char *opt, const char *arg, long min, long max,
                     long *out)
{
	if (cfg_parse_long(arg, min, max, out) < 0) {
		ERR(c->ps, "%s: '%s' expects an integer between %ld and %ld, got '%s'", c->what,
		    opt, min, max, arg);
		return -1;
	}
	return 0;
}

static int so_time(struct srv_ctx *c, const char *opt, const char *arg, unsigned *out)
{
	const char *err;

	if (cfg_parse_time(arg, out, &err) < 0) {
		ERR(c->ps, "%s: '%s': %s, got '%s'", c->what, opt, err, arg);
		return -1;
	}
	if (*out == 0) {
		ERR(c->ps, "%s: '%s' must be greater than 0", c->what, opt);
		return -1;
	}
	return 0;
}

static int so_check(struct srv_ctx *c, const char *arg)
{
	c->srv->check = 1;
	return 0;
}

static int so_inter(struct srv_ctx *c, const char *arg)
{
	return so_time(c, "inter", arg, &c->srv->inter_ms);
}

static int so_fastinter(struct srv_ctx *c, const char *arg)
{
	return so_time(c, "fastinter", arg, &c->srv->fastinter_ms);
}

static int so_downinter(struct srv_ctx *c, const char *arg)
{
	return so_time(c, "downinter", arg, &c->srv->downinter_ms);
}

static int so_rise(struct srv_ctx *c, const char *arg)
{
	long v;

	if (so_number(c, "rise", arg, 1, 1000000, &v) < 0)
		return -1;
	c->srv->rise = (int)v;
	return 0;
}

static int so_fall(struct srv_ctx *c, const char *arg)
{
	long v;

	if (so_number(c, "fall", arg, 1, 1000000, &v) < 0)
		return -1;
	c->srv->fall = (int)v;
	return 0;
}

static int so_port(struct srv_ctx *c, const char *arg)
{
	if (net_parse_port(arg, &c->srv->check_port) < 0 || c->srv->check_port == 0) {
		ERR(c->ps, "%s: 'port' expects 1..65535, got '%s'", c->what, arg);
		return -1;
	}
	return 0;
}

static int so_addr(struct srv_ctx *c, const char *arg)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (net_parse_ip(arg, &ss, &len) < 0) {
		ERR(c->ps, "%s: 'addr' expects a literal IP address, got '%s'", c->what, arg);
		return -1;
	}
	cfg_set_str(&c->srv->check_addr, arg);
	return 0;
}

static int so_weight(struct srv_ctx *c, const char *arg)
{
	long v;

	if (so_number(c, "weight", arg, 0, CFG_MAX_WEIGHT, &v) < 0)
		return -1;
	c->srv->weight = (int)v;
	return 0;
}

static int so_backup(struct srv_ctx *c, const char *arg)
{
	c->srv->backup = 1;
	return 0;
}

static int so_disabled(struct srv_ctx *c, const char *arg)
{
	c->srv->disabled = 1;
	return 0;
}

static int so_check_ssl(struct srv_ctx *c, const char *arg)
{
	c->srv->check_ssl = 1;
	return 0;
}

static int so_check_sni(struct srv_ctx *c, const char *arg)
{
	cfg_set_str(&c->srv->check_sni, arg);
	return 0;
}

static int so_verify(struct srv_ctx *c, const char *arg)
{
	if (!strcmp(arg, "none")) {
		c->srv->verify = CFG_VERIFY_NONE;
	} else if (!strcmp(arg, "required")) {
		c->srv->verify = CFG_VERIFY_REQUIRED;
	} else {
		ERR(c->ps, "%s: 'verify' expects 'none' or 'required', got '%s'", c->what, arg);
		return -1;
	}
	return 0;
}

static int so_ca_file(struct srv_ctx *c, const char *arg)
{
	free(c->srv->ca_file);
	c->srv->ca_file = cfg_base_path(c->ps->cfg->global.ca_base, arg);
	return 0;
}

static int so_ssl(struct srv_ctx *c, const char *arg)
{
	c->srv->ssl = 1;
	return 0;
}

static int so_sni(struct srv_ctx *c, const char *arg)
{
	char err[256];
	struct sample_fmt *fmt;

	if (!*arg) {
		ERR(c->ps,
		    "%s: 'sni' expects an expression (ssl_fc_sni, req.hdr(host), "
		    "str(<name>))",
		    c->what);
		return -1;
	}
	fmt = sni_compile(arg, err, sizeof(err));
	if (!fmt) {
		ERR(c->ps, "%s: 'sni %s': %s", c->what, arg, err);
		return -1;
	}
	sample_free(c->srv->sni);
	c->srv->sni = fmt;
	cfg_set_str(&c->srv->sni_text, arg);
	return 0;
}

static int so_verifyhost(struct srv_ctx *c, const char *arg)
{
	if (!*arg) {
		ERR(c->ps, "%s: 'verifyhost' expects a host name", c->what);
		return -1;
	}
	cfg_set_str(&c->srv->verifyhost, arg);
	return 0;
}

static int so_crt(struct srv_ctx *c, const char *arg)
{
	if (!*arg) {
		ERR(c->ps, "%s: 'crt' expects a file", c->what);
		return -1;
	}
	free(c->srv->crt);
	c->srv->crt = cfg_base_path(c->ps->cfg->global.crt_base, arg);
	return 0;
}

static int so_ssl_min_ver(struct srv_ctx *c, const char *arg)
{
	const char *err;

	if (cfg_parse_tls_version(arg, &c->srv->ssl_min_ver, &err) < 0) {
		ERR(c->ps, "%s: 'ssl-min-ver %s': %s", c->what, arg, err);
		return -1;
	}
	return 0;
}

/* no-sslv3, no-tlsv10, no-tlsv11: what ppbridge does anyway. */
static int so_no_old_tls(struct srv_ctx *c, const char *arg)
{
	NOTICE(c->ps, "%s: '%s' has no effect: ppbridge never offers TLS versions below 1.2",
	       c->what, c->opt);
	return 0;
}

static int so_no_ssl_reuse(struct srv_ctx *c, const char *arg)
{
	NOTICE(c->ps,
	       "%s: 'no-ssl-reuse' has no effect: ppbridge always resumes TLS "
	       "sessions to servers",
	       c->what);
	return 0;
}

static int so_send_proxy(struct srv_ctx *c, const char *arg)
{
	c->srv->send_proxy = CFG_SEND_PROXY_V1;
	return 0;
}

static int so_send_proxy_v2(struct srv_ctx *c, const char *arg)
{
	c->srv->send_proxy = CFG_SEND_PROXY_V2;
	return 0;
}

/* HAProxy: send-proxy-v2-ssl = send-proxy-v2 + the SSL TLV; -cn adds the
 * client certificate's CN to it. */
static int so_send_proxy_v2_ssl(struct srv_ctx *c, const char *arg)
{
	c->srv->send_proxy = CFG_SEND_PROXY_V2;
	c->srv->pp2_options |= PP_V2_F_SSL;
	return 0;
}

static int so_send_proxy_v2_ssl_cn(struct srv_ctx *c, const char *arg)
{
	c->srv->send_proxy = CFG_SEND_PROXY_V2;
	c->srv->pp2_options |= PP_V2_F_SSL | PP_V2_F_SSL_CN;
	return 0;
}

static int so_proxy_v2_options(struct srv_ctx *c, const char *arg)
{
	static const struct {
		const char *name;
		unsigned flag;
	} names[] = {
	    {"ssl", PP_V2_F_SSL},
	    {"cert-cn", PP_V2_F_SSL | PP_V2_F_SSL_CN},
	    {"ssl-cipher", PP_V2_F_SSL | PP_V2_F_SSL_CIPHER},
	    {"cert-sig", PP_V2_F_SSL | PP_V2_F_SSL_SIG_ALG},
	    {"cert-key", PP_V2_F_SSL | PP_V2_F_SSL_KEY_ALG},
	    {"authority", PP_V2_F_AUTHORITY},
	    {"crc32c", PP_V2_F_CRC32C},
	    {"unique-id", PP_V2_F_UNIQUE_ID},
	};
	const char *p = arg;

	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == len && !strncmp(names[i].name, p, len))
				break;
		if (i == sizeof(names) / sizeof(names[0])) {
			ERR(c->ps,
			    "%s: 'proxy-v2-options': unknown option '%.*s' (expected ssl, cert-cn, "
			    "ssl-cipher, cert-sig, cert-key, authority, crc32c, unique-id)",
			    c->what, (int)len, p);
			return -1;
		}
		c->srv->pp2_options |= names[i].flag;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int so_check_send_proxy(struct srv_ctx *c, const char *arg)
{
	c->srv->check_send_proxy = 1;
	return 0;
}

static int so_maxconn(struct srv_ctx *c, const char *arg)
{
	long v;

	if (so_number(c, "maxconn", arg, 0, INT_MAX, &v) < 0)
		return -1;
	c->srv->maxconn = (int)v;
	return 0;
}

struct srv_opt {
	const char *name;
	int has_arg;
	int (*fn)(struct srv_ctx *c, const char *arg);
	const char *later; /* not supported yet: the issue that brings it */
};

static const struct srv_opt srv_opts[] = {
    {"check", 0, so_check, NULL},
    {"inter", 1, so_inter, NULL},
    {"fastinter", 1, so_fastinter, NULL},
    {"downinter", 1, so_downinter, NULL},
    {"rise", 1, so_rise, NULL},
    {"fall", 1, so_fall, NULL},
    {"port", 1, so_port, NULL},
    {"addr", 1, so_addr, NULL},
    {"weight", 1, so_weight, NULL},
    {"backup", 0, so_backup, NULL},
    {"disabled", 0, so_disabled, NULL},
    {"check-ssl", 0, so_check_ssl, NULL},
    {"check-sni", 1, so_check_sni, NULL},
    {"verify", 1, so_verify, NULL},
    {"ca-file", 1, so_ca_file, NULL},
    {"maxconn", 1, so_maxconn, NULL},
    {"ssl", 0, so_ssl, NULL},
    {"sni", 1, so_sni, NULL},
    {"verifyhost", 1, so_verifyhost, NULL},
    {"crt", 1, so_crt, NULL},
    {"ssl-min-ver", 1, so_ssl_min_ver, NULL},
    {"no-sslv3", 0, so_no_old_tls, NULL},
    {"no-tlsv10", 0, so_no_old_tls, NULL},
    {"no-tlsv11", 0, so_no_old_tls, NULL},
    {"no-ssl-reuse", 0, so_no_ssl_reuse, NULL},
    {"send-proxy", 0, so_send_proxy, NULL},
    {"send-proxy-v2", 0, so_send_proxy_v2, NULL},
    {"send-proxy-v2-ssl", 0, so_send_proxy_v2_ssl, NULL},
    {"send-proxy-v2-ssl-cn", 0, so_send_proxy_v2_ssl_cn, NULL},
    {"proxy-v2-options", 1, so_proxy_v2_options, NULL},
    {"check-send-proxy", 0, so_check_send_proxy, NULL},
    {NULL, 0, NULL, NULL},
};

/* Options after `server <name> <addr>` or `default-server`. Stops at the
 * first problem: the rest of the line would be read out of step. */
static int parse_srv_opts(struct srv_ctx *c, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const struct srv_opt *o = srv_opts;

		while (o->name && strcmp(o->name, argv[i]) != 0)
			o++;
		if (!o->name) {
			ERR(c->ps, "%s: unknown option '%s'", c->what, argv[i]);
			return -1;
		}
		if (o->later) {
			ERR(c->ps, "%s: '%s' %s", c->what, o->name, o->later);
			return -1;
		}
		if (o->has_arg && i + 1 >= argc) {
			ERR(c->ps, "%s: '%s' expects a value", c->what, o->name);
			return -1;
		}
		c->opt = o->name;
		if (o->fn(c, o->has_arg ? argv[i + 1] : NULL) < 0)
			return -1;
		i += o->has_arg;
	}
	return 0;
}

/* "host:port" of a server; the port is mandatory with us. */
static int server_address(struct cfg_pstate *ps, struct cfg_server *s, const char *text)
{
	char host[256];
	const char *err = NULL;

	if (text[0] != '[' && !strchr(text, ':')) {
		ERR(ps,
		    "server '%s': address '%s' has no port: ppbridge requires '<host>:<port>' "
		    "(it does not reuse the client's destination port as HAProxy does)",
		    s->name, text);
		return -1;
	}
	if (net_split_host_port(text, host, sizeof(host), &s->port, &err) < 0) {
		ERR(ps, "server '%s': address '%s': %s", s->name, text, err);
		return -1;
	}
	if (!host[0] || !strcmp(host, "*")) {
		ERR(ps, "server '%s': address '%s' has no host", s->name, text);
		return -1;
	}
	if (s->port == 0) {
		ERR(ps,
		    "server '%s': address '%s': port 0 is not supported, ppbridge requires "
		    "an explicit port",
		    s->name, text);
		return -1;
	}
	s->host = cfg_xstrdup(host);
	return 0;
}

int cfg_kw_server(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_server *s, **tail;
	char what[300];
	struct srv_ctx sc = {.ps = ps};

	if (!cfg_valid_name(argv[1])) {
		ERR(ps, "'server': invalid name '%s' (letters, digits, '-', '_', '.', ':')",
		    argv[1]);
		return -1;
	}
	s = cfg_xcalloc(1, sizeof(*s));
	cfg_server_copy_settings(s, &ps->cur->defsrv);
	s->where = ps->where;
	s->name = cfg_xstrdup(argv[1]);
	snprintf(what, sizeof(what), "server '%s'", s->name);
	sc.srv = s;
	sc.what = what;
	if (server_address(ps, s, argv[2]) < 0 || parse_srv_opts(&sc, argc - 3, argv + 3) < 0)
		goto fail;
	for (tail = &ps->cur->servers; *tail; tail = &(*tail)->next) {
		if (!strcmp((*tail)->name, s->name)) {
			ERR(ps, "server '%s': name already used in %s '%s' (%s:%d)", s->name,
			    cfg_sec_name(ps->cur->caps), ps->cur->name, (*tail)->where.file,
			    (*tail)->where.line);
			goto fail;
		}
	}
	*tail = s;
	return 0;
fail:
	cfg_server_free_fields(s);
	free(s);
	return -1;
}

int cfg_kw_default_server(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_server tmp;
	struct srv_ctx sc = {.ps = ps, .srv = &tmp, .what = "default-server"};

	/* Work on a copy so that a bad line leaves the template untouched. */
	cfg_server_copy_settings(&tmp, &ps->cur->defsrv);
	if (parse_srv_opts(&sc, argc - 1, argv + 1) < 0) {
		cfg_server_free_fields(&tmp);
		return -1;
	}
	cfg_server_free_fields(&ps->cur->defsrv);
	ps->cur->defsrv = tmp;
	return 0;
}
