/* test_stats_form.c - the stats page's request options and POST bodies
 * (src/stats_form.c): every option, every refusal. */
#include <config.h>

#include "cfg.h"
#include "stats_form.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The request target */

static struct stats_uri uri_ok(const char *target, const char *prefix)
{
	struct stats_uri u;

	ck_assert_msg(stats_uri_parse(target, strlen(target), prefix, &u) == 0, "%s", target);
	return u;
}

START_TEST(uri_prefix)
{
	struct stats_uri u;

	ck_assert_int_eq(stats_uri_parse("/other", 6, "/stats", &u), -1);
	ck_assert_int_eq(stats_uri_parse("/sta", 4, "/stats", &u), -1);
	ck_assert_int_eq(stats_uri_parse("", 0, "/stats", &u), -1);
	/* the length counts, not a NUL: "/stats" cut to 5 bytes is not it */
	ck_assert_int_eq(stats_uri_parse("/stats", 5, "/stats", &u), -1);
	u = uri_ok("/stats", "/stats");
	ck_assert(!u.csv && !u.up && !u.norefresh);
	ck_assert_int_eq(u.st, STATS_ST_INIT);
	/* HAProxy compares the prefix bytes only */
	u = uri_ok("/statsx;csv", "/stats");
	ck_assert(u.csv);
	/* the options are looked for after the prefix only */
	u = uri_ok("/a;csv", "/a;csv");
	ck_assert(!u.csv);
}
END_TEST

START_TEST(uri_options)
{
	struct stats_uri u = uri_ok("/stats;csv", "/stats");

	ck_assert(u.csv && !u.up && !u.norefresh);
	u = uri_ok("/stats;up", "/stats");
	ck_assert(!u.csv && u.up && !u.norefresh);
	u = uri_ok("/stats;norefresh", "/stats");
	ck_assert(!u.csv && !u.up && u.norefresh);
	u = uri_ok("/stats;csv;norefresh", "/stats");
	ck_assert(u.csv && !u.up && u.norefresh);
	u = uri_ok("/stats;norefresh;up;csv", "/stats");
	ck_assert(u.csv && u.up && u.norefresh);
	/* HAProxy's default `stats uri /haproxy?stats` */
	u = uri_ok("/haproxy?stats;csv", "/haproxy?stats");
	ck_assert(u.csv);
	/* wherever they stand after the prefix, query string included */
	u = uri_ok("/stats?x=1;up", "/stats");
	ck_assert(u.up);
}
END_TEST

START_TEST(uri_st_codes)
{
	static const char *const codes[] = {"DENY", "DONE", "ERRP", "EXCD",
	                                    "NONE", "PART", "UNKN", "IVAL"};
	char target[64];

	for (int i = 0; i < 8; i++) {
		snprintf(target, sizeof(target), "/stats;up;st=%s", codes[i]);
		ck_assert_int_eq(uri_ok(target, "/stats").st, (enum stats_st)(i + 1));
		ck_assert_str_eq(stats_st_name((enum stats_st)(i + 1)), codes[i]);
	}
	ck_assert_int_eq(uri_ok("/stats;st=WHAT", "/stats").st, STATS_ST_UNKN);
	ck_assert_int_eq(uri_ok("/stats;st=done", "/stats").st, STATS_ST_UNKN);
	/* fewer than four letters: no code at all, as HAProxy */
	ck_assert_int_eq(uri_ok("/stats;st=DON", "/stats").st, STATS_ST_INIT);
	ck_assert_int_eq(uri_ok("/stats;st=DONE;csv", "/stats").st, STATS_ST_DONE);
	ck_assert_str_eq(stats_st_name(STATS_ST_INIT), "");
	ck_assert_str_eq(stats_st_name(STATS_ST_COUNT), "");
}
END_TEST

