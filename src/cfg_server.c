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

static int so_port(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_server *s = c->obj;

	if (net_parse_port(argv[1], &s->check_port) < 0 || s->check_port == 0) {
		cfg_kw_err(c, "'port' expects 1..65535, got '%s'", argv[1]);
		return -1;
	}
	return 0;
}

static int so_addr(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_server *s = c->obj;
	struct sockaddr_storage ss;
	socklen_t len;

	if (net_parse_ip(argv[1], &ss, &len) < 0) {
		cfg_kw_err(c, "'addr' expects a literal IP address, got '%s'", argv[1]);
		return -1;
	}
	cfg_set_str(&s->check_addr, argv[1]);
	return 0;
}

static int so_verify(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_server *s = c->obj;

	if (!strcmp(argv[1], "none")) {
		s->verify = CFG_VERIFY_NONE;
	} else if (!strcmp(argv[1], "required")) {
		s->verify = CFG_VERIFY_REQUIRED;
	} else {
		cfg_kw_err(c, "'verify' expects 'none' or 'required', got '%s'", argv[1]);
		return -1;
	}
	return 0;
}

static int so_ca_file(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_server *s = c->obj;

	free(s->ca_file);
	s->ca_file = cfg_base_path(c->ps->cfg->global.ca_base, argv[1]);
	return 0;
}

static int so_sni(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_server *s = c->obj;
	struct sample_fmt *fmt;
	char err[512];

	if (!*argv[1]) {
		cfg_kw_err(c,
		           "'sni' expects an expression (ssl_fc_sni, req.hdr(host), str(<name>))");
		return -1;
	}
	fmt = sni_compile(argv[1], err, sizeof(err));
	if (!fmt) {
		cfg_kw_err(c, "'sni %s': %s", argv[1], err);
		return -1;
	}
	sample_free(s->sni);
	s->sni = fmt;
	cfg_set_str(&s->sni_text, argv[1]);
	return 0;
}

static int so_crt(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_server *s = c->obj;

	if (!*argv[1])
		return cfg_kw_usage(c, k);
	free(s->crt);
	s->crt = cfg_base_path(c->ps->cfg->global.crt_base, argv[1]);
	return 0;
}

static int so_send_proxy(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_server *s = c->obj;

	s->send_proxy = CFG_SEND_PROXY_V1;
	return 0;
}

/* HAProxy: send-proxy-v2-ssl = send-proxy-v2 + the SSL TLV; -cn adds the
 * client certificate's CN to it (the row's bits). */
static int so_send_proxy_v2(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_server *s = c->obj;

	s->send_proxy = CFG_SEND_PROXY_V2;
	s->pp2_options |= k->bits;
	return 0;
}

static int so_proxy_v2_options(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
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
	struct cfg_server *s = c->obj;
	const char *p = argv[1];

	while (*p) {
		size_t len = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == len && !strncmp(names[i].name, p, len))
				break;
		if (i == sizeof(names) / sizeof(names[0])) {
			cfg_kw_err(c,
			           "'proxy-v2-options': unknown option '%.*s' (expected ssl, "
			           "cert-cn, ssl-cipher, cert-sig, cert-key, authority, crc32c, "
			           "unique-id)",
			           (int)len, p);
			return -1;
		}
		s->pp2_options |= names[i].flag;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* The object the server option table fills: a server, or the default-server
 * template. */
#define S struct cfg_server

const struct cfg_kw cfg_server_kws[] = {
    CFG_KW_FLAG("check", 0, S, check),
    CFG_KW_TIME("inter", 0, S, inter_ms, 1),
    CFG_KW_TIME("fastinter", 0, S, fastinter_ms, 1),
    CFG_KW_TIME("downinter", 0, S, downinter_ms, 1),
    CFG_KW_INT("rise", 0, S, rise, 1, 1000000),
    CFG_KW_INT("fall", 0, S, fall, 1, 1000000),
    CFG_KW_FN("port", 1, 1, 0, so_port, NULL),
    CFG_KW_FN("addr", 1, 1, 0, so_addr, NULL),
    CFG_KW_INT("weight", 0, S, weight, 0, CFG_MAX_WEIGHT),
    CFG_KW_FLAG("backup", 0, S, backup),
    CFG_KW_FLAG("disabled", 0, S, disabled),
    CFG_KW_FLAG("check-ssl", 0, S, check_ssl),
    CFG_KW_STR("check-sni", 0, S, check_sni, NULL),
    CFG_KW_FN("verify", 1, 1, 0, so_verify, NULL),
    CFG_KW_FN("ca-file", 1, 1, 0, so_ca_file, NULL),
    CFG_KW_INT("maxconn", 0, S, maxconn, 0, INT_MAX),
    CFG_KW_FLAG("ssl", 0, S, ssl),
    CFG_KW_FN("sni", 1, 1, 0, so_sni, NULL),
    CFG_KW_STR("verifyhost", 0, S, verifyhost, "a host name"),
    CFG_KW_FN("crt", 1, 1, 0, so_crt, "a file"),
    CFG_KW_TLS_VERSION("ssl-min-ver", 0, S, ssl_min_ver),
    CFG_KW_IGNORED("no-sslv3", 0, CFG_OLD_TLS_NOTICE),
    CFG_KW_IGNORED("no-tlsv10", 0, CFG_OLD_TLS_NOTICE),
    CFG_KW_IGNORED("no-tlsv11", 0, CFG_OLD_TLS_NOTICE),
    CFG_KW_IGNORED("no-ssl-reuse", 0,
                   "has no effect: ppbridge always resumes TLS sessions to servers"),
    CFG_KW_FN("send-proxy", 0, 0, 0, so_send_proxy, NULL),
    CFG_KW_FN_BITS("send-proxy-v2", 0, 0, 0, so_send_proxy_v2, NULL, 0),
    CFG_KW_FN_BITS("send-proxy-v2-ssl", 0, 0, 0, so_send_proxy_v2, NULL, PP_V2_F_SSL),
    CFG_KW_FN_BITS("send-proxy-v2-ssl-cn", 0, 0, 0, so_send_proxy_v2, NULL,
                   PP_V2_F_SSL | PP_V2_F_SSL_CN),
    CFG_KW_FN("proxy-v2-options", 1, 1, 0, so_proxy_v2_options, NULL),
    CFG_KW_FLAG("check-send-proxy", 0, S, check_send_proxy),
    CFG_KW_END,
};
#undef S

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
	struct cfg_ctx sc = {.ps = ps, .what = what};

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
	sc.obj = s;
	if (server_address(ps, s, argv[2]) < 0 ||
	    cfg_kw_opts(&sc, cfg_server_kws, argc - 3, argv + 3, 0) < 0)
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
	struct cfg_ctx sc = {.ps = ps, .obj = &tmp, .what = "default-server"};

	/* Work on a copy so that a bad line leaves the template untouched. */
	cfg_server_copy_settings(&tmp, &ps->cur->defsrv);
	if (cfg_kw_opts(&sc, cfg_server_kws, argc - 1, argv + 1, 0) < 0) {
		cfg_server_free_fields(&tmp);
		return -1;
	}
	cfg_server_free_fields(&ps->cur->defsrv);
	ps->cur->defsrv = tmp;
	return 0;
}
