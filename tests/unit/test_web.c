/* test_web.c - the configuration of what ppbridge answers itself (stats,
 * monitor-uri, use-service: cfg_stats.c) and the page's same-origin rule
 * (web.c).
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "cfg.h"
#include "web.h"

static struct cfg_msgs M;

static void setup(void)
{
	cfg_msgs_init(&M);
}

static void teardown(void)
{
	cfg_msgs_free(&M);
}

static void dump(void)
{
	for (const struct cfg_msg *m = M.head; m; m = m->next)
		fprintf(stderr, "  [%d] %s\n", m->severity, m->text);
}

static struct cfg *load(const char *text)
{
	struct cfg *cfg = cfg_new();

	cfg_msgs_free(&M);
	cfg_parse_text(cfg, "t.cfg", text, strlen(text), &M);
	cfg_finish(cfg, &M);
	return cfg;
}

static struct cfg *load_ok(const char *text)
{
	struct cfg *cfg = load(text);

	if (M.errors)
		dump();
	ck_assert_int_eq(M.errors, 0);
	return cfg;
}

/* A message of `sev` at t.cfg:<line> with `substr`. */
static int said(enum cfg_severity sev, int line, const char *substr)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "t.cfg:%d: ", line);
	for (const struct cfg_msg *m = M.head; m; m = m->next)
		if (m->severity == sev && !strncmp(m->text, prefix, strlen(prefix)) &&
		    strstr(m->text, substr))
			return 1;
	return 0;
}

static void load_err(const char *text, int line, const char *substr)
{
	struct cfg *cfg = load(text);

	if (M.errors != 1 || !said(CFG_SEV_ERROR, line, substr))
		dump();
	ck_assert_int_eq(M.errors, 1);
	ck_assert(said(CFG_SEV_ERROR, line, substr));
	cfg_free(cfg);
}

#define BE "backend be\n mode http\n server s1 127.0.0.1:80\n"

/* The helper-node shape, every stats keyword, and their values. */
START_TEST(stats_keywords)
{
	struct cfg *cfg = load_ok("defaults\n mode http\n stats realm Ops\\ Room\n"
				  "listen stats\n bind 127.0.0.1:8404\n stats enable\n"
				  " stats uri /st\n stats refresh 10s\n stats auth a:b\n"
				  " stats auth c:d:e\n stats hide-version\n"
				  " stats admin if { src 127.0.0.1 }\n"
				  " stats http-request deny if { src 10.0.0.0/8 }\n"
				  " stats http-request auth realm Inner unless TRUE\n"
				  " monitor-uri /healthz\n monitor fail if { nbsrv(be) lt 1 }\n"
				  " http-request use-service prometheus-exporter if { path /metrics }\n" BE);
	const struct cfg_proxy *p = cfg->proxies;
	const struct cfg_stats *st = &p->stats;

	ck_assert_int_eq(st->enabled, 1);
	ck_assert_str_eq(st->uri, "/st");
	ck_assert_str_eq(st->realm, "Ops Room"); /* from defaults */
	ck_assert_uint_eq(st->refresh_ms, 10000);
	ck_assert_int_eq(st->nauths, 2);
	ck_assert_str_eq(st->auths[1], "c:d:e");
	ck_assert_int_eq(st->hide_version, 1);
	ck_assert_ptr_nonnull(st->admin);
	ck_assert_int_eq(st->admin_localhost, 0);
	ck_assert_ptr_nonnull(st->rules);
	ck_assert_int_eq(st->rules->action, CFG_STATS_DENY);
	ck_assert_int_eq(st->rules->next->action, CFG_STATS_AUTH);
	ck_assert_str_eq(st->rules->next->realm, "Inner");
	ck_assert_str_eq(p->monitor_uri, "/healthz");
	ck_assert_ptr_nonnull(p->monitor_fails);
	ck_assert_int_eq(p->http_rules->action, CFG_HTTP_USE_SERVICE);
	ck_assert_int_eq(p->http_rules->service, CFG_SERVICE_PROMETHEUS);
	ck_assert(cfg_serves_itself(p));
	/* a stats keyword in defaults enables the page in every proxy, as in HAProxy */
	ck_assert(cfg_serves_itself(p->next));
	ck_assert_str_eq(p->next->stats.realm, "Ops Room");
	cfg_free(cfg);
}
END_TEST

