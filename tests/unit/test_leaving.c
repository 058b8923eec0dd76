/* test_leaving.c - when the process is "leaving" (leaving.h): which
 * `monitor fail` conditions count, their evaluation against the servers'
 * state, and the admin commands that re-evaluate at once. */
#include <config.h>

#include "gen_fixture.h"
#include "acl.h"
#include "admin.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "leaving.h"

#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const char cfg_text[] = "frontend apps\n"
                               "    mode http\n"
                               "    bind 127.0.0.1:8080\n"
                               "    default_backend routers\n"
                               /* no monitor-uri here: this condition tells nobody */
                               "    monitor fail if { nbsrv(routers) lt 2 }\n"
                               "backend routers\n"
                               "    mode http\n"
                               "    server r1 127.0.0.1:81\n"
                               "    server r2 127.0.0.1:82\n"
                               "backend be-maint\n"
                               "    server dummy 127.0.0.1:1\n"
                               "listen stats\n"
                               "    mode http\n"
                               "    bind 127.0.0.1:8404\n"
                               "    monitor-uri /healthz\n"
                               /* conditions on the request: they do not count */
                               "    monitor fail unless { src 127.0.0.1 }\n"
                               "    monitor fail if { path /x }\n"
                               /* a named ACL, as the example configuration writes it */
                               "    acl maint nbsrv(be-maint) lt 1\n"
                               "    monitor fail if maint\n";

static struct gen *G;

static struct gen *current(void)
{
	return G;
}

static void setup(void)
{
	G = fixture_gen(cfg_text);
	leaving_update(G);
}

static void teardown(void)
{
	leaving_update(NULL);
	gen_unref(G);
	G = NULL;
}

static struct acl_cond *cond(const char *text)
{
	char buf[256], *words[16], *save = NULL, err[256];
	int n = 0;
	struct acl_cond *c;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *w = strtok_r(buf, " ", &save); w && n < 16; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	c = acl_cond_parse(words, n, NULL, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s: %s", text, err);
	return c;
}

START_TEST(which_conditions_count)
{
	static const struct {
		const char *text;
		int counts;
	} cases[] = {
	    {"if { nbsrv(be-maint) lt 1 }", 1},
	    {"unless { nbsrv(be-maint) ge 1 }", 1},
	    {"if TRUE", 1},
	    {"if FALSE", 1},
	    {"if { src 10.0.0.0/8 }", 0},
	    {"unless { src 127.0.0.1 }", 0},
	    {"if { path /x }", 0},
	    {"if { nbsrv(be-maint) lt 1 } { src 10.0.0.1 }", 0},
	    {"if { nbsrv(be-maint) lt 1 } || { path /x }", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct acl_cond *c = cond(cases[i].text);
		ck_assert_msg(leaving_cond_counts(c) == cases[i].counts, "%s", cases[i].text);
		acl_cond_free(c);
	}
}
END_TEST

START_TEST(follows_the_servers)
{
	struct srv *dummy = fixture_srv(G, "be-maint", "dummy");
	struct srv *r1 = fixture_srv(G, "routers", "r1");

	/* `unless { src ... }` and `{ path }` would hold without a request:
	 * they do not count; neither does the frontend without monitor-uri
	 * (nbsrv(routers) lt 2 holds once r1 is down). */
	ck_assert_ptr_null(leaving_eval(G));
	atomic_store(&r1->maint, 1);
	ck_assert_ptr_null(leaving_eval(G));
	ck_assert_int_eq(leaving_update(G), 0);

	atomic_store(&dummy->maint, 1);
	ck_assert_str_eq(leaving_eval(G)->name, "stats");
	ck_assert_int_eq(leaving_update(G), 1);
	ck_assert_int_eq(leaving_now(), 1);
	ck_assert_int_eq(leaving_update(G), 1); /* no change, no second log line */

	/* drain and DOWN count as maint does: nbsrv counts usable servers */
	atomic_store(&dummy->maint, 0);
	atomic_store(&dummy->drain, 1);
	ck_assert_int_eq(leaving_update(G), 1);
	atomic_store(&dummy->drain, 0);
	atomic_store(&dummy->up, 0);
	ck_assert_int_eq(leaving_update(G), 1);
	atomic_store(&dummy->up, 1);
	ck_assert_int_eq(leaving_update(G), 0);
	ck_assert_int_eq(leaving_now(), 0);
}
END_TEST

/* The admin commands that change a server tell the application at once. */
static int changed_calls;

static void changed(void)
{
	changed_calls++;
	leaving_update(G);
}

static long uptime(void)
{
	return 1;
}

static int run(const char *line, struct adm_out *out)
{
	static const struct adm_hooks hooks = {
	    .current_gen = current, .uptime_seconds = uptime, .servers_changed = changed};
	struct adm_cmd cmd;
	char err[256];

	ck_assert_msg(adm_parse(line, &cmd, err, sizeof(err)) == 0, "%s: %s", line, err);
	return adm_exec(G, &hooks, &cmd, ADM_LEVEL_ADMIN, out);
}

START_TEST(admin_commands_evaluate_at_once)
{
	struct adm_out out = {0};

	changed_calls = 0;
	ck_assert_int_eq(run("set server be-maint/dummy state maint", &out), 0);
	ck_assert_int_eq(changed_calls, 1);
	ck_assert_int_eq(leaving_now(), 1);
	ck_assert_int_eq(run("show info", &out), 0);
	ck_assert_ptr_nonnull(strstr(out.buf, "\nLeaving: 1\n"));
	adm_out_free(&out);

	ck_assert_int_eq(run("set server be-maint/dummy state ready", &out), 0);
	ck_assert_int_eq(leaving_now(), 0);
	ck_assert_int_eq(run("disable server be-maint/dummy", &out), 0);
	ck_assert_int_eq(leaving_now(), 1);
	ck_assert_int_eq(run("enable server be-maint/dummy", &out), 0);
	ck_assert_int_eq(leaving_now(), 0);
	ck_assert_int_eq(run("set server be-maint/dummy weight 0", &out), 0);
	ck_assert_int_eq(leaving_now(), 1);
	ck_assert_int_eq(run("set server be-maint/dummy weight 1", &out), 0);
	ck_assert_int_eq(leaving_now(), 0);
	ck_assert_int_eq(changed_calls, 6);
	ck_assert_int_eq(run("show info", &out), 0);
	ck_assert_ptr_nonnull(strstr(out.buf, "\nLeaving: 0\n"));
	ck_assert_int_eq(changed_calls, 6); /* a show changes nothing */
	adm_out_free(&out);
}
END_TEST

static Suite *leaving_suite(void)
{
	Suite *s = suite_create("leaving");
	TCase *tc = tcase_create("leaving");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, which_conditions_count);
	tcase_add_test(tc, follows_the_servers);
	tcase_add_test(tc, admin_commands_evaluate_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(leaving_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
