/* test_prom.c - the metrics query parser and the Prometheus exposition of
 * a small generation (golden lines, scopes, the format's rules). */
#include <config.h>

#include "gen_fixture.h"
#include "admin.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "prom.h"
#include "prom_query.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Query */

static struct prom_opts query_ok(const char *q)
{
	struct prom_opts o = {.scopes = 0xdead, .no_maint = true};

	ck_assert_msg(prom_parse_query(q, &o) == 0, "'%s' refused", q ? q : "(null)");
	return o;
}

static void query_err(const char *q)
{
	struct prom_opts o = {.scopes = 0xdead, .no_maint = true};

	ck_assert_msg(prom_parse_query(q, &o) == -1, "'%s' accepted", q);
	ck_assert_uint_eq(o.scopes, 0xdead); /* untouched */
}

START_TEST(query_defaults)
{
	struct prom_opts o = query_ok(NULL);

	ck_assert_uint_eq(o.scopes, PROM_SCOPE_ALL);
	ck_assert(!o.no_maint);
	o = query_ok("");
	ck_assert_uint_eq(o.scopes, PROM_SCOPE_ALL);
	o = query_ok("foo=bar&baz");
	ck_assert_uint_eq(o.scopes, PROM_SCOPE_ALL);
	ck_assert(!o.no_maint);
	o = query_ok("no-maint");
	ck_assert_uint_eq(o.scopes, PROM_SCOPE_ALL);
	ck_assert(o.no_maint);
	o = query_ok("no-maint=whatever");
	ck_assert(o.no_maint);
}
END_TEST

START_TEST(query_scopes)
{
	ck_assert_uint_eq(query_ok("scope=global").scopes, PROM_SCOPE_GLOBAL);
	ck_assert_uint_eq(query_ok("scope=server&scope=backend").scopes,
	                  PROM_SCOPE_SERVER | PROM_SCOPE_BACKEND);
	ck_assert_uint_eq(query_ok("scope=frontend&scope=listener").scopes,
	                  PROM_SCOPE_FRONTEND | PROM_SCOPE_LISTENER);
	ck_assert_uint_eq(query_ok("scope=sticktable").scopes, PROM_SCOPE_STICKTABLE);
	ck_assert_uint_eq(query_ok("scope=*").scopes, PROM_SCOPE_ALL);
	ck_assert_uint_eq(query_ok("scope=%2a").scopes, PROM_SCOPE_ALL);
	/* an empty scope removes what came before it, not what follows */
	ck_assert_uint_eq(query_ok("scope=").scopes, 0);
	ck_assert_uint_eq(query_ok("scope=global&scope=").scopes, 0);
	ck_assert_uint_eq(query_ok("scope=&scope=server").scopes, PROM_SCOPE_SERVER);
	/* %-escapes and '+' in names and values */
	ck_assert_uint_eq(query_ok("sc%6fpe=gl%6Fbal").scopes, PROM_SCOPE_GLOBAL);
	ck_assert(query_ok("no%2Dmaint").no_maint);
	ck_assert_uint_eq(query_ok("x=a+b&scope=server").scopes, PROM_SCOPE_SERVER);
	/* a decoded NUL ends a word, as in HAProxy's C strings */
	ck_assert_uint_eq(query_ok("scope=global%00junk").scopes, PROM_SCOPE_GLOBAL);
	ck_assert_uint_eq(query_ok("scope=%00global").scopes, 0);
	/* an escaped '#' or '&' is data, not syntax */
	ck_assert_uint_eq(query_ok("%23scope=global").scopes, PROM_SCOPE_ALL);
	/* '#' ends the query */
	ck_assert_uint_eq(query_ok("scope=server#&scope=nonsense").scopes, PROM_SCOPE_SERVER);
	ck_assert_uint_eq(query_ok("#scope=global").scopes, PROM_SCOPE_ALL);
	ck_assert(query_ok("scope=backend&no-maint&").no_maint);
	ck_assert_uint_eq(query_ok("&&scope=backend&&").scopes, PROM_SCOPE_BACKEND);
}
END_TEST

