/* cfg_bind.c - `bind` lines and their options. */
#include <config.h>

#include "cfg_int.h"

#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void str_list_free(struct cfg_str *l)
{
	while (l) {
		struct cfg_str *next = l->next;
		free(l->s);
		free(l);
		l = next;
	}
}

void cfg_bind_free(struct cfg_bind *b)
{
	free(b->text);
	free(b->name);
	str_list_free(b->crts);
	free(b->alpn);
	free(b->ciphers);
	free(b->ciphersuites);
	free(b->tls_ticket_keys);
	free(b);
}

/* `crt <file|dir>`, repeatable: the first file is the default certificate. */
static int bo_crt(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_bind *b = c->obj;
	struct cfg_str *crt, **tail = &b->crts;

	while (*tail)
		tail = &(*tail)->next;
	crt = cfg_xcalloc(1, sizeof(*crt));
	crt->s = cfg_base_path(c->ps->cfg->global.crt_base, argv[1]);
	*tail = crt;
	return 0;
}

/* `alpn`: protocol names of 1 to 255 bytes, separated by commas. */
static int valid_alpn(const char *list)
{
	size_t n;

	do {
		n = strcspn(list, ",");
		if (n == 0 || n > 255)
			return 0;
		list += n;
	} while (*list++ == ',');
	return 1;
}

static int bo_alpn(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_bind *b = c->obj;

	if (!valid_alpn(argv[1])) {
		cfg_kw_err(c,
		           "'alpn' expects protocol names separated by commas (e.g. h2,http/1.1), "
		           "got '%s'",
		           argv[1]);
		return -1;
	}
	cfg_set_str(&b->alpn, argv[1]);
	return 0;
}

/* `accept-proxy [optional]`: cfg_kw_opts() hands over the next word when
 * it is not an option itself; `optional` is the only one it may be. */
static int bo_accept_proxy(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_bind *b = c->obj;

	if (argc == 2 && strcmp(argv[1], "optional") != 0) {
		cfg_kw_err(c,
		           "unknown option '%s' ('accept-proxy' may only be followed by "
		           "'optional')",
		           argv[1]);
		return -1;
	}
	b->accept_proxy = argc == 2 ? CFG_ACCEPT_PROXY_OPTIONAL : CFG_ACCEPT_PROXY_ON;
	return 0;
}

/* The object the bind option table fills. */
#define B struct cfg_bind
/* HAProxy's TLS bind options that ppbridge refuses for good, with what to
 * write instead when there is something. */
#define NO_CLIENT_CERT "is not supported (client certificates are not supported)"
#define NO_GENERATION "is not supported (certificates are never generated)"
#define USE_MIN_MAX "is not supported (use 'ssl-min-ver' and 'ssl-max-ver')"

