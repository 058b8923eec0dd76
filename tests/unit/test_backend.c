/* test_backend.c - server selection: source hash, weights, backups, state. */
#include <config.h>

#include "backend.h"
#include "cfg.h"
#include "net.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXSRV 8

struct fixture {
	struct cfg_proxy px;
	struct cfg_server sv[MAXSRV];
	struct be be;
};

/* A backend with n servers named s1..sn; weights and backup flags given. */
static void setup(struct fixture *f, enum cfg_balance balance, enum cfg_hash_type hash, int n,
		  const int *weights, const int *backup)
{
	static char names[MAXSRV][8];

	memset(f, 0, sizeof(*f));
	f->px.name = "be";
	f->px.caps = CFG_CAP_BE;
	f->px.balance = balance;
	f->px.hash_type = hash;
	f->px.nservers = n;
	for (int i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "s%d", i + 1);
		f->sv[i].name = names[i];
		f->sv[i].id = i + 1;
		f->sv[i].weight = weights ? weights[i] : 1;
		f->sv[i].backup = backup ? backup[i] : 0;
		f->sv[i].rise = 2;
		f->sv[i].fall = 3;
		f->sv[i].next = i + 1 < n ? &f->sv[i + 1] : NULL;
	}
	f->px.servers = &f->sv[0];
	ck_assert_int_eq(be_init(&f->be, &f->px), 0);
}

static struct sockaddr_storage addr(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(net_parse_ip(text, &ss, &len), 0);
	return ss;
}

static struct sockaddr_storage addr_n(unsigned n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "10.%u.%u.%u", (n >> 16) & 255, (n >> 8) & 255, n & 255);
	return addr(buf);
}

static int index_of(struct fixture *f, struct srv *s)
{
	ck_assert_ptr_nonnull(s);
	return (int)(s - f->be.srvs);
}

START_TEST(test_hash_is_pinned)
{
	/* The mapping must not change between versions or hosts: pin it. */
	struct sockaddr_storage a = addr("192.0.2.1"), b = addr("::ffff:192.0.2.1"),
				c = addr("2001:db8::1");

	ck_assert_uint_eq(be_hash_addr((struct sockaddr *)&a), be_hash_addr((struct sockaddr *)&b));
	ck_assert_uint_ne(be_hash_addr((struct sockaddr *)&a), be_hash_addr((struct sockaddr *)&c));
	ck_assert_uint_eq(be_hash_addr((struct sockaddr *)&a), 0x4cfd712cu);
}
END_TEST

START_TEST(test_source_stable_and_spread)
{
	struct fixture f1, f2;
	int count[3] = {0, 0, 0};

	setup(&f1, CFG_BALANCE_SOURCE, CFG_HASH_MAP_BASED, 3, NULL, NULL);
	setup(&f2, CFG_BALANCE_SOURCE, CFG_HASH_MAP_BASED, 3, NULL, NULL);
	for (unsigned i = 0; i < 3000; i++) {
		struct sockaddr_storage a = addr_n(i * 7919u);
		int x = index_of(&f1, be_select(&f1.be, (struct sockaddr *)&a, NULL));
		int y = index_of(&f2, be_select(&f2.be, (struct sockaddr *)&a, NULL));
		/* A second instance with the same config agrees, and so does a
		 * second call (no round-robin state leaks into source). */
		ck_assert_int_eq(x, y);
		ck_assert_int_eq(x, index_of(&f1, be_select(&f1.be, (struct sockaddr *)&a, NULL)));
		count[x]++;
	}
	for (int i = 0; i < 3; i++) {
		ck_assert_int_gt(count[i], 800);
		ck_assert_int_lt(count[i], 1200);
	}
	be_destroy(&f1.be);
	be_destroy(&f2.be);
}
END_TEST

START_TEST(test_source_weights)
{
	struct fixture f;
	int w[3] = {1, 1, 2};
	int count[3] = {0, 0, 0};

	setup(&f, CFG_BALANCE_SOURCE, CFG_HASH_MAP_BASED, 3, w, NULL);
	for (unsigned i = 0; i < 4000; i++) {
		struct sockaddr_storage a = addr_n(i * 104729u);
		count[index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL))]++;
	}
	ck_assert_int_gt(count[2], 1700);
	ck_assert_int_lt(count[2], 2300);
	ck_assert_int_gt(count[0], 800);
	be_destroy(&f.be);
}
END_TEST

