/* test_stats_page.c - the HTML stats page (src/stats_page.c): escaping,
 * what a browser test finds in the DOM, the forms, the migration view,
 * and the time a large configuration takes to render.
 *
 * PPB_STATS_PAGE_OUT=/path.html writes the sample page there (for a look
 * in a browser: doc/stats-page.png was taken from it).
 */
#include <config.h>

#include "admin.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "stats_hist.h"
#include "stats_page.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* Escaping */

START_TEST(escape)
{
	char buf[64];

	ck_assert_uint_eq(stats_html_escape("plain-name_1.x", buf, sizeof(buf)), 14);
	ck_assert_str_eq(buf, "plain-name_1.x");
	stats_html_escape("<a href=\"x\">&'", buf, sizeof(buf));
	ck_assert_str_eq(buf, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
	stats_html_escape("", buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	/* short: cut before a whole entity, never inside one */
	ck_assert_uint_eq(stats_html_escape("&&", buf, 6), 5);
	ck_assert_str_eq(buf, "&amp;");
	ck_assert_uint_eq(stats_html_escape("&&", buf, 5), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(stats_html_escape("ab<", buf, 4), 2);
	ck_assert_str_eq(buf, "ab");
	buf[0] = 'z';
	ck_assert_uint_eq(stats_html_escape("a", buf, 0), 0);
	ck_assert_int_eq(buf[0], 'z');
	/* bytes above 127 (UTF-8) pass as they are */
	stats_html_escape("\xc3\xa9", buf, sizeof(buf));
	ck_assert_str_eq(buf, "\xc3\xa9");
}
END_TEST

/* ------------------------------------------------------------------ */
/* A sample: three routers in the middle of a migration */

static const char SAMPLE[] = "global\n maxconn 4000\n"
                             "defaults\n mode tcp\n timeout connect 5s\n"
                             " timeout client 30s\n timeout server 30s\n"
                             "frontend fe-route-https\n bind 192.0.2.10:443\n client-ip auto\n"
                             " default_backend be-routers-https\n"
                             "frontend fe-route-http\n mode http\n bind 192.0.2.10:80\n"
                             " client-ip xff\n default_backend be-routers-http\n"
                             "frontend fe-api\n bind 192.0.2.11:6443\n default_backend be-api\n"
                             "backend be-routers-https\n balance source\n"
                             " server router-0 10.0.0.10:443 check\n"
                             " server router-1 10.0.0.11:443 check\n"
                             " server router-2 10.0.0.12:443 check\n"
                             "backend be-routers-http\n mode http\n balance source\n"
                             " server router-0 10.0.0.10:80 check\n"
                             " server router-1 10.0.0.11:80 check\n"
                             " server router-2 10.0.0.12:80 check\n"
                             "backend be-api\n"
                             " server master-0 10.0.1.10:6443 check\n"
                             " server master-1 10.0.1.11:6443 check\n"
                             " server master-2 10.0.1.12:6443\n";

static struct gen *gen_from(const char *text)
{
	struct cfg *cfg = cfg_new();
	struct cfg_msgs msgs;
	char err[256];
	struct gen *g;

	cfg_msgs_init(&msgs);
	ck_assert_int_eq(cfg_parse_text(cfg, "t.cfg", text, strlen(text), &msgs), 0);
	ck_assert_int_eq(cfg_finish(cfg, &msgs), 0);
	ck_assert_int_eq(cfg_resolve(cfg, &msgs), 0);
	cfg_msgs_free(&msgs);
	g = gen_new(cfg, err, sizeof(err));
	ck_assert_msg(g != NULL, "%s", err);
	return g;
}

static struct be *be_named(struct gen *g, const char *name)
{
	for (int i = 0; i < g->nbe; i++)
		if (!strcmp(g->bes[i].conf->name, name))
			return &g->bes[i];
	ck_abort_msg("no backend %s", name);
	return NULL;
}

static struct fe *fe_named(struct gen *g, const char *name)
{
	for (int i = 0; i < g->nfe; i++)
		if (!strcmp(g->fes[i].conf->name, name))
			return &g->fes[i];
	ck_abort_msg("no frontend %s", name);
	return NULL;
}

static void traffic(struct srv *s, unsigned long long conns, unsigned cur)
{
	atomic_store(&s->total_conns, conns);
	atomic_store(&s->cur_conns, cur);
	atomic_store(&s->bytes_in, conns * 48213);
	atomic_store(&s->bytes_out, conns * 913);
}

/* Routers mid-rollout: router-0 takes PROXY, the others not yet; one
 * router draining; a master DOWN. */
static void sample_state(struct gen *g, time_t now)
{
	struct be *https = be_named(g, "be-routers-https");
	struct be *http = be_named(g, "be-routers-http");
	struct be *api = be_named(g, "be-api");
	struct fe *fe = fe_named(g, "fe-route-https");

	srv_set_pp_mode(&https->srvs[0], SRV_PP_PROXY, "test");
	srv_set_pp_mode(&https->srvs[1], SRV_PP_PLAIN, "test");
	srv_set_pp_mode(&https->srvs[2], SRV_PP_PLAIN, "test");
	atomic_store(&https->srvs[2].drain, 1);
	for (int i = 0; i < 3; i++) {
		traffic(&https->srvs[i], 1200 + 311 * (unsigned)i, 3 + (unsigned)i);
		traffic(&http->srvs[i], 5400 + 97 * (unsigned)i, 7);
		traffic(&api->srvs[i], 800 + 13 * (unsigned)i, 2);
		atomic_store(&https->srvs[i].last_change, (long long)now - 95 - 600 * i);
		https->srvs[i].last_check = strdup("Layer4 check passed");
		https->srvs[i].health.health = 2;
	}
	atomic_store(&api->srvs[1].up, 0);
	atomic_store(&api->srvs[1].conn_failures, 17);
	api->srvs[1].last_check = strdup("Layer4 connection problem: Connection refused");
	api->srvs[1].health.health = 0;
	atomic_store(&api->srvs[2].maint, 1);
	atomic_store(&fe->ctr.conns, 4133);
	atomic_store(&fe->ctr.path_proxy, 1211);
	atomic_store(&fe->ctr.path_xff, 2922);
	atomic_store(&fe->ctr.auto_retries, 4);
	atomic_store(&fe->cur_conns, 12);
	atomic_store(&fe_named(g, "fe-route-http")->ctr.conns, 16497);
	atomic_store(&fe_named(g, "fe-route-http")->ctr.path_xff, 16497);
	atomic_store(&fe_named(g, "fe-api")->ctr.conns, 2439);
	atomic_store(&fe_named(g, "fe-api")->ctr.path_plain, 2439);
	atomic_store(&fe_named(g, "fe-api")->ctr.http_errors, 0);
}

/* A history of one minute: the counters of 60 s ago were about a third
 * of today's. */
static struct stats_hist *sample_hist(struct gen *g)
{
	struct stats_hist *h = stats_hist_new(0);

	ck_assert_int_eq(stats_hist_sample(h, g, 60000), 0);
	return h;
}

static char *render(struct gen *g, const struct stats_page_opts *o, const struct stats_hist *h)
{
	struct adm_out out = {0};

	stats_page_render(g, o, h, &out);
	ck_assert(!out.truncated);
	adm_printf(&out, "%s", "");
	return out.buf;
}

static void has(const char *page, const char *what)
{
	ck_assert_msg(strstr(page, what) != NULL, "missing: %s", what);
}

static void hasnt(const char *page, const char *what)
{
	ck_assert_msg(strstr(page, what) == NULL, "unexpected: %s", what);
}

static struct stats_page_opts sample_opts(time_t now)
{
	struct stats_page_opts o = {
	    .uri = "/stats",
	    .refresh_s = 10,
	    .show_admin = true,
	    .uptime_s = 93784,
	    .now = now,
	    .node = "lb-1",
	};
	return o;
}

START_TEST(sample_page)
{
	time_t now = time(NULL);
	struct gen *g = gen_from(SAMPLE);
	struct stats_hist *h;
	struct stats_page_opts o = sample_opts(now);
	char *page;
	const char *out = getenv("PPB_STATS_PAGE_OUT");

	sample_state(g, now);
	h = sample_hist(g);
	o.st = STATS_ST_DONE;
	page = render(g, &o, h);
	if (out) {
		FILE *f = fopen(out, "w");
		ck_assert_ptr_nonnull(f);
		fputs(page, f);
		fclose(f);
	}
	has(page, "<!DOCTYPE html>");
	ck_assert_ptr_null(strstr(page, "<script"));
	ck_assert_ptr_null(strstr(page, "http://")); /* no external asset */
	ck_assert_ptr_null(strstr(page, "https://"));
	has(page, "<meta http-equiv=\"refresh\" content=\"10;url=/stats\">");
	has(page, "<a id=\"csv\" href=\"/stats;csv\">");
	hasnt(page, "id=\"metrics\"");
	has(page, PACKAGE_VERSION);
	has(page, "<div id=\"notice\" class=\"n-ok\" data-st=\"DONE\">");
	/* the migration view */
	has(page, "<section id=\"migration\">");
	has(page, "<tr class=\"mig\" id=\"mig-fe-route-https\" data-strategy=\"auto\" "
	          "data-from=\"config\">");
	has(page, "3 servers:<span title=\"router-0 proxy, router-1 plain, router-2 plain\"> "
	          "<span class=\"pp-proxy\" data-n=\"1\">1 proxy</span>, "
	          "<span class=\"pp-plain\" data-n=\"2\">2 plain</span></span>");
	/* 2922 XFF, 1211 PROXY since the start, one minute ago */
	has(page, "aria-label=\"71% XFF, 29% PROXY, 0% plain\"");
	has(page, "<span class=\"sw sw-xff\"></span>71% XFF, "
	          "<span class=\"sw sw-proxy\"></span>29% PROXY</span>");
	has(page, "4133 connections, 68.88/s over the last 60 s");
	has(page, "<tr class=\"mig\" id=\"mig-fe-route-http\" data-strategy=\"xff\"");
	has(page, "aria-label=\"100% XFF, 0% PROXY, 0% plain\"");
	/* the switch: a mode tcp frontend is not offered xff */
	has(page, "<form class=\"cipform\" method=\"post\" action=\"/stats\">"
	          "<input type=\"hidden\" name=\"action\" value=\"set-client-ip\">"
	          "<input type=\"hidden\" name=\"fe\" value=\"fe-route-https\">");
	has(page, "<option value=\"auto\" selected>auto</option>");
	/* frontends */
	has(page, "<tr class=\"fe\" id=\"fe-fe-api\" data-strategy=\"none\">");
	/* backends and servers: HAProxy's form, ids, states */
	has(page, "<section class=\"be\" id=\"be-be-routers-https\" data-iid=\"4\">");
	has(page, "<form class=\"srvform\" method=\"post\" action=\"/stats\">");
	has(page, "<input type=\"hidden\" name=\"b\" value=\"#4\">");
	has(page, "<input type=\"hidden\" name=\"b\" value=\"#6\">");
	has(page, "<option value=\"ready\">");
	has(page, "<option value=\"drain\">");
	has(page, "<option value=\"maint\">");
	has(page, "<input type=\"checkbox\" name=\"s\" value=\"router-1\"");
	has(page, "<tr class=\"srv\" id=\"srv-be-routers-https/router-0\" data-status=\"UP\" "
	          "data-pp=\"proxy\">");
	has(page, "id=\"srv-be-routers-https/router-2\" data-status=\"DRAIN\" data-pp=\"plain\"");
	has(page, "id=\"srv-be-api/master-1\" data-status=\"DOWN\"");
	has(page, "id=\"srv-be-api/master-2\" data-status=\"MAINT\"");
	has(page, "Connection refused");
	has(page, "<td>1m35s</td>"); /* router-0's last change */
	has(page, "<td title=\"1095600 bytes\">1.1 MB</td>");
	has(page, "<td title=\"0 bytes\">0 B</td>");
	has(page, "<tr class=\"betotal\" data-status=\"UP\">");
	hasnt(page, "accept-proxy optional"); /* no such bind in the sample */
	free(page);
	stats_hist_free(h);
	gen_unref(g);
}
END_TEST

/* accept-proxy optional: the migration view counts its paths, for that
 * frontend only. */
START_TEST(pp_optional_counts)
{
	struct gen *g = gen_from("defaults\n mode tcp\n timeout connect 5s\n"
	                         " timeout client 30s\n timeout server 30s\n"
	                         "frontend fe-nlb\n bind 192.0.2.10:443 accept-proxy optional\n"
	                         " tcp-request connection accept if { src 10.0.0.0/8 }\n"
	                         " default_backend be\n"
	                         "frontend fe-direct\n bind 192.0.2.11:443\n default_backend be\n"
	                         "backend be\n server r0 10.0.0.10:443\n");
	struct stats_page_opts o = sample_opts(time(NULL));
	struct fe *fe = fe_named(g, "fe-nlb");
	char *page, *direct;

	atomic_store(&fe->ctr.pp_opt_with, 31);
	atomic_store(&fe->ctr.pp_opt_without, 7);
	atomic_store(&fe->ctr.pp_opt_untrusted, 2);
	atomic_store(&fe->ctr.pp_opt_spoof, 1);
	page = render(g, &o, NULL);
	has(page, "accept-proxy optional: <span data-pp=\"with\">31 with header</span>, "
	          "<span data-pp=\"without\">7 without header</span>, "
	          "<span data-pp=\"untrusted\">2 untrusted plain</span>, "
	          "<span data-pp=\"spoof\">1 spoofs refused</span>");
	direct = strstr(page, "id=\"mig-fe-direct\"");
	ck_assert_ptr_nonnull(direct);
	ck_assert_ptr_null(strstr(direct, "accept-proxy optional"));
	free(page);
	gen_unref(g);
}
END_TEST

START_TEST(page_options)
{
	time_t now = time(NULL);
	struct gen *g = gen_from(SAMPLE);
	struct stats_page_opts o = sample_opts(now);
	char *page;

	sample_state(g, now);
	/* no admin: no form; no history: said so; hidden version; ;up */
	o.show_admin = false;
	o.hide_version = true;
	o.hide_down = true;
	o.norefresh = true;
	o.show_metrics = true;
	o.notice = "<b>switched</b> & done";
	o.uri = "/haproxy?stats";
	page = render(g, &o, NULL);
	hasnt(page, "<form");
	hasnt(page, "type=\"checkbox\"");
	hasnt(page, PACKAGE_VERSION);
	hasnt(page, "http-equiv=\"refresh\"");
	has(page, "no sample yet");
	has(page, "id=\"srv-be-routers-https/router-2\""); /* DRAIN is shown */
	hasnt(page, "id=\"srv-be-api/master-1\"");         /* DOWN is not */
	hasnt(page, "id=\"srv-be-api/master-2\"");         /* nor MAINT */
	has(page, "<a id=\"metrics\" href=\"/metrics\">");
	has(page, "<a id=\"csv\" href=\"/haproxy?stats;csv\">");
	has(page, "href=\"/haproxy?stats;norefresh\">Show all servers</a>");
	has(page, "href=\"/haproxy?stats;up\">Enable refresh</a>");
	has(page, "<div id=\"notice\" class=\"n-info\" data-st=\"\">");
	has(page, "&lt;b&gt;switched&lt;/b&gt; &amp; done");
	hasnt(page, "<b>switched");
	free(page);
	/* an error code, a version of our own, no refresh configured */
	o = sample_opts(now);
	o.refresh_s = 0;
	o.st = STATS_ST_ERRP;
	o.version = "1.2.3<x>";
	page = render(g, &o, NULL);
	has(page, "data-st=\"ERRP\"");
	has(page, "class=\"n-err\"");
	has(page, "1.2.3&lt;x&gt;");
	hasnt(page, "refresh</a>");
	hasnt(page, "http-equiv=\"refresh\"");
	free(page);
	o.st = STATS_ST_INIT;
	page = render(g, &o, NULL);
	hasnt(page, "id=\"notice\"");
	free(page);
	gen_unref(g);
}
END_TEST

/* The sampler on a real generation, and across a "reload" (a second
 * generation with the same frontend names and counters from zero). */
START_TEST(hist_on_gen)
{
	struct gen *g = gen_from(SAMPLE), *g2;
	struct stats_hist *h = stats_hist_new(0);
	struct stats_share s;
	struct fe *fe = fe_named(g, "fe-route-https");

	atomic_store(&fe->ctr.path_proxy, 30);
	atomic_store(&fe->ctr.path_xff, 10);
	atomic_store(&fe->ctr.conns, 40);
	ck_assert_int_eq(stats_hist_sample(h, g, 5000), 0);
	g2 = gen_from(SAMPLE);
	atomic_store(&fe_named(g2, "fe-route-https")->ctr.path_proxy, 5);
	atomic_store(&fe_named(g2, "fe-route-https")->ctr.conns, 5);
	ck_assert_int_eq(stats_hist_sample(h, g2, 10000), 0);
	ck_assert_int_eq(stats_hist_share(h, "fe-route-https", &s), 0);
	ck_assert_uint_eq(s.n[STATS_CTR_PROXY], 35);
	ck_assert_uint_eq(s.n[STATS_CTR_XFF], 10);
	ck_assert_uint_eq(s.n[STATS_CTR_CONNS], 45);
	ck_assert_uint_eq(s.pct[STATS_CTR_PROXY], 78);
	stats_hist_free(h);
	gen_unref(g);
	gen_unref(g2);
}
END_TEST

/* 100 frontends, 100 backends of 10 servers each. */
static char *big_config(void)
{
	size_t cap = 1 << 20, n = 0;
	char *t = malloc(cap);

	n += (size_t)snprintf(t + n, cap - n,
	                      "defaults\n mode tcp\n timeout connect 5s\n timeout client 30s\n"
	                      " timeout server 30s\n");
	for (int b = 0; b < 100; b++) {
		n += (size_t)snprintf(t + n, cap - n,
		                      "frontend fe%d\n bind 127.0.0.1:%d\n client-ip auto\n"
		                      " default_backend be%d\nbackend be%d\n",
		                      b, 20000 + b, b, b);
		for (int s = 0; s < 10; s++)
			n += (size_t)snprintf(t + n, cap - n,
			                      " server srv%d 10.1.%d.%d:443 check\n", s, b, s + 1);
	}
	return t;
}

START_TEST(render_time)
{
	char *text = big_config();
	struct gen *g = gen_from(text);
	struct stats_hist *h = stats_hist_new(0);
	struct stats_page_opts o = sample_opts(time(NULL));
	struct timespec t0, t1;
	double best = 1e9;
	size_t len = 0;

	stats_hist_sample(h, g, 5000);
	for (int k = 0; k < 20; k++) {
		struct adm_out out = {0};
		clock_gettime(CLOCK_MONOTONIC, &t0);
		stats_page_render(g, &o, h, &out);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms =
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		best = ms < best ? ms : best;
		len = out.len;
		ck_assert(!out.truncated);
		adm_out_free(&out);
	}
	fprintf(stderr,
	        "stats page, 100 frontends, 100 backends x 10 servers: %zu bytes, %.2f ms\n", len,
	        best);
	/* a sanitizer build is several times slower: the bound is loose here,
	 * the figure above is what to look at */
	ck_assert_msg(best < 50.0, "render took %.2f ms", best);
	stats_hist_free(h);
	gen_unref(g);
	free(text);
}
END_TEST

static Suite *stats_page_suite(void)
{
	Suite *s = suite_create("stats_page");
	TCase *tc = tcase_create("page");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, escape);
	tcase_add_test(tc, sample_page);
	tcase_add_test(tc, pp_optional_counts);
	tcase_add_test(tc, page_options);
	tcase_add_test(tc, hist_on_gen);
	tcase_add_test(tc, render_time);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_page_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
