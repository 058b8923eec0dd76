/* cfg_bind.c - `bind` lines and their options. */
#include <config.h>

#include "cfg_int.h"

#include "net.h"

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

/* The value after a bind option, or an error naming both. */
static const char *bind_arg(struct cfg_pstate *ps, int argc, char **argv, int *i)
{
	if (*i + 1 >= argc || !*argv[*i + 1]) {
		ERR(ps, "'bind %s': '%s' expects a value", argv[1], argv[*i]);
		return NULL;
	}
	return argv[++*i];
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

static int bind_tls_version(struct cfg_pstate *ps, struct cfg_bind *b, const char *opt, const char *arg,
                            int *out)
{
	const char *err;

	if (cfg_parse_tls_version(arg, out, &err) < 0) {
		ERR(ps, "'bind %s': '%s %s': %s", b->text, opt, arg, err);
		return -1;
	}
	return 0;
}

static int kw_bind_option(struct cfg_pstate *ps, struct cfg_bind *b, int argc, char **argv, int *i)
{
	/* Bind options a later issue brings (none left since issue #5). */
	static const struct cfg_later later[] = {
	    {NULL, NULL},
	};
	/* HAProxy's TLS bind options that ppbridge refuses for good, with
	 * what to write instead when there is something. */
	static const struct {
		const char *kw;
		const char *hint;
	} names[] = {
	    {"crt-list", "list the certificates with several 'crt', or name a directory"},
	    {"ca-file", "client certificates are not supported"},
	    {"verify", "client certificates are not supported"},
	    {"ca-verify-file", "client certificates are not supported"},
	    {"crl-file", "client certificates are not supported"},
	    {"ca-ignore-err", "client certificates are not supported"},
	    {"crt-ignore-err", "client certificates are not supported"},
	    {"no-ca-names", "client certificates are not supported"},
	    {"ca-sign-file", "certificates are never generated"},
	    {"ca-sign-pass", "certificates are never generated"},
	    {"generate-certificates", "certificates are never generated"},
	    {"curves", "OpenSSL's default groups apply"},
	    {"ecdhe", "OpenSSL's default groups apply"},
	    {"sigalgs", "OpenSSL's default signature algorithms apply"},
	    {"client-sigalgs", "client certificates are not supported"},
	    {"force-sslv3", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"force-tlsv10", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"force-tlsv11", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"force-tlsv12", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"force-tlsv13", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"no-tlsv12", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"no-tlsv13", "use 'ssl-min-ver' and 'ssl-max-ver'"},
	    {"npn", "use 'alpn'"},
	    {"allow-0rtt", "TLS 1.3 early data is never accepted"},
	    {"prefer-client-ciphers", "the server's cipher order applies"},
	    {"strict-sni", "a client without a matching SNI gets the first certificate"},
	};
	const char *opt = argv[*i], *arg;
	const struct cfg_later *l = cfg_find_later(later, opt);

	if (l) {
		ERR(ps, "'%s' on bind %s", opt, l->why);
		return -1;
	}
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		if (!strcmp(names[k].kw, opt)) {
			ERR(ps, "'bind %s': '%s' is not supported (%s)", argv[1], opt,
			    names[k].hint);
			return -1;
		}
	}
	if (!strcmp(opt, "accept-proxy")) {
		b->accept_proxy = 1;
	} else if (!strcmp(opt, "v4v6")) {
		b->v4v6 = 1;
	} else if (!strcmp(opt, "v6only")) {
		b->v6only = 1;
	} else if (!strcmp(opt, "name")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		cfg_set_str(&b->name, arg);
	} else if (!strcmp(opt, "ssl")) {
		b->ssl = 1;
	} else if (!strcmp(opt, "crt")) {
		struct cfg_str *c, **tail = &b->crts;
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		while (*tail)
			tail = &(*tail)->next;
		c = cfg_xcalloc(1, sizeof(*c));
		c->s = cfg_base_path(ps->cfg->global.crt_base, arg);
		*tail = c;
	} else if (!strcmp(opt, "alpn")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		if (!valid_alpn(arg)) {
			ERR(ps,
			    "'bind %s': 'alpn' expects protocol names separated by commas "
			    "(e.g. h2,http/1.1), got '%s'",
			    argv[1], arg);
			return -1;
		}
		cfg_set_str(&b->alpn, arg);
	} else if (!strcmp(opt, "ssl-min-ver") || !strcmp(opt, "ssl-max-ver")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		return bind_tls_version(ps, b, opt, arg,
		                        !strcmp(opt, "ssl-min-ver") ? &b->ssl_min_ver
		                                                    : &b->ssl_max_ver);
	} else if (!strcmp(opt, "ciphers")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		cfg_set_str(&b->ciphers, arg);
	} else if (!strcmp(opt, "ciphersuites")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		cfg_set_str(&b->ciphersuites, arg);
	} else if (!strcmp(opt, "tls-ticket-keys")) {
		if (!(arg = bind_arg(ps, argc, argv, i)))
			return -1;
		cfg_set_str(&b->tls_ticket_keys, arg);
	} else if (!strcmp(opt, "no-sslv3") || !strcmp(opt, "no-tlsv10") ||
	           !strcmp(opt, "no-tlsv11")) {
		NOTICE(ps,
		       "'bind %s': '%s' has no effect: ppbridge never offers TLS versions "
		       "below 1.2",
		       argv[1], opt);
	} else if (!strcmp(opt, "no-tls-tickets")) {
		ERR(ps,
		    "'bind %s': 'no-tls-tickets' is not supported (session tickets stay on so "
		    "that returning clients resume)",
		    argv[1]);
		return -1;
	} else {
		ERR(ps, "'bind %s': unknown option '%s'", argv[1], opt);
		return -1;
	}
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
	for (int i = 2; i < argc; i++)
		if (kw_bind_option(ps, b, argc, argv, &i) < 0)
			goto fail;
	if (bind_check_tls(ps, b) < 0)
		goto fail;
	for (tail = &ps->cur->binds; *tail; tail = &(*tail)->next)
		;
	*tail = b;
	return 0;
fail:
	cfg_bind_free(b);
	return -1;
}