START_TEST(test_roundrobin_weights_exact)
{
	struct fixture f;
	int w[3] = {1, 2, 3};
	int count[3] = {0, 0, 0};
	struct sockaddr_storage a = addr("127.0.0.1");

	setup(&f, CFG_BALANCE_ROUNDROBIN, CFG_HASH_MAP_BASED, 3, w, NULL);
	for (int i = 0; i < 600; i++)
		count[index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL))]++;
	ck_assert_int_eq(count[0], 100);
	ck_assert_int_eq(count[1], 200);
	ck_assert_int_eq(count[2], 300);
	be_destroy(&f.be);
}
END_TEST

START_TEST(test_weight_zero_gets_nothing)
{
	struct fixture f;
	int w[2] = {0, 1};
	struct sockaddr_storage a = addr("127.0.0.1");

	setup(&f, CFG_BALANCE_ROUNDROBIN, CFG_HASH_MAP_BASED, 2, w, NULL);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL)), 1);
	be_destroy(&f.be);
}
END_TEST

START_TEST(test_down_server_skipped)
{
	struct fixture f;

	setup(&f, CFG_BALANCE_SOURCE, CFG_HASH_MAP_BASED, 3, NULL, NULL);
	atomic_store(&f.be.srvs[1].up, 0);
	for (unsigned i = 0; i < 500; i++) {
		struct sockaddr_storage a = addr_n(i);
		ck_assert_int_ne(index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL)), 1);
	}
	atomic_store(&f.be.srvs[2].maint, 1);
	for (unsigned i = 0; i < 100; i++) {
		struct sockaddr_storage a = addr_n(i);
		ck_assert_int_eq(index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL)), 0);
	}
	atomic_store(&f.be.srvs[0].up, 0);
	struct sockaddr_storage a = addr("10.0.0.1");
	ck_assert_ptr_null(be_select(&f.be, (struct sockaddr *)&a, NULL));
	be_destroy(&f.be);
}
END_TEST

START_TEST(test_backup_only_when_no_active)
{
	struct fixture f;
	int backup[3] = {0, 0, 1};
	struct sockaddr_storage a = addr("10.1.1.1");

	setup(&f, CFG_BALANCE_ROUNDROBIN, CFG_HASH_MAP_BASED, 3, NULL, backup);
	for (int i = 0; i < 50; i++)
		ck_assert_int_ne(index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL)), 2);
	atomic_store(&f.be.srvs[0].up, 0);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL)), 1);
	atomic_store(&f.be.srvs[1].up, 0);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL)), 2);
	atomic_store(&f.be.srvs[0].up, 1);
	ck_assert_int_eq(index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL)), 0);
	be_destroy(&f.be);
}
END_TEST

START_TEST(test_first_backup_unless_allbackups)
{
	struct fixture f;
	int backup[4] = {0, 1, 1, 1};
	int seen[4] = {0, 0, 0, 0};

	setup(&f, CFG_BALANCE_SOURCE, CFG_HASH_MAP_BASED, 4, NULL, backup);
	atomic_store(&f.be.srvs[0].up, 0);
	for (unsigned i = 0; i < 200; i++) {
		struct sockaddr_storage a = addr_n(i);
		ck_assert_int_eq(index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL)), 1);
	}
	atomic_store(&f.be.srvs[1].up, 0);
	struct sockaddr_storage one = addr_n(7);
	ck_assert_int_eq(index_of(&f, be_select(&f.be, (struct sockaddr *)&one, NULL)), 2);
	atomic_store(&f.be.srvs[1].up, 1);
	f.px.options |= CFG_OPT_ALLBACKUPS;
	for (unsigned i = 0; i < 300; i++) {
		struct sockaddr_storage a = addr_n(i * 13u);
		seen[index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL))]++;
	}
	ck_assert_int_eq(seen[0], 0);
	ck_assert_int_gt(seen[1], 50);
	ck_assert_int_gt(seen[2], 50);
	ck_assert_int_gt(seen[3], 50);
	be_destroy(&f.be);
}
END_TEST