const struct cfg_kw cfg_bind_kws[] = {
    CFG_KW_FN("accept-proxy", 0, 1, 0, bo_accept_proxy, NULL),
    CFG_KW_FLAG("v4v6", 0, B, v4v6),
    CFG_KW_FLAG("v6only", 0, B, v6only),
    CFG_KW_STR("name", 0, B, name, NULL),
    CFG_KW_FLAG("ssl", 0, B, ssl),
    CFG_KW_FN("crt", 1, 1, 0, bo_crt, NULL),
    CFG_KW_FN("alpn", 1, 1, 0, bo_alpn, NULL),
    CFG_KW_TLS_VERSION("ssl-min-ver", 0, B, ssl_min_ver),
    CFG_KW_TLS_VERSION("ssl-max-ver", 0, B, ssl_max_ver),
    CFG_KW_STR("ciphers", 0, B, ciphers, NULL),
    CFG_KW_STR("ciphersuites", 0, B, ciphersuites, NULL),
    CFG_KW_STR("tls-ticket-keys", 0, B, tls_ticket_keys, NULL),
    CFG_KW_IGNORED("no-sslv3", 0, CFG_OLD_TLS_NOTICE),
    CFG_KW_IGNORED("no-tlsv10", 0, CFG_OLD_TLS_NOTICE),
    CFG_KW_IGNORED("no-tlsv11", 0, CFG_OLD_TLS_NOTICE),
    CFG_KW_REFUSE("no-tls-tickets", 0,
                  "is not supported (session tickets stay on so that returning clients "
                  "resume)"),
    CFG_KW_REFUSE("crt-list", 0,
                  "is not supported (list the certificates with several 'crt', or name a "
                  "directory)"),
    CFG_KW_REFUSE("ca-file", 0, NO_CLIENT_CERT),
    CFG_KW_REFUSE("verify", 0, NO_CLIENT_CERT),
    CFG_KW_REFUSE("ca-verify-file", 0, NO_CLIENT_CERT),
    CFG_KW_REFUSE("crl-file", 0, NO_CLIENT_CERT),
    CFG_KW_REFUSE("ca-ignore-err", 0, NO_CLIENT_CERT),
    CFG_KW_REFUSE("crt-ignore-err", 0, NO_CLIENT_CERT),
    CFG_KW_REFUSE("no-ca-names", 0, NO_CLIENT_CERT),
    CFG_KW_REFUSE("ca-sign-file", 0, NO_GENERATION),
    CFG_KW_REFUSE("ca-sign-pass", 0, NO_GENERATION),
    CFG_KW_REFUSE("generate-certificates", 0, NO_GENERATION),
    CFG_KW_REFUSE("curves", 0, "is not supported (OpenSSL's default groups apply)"),
    CFG_KW_REFUSE("ecdhe", 0, "is not supported (OpenSSL's default groups apply)"),
    CFG_KW_REFUSE("sigalgs", 0, "is not supported (OpenSSL's default signature algorithms apply)"),
    CFG_KW_REFUSE("client-sigalgs", 0, NO_CLIENT_CERT),
    CFG_KW_REFUSE("force-sslv3", 0, USE_MIN_MAX),
    CFG_KW_REFUSE("force-tlsv10", 0, USE_MIN_MAX),
    CFG_KW_REFUSE("force-tlsv11", 0, USE_MIN_MAX),
    CFG_KW_REFUSE("force-tlsv12", 0, USE_MIN_MAX),
    CFG_KW_REFUSE("force-tlsv13", 0, USE_MIN_MAX),
    CFG_KW_REFUSE("no-tlsv12", 0, USE_MIN_MAX),
    CFG_KW_REFUSE("no-tlsv13", 0, USE_MIN_MAX),
    CFG_KW_REFUSE("npn", 0, "is not supported (use 'alpn')"),
    CFG_KW_REFUSE("allow-0rtt", 0, "is not supported (TLS 1.3 early data is never accepted)"),
    CFG_KW_REFUSE("prefer-client-ciphers", 0,
                  "is not supported (the server's cipher order applies)"),
    CFG_KW_REFUSE("strict-sni", 0,
                  "is not supported (a client without a matching SNI gets the first "
                  "certificate)"),
    CFG_KW_END,
};
#undef B

int cfg_pp_optional(const struct cfg_proxy *p)
{
	for (const struct cfg_bind *b = p->binds; b; b = b->next)
		if (b->accept_proxy == CFG_ACCEPT_PROXY_OPTIONAL)
			return 1;
	return 0;
}

/* What only the whole line can tell. */
static int bind_check_tls(struct cfg_pstate *ps, const struct cfg_bind *b)
{
	if (b->crts && !b->ssl) {
		ERR(ps, "'bind %s': 'crt' needs 'ssl' on the same bind", b->text);
		return -1;
	}
	if (b->ssl && !b->crts) {
		ERR(ps, "'bind %s': 'ssl' needs at least one 'crt'", b->text);
		return -1;
	}
	if (b->ssl_min_ver && b->ssl_max_ver && b->ssl_min_ver > b->ssl_max_ver) {
		ERR(ps, "'bind %s': 'ssl-min-ver' is above 'ssl-max-ver'", b->text);
		return -1;
	}
	return 0;
}

/* The options after the address: "'bind <address>': ..." starts their
 * messages. */
static int bind_options(struct cfg_pstate *ps, struct cfg_bind *b, int argc, char **argv)
{
	size_t len = strlen(b->text) + 8;
	char *what = cfg_xcalloc(1, len);
	struct cfg_ctx c = {.ps = ps, .obj = b, .what = what};
	int rc;

	snprintf(what, len, "'bind %s'", b->text);
	rc = cfg_kw_opts(&c, cfg_bind_kws, argc, argv, 1);
	free(what);
	return rc;
}

int cfg_kw_bind(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_bind *b, **tail;
	const char *err = NULL;

	b = cfg_xcalloc(1, sizeof(*b));
	b->where = ps->where;
	b->text = cfg_xstrdup(argv[1]);
	if (strchr(argv[1], ',')) {
		ERR(ps, "'bind %s': address lists are not supported, write one bind per address",
		    argv[1]);
		goto fail;
	}
	if (net_parse_bind(argv[1], &b->addr.ss, &b->addr.len, &err) < 0) {
		ERR(ps, "'bind %s': %s", argv[1], err);
		goto fail;
	}
	if (bind_options(ps, b, argc - 2, argv + 2) < 0 || bind_check_tls(ps, b) < 0)
		goto fail;
	for (tail = &ps->cur->binds; *tail; tail = &(*tail)->next)
		;
	*tail = b;
	return 0;
fail:
	cfg_bind_free(b);
	return -1;
}
