/* cfg_stats.c - what a proxy answers itself: HAProxy's `stats` page
 * keywords and `monitor-uri` / `monitor fail`.
 *
 * `stats <keyword> ...` is one row of cfg_stats_kws[] per keyword, with
 * the sections HAProxy 2.6 takes it in. The listener that serves them,
 * and the order on one request (monitor-uri, http-request rules, stats),
 * are web.c's and stream_svc.c's business; the checks that need the whole
 * configuration (admin without authentication, Basic credentials over
 * plain text) are cfg_finish.c's.
 */
#include <config.h>

#include "cfg_int.h"

#include "acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_stats_free(struct cfg_stats *st)
{
	free(st->uri);
	free(st->realm);
	for (int i = 0; i < st->nauths; i++)
		free(st->auths[i]);
	free(st->auths);
	acl_cond_free(st->admin);
	while (st->rules) {
		struct cfg_stats_rule *next = st->rules->next;
		free(st->rules->realm);
		acl_cond_free(st->rules->cond);
		free(st->rules);
		st->rules = next;
	}
	memset(st, 0, sizeof(*st));
}

/* What a proxy takes from its defaults section: the settings, never the
 * conditions (HAProxy takes `stats admin` and `stats http-request` in
 * listen and backend sections only). */
void cfg_stats_inherit(struct cfg_stats *dst, const struct cfg_stats *def)
{
	cfg_stats_free(dst);
	dst->enabled = def->enabled;
	dst->where = def->where;
	dst->uri = def->uri ? cfg_xstrdup(def->uri) : NULL;
	dst->realm = def->realm ? cfg_xstrdup(def->realm) : NULL;
	dst->refresh_ms = def->refresh_ms;
	dst->hide_version = def->hide_version;
	if (def->nauths) {
		dst->auths = cfg_xcalloc((size_t)def->nauths, sizeof(*dst->auths));
		for (int i = 0; i < def->nauths; i++)
			dst->auths[i] = cfg_xstrdup(def->auths[i]);
		dst->nauths = def->nauths;
	}
}

void cfg_monitor_fails_free(struct cfg_monitor_fail *m)
{
	while (m) {
		struct cfg_monitor_fail *next = m->next;
		acl_cond_free(m->cond);
		free(m);
		m = next;
	}
}

/* ---- the stats keywords ---- */

static struct cfg_stats *stats_of(struct cfg_ctx *c)
{
	struct cfg_stats *st = &c->ps->cur->stats;

	/* Every stats keyword but `stats http-request` enables the page, as
	 * in HAProxy; the first one is where messages about it point. */
	if (!st->enabled)
		st->where = c->ps->where;
	st->enabled = 1;
	return st;
}

static int st_enable(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	stats_of(c);
	return 0;
}

static int st_uri(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	if (argv[1][0] != '/') {
		ERR(c->ps, "'stats uri': '%s' must start with '/'", argv[1]);
		return -1;
	}
	cfg_set_str(&stats_of(c)->uri, argv[1]);
	return 0;
}

static int st_realm(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	/* It is written into a WWW-Authenticate quoted string. */
	if (strpbrk(argv[1], "\"\\\r\n")) {
		ERR(c->ps, "'stats realm': no quote, backslash or line break in a realm");
		return -1;
	}
	cfg_set_str(&stats_of(c)->realm, argv[1]);
	return 0;
}

static int st_refresh(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	stats_of(c);
	return cfg_kw_time(c, k, argc, argv); /* into refresh_ms: the row's field */
}

static int st_auth(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_stats *st;
	const char *colon = strchr(argv[1], ':');
	char **grown;

	if (!colon || colon == argv[1]) {
		ERR(c->ps, "'stats auth' expects <user>:<password>");
		return -1;
	}
	st = stats_of(c);
	grown = realloc(st->auths, ((size_t)st->nauths + 1) * sizeof(*grown));
	if (!grown) {
		ERR(c->ps, "'stats auth': out of memory");
		return -1;
	}
	st->auths = grown;
	st->auths[st->nauths++] = cfg_xstrdup(argv[1]);
	return 0;
}

static int st_hide_version(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	stats_of(c)->hide_version = 1;
	return 0;
}

/* A stats condition is evaluated on the main thread against a copy of the
 * request: the client's address, the path, the servers' state and the
 * request's credentials; never the ClientHello. */
static struct acl_cond *stats_cond(struct cfg_ctx *c, const char *what, int argc, char **argv)
{
	char err[512];
	struct acl_cond *cond;