START_TEST(test_tried_skipped)
{
	struct fixture f;
	unsigned char tried[3] = {0, 0, 0};
	struct sockaddr_storage a = addr("10.9.9.9");
	int first;

	setup(&f, CFG_BALANCE_SOURCE, CFG_HASH_MAP_BASED, 3, NULL, NULL);
	first = index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL));
	tried[first] = 1;
	int second = index_of(&f, be_select(&f.be, (struct sockaddr *)&a, tried));
	ck_assert_int_ne(second, first);
	tried[second] = 1;
	int third = index_of(&f, be_select(&f.be, (struct sockaddr *)&a, tried));
	ck_assert_int_ne(third, first);
	ck_assert_int_ne(third, second);
	tried[third] = 1;
	ck_assert_ptr_null(be_select(&f.be, (struct sockaddr *)&a, tried));
	be_destroy(&f.be);
}
END_TEST

START_TEST(test_consistent_moves_only_lost_clients)
{
	struct fixture f;
	int before[2000];
	int moved_other = 0, spread[4] = {0, 0, 0, 0};

	setup(&f, CFG_BALANCE_SOURCE, CFG_HASH_CONSISTENT, 4, NULL, NULL);
	for (unsigned i = 0; i < 2000; i++) {
		struct sockaddr_storage a = addr_n(i * 31u);
		before[i] = index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL));
		spread[before[i]]++;
	}
	for (int i = 0; i < 4; i++)
		ck_assert_int_gt(spread[i], 300);
	atomic_store(&f.be.srvs[2].up, 0);
	for (unsigned i = 0; i < 2000; i++) {
		struct sockaddr_storage a = addr_n(i * 31u);
		int now = index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL));
		ck_assert_int_ne(now, 2);
		if (before[i] != 2 && now != before[i])
			moved_other++;
	}
	ck_assert_int_eq(moved_other, 0);
	be_destroy(&f.be);
}
END_TEST

START_TEST(test_leastconn)
{
	struct fixture f;
	struct sockaddr_storage a = addr("10.0.0.1");

	setup(&f, CFG_BALANCE_LEASTCONN, CFG_HASH_MAP_BASED, 3, NULL, NULL);
	atomic_store(&f.be.srvs[0].cur_conns, 5);
	atomic_store(&f.be.srvs[1].cur_conns, 2);
	atomic_store(&f.be.srvs[2].cur_conns, 7);
	ck_assert_int_eq(index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL)), 1);
	atomic_store(&f.be.srvs[1].cur_conns, 9);
	ck_assert_int_eq(index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL)), 0);
	be_destroy(&f.be);
}
END_TEST

START_TEST(test_server_maxconn)
{
	struct fixture f;
	struct sockaddr_storage a = addr("10.0.0.1");

	setup(&f, CFG_BALANCE_ROUNDROBIN, CFG_HASH_MAP_BASED, 2, NULL, NULL);
	f.sv[0].maxconn = 1;
	atomic_store(&f.be.srvs[0].cur_conns, 1);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(index_of(&f, be_select(&f.be, (struct sockaddr *)&a, NULL)), 1);
	be_destroy(&f.be);
}
END_TEST

START_TEST(test_check_result_transitions)
{
	struct fixture f;

	setup(&f, CFG_BALANCE_ROUNDROBIN, CFG_HASH_MAP_BASED, 1, NULL, NULL);
	ck_assert_int_eq(atomic_load(&f.be.srvs[0].up), 1);
	srv_check_result(&f.be.srvs[0], 0, "test failure");
	ck_assert_int_eq(atomic_load(&f.be.srvs[0].up), 0);
	srv_check_result(&f.be.srvs[0], 1, "ok");
	ck_assert_int_eq(atomic_load(&f.be.srvs[0].up), 0);
	srv_check_result(&f.be.srvs[0], 1, "ok");
	ck_assert_int_eq(atomic_load(&f.be.srvs[0].up), 1);
	be_destroy(&f.be);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("backend");
	TCase *tc = tcase_create("select");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_hash_is_pinned);
	tcase_add_test(tc, test_source_stable_and_spread);
	tcase_add_test(tc, test_source_weights);
	tcase_add_test(tc, test_roundrobin_weights_exact);
	tcase_add_test(tc, test_weight_zero_gets_nothing);
	tcase_add_test(tc, test_down_server_skipped);
	tcase_add_test(tc, test_backup_only_when_no_active);
	tcase_add_test(tc, test_tried_skipped);
	tcase_add_test(tc, test_first_backup_unless_allbackups);
	tcase_add_test(tc, test_consistent_moves_only_lost_clients);
	tcase_add_test(tc, test_leastconn);
	tcase_add_test(tc, test_server_maxconn);
	tcase_add_test(tc, test_check_result_transitions);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
