/* cfg_rules.c - conditions, rules and health-check requests of a proxy:
 * `acl`, `use_backend`, `tcp-request`, `http-request` (and the removed
 * `req*` forms), `http-check`.
 */
#include <config.h>

#include "cfg_int.h"

#include "acl.h"
#include "net.h"
#include "sample.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void hdrs_free(struct cfg_hdr *h)
{
	while (h) {
		struct cfg_hdr *next = h->next;
		free(h->name);
		free(h->value);
		free(h);
		h = next;
	}
}

void cfg_httpchk_clear_rules(struct cfg_httpchk *c)
{
	free(c->method);
	free(c->uri);
	free(c->version);
	free(c->connect_sni);
	hdrs_free(c->hdrs);
	c->method = c->uri = c->version = c->connect_sni = NULL;
	c->hdrs = NULL;
	c->expect_status = 0;
	c->connect_ssl = 0;
	c->connect_port = 0;
}

void cfg_httpchk_copy(struct cfg_httpchk *dst, const struct cfg_httpchk *src)
{
	struct cfg_hdr **tail = &dst->hdrs;

	*dst = *src;
	dst->method = cfg_xstrdup(src->method);
	dst->uri = cfg_xstrdup(src->uri);
	dst->version = cfg_xstrdup(src->version);
	dst->connect_sni = cfg_xstrdup(src->connect_sni);
	dst->hdrs = NULL;
	for (const struct cfg_hdr *h = src->hdrs; h; h = h->next) {
		struct cfg_hdr *n = cfg_xcalloc(1, sizeof(*n));
		n->name = cfg_xstrdup(h->name);
		n->value = cfg_xstrdup(h->value);
		*tail = n;
		tail = &n->next;
	}
}

void cfg_http_rules_free(struct cfg_http_rule *r)
{
	while (r) {
		struct cfg_http_rule *next = r->next;
		free(r->name);
		sample_free(r->fmt);
		acl_cond_free(r->cond);
		cfg_track_free(&r->track);
		free(r);
		r = next;
	}
}

void cfg_tcp_rules_free(struct cfg_tcp_rule *r)
{
	while (r) {
		struct cfg_tcp_rule *next = r->next;
		acl_cond_free(r->cond);
		cfg_track_free(&r->track);
		free(r);
		r = next;
	}
}

/* The first http-check rule of a section replaces the inherited ones
 * (HAProxy does not merge a proxy's check rules with its defaults'). */
void cfg_hc_own(struct cfg_pstate *ps)
{
	if (ps->cur_hc_own)
		return;
	ps->cur_hc_own = 1;
	cfg_httpchk_clear_rules(&ps->cur->httpchk);
}
/* RFC 9110 tchar and token: what a header field name is made of. */
static int is_tchar(char c)
{
	return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!is_tchar(*s))
			return 0;
	return 1;
}

/* A header name a rule may delete, set or add. The two fields that frame
 * the body are refused: rewriting them would make ppbridge and the server
 * disagree on where a request ends, which is request smuggling. */
int cfg_check_header_name(struct cfg_pstate *ps, const char *what, const char *name)
{
	if (!is_token(name)) {
		ERR(ps, "%s: '%s' is not a valid header name (RFC 9110 token)", what, name);
		return -1;
	}
	if (!strcasecmp(name, "content-length") || !strcasecmp(name, "transfer-encoding")) {
		ERR(ps,
		    "%s: '%s' frames the request body and cannot be rewritten (requests could "
		    "be smuggled)",
		    what, name);
		return -1;
	}
	return 0;
}

int cfg_refuse_auth_cond(struct cfg_pstate *ps, const char *what, const struct acl_cond *cond)
{
	if (!(acl_cond_fetches(cond) & ACL_NEEDS_HTTP_AUTH))
		return 0;
	ERR(ps,
	    "%s: http_auth can only be used in 'stats' rules (http_auth_group too: the "
	    "client's credentials are only looked at for the stats page)",
	    what);
	return -1;
}

/* ---- http-check ---- */