	if (argc < 1 || (strcmp(argv[0], "if") != 0 && strcmp(argv[0], "unless") != 0)) {
		ERR(c->ps, "'%s' expects 'if' or 'unless' and a condition", what);
		return NULL;
	}
	cond = acl_cond_parse(argv, argc, c->ps->cur->acls, err, sizeof(err));
	if (!cond) {
		ERR(c->ps, "'%s': %s", what, err);
		return NULL;
	}
	if (acl_cond_fetches(cond) & ACL_NEEDS_CONTENT) {
		ERR(c->ps, "'%s': the ClientHello is not available to the stats page", what);
		acl_cond_free(cond);
		return NULL;
	}
	return cond;
}

static int st_admin(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_stats *st;
	struct acl_cond *cond = stats_cond(c, "stats admin", argc - 1, argv + 1);

	if (!cond)
		return -1;
	st = stats_of(c);
	if (st->admin) {
		ERR(c->ps, "'stats admin' is already set (line %d)", st->admin_where.line);
		acl_cond_free(cond);
		return -1;
	}
	st->admin = cond;
	st->admin_where = c->ps->where;
	st->admin_localhost = argc == 3 && !strcmp(argv[1], "if") && !strcmp(argv[2], "LOCALHOST");
	return 0;
}

static const char *const stats_actions[] = {"allow", "deny", "auth"};

static int st_http_request(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_stats *st = &c->ps->cur->stats;
	struct cfg_stats_rule *rule, **tail;
	int action = cfg_name_index(stats_actions, 3, argv[1]);
	int next = 2;

	if (action < 0) {
		ERR(c->ps, "'stats http-request %s' is not supported (allow, deny or auth)",
		    argv[1]);
		return -1;
	}
	rule = cfg_xcalloc(1, sizeof(*rule));
	rule->where = c->ps->where;
	rule->action = (enum cfg_stats_action)action;
	if (action == CFG_STATS_AUTH && next + 1 < argc && !strcmp(argv[next], "realm")) {
		if (strpbrk(argv[next + 1], "\"\\\r\n")) {
			ERR(c->ps, "'stats http-request auth': no quote, backslash or line break "
			           "in a realm");
			free(rule);
			return -1;
		}
		rule->realm = cfg_xstrdup(argv[next + 1]);
		next += 2;
	}
	if (next < argc) {
		rule->cond = stats_cond(c, "stats http-request", argc - next, argv + next);
		if (!rule->cond) {
			free(rule->realm);
			free(rule);
			return -1;
		}
	}
	for (tail = &st->rules; *tail; tail = &(*tail)->next)
		;
	*tail = rule;
	return 0;
}

#define ST struct cfg_stats
#define SHOW_HINT "is not supported (the page always shows what ppbridge has)"

const struct cfg_kw cfg_stats_kws[] = {
    CFG_KW_FN("enable", 0, 0, CAP_ALL, st_enable, NULL),
    CFG_KW_FN("uri", 1, 1, CAP_ALL, st_uri, "<prefix>"),
    CFG_KW_FN("realm", 1, 1, CAP_ALL, st_realm, "<realm>"),
    CFG_KW_FN_AT("refresh", 1, 1, CAP_ALL, st_refresh, "<delay>", unsigned, ST, refresh_ms),
    CFG_KW_FN("auth", 1, 1, CAP_ALL, st_auth, "<user>:<password>"),
    CFG_KW_FN("hide-version", 0, 0, CAP_ALL, st_hide_version, NULL),
    CFG_KW_FN("admin", 2, CFG_MANY, CAP_FE | CAP_BE, st_admin, "if|unless <condition>"),
    CFG_KW_FN("http-request", 1, CFG_MANY, CAP_BE, st_http_request,
              "allow|deny|auth [realm <realm>] [if|unless <condition>]"),
    CFG_KW_REFUSE("show-node", CAP_ALL, SHOW_HINT),
    CFG_KW_REFUSE("show-desc", CAP_ALL, SHOW_HINT),
    CFG_KW_REFUSE("show-legends", CAP_ALL, SHOW_HINT),
    CFG_KW_REFUSE("show-modules", CAP_ALL, SHOW_HINT),
    CFG_KW_REFUSE("scope", CAP_ALL, "is not supported (the page shows every proxy)"),
    CFG_KW_REFUSE("bind-process", CAP_ALL, "is not supported (one process)"),
    CFG_KW_END,
};
#undef ST

int cfg_kw_stats(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	const struct cfg_kw *s = cfg_kw_find(cfg_stats_kws, argv[1]);
	struct cfg_ctx sub = *c;
	char name[80];

	if (!s) {
		ERR(c->ps, "unknown keyword 'stats %s' in '%s' section (stats socket and stats "
		           "timeout belong in global)",
		    argv[1], cfg_sec_name(c->ps->cur->caps));
		return -1;
	}
	snprintf(name, sizeof(name), "stats %s", s->kw);
	sub.name = name;
	sub.obj = &c->ps->cur->stats;
	return cfg_kw_run(&sub, s, c->ps->cur->caps, argc - 1, argv + 1);
}

