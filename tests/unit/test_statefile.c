/* test_statefile.c - the state files' line parsers (src/statefile.c). */
#include <config.h>

#include "statefile.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What HAProxy 2.6 prints for a server in forced maintenance, and what
 * ppbridge adds after it. */
#define HAP_LINE "3 be_routers 2 r2 10.0.0.12 2 1 100 100 42 6 3 4 6 0 0 0 - 443 - 0 0 - - 0"

static int strategy(const char *name)
{
	static const char *const names[] = {"", "none", "xff", "proxy-v1", "proxy-v2", "auto"};

	for (int i = 1; i < 6; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

START_TEST(version_line)
{
	ck_assert_int_eq(sf_server_version_ok("1\n"), 1);
	ck_assert_int_eq(sf_server_version_ok("1"), 1);
	ck_assert_int_eq(sf_server_version_ok(" 1 \n"), 1);
	ck_assert_int_eq(sf_server_version_ok("2\n"), 0);
	ck_assert_int_eq(sf_server_version_ok("11\n"), 0);
	ck_assert_int_eq(sf_server_version_ok("1 2\n"), 0);
	ck_assert_int_eq(sf_server_version_ok("\n"), 0);
	ck_assert_int_eq(sf_server_version_ok("# be_id\n"), 0);
}
END_TEST

START_TEST(haproxy_line)
{
	struct sf_server r;
	const char *why = NULL;

	ck_assert_int_eq(sf_parse_server(HAP_LINE "\n", &r, &why), SF_OK);
	ck_assert_str_eq(r.backend, "be_routers");
	ck_assert_str_eq(r.server, "r2");
	ck_assert_str_eq(r.addr, "10.0.0.12");
	ck_assert_int_eq(r.op_state, SF_OP_RUNNING);
	ck_assert_int_eq(r.admin, SF_ADMIN_FMAINT);
	ck_assert_int_eq(r.uweight, 100);
	ck_assert_int_eq(r.iweight, 100);
	ck_assert_int_eq(r.health, 4);
	ck_assert_int_eq(r.port, 443);
	ck_assert_int_eq(r.pp_mode, SF_PP_ABSENT);
}
END_TEST

START_TEST(ppbridge_column)
{
	static const char *const modes[] = {"unknown", "plain", "proxy"};
	struct sf_server r;
	const char *why = NULL;
	char line[256];

	for (int i = 0; i < 3; i++) {
		snprintf(line, sizeof(line), "%s %s\n", HAP_LINE, modes[i]);
		ck_assert_int_eq(sf_parse_server(line, &r, &why), SF_OK);
		ck_assert_int_eq(r.pp_mode, i - 1);
	}
	ck_assert_int_eq(sf_parse_server(HAP_LINE " sometimes\n", &r, &why), SF_ERROR);
	ck_assert_str_eq(why, "invalid ppb_pp_mode");
	ck_assert_int_eq(sf_parse_server(HAP_LINE " proxy extra\n", &r, &why), SF_ERROR);
	ck_assert_str_eq(why, "too many fields");
}
END_TEST

/* HAProxy's oldest version 1 lines stop after srvrecord (20 fields). */
START_TEST(short_haproxy_line)
{
	struct sf_server r;
	const char *why = NULL;

	ck_assert_int_eq(sf_parse_server("1 be 1 s 127.0.0.1 0 0 1 1 5 8 2 0 6 0 0 0 - 80 -\n", &r, &why),
			 SF_OK);
	ck_assert_int_eq(r.op_state, SF_OP_STOPPED);
	ck_assert_int_eq(r.port, 80);
}
END_TEST

START_TEST(skips)
{
	struct sf_server r;
	struct sf_client_ip c;
	const char *why = NULL;

	ck_assert_int_eq(sf_parse_server("\n", &r, &why), SF_SKIP);
	ck_assert_int_eq(sf_parse_server("   \t\n", &r, &why), SF_SKIP);
	ck_assert_int_eq(sf_parse_server("# be_id be_name srv_id\n", &r, &why), SF_SKIP);
	ck_assert_int_eq(sf_parse_server("", &r, &why), SF_SKIP);
	ck_assert_int_eq(sf_parse_client_ip("# frontend runtime configured\n", strategy, &c, &why),
			 SF_SKIP);
}
END_TEST

/* Every prefix of a good line cut at a field boundary is refused as too
 * short, and no prefix at all makes the parser read past the end. */
START_TEST(truncated_lines)
{
	const char *line = HAP_LINE " proxy\n";
	size_t len = strlen(line);
	struct sf_server r;
	const char *why = NULL;
	int ok = 0, errors = 0;

	for (size_t k = 1; k < len; k++) {
		char *cut = strndup(line, k);
		enum sf_result res = sf_parse_server(cut, &r, &why);
		ck_assert(res == SF_OK || res == SF_ERROR);
		if (res == SF_OK)
			ok++;
		else
			errors++;
		free(cut);
	}
	/* The 20th field ("-") and later ones end lines HAProxy accepts. */
	ck_assert_int_gt(ok, 0);
	ck_assert_int_gt(errors, 30);
}
END_TEST

START_TEST(bad_values)
{
	static const struct {
		const char *line;
		const char *why;
	} cases[] = {
	    {"3 be 2 r2 10.0.0.12 7 1 100 100 0 6 3 4 6 0 0 0 - 443 - 0 0 - - 0\n", "invalid srv_op_state"},
	    {"3 be 2 r2 10.0.0.12 x 1 100 100 0 6 3 4 6 0 0 0 - 443 - 0 0 - - 0\n", "invalid srv_op_state"},
	    {"3 be 2 r2 10.0.0.12 2 -1 100 100 0 6 3 4 6 0 0 0 - 443 - 0 0 - - 0\n", "invalid srv_admin_state"},
	    {"3 be 2 r2 10.0.0.12 2 1 257 100 0 6 3 4 6 0 0 0 - 443 - 0 0 - - 0\n",
	     "invalid srv_uweight or srv_iweight"},
	    {"3 be 2 r2 10.0.0.12 2 1 100 1x 0 6 3 4 6 0 0 0 - 443 - 0 0 - - 0\n",
	     "invalid srv_uweight or srv_iweight"},
	    {"3 be 2 r2 10.0.0.12 2 1 100 100 0 6 3 -4 6 0 0 0 - 443 - 0 0 - - 0\n",
	     "invalid srv_check_health"},
	    {"3 be 2 r2 10.0.0.12 2 1 100 100 0 6 3 4 6 0 0 0 - 65536 - 0 0 - - 0\n", "invalid srv_port"},
	    {"3 be 2 r2 10.0.0.12 2 1 100 100 0 6 3 4 6 0 0 0 - 99999999999999999999 - 0 0 - - 0\n",
	     "invalid srv_port"},
	    {"3 be 2 r2 10.0.0.12 2 1 100 100 0 6 3 4 6 0 0 0 -\n", "too few fields (truncated?)"},
	};
	struct sf_server r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		ck_assert_int_eq(sf_parse_server(cases[i].line, &r, &why), SF_ERROR);
		ck_assert_str_eq(why, cases[i].why);
	}
}
END_TEST

START_TEST(long_names_refused)
{
	char line[2048];
	char name[SF_NAME_MAX + 8];
	struct sf_server r;
	const char *why = NULL;

	memset(name, 'b', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(line, sizeof(line), "3 %s 2 r2 10.0.0.12 2 1 100 100 0 6 3 4 6 0 0 0 - 443 - 0 0 - - 0\n",
		 name);
	ck_assert_int_eq(sf_parse_server(line, &r, &why), SF_ERROR);
	ck_assert_str_eq(why, "backend or server name too long");
}
END_TEST

START_TEST(client_ip_lines)
{
	struct sf_client_ip c;
	const char *why = NULL;

	ck_assert_int_eq(sf_parse_client_ip("fe-apps-https proxy-v2 xff\n", strategy, &c, &why), SF_OK);
	ck_assert_str_eq(c.frontend, "fe-apps-https");
	ck_assert_int_eq(c.runtime, 4);
	ck_assert_int_eq(c.configured, 2);
	ck_assert_int_eq(sf_parse_client_ip("fe auto none", strategy, &c, &why), SF_OK);
	ck_assert_int_eq(c.runtime, 5);
	ck_assert_int_eq(sf_parse_client_ip("fe proxy-v2\n", strategy, &c, &why), SF_ERROR);
	ck_assert_int_eq(sf_parse_client_ip("fe proxy-v2 xff more\n", strategy, &c, &why), SF_ERROR);
	ck_assert_int_eq(sf_parse_client_ip("fe proxy-v3 xff\n", strategy, &c, &why), SF_ERROR);
	ck_assert_str_eq(why, "unknown client-ip strategy");
	ck_assert_int_eq(sf_parse_client_ip("fe xff sometimes\n", strategy, &c, &why), SF_ERROR);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("statefile");
	TCase *tc = tcase_create("lines");

	tcase_add_test(tc, version_line);
	tcase_add_test(tc, haproxy_line);
	tcase_add_test(tc, ppbridge_column);
	tcase_add_test(tc, short_haproxy_line);
	tcase_add_test(tc, skips);
	tcase_add_test(tc, truncated_lines);
	tcase_add_test(tc, bad_values);
	tcase_add_test(tc, long_names_refused);
	tcase_add_test(tc, client_ip_lines);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