static int hc_connect(struct cfg_pstate *ps, int argc, char **argv)
{
	struct cfg_httpchk *c = &ps->cur->httpchk;
	uint16_t port;

	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "ssl")) {
			c->connect_ssl = 1;
		} else if (!strcmp(o, "port") && i + 1 < argc) {
			if (net_parse_port(argv[++i], &port) < 0 || port == 0) {
				ERR(ps, "'http-check connect': 'port' expects 1..65535, got '%s'",
				    argv[i]);
				return -1;
			}
			c->connect_port = port;
		} else if (!strcmp(o, "sni") && i + 1 < argc) {
			cfg_set_str(&c->connect_sni, argv[++i]);
		} else if (!strncmp(o, "send-proxy", 10)) {
			ERR(ps,
			    "'http-check connect': '%s' is not supported: use 'check-send-proxy' "
			    "on the server line",
			    o);
			return -1;
		} else if (!strcmp(o, "port") || !strcmp(o, "sni")) {
			ERR(ps, "'http-check connect': '%s' expects a value", o);
			return -1;
		} else {
			ERR(ps, "'http-check connect': '%s' is not supported (port, ssl, sni)", o);
			return -1;
		}
	}
	return 0;
}

static int hc_send(struct cfg_pstate *ps, int argc, char **argv)
{
	struct cfg_httpchk *c = &ps->cur->httpchk;
	struct cfg_hdr **tail = &c->hdrs;

	while (*tail)
		tail = &(*tail)->next;
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		int need = !strcmp(o, "hdr") ? 2 : 1;
		if (strcmp(o, "meth") && strcmp(o, "uri") && strcmp(o, "ver") && strcmp(o, "hdr")) {
			ERR(ps, "'http-check send': '%s' is not supported (meth, uri, ver, hdr)",
			    o);
			return -1;
		}
		if (i + need >= argc) {
			ERR(ps, "'http-check send': '%s' expects %s", o,
			    need == 2 ? "<name> <value>" : "a value");
			return -1;
		}
		if (!strcmp(o, "meth")) {
			cfg_set_str(&c->method, argv[i + 1]);
		} else if (!strcmp(o, "uri")) {
			cfg_set_str(&c->uri, argv[i + 1]);
		} else if (!strcmp(o, "ver")) {
			cfg_set_str(&c->version, argv[i + 1]);
		} else {
			struct cfg_hdr *h = cfg_xcalloc(1, sizeof(*h));
			h->name = cfg_xstrdup(argv[i + 1]);
			h->value = cfg_xstrdup(argv[i + 2]);
			*tail = h;
			tail = &h->next;
		}
		i += need;
	}
	return 0;
}

static int hc_expect(struct cfg_pstate *ps, int argc, char **argv)
{
	long v;

	if (argc != 4 || strcmp(argv[2], "status") != 0) {
		ERR(ps, "'http-check expect': only 'status <code>' is supported yet");
		return -1;
	}
	if (cfg_parse_long(argv[3], 100, 599, &v) < 0) {
		ERR(ps, "'http-check expect status' expects a code 100..599, got '%s'", argv[3]);
		return -1;
	}
	ps->cur->httpchk.expect_status = (int)v;
	return 0;
}

int cfg_kw_http_check(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;

	cfg_hc_own(ps);
	if (!strcmp(argv[1], "connect"))
		return hc_connect(ps, argc, argv);
	if (!strcmp(argv[1], "send"))
		return hc_send(ps, argc, argv);
	if (!strcmp(argv[1], "expect"))
		return hc_expect(ps, argc, argv);
	ERR(ps, "'http-check %s' is not supported (connect, send, expect)", argv[1]);
	return -1;
}

int cfg_kw_acl(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	char err[512];

	if (acl_declare(&ps->cur->acls, argv[1], argv + 2, argc - 2, err, sizeof(err)) < 0) {
		ERR(ps, "acl '%s': %s", argv[1], err);
		return -1;
	}
	return 0;
}

/* `use_backend <backend> [if|unless <condition>]`. */
int cfg_kw_use_backend(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_use_backend *u, **tail;
	char err[512];

	if (argc > 2 && strcmp(argv[2], "if") != 0 && strcmp(argv[2], "unless") != 0)
		return cfg_kw_usage(c, k);
	u = cfg_xcalloc(1, sizeof(*u));
	u->where = ps->where;
	if (argc > 2 &&
	    !(u->cond = acl_cond_parse(argv + 2, argc - 2, ps->cur->acls, err, sizeof(err)))) {
		ERR(ps, "'use_backend %s': %s", argv[1], err);
		free(u);
		return -1;
	}
	snprintf(err, sizeof(err), "'use_backend %.200s'", argv[1]);
	if (cfg_refuse_auth_cond(ps, err, u->cond) < 0) {
		acl_cond_free(u->cond);
		free(u);
		return -1;
	}
	u->name = cfg_xstrdup(argv[1]);
	for (tail = &ps->cur->use_backends; *tail; tail = &(*tail)->next)
		;
	*tail = u;
	return 0;
}