/* ---- monitor-uri, monitor fail ---- */

int cfg_kw_monitor_uri(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	if (argv[1][0] != '/') {
		ERR(c->ps, "'monitor-uri': '%s' must start with '/'", argv[1]);
		return -1;
	}
	cfg_set_str(&c->ps->cur->monitor_uri, argv[1]);
	return 0;
}

int cfg_kw_monitor(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_monitor_fail *m, **tail;
	char err[512];

	if (strcmp(argv[1], "fail") != 0 || argc < 4) {
		ERR(c->ps, "'monitor' expects 'fail if|unless <condition>'");
		return -1;
	}
	if (strcmp(argv[2], "if") != 0 && strcmp(argv[2], "unless") != 0) {
		ERR(c->ps, "'monitor fail' expects 'if' or 'unless' and a condition");
		return -1;
	}
	m = cfg_xcalloc(1, sizeof(*m));
	m->cond = acl_cond_parse(argv + 2, argc - 2, c->ps->cur->acls, err, sizeof(err));
	if (!m->cond) {
		ERR(c->ps, "'monitor fail': %s", err);
		free(m);
		return -1;
	}
	if (acl_cond_fetches(m->cond) & ACL_NEEDS_CONTENT) {
		ERR(c->ps, "'monitor fail': the ClientHello is not available to an HTTP rule");
		cfg_monitor_fails_free(m);
		return -1;
	}
	if (cfg_refuse_auth_cond(c->ps, "'monitor fail'", m->cond) < 0) {
		cfg_monitor_fails_free(m);
		return -1;
	}
	for (tail = &c->ps->cur->monitor_fails; *tail; tail = &(*tail)->next)
		;
	*tail = m;
	return 0;
}

/* ---- checks on the whole configuration (cfg_finish.c) ---- */

static int addr_loopback(const struct cfg_addr *a)
{
	const struct sockaddr_storage *ss = &a->ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 0;
}

static int addr_wildcard(const struct cfg_addr *a)
{
	const struct sockaddr_storage *ss = &a->ss;

	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 0;
}

/* Credentials can be asked for: `stats auth`, or a `stats http-request
 * auth` rule (the userlist idiom). */
static int stats_has_auth(const struct cfg_stats *st)
{
	if (st->nauths > 0)
		return 1;
	for (const struct cfg_stats_rule *r = st->rules; r; r = r->next)
		if (r->action == CFG_STATS_AUTH)
			return 1;
	return 0;
}

/* A click on the page can flip a VIP's client-IP path: actions need an
 * authenticated user, except HAProxy's documented `stats admin if
 * LOCALHOST` on binds that only listen on loopback. Basic credentials
 * cross the network in clear text without TLS. */
void cfg_stats_finish(struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	struct cfg_stats *st = &p->stats;
	int all_loopback = p->binds != NULL, plain_remote = 0, wildcard = 0;

	if (!st->enabled)
		return;
	for (const struct cfg_bind *b = p->binds; b; b = b->next) {
		int lo = addr_loopback(&b->addr);
		all_loopback &= lo;
		plain_remote |= !lo && !b->ssl;
		wildcard |= addr_wildcard(&b->addr);
	}
	if (st->admin && !stats_has_auth(st)) {
		if (st->admin_localhost && all_loopback)
			st->admin_without_auth = 1;
		else
			cfg_msg_add(msgs, CFG_SEV_ERROR, &st->admin_where,
			            "%s '%s': 'stats admin' without authentication: add 'stats auth "
			            "<user>:<password>' (or a userlist and 'stats http-request auth'); "
			            "only 'stats admin if LOCALHOST' on loopback-only binds needs none",
			            cfg_sec_name(p->caps), p->name);
	}
	if (st->nauths > 0 && plain_remote)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &st->where,
		            "%s '%s': 'stats auth' on a plain bind that is not loopback: the "
		            "credentials cross the network in clear text (add 'ssl crt' to the bind)",
		            cfg_sec_name(p->caps), p->name);
	if (!stats_has_auth(st) && wildcard)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &st->where,
		            "%s '%s': a stats page without authentication on a wildcard address: "
		            "anyone who reaches it sees every server and address",
		            cfg_sec_name(p->caps), p->name);
}

int cfg_stats_loopback_admin(const struct cfg_proxy *p)
{
	return p->stats.admin_without_auth;
}

/* A proxy that answers requests itself. */
int cfg_serves_itself(const struct cfg_proxy *p)
{
	if (p->stats.enabled || p->monitor_uri)
		return 1;
	for (const struct cfg_http_rule *r = p->http_rules; r; r = r->next)
		if (r->action == CFG_HTTP_USE_SERVICE)
			return 1;
	return 0;
}