/* `stats enable` alone, `frontend stats` without a backend, and the
 * defaults' settings inherited (never the conditions). */
START_TEST(stats_frontend_alone)
{
	struct cfg *cfg = load_ok("defaults\n mode http\n stats enable\n stats auth u:p\n"
				  "frontend stats\n bind 127.0.0.1:9000\n"
				  " stats admin if TRUE\n");
	const struct cfg_proxy *p = cfg->proxies;

	ck_assert_int_eq(p->stats.enabled, 1);
	ck_assert_ptr_null(p->stats.uri); /* CFG_STATS_DEFAULT_URI */
	ck_assert_int_eq(p->stats.nauths, 1);
	ck_assert_ptr_eq(p->backend, p); /* its own, empty, backend: the rest gets 503 */
	ck_assert(!(p->caps & CFG_CAP_BE)); /* not listed as a backend */
	ck_assert(!said(CFG_SEV_WARNING, 5, "has no server"));
	cfg_free(cfg);
}
END_TEST

START_TEST(stats_errors)
{
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats uri st\n", 4, "must start with '/'");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats auth nocolon\n", 4,
		 "expects <user>:<password>");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats auth :p\n", 4,
		 "expects <user>:<password>");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats realm 'a\"b'\n", 4, "no quote");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats refresh soon\n", 4, "refresh");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats admin TRUE\n", 4, "expects if|unless");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats auth a:b\n stats admin if TRUE\n"
		 " stats admin if TRUE\n",
		 6, "already set (line 5)");
	load_err("defaults\n stats admin if TRUE\nlisten s\n bind 127.0.0.1:1\n", 2, "not allowed in 'defaults'");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats http-request redirect\n", 4,
		 "allow, deny or auth");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats show-legends\n", 4,
		 "'stats show-legends' is not supported");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats socket /x\n", 4,
		 "unknown keyword 'stats socket'");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats auth a:b\n"
		 " stats admin if { req.ssl_sni -i x }\n",
		 5, "ClientHello");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n monitor-uri health\n", 4,
		 "must start with '/'");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n monitor fail TRUE\n", 4, "fail if|unless");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n monitor pass if TRUE\n", 4,
		 "expects 'fail");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n monitor fail if { nbsrv(nope) lt 1 }\n", 1,
		 "no backend 'nope'");
	load_err("userlist L\n user u insecure-password p\n"
		 "listen s\n mode http\n bind 127.0.0.1:1\n monitor fail if { http_auth(L) }\n",
		 6, "only be used in 'stats' rules");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats http-request auth unless "
		 "{ http_auth(nope) }\n",
		 4, "nope");
	load_err("backend b\n monitor-uri /h\nlisten s\n bind 127.0.0.1:1\n", 2, "not allowed in 'backend'");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n http-request use-service lua.x\n", 4,
		 "unknown service");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n"
		 " http-request use-service prometheus-exporter when TRUE\n",
		 4, "unexpected word 'when'");
}
END_TEST

/* A click can flip a VIP: admin needs credentials, except `stats admin
 * if LOCALHOST` where every bind is loopback. */
START_TEST(stats_admin_needs_auth)
{
	struct cfg *cfg;

	load_err("listen s\n mode http\n bind 127.0.0.1:1\n stats admin if TRUE\n", 4,
		 "'stats admin' without authentication");
	load_err("listen s\n mode http\n bind 10.1.2.3:1\n stats admin if LOCALHOST\n", 4,
		 "without authentication");
	load_err("listen s\n mode http\n bind 127.0.0.1:1\n bind :2\n stats admin if LOCALHOST\n", 5,
		 "without authentication");
	cfg = load_ok("listen s\n mode http\n bind 127.0.0.1:1\n bind [::1]:2\n"
		      " stats admin if LOCALHOST\n");
	ck_assert_int_eq(cfg->proxies->stats.admin_without_auth, 1);
	ck_assert(cfg_stats_loopback_admin(cfg->proxies));
	cfg_free(cfg);
	cfg = load_ok("listen s\n mode http\n bind 127.0.0.1:1\n stats auth a:b\n"
		      " stats admin if LOCALHOST\n");
	ck_assert(!cfg_stats_loopback_admin(cfg->proxies)); /* credentials exist: asked */
	cfg_free(cfg);
	cfg = load_ok("listen s\n mode http\n bind 127.0.0.1:1\n"
		      " stats http-request auth unless FALSE\n stats admin if TRUE\n");
	cfg_free(cfg);
}
END_TEST