/* `tcp-request content accept|reject [if|unless ...]`: evaluated once the
 * client's ClientHello is read (or `tcp-request inspect-delay` ran out). */
static int tcp_content_rule(struct cfg_pstate *ps, int argc, char **argv)
{
	struct cfg_tcp_rule *rule, **tail;
	char err[512];
	int next = 3;

	if (argc < 3 || (strcmp(argv[2], "accept") != 0 && strcmp(argv[2], "reject") != 0 &&
	                 strncmp(argv[2], "track-sc", 8) != 0)) {
		ERR(ps, "'tcp-request content' expects accept, reject or track-sc<N> <key> "
		        "[table <name>] [if|unless <condition>]");
		return -1;
	}
	rule = cfg_xcalloc(1, sizeof(*rule));
	rule->where = ps->where;
	rule->action = strcmp(argv[2], "accept") == 0   ? CFG_TCP_ACCEPT
	               : strcmp(argv[2], "reject") == 0 ? CFG_TCP_REJECT
	                                                : CFG_TCP_TRACK_SC;
	if (rule->action == CFG_TCP_TRACK_SC) {
		next = 2;
		if (cfg_track_parse(ps, "'tcp-request content'", argc, argv, &next, &rule->track) < 0) {
			cfg_tcp_rules_free(rule);
			return -1;
		}
	}
	if (argc > next &&
	    !(rule->cond = acl_cond_parse(argv + next, argc - next, ps->cur->acls, err, sizeof(err)))) {
		ERR(ps, "'tcp-request content %s': %s", argv[2], err);
		cfg_tcp_rules_free(rule);
		return -1;
	}
	snprintf(err, sizeof(err), "'tcp-request content %s'", argv[2]);
	if (cfg_refuse_auth_cond(ps, err, rule->cond) < 0) {
		cfg_tcp_rules_free(rule);
		return -1;
	}
	for (tail = &ps->cur->tcp_content_rules; *tail; tail = &(*tail)->next)
		;
	*tail = rule;
	return 0;
}

/* `tcp-request inspect-delay <time>`: a lone typed row, the line has
 * other forms. */
static int tcp_inspect_delay(struct cfg_pstate *ps, int argc, char **argv)
{
	static const struct cfg_kw delay =
	    CFG_KW_TIME("inspect-delay", 0, struct cfg_timeouts, inspect_delay, 0);
	struct cfg_ctx sub = {
	    .ps = ps, .obj = &ps->cur->timeout, .name = "tcp-request inspect-delay"};

	return cfg_kw_time(&sub, &delay, argc - 1, argv + 1);
}

/* `tcp-request connection accept|reject|expect-proxy layer4 [if|unless ...]`,
 * `tcp-request content accept|reject [if|unless ...]`,
 * `tcp-request inspect-delay <time>`. */
