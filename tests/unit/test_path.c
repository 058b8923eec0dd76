/* test_path.c - the client-IP path choices (src/path.c), every combination. */
#include <config.h>

#include "path.h"

#include <check.h>
#include <stdlib.h>

#define P(x) STRM_PATH_##x

/* path_at_accept(strategy, derived, fe_http): the whole input space. */
START_TEST(at_accept_table)
{
	static const struct {
		enum cfg_client_ip st;
		int derived, http;
		enum strm_path want;
	} rows[] = {
	    /* HAProxy's semantics, nothing written or switched */
	    {CFG_CLIENT_IP_NONE, 1, 0, P(RELAY)},
	    {CFG_CLIENT_IP_PROXY_V1, 1, 0, P(RELAY)}, /* servers all send-proxy */
	    {CFG_CLIENT_IP_PROXY_V2, 1, 0, P(RELAY)},
	    {CFG_CLIENT_IP_XFF, 1, 1, P(XFF)},
	    {CFG_CLIENT_IP_XFF, 1, 0, P(XFF)},
	    {CFG_CLIENT_IP_NONE, 1, 1, P(XFF)},
	    {CFG_CLIENT_IP_AUTO, 1, 0, P(PENDING)},
	    {CFG_CLIENT_IP_AUTO, 1, 1, P(PENDING)},
	    /* written in the config, or switched at run time */
	    {CFG_CLIENT_IP_NONE, 0, 0, P(PASS)},
	    {CFG_CLIENT_IP_NONE, 0, 1, P(PASS)},
	    {CFG_CLIENT_IP_PROXY_V1, 0, 0, P(PASS_PP1)},
	    {CFG_CLIENT_IP_PROXY_V1, 0, 1, P(PASS_PP1)},
	    {CFG_CLIENT_IP_PROXY_V2, 0, 0, P(PASS_PP2)},
	    {CFG_CLIENT_IP_PROXY_V2, 0, 1, P(PASS_PP2)},
	    {CFG_CLIENT_IP_XFF, 0, 1, P(XFF)},
	    {CFG_CLIENT_IP_XFF, 0, 0, P(XFF)},
	    {CFG_CLIENT_IP_AUTO, 0, 0, P(PENDING)},
	    {CFG_CLIENT_IP_AUTO, 0, 1, P(PENDING)},
	    {CFG_CLIENT_IP_UNSET, 0, 0, P(RELAY)},
	    {CFG_CLIENT_IP_UNSET, 0, 1, P(XFF)},
	    {CFG_CLIENT_IP_UNSET, 1, 0, P(RELAY)},
	    {CFG_CLIENT_IP_UNSET, 1, 1, P(XFF)},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ck_assert_msg(path_at_accept(rows[i].st, rows[i].derived, rows[i].http) == rows[i].want,
			      "row %zu: got %s, want %s", i,
			      path_name(path_at_accept(rows[i].st, rows[i].derived, rows[i].http)),
			      path_name(rows[i].want));
}
END_TEST

START_TEST(auto_per_server)
{
	for (int http = 0; http < 2; http++) {
		ck_assert_int_eq(path_auto(1, http, 1), P(PASS_PP1));
		ck_assert_int_eq(path_auto(1, http, 2), P(PASS_PP2));
		ck_assert_int_eq(path_auto(0, http, 2), http ? P(XFF) : P(PASS));
		ck_assert_int_eq(path_auto(0, http, 1), http ? P(XFF) : P(PASS));
	}
}
END_TEST

START_TEST(routed)
{
	ck_assert_int_eq(path_routed(CFG_CLIENT_IP_PROXY_V1), P(PASS_PP1));
	ck_assert_int_eq(path_routed(CFG_CLIENT_IP_PROXY_V2), P(PASS_PP2));
	ck_assert_int_eq(path_routed(CFG_CLIENT_IP_AUTO), P(PENDING));
	ck_assert_int_eq(path_routed(CFG_CLIENT_IP_XFF), P(PASS_SRV_PP));
	ck_assert_int_eq(path_routed(CFG_CLIENT_IP_NONE), P(PASS_SRV_PP));
	ck_assert_int_eq(path_routed(CFG_CLIENT_IP_UNSET), P(PASS_SRV_PP));
}
END_TEST

START_TEST(fallback)
{
	for (int pp = 0; pp < 2; pp++)
		for (int v = 1; v <= 2; v++)
			ck_assert_int_eq(path_fallback(pp, 1, v), P(XFF));
	ck_assert_int_eq(path_fallback(1, 0, 2), P(PASS));
	ck_assert_int_eq(path_fallback(1, 0, 1), P(PASS));
	ck_assert_int_eq(path_fallback(0, 0, 2), P(PASS_PP2));
	ck_assert_int_eq(path_fallback(0, 0, 1), P(PASS_PP1));
}
END_TEST

/* What each path means, for every path: the derived questions agree. */
START_TEST(meanings)
{
	static const struct {
		enum strm_path p;
		int http, terminates, server_tls, pp, decided;
	} rows[] = {
	    {P(PENDING), 0, 0, 0, -1, 0}, {P(RELAY), 0, 1, 1, -1, 1},
	    {P(PASS), 0, 0, 0, 0, 1},     {P(PASS_PP1), 0, 0, 0, 1, 1},
	    {P(PASS_PP2), 0, 0, 0, 2, 1}, {P(PASS_SRV_PP), 0, 0, 0, -1, 1},
	    {P(XFF), 1, 1, 1, -1, 1},
	};

	ck_assert_int_eq(sizeof(rows) / sizeof(rows[0]), STRM_PATH_COUNT);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum strm_path p = rows[i].p;
		ck_assert_int_eq(path_is_http(p), rows[i].http);
		ck_assert_int_eq(path_terminates_tls(p), rows[i].terminates);
		ck_assert_int_eq(path_server_tls(p), rows[i].server_tls);
		ck_assert_int_eq(path_fixed_pp(p), rows[i].pp);
		ck_assert_int_eq(path_decided(p), rows[i].decided);
		ck_assert_str_ne(path_name(p), "?");
		/* the HTTP loop always terminates; a passthrough never speaks TLS */
		if (path_is_http(p))
			ck_assert(path_terminates_tls(p));
		if (path_fixed_pp(p) >= 0)
			ck_assert(!path_server_tls(p) && !path_terminates_tls(p));
	}
	ck_assert_str_eq(path_name(STRM_PATH_COUNT), "?");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("path");
	TCase *tc = tcase_create("choices");

	tcase_add_test(tc, at_accept_table);
	tcase_add_test(tc, auto_per_server);
	tcase_add_test(tc, routed);
	tcase_add_test(tc, fallback);
	tcase_add_test(tc, meanings);
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