START_TEST(stats_warnings)
{
	struct cfg *cfg;

	cfg = load_ok("listen s\n mode http\n bind 192.0.2.1:8404\n stats auth a:b\n");
	ck_assert(said(CFG_SEV_WARNING, 4, "clear text"));
	cfg_free(cfg);
	cfg = load_ok("listen s\n mode http\n bind :8404\n stats enable\n");
	ck_assert(said(CFG_SEV_WARNING, 4, "without authentication on a wildcard"));
	cfg_free(cfg);
	cfg = load_ok("listen s\n mode http\n bind 127.0.0.1:8404\n stats auth a:b\n");
	ck_assert(!said(CFG_SEV_WARNING, 4, "clear text"));
	ck_assert(!said(CFG_SEV_WARNING, 4, "wildcard"));
	cfg_free(cfg);
	cfg = load_ok("listen s\n bind 127.0.0.1:8404\n stats enable\n monitor-uri /h\n"
		      " server x 127.0.0.1:1\n");
	ck_assert(said(CFG_SEV_WARNING, 3, "'stats' ignored, it requires mode http"));
	ck_assert(said(CFG_SEV_WARNING, 1, "'monitor-uri' ignored"));
	cfg_free(cfg);
}
END_TEST

START_TEST(same_origin)
{
	/* scripts send neither: allowed */
	ck_assert(web_same_origin(NULL, NULL, "lb:8404", 0));
	ck_assert(web_same_origin("http://lb:8404", NULL, "lb:8404", 0));
	ck_assert(web_same_origin("HTTP://LB:8404", NULL, "lb:8404", 0));
	ck_assert(web_same_origin("https://lb", NULL, "lb", 1));
	ck_assert(!web_same_origin("http://lb", NULL, "lb", 1));   /* scheme differs */
	ck_assert(!web_same_origin("https://lb:8404", NULL, "lb:8404", 0));
	ck_assert(!web_same_origin("http://evil", NULL, "lb:8404", 0));
	ck_assert(!web_same_origin("http://lb:8404.evil", NULL, "lb:8404", 0));
	ck_assert(!web_same_origin("http://lb:8404/", NULL, "lb:8404", 0)); /* an origin has no path */
	ck_assert(!web_same_origin("null", NULL, "lb:8404", 0));
	ck_assert(!web_same_origin("http://lb:8404", NULL, NULL, 0));
	/* Origin decides when present, whatever the Referer says */
	ck_assert(!web_same_origin("http://evil", "http://lb:8404/st", "lb:8404", 0));
	ck_assert(web_same_origin(NULL, "http://lb:8404/st;up", "lb:8404", 0));
	ck_assert(web_same_origin(NULL, "http://lb:8404", "lb:8404", 0));
	ck_assert(web_same_origin(NULL, "http://lb:8404?x", "lb:8404", 0));
	ck_assert(!web_same_origin(NULL, "http://lb:84045/st", "lb:8404", 0));
	ck_assert(!web_same_origin(NULL, "http://evil/http://lb:8404/", "lb:8404", 0));
	ck_assert(!web_same_origin(NULL, "http://lb:8404@evil/", "lb:8404", 0));
}
END_TEST

static Suite *web_suite(void)
{
	Suite *s = suite_create("web");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, stats_keywords);
	tcase_add_test(tc, stats_frontend_alone);
	tcase_add_test(tc, stats_errors);
	tcase_add_test(tc, stats_admin_needs_auth);
	tcase_add_test(tc, stats_warnings);
	suite_add_tcase(s, tc);
	tc = tcase_create("origin");
	tcase_add_test(tc, same_origin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(web_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