int cfg_kw_tcp_request(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_tcp_rule *rule, **tail;
	char err[512];
	int next = 3;
	enum cfg_tcp_action action;

	if (!strcmp(argv[1], "inspect-delay"))
		return tcp_inspect_delay(ps, argc, argv);
	if (!strcmp(argv[1], "content"))
		return tcp_content_rule(ps, argc, argv);
	if (argc < 3 || strcmp(argv[1], "connection") != 0)
		return cfg_kw_usage(c, k);
	if (!strcmp(argv[2], "accept")) {
		action = CFG_TCP_ACCEPT;
	} else if (!strcmp(argv[2], "reject")) {
		action = CFG_TCP_REJECT;
	} else if (!strcmp(argv[2], "expect-proxy")) {
		if (argc < 4 || strcmp(argv[3], "layer4") != 0) {
			ERR(ps, "'tcp-request connection expect-proxy' expects 'layer4'");
			return -1;
		}
		action = CFG_TCP_EXPECT_PROXY;
		next = 4;
	} else if (!strcmp(argv[2], "silent-drop")) {
		action = CFG_TCP_SILENT_DROP;
	} else if (!strncmp(argv[2], "track-sc", 8)) {
		action = CFG_TCP_TRACK_SC;
		next = 2;
	} else {
		ERR(ps,
		    "'tcp-request connection': unsupported action '%s' (supported: accept, "
		    "reject, expect-proxy layer4, track-sc0|1|2, silent-drop)",
		    argv[2]);
		return -1;
	}
	rule = cfg_xcalloc(1, sizeof(*rule));
	rule->where = ps->where;
	rule->action = action;
	if (action == CFG_TCP_TRACK_SC &&
	    cfg_track_parse(ps, "'tcp-request connection'", argc, argv, &next, &rule->track) < 0) {
		cfg_tcp_rules_free(rule);
		return -1;
	}
	if (next < argc) {
		rule->cond =
		    acl_cond_parse(argv + next, argc - next, ps->cur->acls, err, sizeof(err));
		if (!rule->cond) {
			ERR(ps, "'tcp-request connection %s': %s", argv[2], err);
			cfg_tcp_rules_free(rule);
			return -1;
		}
		snprintf(err, sizeof(err), "'tcp-request connection %s'", argv[2]);
		if (cfg_refuse_auth_cond(ps, err, rule->cond) < 0) {
			cfg_tcp_rules_free(rule);
			return -1;
		}
		if (acl_cond_fetches(rule->cond) & ACL_NEEDS_CONTENT) {
			ERR(ps,
			    "'tcp-request connection %s': the ClientHello is not read yet at "
			    "connection time (use 'tcp-request content' and "
			    "'tcp-request inspect-delay')",
			    argv[2]);
			cfg_tcp_rules_free(rule);
			return -1;
		}
	}
	for (tail = &ps->cur->tcp_conn_rules; *tail; tail = &(*tail)->next)
		;
	*tail = rule;
	return 0;
}

/* The optional `if|unless <condition>` that ends a rule at argv[next]. */
static int rule_cond(struct cfg_pstate *ps, const char *what, int argc, char **argv, int next,
                     struct acl_cond **cond)
{
	char err[512];

	if (next >= argc)
		return 0;
	if (strcmp(argv[next], "if") != 0 && strcmp(argv[next], "unless") != 0) {
		ERR(ps,
		    "%s: unexpected word '%s' (expected 'if' or 'unless' and a condition; quote "
		    "a value that has spaces)",
		    what, argv[next]);
		return -1;
	}
	*cond = acl_cond_parse(argv + next, argc - next, ps->cur->acls, err, sizeof(err));
	if (!*cond) {
		ERR(ps, "%s: %s", what, err);
		return -1;
	}
	return cfg_refuse_auth_cond(ps, what, *cond); /* the caller frees *cond */
}

static void http_rule_append(struct cfg_proxy *p, struct cfg_http_rule *rule)
{
	struct cfg_http_rule **tail = &p->http_rules;

	while (*tail)
		tail = &(*tail)->next;
	*tail = rule;
}

/* del-header's `-m <method>`: names are compared whole (case-insensitive),
 * so only the default `str` method has a meaning here. */
static int del_header_match(struct cfg_pstate *ps, const char *what, int argc, char **argv,
                            int *next)
{
	if (*next >= argc || strcmp(argv[*next], "-m") != 0)
		return 0;
	if (*next + 1 >= argc) {
		ERR(ps, "%s: '-m' expects a matching method", what);
		return -1;
	}
	if (strcmp(argv[*next + 1], "str") != 0) {
		ERR(ps, "%s: '-m %s' is not supported (only '-m str', the whole name)", what,
		    argv[*next + 1]);
		return -1;
	}
	*next += 2;
	return 0;
}

/* The services `http-request use-service` can name. */
static const char *const services[] = {"prometheus-exporter"};

/* `http-request use-service <service> [if|unless <condition>]`: the request
 * is answered by ppbridge itself (web.c), never forwarded. */