START_TEST(query_errors)
{
	query_err("scope");              /* no '=' */
	query_err("scope=nonsense");     /* unknown */
	query_err("scope=Global");       /* case matters, as HAProxy */
	query_err("scope=global=1");     /* '=' in a value */
	query_err("scope=glo%");         /* cut escape */
	query_err("scope=glo%4");        /* cut escape */
	query_err("scope=%zzglobal");    /* not hex */
	query_err("x=%G0&scope=server"); /* bad escape in any parameter */
	query_err("%&scope=server");
	query_err("scope=global&scope");
	query_err("scope=global%26scope=");
	query_err("scope=glo+bal");
	query_err("scope=a-very-long-value-that-is-no-scope-at-all-whatever");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Rendering a generation */

static const char *const CFG_TEXT =
    "global\n"
    " maxconn 1000\n"
    "defaults\n"
    " mode tcp\n"
    " timeout connect 1s\n timeout client 10s\n timeout server 10s\n"
    "frontend fe_tcp\n"
    " bind 127.0.0.1:8443\n"
    " default_backend be_pp\n"
    "frontend fe_http\n"
    " mode http\n"
    " maxconn 200\n"
    " option forwardfor\n"
    " bind 127.0.0.1:8080\n"
    " bind 127.0.0.1:8081\n"
    " default_backend be_http\n"
    "backend be_pp\n"
    " server r1 10.0.0.1:443 send-proxy-v2 check\n"
    " server r2 10.0.0.2:443 send-proxy-v2 weight 3\n"
    "backend be_http\n"
    " mode http\n"
    " balance leastconn\n"
    " server w1 10.0.1.1:80 maxconn 50\n"
    " server w2 10.0.1.2:80 backup weight 2\n";

static struct gen *G;

static void gen_setup(void)
{
	G = fixture_gen(CFG_TEXT);
}

static void gen_teardown(void)
{
	gen_unref(G);
	G = NULL;
}

static struct srv *srv_named(const char *be, const char *sv)
{
	return fixture_srv(G, be, sv);
}

/* The exposition for a query (caller frees). */
static char *render(const char *query)
{
	struct prom_opts o;
	struct adm_out out = {0};
	char *s;

	ck_assert_int_eq(prom_parse_query(query, &o), 0);
	prom_render(G, &o, 93784, &out);
	ck_assert(!out.truncated);
	s = strdup(out.buf ? out.buf : "");
	adm_out_free(&out);
	return s;
}

#define HAS(text, want) ck_assert_msg(strstr(text, want), "missing:\n%s", want)
#define HASNT(text, want) ck_assert_msg(!strstr(text, want), "unexpected:\n%s", want)

START_TEST(golden_process)
{
	char *t = render(NULL);

	ck_assert_int_eq(strncmp(t,
	                         "# HELP haproxy_process_nbthread Number of started threads "
	                         "(global.nbthread)\n# TYPE haproxy_process_nbthread gauge\n"
	                         "haproxy_process_nbthread 1\n",
	                         128),
	                 0);
	HAS(t, "\nhaproxy_process_uptime_seconds 93784\n");
	HAS(t, "\nhaproxy_process_max_connections 1000\n");
	HAS(t, "\nhaproxy_process_listeners 3\n");
	HAS(t, "\nhaproxy_process_build_info{version=\"" PACKAGE_VERSION "\"} 1\n");
	HAS(t, "# TYPE haproxy_process_connections_total counter\n");
	HASNT(t, "failed_resolutions");
	free(t);
}
END_TEST

START_TEST(golden_frontends)
{
	char *t;

	atomic_store(&G->fes[0].ctr.conns, 12);
	atomic_store(&G->fes[0].ctr.rejected, 2);
	atomic_store(&G->fes[0].ctr.pp_timeout, 3);
	atomic_store(&G->fes[0].ctr.pp_errors[1], 1);
	atomic_store(&G->fes[1].ctr.http_errors, 4);
	atomic_store(&G->fes[1].ctr.path_xff, 7);
	t = render(NULL);
	HAS(t, "# HELP haproxy_frontend_connections_total Total number of new connections accepted "
	       "on this frontend since the worker process started\n"
	       "# TYPE haproxy_frontend_connections_total counter\n"
	       "haproxy_frontend_connections_total{proxy=\"fe_tcp\"} 12\n"
	       "haproxy_frontend_connections_total{proxy=\"fe_http\"} 0\n");
	HAS(t, "\nhaproxy_frontend_sessions_total{proxy=\"fe_tcp\"} 10\n");
	HAS(t, "\nhaproxy_frontend_denied_connections_total{proxy=\"fe_tcp\"} 2\n");
	HAS(t, "\nhaproxy_frontend_request_errors_total{proxy=\"fe_tcp\"} 4\n");
	HAS(t, "\nhaproxy_frontend_request_errors_total{proxy=\"fe_http\"} 4\n");
	HAS(t, "\nhaproxy_frontend_limit_sessions{proxy=\"fe_tcp\"} 1000\n"
	       "haproxy_frontend_limit_sessions{proxy=\"fe_http\"} 200\n");
	HAS(t, "# TYPE haproxy_frontend_status gauge\n"
	       "haproxy_frontend_status{proxy=\"fe_tcp\",state=\"DOWN\"} 0\n"
	       "haproxy_frontend_status{proxy=\"fe_tcp\",state=\"UP\"} 1\n");
	HAS(t, "\nppbridge_frontend_client_ip{proxy=\"fe_tcp\",strategy=\"none\"} 0\n"
	       "ppbridge_frontend_client_ip{proxy=\"fe_tcp\",strategy=\"xff\"} 0\n"
	       "ppbridge_frontend_client_ip{proxy=\"fe_tcp\",strategy=\"proxy-v1\"} 0\n"
	       "ppbridge_frontend_client_ip{proxy=\"fe_tcp\",strategy=\"proxy-v2\"} 1\n"
	       "ppbridge_frontend_client_ip{proxy=\"fe_tcp\",strategy=\"auto\"} 0\n");
	HAS(t, "\nppbridge_frontend_client_ip{proxy=\"fe_http\",strategy=\"xff\"} 1\n");
	HAS(t, "\nppbridge_frontend_client_ip_paths_total{proxy=\"fe_http\",path=\"xff\"} 7\n");
	HAS(t, "\nppbridge_frontend_proxy_refusals_total{proxy=\"fe_tcp\",cause=\"bad_signature\"} "
	       "1\n");
	HAS(t, "\nppbridge_frontend_proxy_refusals_total{proxy=\"fe_tcp\",cause=\"timeout\"} 3\n"
	       "ppbridge_frontend_proxy_refusals_total{proxy=\"fe_tcp\",cause=\"closed\"} 0\n");
	HASNT(t, "ppbridge_frontend_proxy_optional_total"); /* no optional bind here */
	free(t);
}
END_TEST

/* accept-proxy optional: the four paths of the frontends that have such a
 * bind, none for the others. */
START_TEST(golden_pp_optional)
{
	struct gen *keep = G;
	char *t;

	G = fixture_gen("defaults\n mode tcp\n timeout connect 1s\n timeout client 10s\n"
	                " timeout server 10s\n"
	                "frontend direct\n bind 127.0.0.1:8445\n default_backend be\n"
	                "frontend nlb\n"
	                " bind 127.0.0.1:8443 accept-proxy optional\n"
	                " tcp-request connection accept if { src 10.0.0.0/8 }\n"
	                " default_backend be\n"
	                "backend be\n server r1 10.0.0.1:443\n");
	atomic_store(&G->fes[1].ctr.pp_opt_with, 5);
	atomic_store(&G->fes[1].ctr.pp_opt_without, 4);
	atomic_store(&G->fes[1].ctr.pp_opt_untrusted, 3);
	atomic_store(&G->fes[1].ctr.pp_opt_spoof, 2);
	t = render(NULL);
	HAS(t, "\n# TYPE ppbridge_frontend_proxy_optional_total counter\n"
	       "ppbridge_frontend_proxy_optional_total{proxy=\"nlb\",path=\"with_header\"} 5\n"
	       "ppbridge_frontend_proxy_optional_total{proxy=\"nlb\",path=\"without_header\"} 4\n"
	       "ppbridge_frontend_proxy_optional_total{proxy=\"nlb\",path=\"untrusted_plain\"} 3\n"
	       "ppbridge_frontend_proxy_optional_total{proxy=\"nlb\",path=\"spoof_refused\"} 2\n");
	HASNT(t, "ppbridge_frontend_proxy_optional_total{proxy=\"direct\"");
	free(t);
	gen_unref(G);
	G = keep;
}
END_TEST

START_TEST(golden_servers)
{
	struct srv *r1 = srv_named("be_pp", "r1");
	char *t;

	atomic_store(&r1->total_conns, 5);
	atomic_store(&r1->bytes_out, 100); /* to the server: HAProxy's bytes in */
	atomic_store(&r1->bytes_in, 2000);
	r1->last_check = strdup("Layer7 wrong status: 503");
	atomic_store(&srv_named("be_pp", "r2")->maint, 1);
	atomic_store(&srv_named("be_pp", "r2")->pp_mode, SRV_PP_PROXY);
	t = render(NULL);
	HAS(t, "\nhaproxy_server_sessions_total{proxy=\"be_pp\",server=\"r1\"} 5\n");
	HAS(t, "\nhaproxy_server_bytes_in_total{proxy=\"be_pp\",server=\"r1\"} 100\n");
	HAS(t, "\nhaproxy_server_bytes_out_total{proxy=\"be_pp\",server=\"r1\"} 2000\n");
	HAS(t, "\nhaproxy_server_limit_sessions{proxy=\"be_pp\",server=\"r1\"} NaN\n");
	HAS(t, "\nhaproxy_server_limit_sessions{proxy=\"be_http\",server=\"w1\"} 50\n");
	HAS(t, "\nhaproxy_server_status{proxy=\"be_pp\",server=\"r2\",state=\"DOWN\"} 0\n"
	       "haproxy_server_status{proxy=\"be_pp\",server=\"r2\",state=\"UP\"} 0\n"
	       "haproxy_server_status{proxy=\"be_pp\",server=\"r2\",state=\"MAINT\"} 1\n"
	       "haproxy_server_status{proxy=\"be_pp\",server=\"r2\",state=\"DRAIN\"} 0\n"
	       "haproxy_server_status{proxy=\"be_pp\",server=\"r2\",state=\"NOLB\"} 0\n");
	HAS(t, "\nhaproxy_server_status{proxy=\"be_pp\",server=\"r1\",state=\"UP\"} 1\n");
	HAS(t, "# HELP haproxy_server_check_status Status of last health check, per state label "
	       "value.\n# TYPE haproxy_server_check_status gauge\n"
	       "haproxy_server_check_status{proxy=\"be_pp\",server=\"r1\",state=\"HANA\"} 0\n");
	HAS(t, "\nhaproxy_server_check_status{proxy=\"be_pp\",server=\"r1\",state=\"L7STS\"} 1\n");
	HAS(t, "\nhaproxy_server_check_status{proxy=\"be_pp\",server=\"r1\",state=\"L4OK\"} 0\n");
	HAS(t, "\nhaproxy_server_check_code{proxy=\"be_pp\",server=\"r1\"} 503\n");
	HASNT(t, "haproxy_server_check_status{proxy=\"be_pp\",server=\"r2\"");   /* no check */
	HASNT(t, "haproxy_server_check_status{proxy=\"be_http\",server=\"w1\""); /* no check */
	HAS(t, "\nhaproxy_server_weight{proxy=\"be_pp\",server=\"r2\"} 3\n");
	HAS(t, "\nppbridge_server_proxy_mode{proxy=\"be_pp\",server=\"r2\",mode=\"plain\"} 0\n"
	       "ppbridge_server_proxy_mode{proxy=\"be_pp\",server=\"r2\",mode=\"proxy\"} 1\n"
	       "ppbridge_server_proxy_mode{proxy=\"be_pp\",server=\"r2\",mode=\"unknown\"} 0\n");
	HAS(t, "\nppbridge_server_proxy_mode{proxy=\"be_pp\",server=\"r1\",mode=\"unknown\"} 1\n");
	HASNT(t, "ppbridge_server_tls_handshakes_total{"); /* no server has ssl */
	free(t);
	/* no-maint: r2 leaves the server families, still counts for its backend */
	t = render("no-maint");
	HASNT(t, "server=\"r2\"");
	HAS(t, "server=\"r1\"");
	HAS(t, "\nhaproxy_backend_agg_server_status{proxy=\"be_pp\",state=\"MAINT\"} 1\n");
	free(t);
}
END_TEST

START_TEST(golden_backends)
{
	char *t = render("scope=backend");

	HAS(t, "\nhaproxy_backend_active_servers{proxy=\"be_http\"} 1\n");
	HAS(t, "\nhaproxy_backend_backup_servers{proxy=\"be_http\"} 1\n");
	HAS(t, "\nhaproxy_backend_weight{proxy=\"be_pp\"} 4\n");
	HAS(t, "\nhaproxy_backend_status{proxy=\"be_pp\",state=\"DOWN\"} 0\n"
	       "haproxy_backend_status{proxy=\"be_pp\",state=\"UP\"} 1\n");
	free(t);
	/* the active server down: the backup carries the load, its weight counts */
	atomic_store(&srv_named("be_http", "w1")->up, 0);
	atomic_store(&srv_named("be_http", "w1")->cur_conns, 3);
	t = render("scope=backend");
	HAS(t, "\nhaproxy_backend_active_servers{proxy=\"be_http\"} 0\n");
	HAS(t, "\nhaproxy_backend_weight{proxy=\"be_http\"} 2\n");
	HAS(t, "\nhaproxy_backend_current_sessions{proxy=\"be_http\"} 3\n");
	HAS(t, "\nhaproxy_backend_agg_server_status{proxy=\"be_http\",state=\"DOWN\"} 1\n"
	       "haproxy_backend_agg_server_status{proxy=\"be_http\",state=\"UP\"} 1\n");
	free(t);
	/* every server out: the backend is DOWN */
	atomic_store(&srv_named("be_http", "w2")->drain, 1);
	t = render("scope=backend");
	HAS(t, "\nhaproxy_backend_status{proxy=\"be_http\",state=\"DOWN\"} 1\n");
	free(t);
}
END_TEST

START_TEST(scopes)
{
	char *t = render("scope=server");

	HASNT(t, "haproxy_process_");
	HASNT(t, "haproxy_frontend_");
	HASNT(t, "haproxy_backend_");
	HASNT(t, "ppbridge_frontend_");
	HAS(t, "haproxy_server_status{");
	HAS(t, "ppbridge_server_proxy_mode{");
	free(t);
	t = render("scope=global&scope=frontend");
	HAS(t, "haproxy_process_uptime_seconds ");
	HAS(t, "ppbridge_frontend_client_ip{");
	HASNT(t, "haproxy_server_");
	HASNT(t, "haproxy_backend_");
	free(t);
	t = render("scope=");
	ck_assert_str_eq(t, "");
	free(t);
	t = render("scope=listener"); /* none, as HAProxy without socket-stats */
	ck_assert_str_eq(t, "");
	free(t);
}
END_TEST

/* The format's rules, line by line: promtool's and HAProxy's. */
static void check_format(const char *t)
{
	char seen[64][96];
	int nseen = 0;
	char family[96] = "", type[16] = "";

	for (const char *p = t; *p;) {
		const char *eol = strchr(p, '\n');
		char name[96];
		size_t n;
		ck_assert_ptr_nonnull(eol);
		if (!strncmp(p, "# HELP ", 7)) {
			n = strcspn(p + 7, " ");
			snprintf(family, sizeof(family), "%.*s", (int)n, p + 7);
			for (int i = 0; i < nseen; i++)
				ck_assert_msg(strcmp(seen[i], family), "family twice: %s", family);
			ck_assert_int_lt(nseen, 64);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", family);
			ck_assert_msg(eol - p > 7 + (long)n + 1, "no help: %s", family);
		} else if (!strncmp(p, "# TYPE ", 7)) {
			ck_assert_int_eq(sscanf(p + 7, "%95s %15s", name, type), 2);
			ck_assert_str_eq(name, family);
			ck_assert_msg(!strcmp(type, "gauge") || !strcmp(type, "counter"), "%s",
			              type);
			if (!strcmp(type, "counter"))
				ck_assert_msg(strlen(name) > 6 &&
				                  !strcmp(name + strlen(name) - 6, "_total"),
				              "counter without _total: %s", name);
		} else {
			n = strcspn(p, "{ ");
			ck_assert_msg(n == strlen(family) && !strncmp(p, family, n), "stray: %.80s",
			              p);
			ck_assert_msg(!strncmp(p, "haproxy_", 8) || !strncmp(p, "ppbridge_", 9),
			              "%.60s", p);
			/* value: digits or NaN, then the end of the line */
			{
				const char *sp = eol;
				while (sp > p && sp[-1] != ' ')
					sp--;
				ck_assert_msg(!strncmp(sp, "NaN\n", 4) ||
				                  strspn(sp, "0123456789") == (size_t)(eol - sp),
				              "value: %.80s", p);
			}
		}
		p = eol + 1;
	}
	ck_assert_int_gt(nseen, 40);
}

START_TEST(format_rules)
{
	char *t = render(NULL);

	check_format(t);
	free(t);
}
END_TEST

static long test_uptime(void)
{
	return 93784;
}

/* The admin socket's `show metrics` is this exposition, every scope. */
START_TEST(show_metrics_same)
{
	struct adm_cmd cmd;
	struct adm_out out = {0};
	char err[128];
	char *t = render(NULL), *a;

	ck_assert_int_eq(adm_parse("show metrics", &cmd, err, sizeof(err)), 0);
	ck_assert_int_eq(adm_exec(G, &(struct adm_hooks){.uptime_seconds = test_uptime}, &cmd,
	                          ADM_LEVEL_USER, &out),
	                 0);
	a = out.buf;
	/* the same families in the same order (values may tick) */
	for (const char *p = t, *q = a; p && q;
	     p = strstr(p + 1, "\n# TYPE"), q = strstr(q + 1, "\n# TYPE")) {
		ck_assert_ptr_nonnull(q);
		ck_assert_int_eq(strcspn(p + 1, "\n"), strcspn(q + 1, "\n"));
		ck_assert_int_eq(strncmp(p, q, strcspn(p + 1, "\n")), 0);
	}
	adm_out_free(&out);
	free(t);
}
END_TEST

static Suite *prom_suite(void)
{
	Suite *s = suite_create("prom");
	TCase *tc = tcase_create("query");

	tcase_add_test(tc, query_defaults);
	tcase_add_test(tc, query_scopes);
	tcase_add_test(tc, query_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("render");
	tcase_add_checked_fixture(tc, gen_setup, gen_teardown);
	tcase_add_test(tc, golden_process);
	tcase_add_test(tc, golden_frontends);
	tcase_add_test(tc, golden_pp_optional);
	tcase_add_test(tc, golden_servers);
	tcase_add_test(tc, golden_backends);
	tcase_add_test(tc, scopes);
	tcase_add_test(tc, format_rules);
	tcase_add_test(tc, show_metrics_same);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(prom_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