START_TEST(st_of_result)
{
	ck_assert_int_eq(stats_st_of_result(0, 0), STATS_ST_NONE);
	ck_assert_int_eq(stats_st_of_result(3, 0), STATS_ST_ERRP);
	ck_assert_int_eq(stats_st_of_result(3, 3), STATS_ST_DONE);
	ck_assert_int_eq(stats_st_of_result(3, 1), STATS_ST_PART);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Bodies */

static struct stats_form F; /* 16 KiB of server names: not on the stack */

static enum stats_form_rc parse(const char *body)
{
	return stats_form_parse(body, strlen(body), &F);
}

START_TEST(form_haproxy)
{
	/* what HAProxy 2.6's page posts: the ticked servers, action, b */
	ck_assert_int_eq(parse("s=router-0&s=router-2&action=drain&b=%233"), STATS_FORM_OK);
	ck_assert_int_eq(F.kind, STATS_FORM_SERVERS);
	ck_assert_int_eq(F.action, STATS_ACT_DRAIN);
	ck_assert_str_eq(F.backend, "#3");
	ck_assert_int_eq(F.nservers, 2);
	ck_assert_str_eq(F.servers[0], "router-0");
	ck_assert_str_eq(F.servers[1], "router-2");
	ck_assert_int_eq(parse("b=be_http&action=ready&s=w1"), STATS_FORM_OK);
	ck_assert_int_eq(F.action, STATS_ACT_READY);
	ck_assert_str_eq(F.backend, "be_http");
	ck_assert_int_eq(parse("s=a&action=maint&b=x"), STATS_FORM_OK);
	ck_assert_int_eq(F.action, STATS_ACT_MAINT);
	ck_assert_str_eq(stats_form_action_name(STATS_ACT_READY), "ready");
	ck_assert_str_eq(stats_form_action_name(STATS_ACT_DRAIN), "drain");
	ck_assert_str_eq(stats_form_action_name(STATS_ACT_MAINT), "maint");
}
END_TEST

START_TEST(form_decoding)
{
	ck_assert_int_eq(parse("s=a+b&s=%41%2f%7e&s=%c3%a9&action=ready&b=x%20y"), STATS_FORM_OK);
	ck_assert_str_eq(F.servers[0], "a b");
	ck_assert_str_eq(F.servers[1], "A/~");
	ck_assert_str_eq(F.servers[2], "\xc3\xa9");
	ck_assert_str_eq(F.backend, "x y");
	/* names are decoded too; empty fields and fields without '=' pass */
	ck_assert_int_eq(parse("&&%73=one&flag&action=ready&b=x&"), STATS_FORM_OK);
	ck_assert_int_eq(F.nservers, 1);
	ck_assert_str_eq(F.servers[0], "one");
	/* not NUL-terminated: the length decides */
	ck_assert_int_eq(stats_form_parse("s=a&action=ready&b=xyz", 20, &F), STATS_FORM_OK);
	ck_assert_str_eq(F.backend, "x");
}
END_TEST

START_TEST(form_last_wins)
{
	ck_assert_int_eq(parse("action=maint&b=one&s=a&action=ready&b=two&other=1"), STATS_FORM_OK);
	ck_assert_int_eq(F.action, STATS_ACT_READY);
	ck_assert_str_eq(F.backend, "two");
	/* an unknown action that a later one replaces is no error */
	ck_assert_int_eq(parse("action=bogus&s=a&b=x&action=drain"), STATS_FORM_OK);
}
END_TEST

START_TEST(form_client_ip)
{
	static const char *const names[] = {"none", "xff", "proxy-v1", "proxy-v2", "auto"};
	char body[128];

	for (int i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "action=set-client-ip&fe=fe-route&client_ip=%s",
		         names[i]);
		ck_assert_int_eq(parse(body), STATS_FORM_OK);
		ck_assert_int_eq(F.kind, STATS_FORM_CLIENT_IP);
		ck_assert_str_eq(F.frontend, "fe-route");
		/* the names are the configuration's */
		ck_assert_str_eq(cfg_client_ip_name(F.client_ip), names[i]);
	}
	ck_assert_int_eq(parse("action=set-client-ip&client_ip=xff"), STATS_FORM_E_FRONTEND);
	ck_assert_int_eq(parse("action=set-client-ip&fe=&client_ip=xff"), STATS_FORM_E_FRONTEND);
	ck_assert_int_eq(parse("action=set-client-ip&fe=a"), STATS_FORM_E_STRATEGY);
	ck_assert_int_eq(parse("action=set-client-ip&fe=a&client_ip=XFF"), STATS_FORM_E_STRATEGY);
	ck_assert_int_eq(parse("action=set-client-ip&fe=a&client_ip=unset"), STATS_FORM_E_STRATEGY);
	ck_assert_int_eq(parse("action=set-client-ip&fe=a&client_ip="), STATS_FORM_E_STRATEGY);
}
END_TEST

/* A body of `n` fields "k=v&k=v...". */
static char *fields(int n, const char *field)
{
	size_t len = strlen(field) + 1;
	char *b = malloc((size_t)n * len + 1);

	b[0] = '\0';
	for (int i = 0; i < n; i++) {
		strcat(b, i ? "&" : "");
		strcat(b, field);
	}
	return b;
}