static int http_use_service(struct cfg_pstate *ps, int argc, char **argv)
{
	struct cfg_http_rule *rule;
	int svc;

	if (argc < 3) {
		ERR(ps, "'http-request use-service' expects <service> [if|unless <condition>]");
		return -1;
	}
	svc = cfg_name_index(services, 1, argv[2]);
	if (svc < 0) {
		ERR(ps, "'http-request use-service %s': unknown service (ppbridge has "
		        "prometheus-exporter)",
		    argv[2]);
		return -1;
	}
	rule = cfg_xcalloc(1, sizeof(*rule));
	rule->where = ps->where;
	rule->action = CFG_HTTP_USE_SERVICE;
	rule->service = CFG_SERVICE_PROMETHEUS + svc;
	if (rule_cond(ps, "'http-request use-service'", argc, argv, 3, &rule->cond) < 0) {
		cfg_http_rules_free(rule);
		return -1;
	}
	if (rule->cond && (acl_cond_fetches(rule->cond) & ACL_NEEDS_CONTENT)) {
		ERR(ps, "'http-request use-service': the ClientHello is not available to an HTTP "
		        "rule");
		cfg_http_rules_free(rule);
		return -1;
	}
	http_rule_append(ps->cur, rule);
	return 0;
}

/* A rule's condition may not read the ClientHello (gone by HTTP time). */
static int http_cond_ok(struct cfg_pstate *ps, const char *what, const struct acl_cond *cond)
{
	if (cond && (acl_cond_fetches(cond) & ACL_NEEDS_CONTENT)) {
		ERR(ps, "%s: the ClientHello is not available to an HTTP rule", what);
		return -1;
	}
	return 0;
}

/* `http-request track-sc<N> <key> [table <name>] [if|unless <condition>]` */
static int http_track(struct cfg_pstate *ps, int argc, char **argv)
{
	struct cfg_http_rule *rule = cfg_xcalloc(1, sizeof(*rule));
	int next = 1;

	rule->where = ps->where;
	rule->action = CFG_HTTP_TRACK_SC;
	if (cfg_track_parse(ps, "'http-request'", argc, argv, &next, &rule->track) < 0 ||
	    rule_cond(ps, "'http-request track-sc'", argc, argv, next, &rule->cond) < 0 ||
	    http_cond_ok(ps, "'http-request track-sc'", rule->cond) < 0) {
		cfg_http_rules_free(rule);
		return -1;
	}
	http_rule_append(ps->cur, rule);
	return 0;
}

/* The codes HAProxy 2.6 has an answer for (deny_status; checked with haproxy -c). */
static int deny_status_ok(int code)
{
	static const int codes[] = {200, 400, 401, 403, 404, 405, 407, 408, 410, 413,
	                            421, 422, 425, 429, 500, 501, 502, 503, 504};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i] == code)
			return 1;
	return 0;
}

/* `http-request deny|tarpit [deny_status <code>] [if|unless <condition>]` */
static int http_deny(struct cfg_pstate *ps, int argc, char **argv)
{
	struct cfg_http_rule *rule = cfg_xcalloc(1, sizeof(*rule));
	int tarpit = !strcmp(argv[1], "tarpit"), next = 2;
	char what[64];

	snprintf(what, sizeof(what), "'http-request %s'", argv[1]);
	rule->where = ps->where;
	rule->action = tarpit ? CFG_HTTP_TARPIT : CFG_HTTP_DENY;
	rule->deny_status = tarpit ? 500 : 403;
	if (next < argc && (!strcmp(argv[next], "deny_status") || !strcmp(argv[next], "status"))) {
		char *end = NULL;
		long code = next + 1 < argc ? strtol(argv[next + 1], &end, 10) : 0;
		if (!end || *end || code < 100 || code > 599 || !deny_status_ok((int)code)) {
			ERR(ps, "%s: '%s' expects one of 200, 400, 401, 403, 404, 405, 407, 408, 410, "
			        "413, 421, 422, 425, 429, 500, 501, 502, 503, 504 (HAProxy 2.6's)",
			    what, argv[next]);
			cfg_http_rules_free(rule);
			return -1;
		}
		rule->deny_status = (int)code;
		next += 2;
	}
	if (rule_cond(ps, what, argc, argv, next, &rule->cond) < 0 ||
	    http_cond_ok(ps, what, rule->cond) < 0) {
		cfg_http_rules_free(rule);
		return -1;
	}
	http_rule_append(ps->cur, rule);
	return 0;
}

/* `http-request del-header|set-header|add-header <name> [<fmt>] [-m str]
 * [if|unless <condition>]`. */