START_TEST(form_bounds)
{
	char *big = malloc(STATS_FORM_MAX_BODY + 2);
	char name[STATS_FORM_MAX_LEN + 16];
	char *b;

	/* the body */
	memset(big, 'x', STATS_FORM_MAX_BODY + 1);
	ck_assert_int_eq(stats_form_parse(big, STATS_FORM_MAX_BODY + 1, &F), STATS_FORM_E_TOO_BIG);
	ck_assert_int_eq(stats_form_parse(big, STATS_FORM_MAX_BODY, &F), STATS_FORM_E_LONG);
	free(big);
	/* fields */
	b = fields(STATS_FORM_MAX_FIELDS, "z=1");
	ck_assert_int_eq(parse(b), STATS_FORM_E_MISSING); /* 256 fields are fine */
	free(b);
	b = fields(STATS_FORM_MAX_FIELDS + 1, "z=1");
	ck_assert_int_eq(parse(b), STATS_FORM_E_FIELDS);
	free(b);
	/* servers */
	b = fields(STATS_FORM_MAX_SERVERS, "s=a");
	ck_assert_int_eq(parse(b), STATS_FORM_E_MISSING);
	ck_assert_int_eq(F.nservers, STATS_FORM_MAX_SERVERS);
	free(b);
	b = fields(STATS_FORM_MAX_SERVERS + 1, "s=a");
	ck_assert_int_eq(parse(b), STATS_FORM_E_SERVERS);
	free(b);
	/* a value of 128 bytes passes, 129 do not; the same for names, and
	 * the decoded length counts ("%41" is one byte) */
	memset(name, 0, sizeof(name));
	memcpy(name, "b=", 2);
	memset(name + 2, 'v', STATS_FORM_MAX_LEN);
	ck_assert_int_eq(parse(name), STATS_FORM_E_MISSING);
	ck_assert_int_eq(strlen(F.backend), STATS_FORM_MAX_LEN);
	name[2 + STATS_FORM_MAX_LEN] = 'v';
	ck_assert_int_eq(parse(name), STATS_FORM_E_LONG);
	memset(name, 'n', STATS_FORM_MAX_LEN + 1);
	name[STATS_FORM_MAX_LEN + 1] = '\0';
	ck_assert_int_eq(parse(name), STATS_FORM_E_LONG);
	ck_assert_int_eq(parse("b=%41%41"), STATS_FORM_E_MISSING);
	ck_assert_str_eq(F.backend, "AA");
}
END_TEST

START_TEST(form_encoding)
{
	ck_assert_int_eq(parse("s=%"), STATS_FORM_E_ENCODING);
	ck_assert_int_eq(parse("s=%4"), STATS_FORM_E_ENCODING);
	ck_assert_int_eq(parse("s=%4g"), STATS_FORM_E_ENCODING);
	ck_assert_int_eq(parse("s=%zz&action=ready"), STATS_FORM_E_ENCODING);
	ck_assert_int_eq(parse("s=a%00b"), STATS_FORM_E_ENCODING);
	ck_assert_int_eq(parse("%=a"), STATS_FORM_E_ENCODING);
	ck_assert_int_eq(stats_form_parse("s=a\0b&action=ready&b=x", 22, &F),
	                 STATS_FORM_E_ENCODING);
}
END_TEST

START_TEST(form_actions)
{
	static const char *const unsupported[] = {
	    "shutdown", "dhlth", "ehlth", "hrunn",   "hnolb",  "hmaint", "hdown", "dagent",
	    "eagent",   "arunn", "adown", "disable", "enable", "stop",   "start"};
	char body[128];

	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		snprintf(body, sizeof(body), "s=a&action=%s&b=%%232", unsupported[i]);
		ck_assert_int_eq(parse(body), STATS_FORM_E_UNSUPPORTED);
	}
	ck_assert_int_eq(parse("s=a&action=frobnicate&b=x"), STATS_FORM_E_ACTION);
	ck_assert_int_eq(parse("s=a&action=READY&b=x"), STATS_FORM_E_ACTION);
	/* nothing to do: HAProxy's NONE */
	ck_assert_int_eq(parse(""), STATS_FORM_E_MISSING);
	ck_assert_int_eq(stats_form_parse(NULL, 0, &F), STATS_FORM_E_MISSING);
	ck_assert_int_eq(parse("s=a&b=x"), STATS_FORM_E_MISSING);
	ck_assert_int_eq(parse("s=a&b=x&action="), STATS_FORM_E_MISSING);
	ck_assert_int_eq(parse("s=a&action=ready"), STATS_FORM_E_MISSING);
	ck_assert_int_eq(parse("action=ready&b=x"), STATS_FORM_E_MISSING);
}
END_TEST