int cfg_kw_http_request(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_http_rule *rule;
	enum cfg_http_action action;
	char what[300], err[256];
	int next = 3;

	if (!strcmp(argv[1], "use-service"))
		return http_use_service(ps, argc, argv);
	if (!strncmp(argv[1], "track-sc", 8))
		return http_track(ps, argc, argv);
	if (!strcmp(argv[1], "deny") || !strcmp(argv[1], "tarpit"))
		return http_deny(ps, argc, argv);
	if (!strcmp(argv[1], "del-header")) {
		action = CFG_HTTP_DEL_HEADER;
	} else if (!strcmp(argv[1], "set-header")) {
		action = CFG_HTTP_SET_HEADER;
	} else if (!strcmp(argv[1], "add-header")) {
		action = CFG_HTTP_ADD_HEADER;
	} else {
		ERR(ps,
		    "'http-request %s' is not supported (supported actions: del-header, "
		    "set-header, add-header, use-service, track-sc0|1|2, deny, tarpit)",
		    argv[1]);
		return -1;
	}
	if (argc < (action == CFG_HTTP_DEL_HEADER ? 3 : 4)) {
		ERR(ps, "'http-request %s' expects <name>%s [if|unless <condition>]", argv[1],
		    action == CFG_HTTP_DEL_HEADER ? "" : " <value>");
		return -1;
	}
	snprintf(what, sizeof(what), "'http-request %s %.200s'", argv[1], argv[2]);
	if (cfg_check_header_name(ps, what, argv[2]) < 0)
		return -1;
	rule = cfg_xcalloc(1, sizeof(*rule));
	rule->where = ps->where;
	rule->action = action;
	rule->name = cfg_xstrdup(argv[2]);
	if (action == CFG_HTTP_DEL_HEADER) {
		if (del_header_match(ps, what, argc, argv, &next) < 0)
			goto fail;
	} else {
		rule->fmt = sample_compile(argv[3], err, sizeof(err));
		if (!rule->fmt) {
			ERR(ps, "%s: %s", what, err);
			goto fail;
		}
		next = 4;
	}
	if (rule_cond(ps, what, argc, argv, next, &rule->cond) < 0)
		goto fail;
	http_rule_append(ps->cur, rule);
	return 0;
fail:
	cfg_http_rules_free(rule);
	return -1;
}

/* The header a removed `reqidel`/`reqdel` regex deletes, when the regex
 * says exactly "this header, whole line": `^<name>:` with an optional
 * `.*` (and `$` after it). Name characters may be escaped (`X\-Foo`); a
 * regex metacharacter that is not escaped means a real regex, which is
 * refused rather than guessed at. Returns 0 with `name` filled, or -1. */
static int reqdel_header(const char *re, char *name, size_t len)
{
	size_t n = 0;

	if (*re++ != '^')
		return -1;
	for (;; re++) {
		char c = *re;
		if (c == '\\' && is_tchar(re[1]) && !isalnum((unsigned char)re[1]))
			c = *++re;
		else if (!is_tchar(c) || strchr("$*+.^|", c))
			break;
		if (n + 1 >= len)
			return -1;
		name[n++] = c;
	}
	name[n] = '\0';
	if (n == 0 || *re++ != ':')
		return -1;
	if (re[0] == '.' && re[1] == '*')
		re += re[2] == '$' ? 3 : 2;
	return *re ? -1 : 0;
}

/* HAProxy removed the `req*` regex rules in 2.1. The one the seed uses,
 * deleting a whole header, maps exactly onto del-header, so it is kept
 * working (with a warning); any other regex is refused. */
int cfg_kw_reqdel(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_http_rule *rule;
	char name[256], what[300];

	snprintf(what, sizeof(what), "'%s %.200s'", argv[0], argv[1]);
	if (reqdel_header(argv[1], name, sizeof(name)) < 0) {
		ERR(ps,
		    "%s: only '^<header-name>:.*' can be mapped; use 'http-request del-header "
		    "<name>'",
		    what);
		return -1;
	}
	if (cfg_check_header_name(ps, what, name) < 0)
		return -1;
	rule = cfg_xcalloc(1, sizeof(*rule));
	rule->where = ps->where;
	rule->action = CFG_HTTP_DEL_HEADER;
	rule->name = cfg_xstrdup(name);
	if (rule_cond(ps, what, argc, argv, 2, &rule->cond) < 0) {
		cfg_http_rules_free(rule);
		return -1;
	}
	http_rule_append(ps->cur, rule);
	WARN(ps,
	     "'%s' was removed from HAProxy in 2.1; ppbridge maps this one to 'http-request "
	     "del-header %s' (case-insensitive%s)",
	     argv[0], name, strcmp(argv[0], "reqdel") ? "" : ", where reqdel was not");
	return 0;
}