START_TEST(form_st_codes)
{
	static const struct {
		enum stats_form_rc rc;
		enum stats_st st;
	} map[] = {
	    {STATS_FORM_OK, STATS_ST_INIT},         {STATS_FORM_E_TOO_BIG, STATS_ST_EXCD},
	    {STATS_FORM_E_FIELDS, STATS_ST_EXCD},   {STATS_FORM_E_SERVERS, STATS_ST_EXCD},
	    {STATS_FORM_E_LONG, STATS_ST_ERRP},     {STATS_FORM_E_ENCODING, STATS_ST_ERRP},
	    {STATS_FORM_E_ACTION, STATS_ST_ERRP},   {STATS_FORM_E_UNSUPPORTED, STATS_ST_ERRP},
	    {STATS_FORM_E_MISSING, STATS_ST_NONE},  {STATS_FORM_E_FRONTEND, STATS_ST_ERRP},
	    {STATS_FORM_E_STRATEGY, STATS_ST_ERRP},
	};

	ck_assert_int_eq(sizeof(map) / sizeof(map[0]), STATS_FORM_RC_COUNT);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		ck_assert_int_eq(stats_form_st(map[i].rc), map[i].st);
		ck_assert(strlen(stats_form_strerror(map[i].rc)) > 1);
	}
	ck_assert_str_eq(stats_form_strerror(STATS_FORM_RC_COUNT), "?");
}
END_TEST

/* ------------------------------------------------------------------ */
/* The backend a form names */

static const char CFG_TEXT[] = "defaults\n"
                               " timeout connect 1s\n timeout client 1s\n timeout server 1s\n"
                               "frontend fe\n bind 127.0.0.1:1\n default_backend be1\n" /* #1 */
                               "backend be1\n server a 127.0.0.1:2\n"                   /* #2 */
                               "listen li\n bind 127.0.0.1:3\n server b 127.0.0.1:4\n"  /* #3 */
                               "backend be2\n server c 127.0.0.1:5\n";                  /* #4 */

START_TEST(backend_lookup)
{
	struct cfg *cfg = cfg_new();
	struct cfg_msgs msgs;

	cfg_msgs_init(&msgs);
	ck_assert_int_eq(cfg_parse_text(cfg, "t.cfg", CFG_TEXT, strlen(CFG_TEXT), &msgs), 0);
	ck_assert_int_eq(cfg_finish(cfg, &msgs), 0);
	cfg_msgs_free(&msgs);
	ck_assert_str_eq(stats_form_backend(cfg, "#2")->name, "be1");
	ck_assert_str_eq(stats_form_backend(cfg, "#3")->name, "li");
	ck_assert_str_eq(stats_form_backend(cfg, "#4")->name, "be2");
	ck_assert_str_eq(stats_form_backend(cfg, "be2")->name, "be2");
	ck_assert_str_eq(stats_form_backend(cfg, "li")->name, "li");
	ck_assert_ptr_null(stats_form_backend(cfg, "#1")); /* a frontend */
	ck_assert_ptr_null(stats_form_backend(cfg, "fe"));
	ck_assert_ptr_null(stats_form_backend(cfg, "#5"));
	ck_assert_ptr_null(stats_form_backend(cfg, "#0"));
	ck_assert_ptr_null(stats_form_backend(cfg, "#"));
	ck_assert_ptr_null(stats_form_backend(cfg, "#2x"));
	ck_assert_ptr_null(stats_form_backend(cfg, "#-2"));
	ck_assert_ptr_null(stats_form_backend(cfg, "#99999999999"));
	ck_assert_ptr_null(stats_form_backend(cfg, ""));
	ck_assert_ptr_null(stats_form_backend(cfg, "nope"));
	cfg_free(cfg);
}
END_TEST

static Suite *stats_form_suite(void)
{
	Suite *s = suite_create("stats_form");
	TCase *tc = tcase_create("uri");

	tcase_add_test(tc, uri_prefix);
	tcase_add_test(tc, uri_options);
	tcase_add_test(tc, uri_st_codes);
	tcase_add_test(tc, st_of_result);
	suite_add_tcase(s, tc);
	tc = tcase_create("body");
	tcase_add_test(tc, form_haproxy);
	tcase_add_test(tc, form_decoding);
	tcase_add_test(tc, form_last_wins);
	tcase_add_test(tc, form_client_ip);
	tcase_add_test(tc, form_bounds);
	tcase_add_test(tc, form_encoding);
	tcase_add_test(tc, form_actions);
	tcase_add_test(tc, form_st_codes);
	tcase_add_test(tc, backend_lookup);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_form_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
