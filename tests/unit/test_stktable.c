/* test_stktable.c - the stick table core (src/stktable.c) with a clock the
 * test drives: keys, tracking, counters and HAProxy's rates, expiry, the
 * size bound (eviction, fail-open), clear, show table's line, and threads
 * counting on shared entries. */
#include <config.h>

#include "stktable.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* ------------------------------------------------------------------ */
/* Helpers */

#define BIT(d) (1u << (d))

/* Every rate with a 10 s period (what the tests use unless they say). */
static const unsigned P10[STK_NDATA] = {
    [STK_CONN_RATE] = 10000,     [STK_SESS_RATE] = 10000,     [STK_HTTP_REQ_RATE] = 10000,
    [STK_HTTP_ERR_RATE] = 10000, [STK_BYTES_IN_RATE] = 10000,
};
static const unsigned ALL = BIT(STK_NDATA) - 1;

static struct stktable *table(enum stk_type type, unsigned size, unsigned expire, unsigned store)
{
	struct stktable *t = stk_new("fe", type, size, expire, store, P10);

	ck_assert_ptr_nonnull(t);
	return t;
}

static const struct sockaddr *sa(struct sockaddr_storage *ss, const char *ip)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return (const struct sockaddr *)ss;
}

/* The key of `ip` in t (through stk_key, the path a stream takes). */
static const uint8_t *key(const struct stktable *t, const char *ip)
{
	static uint8_t k[8][STK_KEY_LEN];
	static int next;
	struct sockaddr_storage ss;
	uint8_t *out = k[next++ % 8];

	ck_assert_msg(stk_key(t, sa(&ss, ip), out) == 1, "no key for %s", ip);
	return out;
}

static struct stksess *track(struct stktable *t, const char *ip, uint32_t now)
{
	struct stksess *e = stk_track(t, key(t, ip), now);

	ck_assert_msg(e != NULL, "%s not tracked", ip);
	return e;
}

static int64_t val(struct stktable *t, struct stksess *e, enum stk_data d, uint32_t now)
{
	return stk_value(t, e, d, now);
}

static int64_t lookup(struct stktable *t, const char *ip, enum stk_data d, uint32_t now)
{
	return stk_lookup_value(t, key(t, ip), d, now);
}

/* ------------------------------------------------------------------ */
/* Data types and keys */

START_TEST(data_kws)
{
	/* HAProxy 2.6's order: show table prints the data in it */
	static const char *const names[STK_NDATA] = {
	    "conn_cnt",      "conn_rate",    "conn_cur",      "sess_cnt",
	    "sess_rate",     "http_req_cnt", "http_req_rate", "http_err_cnt",
	    "http_err_rate", "bytes_in_cnt", "bytes_in_rate"};

	for (int d = 0; d < STK_NDATA; d++) {
		ck_assert_str_eq(stk_data_kw(d)->name, names[d]);
		ck_assert_int_eq(stk_data_kw(d)->is_rate, strstr(names[d], "_rate") != NULL);
		ck_assert_int_eq(stk_data_find(names[d], strlen(names[d])), d);
	}
	ck_assert_int_eq(stk_data_find("http_req_rate(10s)", 13), STK_HTTP_REQ_RATE);
	ck_assert_int_eq(stk_data_find("conn", 4), -1);
	ck_assert_int_eq(stk_data_find("gpc0", 4), -1);
	ck_assert_int_eq(stk_data_find("", 0), -1);
	ck_assert_ptr_null(stk_data_kw(STK_NDATA));
	ck_assert_str_eq(stk_type_name(STK_TYPE_IP), "ip");
	ck_assert_str_eq(stk_type_name(STK_TYPE_IPV6), "ipv6");
}
END_TEST

START_TEST(keys_ip)
{
	struct stktable *t = table(STK_TYPE_IP, 10, 0, BIT(STK_CONN_CUR));
	static const uint8_t want[STK_KEY_LEN] = {10, 0, 0, 1};
	struct sockaddr_storage ss;
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	uint8_t k[STK_KEY_LEN], k2[STK_KEY_LEN];
	char text[64];

	ck_assert_int_eq(stk_key(t, sa(&ss, "10.0.0.1"), k), 1);
	ck_assert_mem_eq(k, want, STK_KEY_LEN);
	memset(k2, 0xaa, sizeof(k2));
	ck_assert_int_eq(stk_key(t, sa(&ss, "::ffff:10.0.0.1"), k2), 1); /* v4-mapped: IPv4 */
	ck_assert_mem_eq(k2, want, STK_KEY_LEN);
	/* a real IPv6 address has no key in a type ip table (not tracked) */
	ck_assert_int_eq(stk_key(t, sa(&ss, "2001:db8::1"), k), 0);
	ck_assert_int_eq(stk_key(t, sa(&ss, "::1"), k), 0);
	ck_assert_int_eq(stk_key(t, (const struct sockaddr *)&un, k), 0);

	stk_key_format(t, want, text, sizeof(text));
	ck_assert_str_eq(text, "10.0.0.1");
	ck_assert_int_eq(stk_key_parse(t, "10.0.0.1", k), 1);
	ck_assert_mem_eq(k, want, STK_KEY_LEN);
	ck_assert_int_eq(stk_key_parse(t, "::ffff:10.0.0.1", k), 1);
	ck_assert_mem_eq(k, want, STK_KEY_LEN);
	ck_assert_int_eq(stk_key_parse(t, "2001:db8::1", k), 0);
	ck_assert_int_eq(stk_key_parse(t, "10.0.0", k), 0);
	ck_assert_int_eq(stk_key_parse(t, "", k), 0);
	ck_assert_int_eq(stk_key_parse(t, "host.example", k), 0);

	/* the two spellings are one entry */
	struct stksess *a = track(t, "10.0.0.1", 1000), *b = track(t, "::ffff:10.0.0.1", 1000);
	ck_assert_ptr_eq(a, b);
	ck_assert_int_eq(val(t, a, STK_CONN_CUR, 1000), 2);
	ck_assert_uint_eq(atomic_load(&t->used), 1);
	stk_release(t, a, 1000);
	stk_release(t, b, 1000);
	stk_free(t);
}
END_TEST

START_TEST(keys_ipv6)
{
	struct stktable *t = table(STK_TYPE_IPV6, 10, 0, BIT(STK_CONN_CUR) | BIT(STK_CONN_CNT));
	/* ::ffff:10.0.0.1 */
	static const uint8_t mapped[STK_KEY_LEN] = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1};
	struct sockaddr_storage ss;
	uint8_t k[STK_KEY_LEN], v6[STK_KEY_LEN];
	char text[64];

	ck_assert_int_eq(stk_key(t, sa(&ss, "10.0.0.1"), k), 1); /* stored as ::ffff:10.0.0.1 */
	ck_assert_mem_eq(k, mapped, STK_KEY_LEN);
	ck_assert_int_eq(stk_key(t, sa(&ss, "::ffff:10.0.0.1"), k), 1);
	ck_assert_mem_eq(k, mapped, STK_KEY_LEN);
	ck_assert_int_eq(stk_key(t, sa(&ss, "2001:db8::1"), k), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", v6), 1);
	ck_assert_mem_eq(k, v6, STK_KEY_LEN);

	stk_key_format(t, mapped, text, sizeof(text));
	ck_assert_str_eq(text, "::ffff:10.0.0.1");
	stk_key_format(t, v6, text, sizeof(text));
	ck_assert_str_eq(text, "2001:db8::1");
	ck_assert_int_eq(stk_key_parse(t, "10.0.0.1", k), 1);
	ck_assert_mem_eq(k, mapped, STK_KEY_LEN);
	ck_assert_int_eq(stk_key_parse(t, "2001:db8::1", k), 1);
	ck_assert_mem_eq(k, v6, STK_KEY_LEN);
	ck_assert_int_eq(stk_key_parse(t, "nope", k), 0);

	/* 10.0.0.1 and ::ffff:10.0.0.1 are one entry, 2001:db8::1 another */
	struct stksess *a = track(t, "10.0.0.1", 1000), *b = track(t, "::ffff:10.0.0.1", 1000);
	struct stksess *c = track(t, "2001:db8::1", 1000);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_ne(a, c);
	ck_assert_int_eq(val(t, a, STK_CONN_CUR, 1000), 2);
	ck_assert_int_eq(val(t, a, STK_CONN_CNT, 1000), 2);
	ck_assert_int_eq(val(t, c, STK_CONN_CUR, 1000), 1);
	ck_assert_uint_eq(atomic_load(&t->used), 2);
	ck_assert_int_eq(lookup(t, "::ffff:10.0.0.1", STK_CONN_CNT, 1000), 2);
	stk_release(t, a, 1000);
	stk_release(t, b, 1000);
	stk_release(t, c, 1000);
	stk_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Tracking and counting */

START_TEST(track_release)
{
	struct stktable *t = table(STK_TYPE_IP, 10, 30000, ALL);
	struct stksess *a = track(t, "10.0.0.1", 1000);

	ck_assert_int_eq(atomic_load(&a->refs), 1);
	ck_assert_int_eq(val(t, a, STK_CONN_CUR, 1000), 1);
	ck_assert_int_eq(val(t, a, STK_CONN_CNT, 1000), 1);
	ck_assert_int_eq(val(t, a, STK_CONN_RATE, 1000), 1);
	/* tracking counts a connection only: no session, no request */
	ck_assert_int_eq(val(t, a, STK_SESS_CNT, 1000), 0);
	ck_assert_int_eq(val(t, a, STK_HTTP_REQ_CNT, 1000), 0);
	ck_assert_int_eq(val(t, a, STK_BYTES_IN_CNT, 1000), 0);

	struct stksess *b = track(t, "10.0.0.1", 1500);
	ck_assert_ptr_eq(a, b);
	ck_assert_int_eq(atomic_load(&a->refs), 2);
	ck_assert_int_eq(val(t, a, STK_CONN_CUR, 1500), 2);
	ck_assert_int_eq(val(t, a, STK_CONN_CNT, 1500), 2);
	ck_assert_int_eq(val(t, a, STK_CONN_RATE, 1500), 2);

	struct stksess *o = track(t, "10.0.0.2", 1500);
	ck_assert_ptr_ne(a, o);
	ck_assert_uint_eq(atomic_load(&t->used), 2);

	stk_release(t, b, 2000);
	ck_assert_int_eq(val(t, a, STK_CONN_CUR, 2000), 1);
	ck_assert_int_eq(val(t, a, STK_CONN_CNT, 2000), 2); /* a count never goes down */
	stk_release(t, a, 2000);
	ck_assert_int_eq(atomic_load(&a->refs), 0);
	ck_assert_int_eq(lookup(t, "10.0.0.1", STK_CONN_CUR, 2000), 0);
	ck_assert_int_eq(lookup(t, "10.0.0.1", STK_CONN_CNT, 2000), 2);
	ck_assert_uint_eq(atomic_load(&t->used), 2); /* unused, not gone */

	/* tracked again before it expired: the same counters go on */
	a = track(t, "10.0.0.1", 3000);
	ck_assert_int_eq(val(t, a, STK_CONN_CUR, 3000), 1);
	ck_assert_int_eq(val(t, a, STK_CONN_CNT, 3000), 3);
	stk_release(t, a, 3000);
	stk_release(t, o, 3000);
	ck_assert_uint_eq(atomic_load(&t->untracked), 0);
	ck_assert_uint_eq(atomic_load(&t->evicted), 0);
	stk_free(t);
}
END_TEST

START_TEST(counting)
{
	struct stktable *t = table(STK_TYPE_IP, 10, 30000, ALL);
	struct stksess *e = track(t, "10.0.0.1", 1000);

	stk_count(t, e, STK_EV_SESS, 1, 1000);
	for (int i = 0; i < 7; i++)
		stk_count(t, e, STK_EV_HTTP_REQ, 1, 1100 + (uint32_t)i);
	stk_count(t, e, STK_EV_HTTP_ERR, 1, 1200);
	stk_count(t, e, STK_EV_HTTP_ERR, 2, 1300);
	stk_count(t, e, STK_EV_BYTES_IN, 100, 1400);
	stk_count(t, e, STK_EV_BYTES_IN, 1500, 1500);
	stk_count(t, e, STK_EV_BYTES_IN, 0, 1600);

	ck_assert_int_eq(val(t, e, STK_SESS_CNT, 2000), 1);
	ck_assert_int_eq(val(t, e, STK_SESS_RATE, 2000), 1);
	ck_assert_int_eq(val(t, e, STK_HTTP_REQ_CNT, 2000), 7);
	ck_assert_int_eq(val(t, e, STK_HTTP_REQ_RATE, 2000), 7);
	ck_assert_int_eq(val(t, e, STK_HTTP_ERR_CNT, 2000), 3);
	ck_assert_int_eq(val(t, e, STK_HTTP_ERR_RATE, 2000), 3);
	ck_assert_int_eq(val(t, e, STK_BYTES_IN_CNT, 2000), 1600);
	ck_assert_int_eq(val(t, e, STK_BYTES_IN_RATE, 2000), 1600);
	ck_assert_int_eq(val(t, e, STK_CONN_CNT, 2000), 1); /* untouched by the events */
	ck_assert_int_eq(val(t, e, STK_CONN_CUR, 2000), 1);
	/* the same through a lookup by key (src_* fetches) */
	ck_assert_int_eq(lookup(t, "10.0.0.1", STK_HTTP_REQ_CNT, 2000), 7);
	ck_assert_int_eq(lookup(t, "10.0.0.1", STK_BYTES_IN_RATE, 2000), 1600);
	stk_release(t, e, 2000);
	ck_assert_int_eq(lookup(t, "10.0.0.1", STK_HTTP_ERR_CNT, 2000), 3);
	stk_free(t);
}
END_TEST

START_TEST(not_stored)
{
	/* conn_cur and http_req_rate only */
	struct stktable *t =
	    table(STK_TYPE_IP, 10, 30000, BIT(STK_CONN_CUR) | BIT(STK_HTTP_REQ_RATE));
	struct stksess *e = track(t, "10.0.0.1", 1000);

	stk_count(t, e, STK_EV_HTTP_REQ, 3, 1000);
	stk_count(t, e, STK_EV_BYTES_IN, 10, 1000);
	stk_count(t, e, STK_EV_HTTP_ERR, 1, 1000);
	ck_assert_int_eq(val(t, e, STK_CONN_CUR, 1000), 1);
	ck_assert_int_eq(val(t, e, STK_HTTP_REQ_RATE, 1000), 3);
	for (int d = 0; d < STK_NDATA; d++) {
		if (d == STK_CONN_CUR || d == STK_HTTP_REQ_RATE)
			continue;
		ck_assert_msg(val(t, e, d, 1000) == -1, "%s: not stored, %lld",
		              stk_data_kw(d)->name, (long long)val(t, e, d, 1000));
		ck_assert_int_eq(lookup(t, "10.0.0.1", d, 1000), -1);
		ck_assert_int_eq(lookup(t, "10.9.9.9", d, 1000), -1); /* not stored wins */
	}
	/* a key without an entry: 0 (looked up, never created) */
	ck_assert_int_eq(lookup(t, "10.9.9.9", STK_CONN_CUR, 1000), 0);
	ck_assert_int_eq(lookup(t, "10.9.9.9", STK_HTTP_REQ_RATE, 1000), 0);
	ck_assert_uint_eq(atomic_load(&t->used), 1);
	stk_release(t, e, 1000);
	stk_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Rates: HAProxy's freq_ctr_period, anchored at the first event */

START_TEST(rates)
{
	struct stktable *t = table(STK_TYPE_IP, 10, 0, BIT(STK_HTTP_REQ_RATE) | BIT(STK_CONN_RATE));
	struct stksess *e = track(t, "10.0.0.1", 1000);
	const enum stk_data R = STK_HTTP_REQ_RATE;

	ck_assert_int_eq(val(t, e, R, 1000), 0);
	/* the first request anchors the period: [5000, 15000) */
	for (uint32_t i = 0; i < 5; i++)
		stk_count(t, e, STK_EV_HTTP_REQ, 1, 5000 + i * 2000);
	ck_assert_int_eq(val(t, e, R, 13000), 5);
	ck_assert_int_eq(val(t, e, R, 14999), 5);
	/* one period later: the estimate is prev * (what is left of the period) */
	ck_assert_int_eq(val(t, e, R, 15000), 5);
	ck_assert_int_eq(val(t, e, R, 17000), 4); /* 5 * 8000 / 10000 */
	ck_assert_int_eq(val(t, e, R, 20000), 2); /* 2.5, truncated */
	ck_assert_int_eq(val(t, e, R, 22999), 1); /* 5 * 2001 / 10000 */
	ck_assert_int_eq(val(t, e, R, 23000), 1);
	ck_assert_int_eq(val(t, e, R, 23001), 0); /* 5 * 1999 / 10000 */
	ck_assert_int_eq(val(t, e, R, 25000), 0); /* two periods: nothing */
	ck_assert_int_eq(val(t, e, R, 90000), 0);

	/* events in the second period add to the decaying first one */
	stk_count(t, e, STK_EV_HTTP_REQ, 3, 17000); /* rolls: prev 5, period [15000, 25000) */
	ck_assert_int_eq(val(t, e, R, 17000), 7);   /* 3 + 5 * 8000 / 10000 */
	ck_assert_int_eq(val(t, e, R, 20000), 5);   /* 3 + 2 */
	ck_assert_int_eq(val(t, e, R, 25000), 3);   /* the 3 are now prev, whole */
	ck_assert_int_eq(val(t, e, R, 30000), 1);   /* 3 * 5000 / 10000 */
	ck_assert_int_eq(val(t, e, R, 35000), 0);

	/* after a silence of two periods or more, the next event re-anchors */
	stk_count(t, e, STK_EV_HTTP_REQ, 2, 41234); /* not at 35000 + k * 10000 */
	ck_assert_int_eq(val(t, e, R, 41234), 2);
	ck_assert_int_eq(val(t, e, R, 51233), 2); /* still the first period */
	ck_assert_int_eq(val(t, e, R, 51234), 2); /* prev 2, all of it */
	ck_assert_int_eq(val(t, e, R, 56234), 1);
	ck_assert_int_eq(val(t, e, R, 61234), 0);

	/* a silence of one period and a half: the old count still decays in */
	stk_count(t, e, STK_EV_HTTP_REQ, 10, 70000); /* anchors [70000, 80000) */
	stk_count(t, e, STK_EV_HTTP_REQ, 1, 85000);  /* period [80000, 90000), prev 10 */
	ck_assert_int_eq(val(t, e, R, 85000), 6);    /* 1 + 10 * 5000 / 10000 */

	/* the connection rate counted at tracking time, anchored there */
	ck_assert_int_eq(val(t, e, STK_CONN_RATE, 1000), 1);
	ck_assert_int_eq(val(t, e, STK_CONN_RATE, 10999), 1);
	ck_assert_int_eq(val(t, e, STK_CONN_RATE, 16000), 0); /* 1 * 5000 / 10000 */
	stk_release(t, e, 90000);
	stk_free(t);
}
END_TEST

/* A period that goes over the 2^32 ms wrap of the caller's clock. */
/* A thread whose clock read is a little older than the period another
 * thread just rolled on must count in that period, not wipe the rate
 * (a flood crossing a period boundary on several workers). */
START_TEST(rates_stale_clock)
{
	struct stktable *t = table(STK_TYPE_IP, 10, 60000, BIT(STK_HTTP_REQ_RATE));
	struct stksess *e = track(t, "10.0.0.1", 1000);

	stk_count(t, e, STK_EV_HTTP_REQ, 300, 1000);
	stk_count(t, e, STK_EV_HTTP_REQ, 1, 11002); /* rolls: start 11000, prev 300 */
	stk_count(t, e, STK_EV_HTTP_REQ, 1, 10999); /* read before the roll */
	ck_assert_int_ge(stk_value(t, e, STK_HTTP_REQ_RATE, 10999), 300);
	ck_assert_int_ge(stk_value(t, e, STK_HTTP_REQ_RATE, 11002), 300);
	stk_release(t, e, 11002);
	stk_free(t);
}
END_TEST

START_TEST(rates_wrap)
{
	struct stktable *t = table(STK_TYPE_IP, 10, 0, BIT(STK_HTTP_REQ_RATE));
	const uint32_t t0 = 0xffffffffu - 3000;
	struct stksess *e = track(t, "10.0.0.1", t0);

	stk_count(t, e, STK_EV_HTTP_REQ, 4, t0);
	stk_count(t, e, STK_EV_HTTP_REQ, 4, t0 + 5000); /* wrapped: 1999 */
	ck_assert_int_eq(val(t, e, STK_HTTP_REQ_RATE, t0 + 9999), 8);
	ck_assert_int_eq(val(t, e, STK_HTTP_REQ_RATE, t0 + 15000), 4);
	ck_assert_int_eq(val(t, e, STK_HTTP_REQ_RATE, t0 + 20000), 0);
	/* a period anchored at a tick of exactly 0, with and without events */
	struct stksess *z = track(t, "10.0.0.2", 0);
	stk_count(t, z, STK_EV_HTTP_REQ, 1, 0);
	stk_count(t, z, STK_EV_HTTP_REQ, 1, 5000);
	ck_assert_int_eq(val(t, z, STK_HTTP_REQ_RATE, 5000), 2);
	ck_assert_int_eq(val(t, z, STK_HTTP_REQ_RATE, 15000), 1);
	struct stksess *y = track(t, "10.0.0.3", 0);
	stk_count(t, y, STK_EV_HTTP_REQ, 0, 0); /* bytes_in can count 0 */
	ck_assert_int_eq(val(t, y, STK_HTTP_REQ_RATE, 10), 0);
	stk_count(t, y, STK_EV_HTTP_REQ, 1, 20);
	ck_assert_int_eq(val(t, y, STK_HTTP_REQ_RATE, 20), 1);
	stk_release(t, z, 100);
	stk_release(t, y, 100);
	stk_release(t, e, 100);
	stk_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Expiry */

START_TEST(expiry)
{
	struct stktable *t = table(STK_TYPE_IP, 10, 5000, ALL);
	struct stksess *a = track(t, "10.0.0.1", 1000), *b = track(t, "10.0.0.2", 1000);

	stk_count(t, a, STK_EV_HTTP_REQ, 4, 1000);
	/* in use: never expires, however late */
	ck_assert_uint_eq(stk_purge(t, 1000000), 0);
	ck_assert_int_eq(lookup(t, "10.0.0.1", STK_HTTP_REQ_CNT, 1000000), 4);
	ck_assert_uint_eq(atomic_load(&t->used), 2);

	/* unused: expires `expire` after it was released */
	stk_release(t, a, 2000);
	ck_assert_uint_eq(stk_purge(t, 6999), 0);
	ck_assert_int_eq(lookup(t, "10.0.0.1", STK_HTTP_REQ_CNT, 6999), 4);
	/* past it: no value any more, even before the purge took it */
	ck_assert_int_eq(lookup(t, "10.0.0.1", STK_HTTP_REQ_CNT, 7000), 0);
	ck_assert_uint_eq(stk_purge(t, 7000), 1);
	ck_assert_uint_eq(atomic_load(&t->used), 1);
	ck_assert_uint_eq(atomic_load(&t->expired), 1);
	ck_assert_int_eq(lookup(t, "10.0.0.1", STK_CONN_CNT, 7000), 0);
	ck_assert_uint_eq(stk_purge(t, 100000), 0); /* b is still in use */

	/* expired but not purged yet, then tracked again: a fresh entry */
	stk_release(t, b, 8000);
	b = track(t, "10.0.0.2", 14000);
	ck_assert_int_eq(val(t, b, STK_CONN_CNT, 14000), 1);
	ck_assert_int_eq(val(t, b, STK_CONN_CUR, 14000), 1);
	ck_assert_int_eq(val(t, b, STK_CONN_RATE, 14000), 1);
	ck_assert_uint_eq(atomic_load(&t->used), 1);
	ck_assert_uint_eq(stk_purge(t, 100000), 0);

	/* a re-use restarts the clock: released at 20000, alive until 25000 */
	stk_release(t, b, 20000);
	b = track(t, "10.0.0.2", 22000);
	stk_release(t, b, 23000);
	ck_assert_uint_eq(stk_purge(t, 27999), 0);
	ck_assert_uint_eq(stk_purge(t, 28000), 1);
	ck_assert_uint_eq(atomic_load(&t->used), 0);
	stk_free(t);
}
END_TEST

START_TEST(no_expire)
{
	struct stktable *t = table(STK_TYPE_IP, 10, 0, BIT(STK_CONN_CNT));
	struct stksess *e = track(t, "10.0.0.1", 1000);

	stk_release(t, e, 1000);
	ck_assert_uint_eq(stk_purge(t, 0x7fffffffu), 0);
	ck_assert_int_eq(lookup(t, "10.0.0.1", STK_CONN_CNT, 0x7fffffffu), 1);
	stk_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The size bound */

/* The shard each of 10.0.n.m lands in, in tables seeded with `seed`. */
static unsigned shard_of(uint64_t seed, const char *ip)
{
	struct stktable *t = table(STK_TYPE_IP, 4096, 0, BIT(STK_CONN_CUR));
	struct stksess *e;
	unsigned s;

	t->seed = seed;
	e = track(t, ip, 0);
	s = e->shard;
	stk_release(t, e, 0);
	stk_free(t);
	return s;
}

/* n addresses 10.1.x.y (in `ips`) that share one shard with the first. */
static void same_shard(uint64_t seed, char ips[][32], int n)
{
	int found = 0;
	unsigned want = 0;

	for (int i = 1; i < 65000 && found < n; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 250, i % 250 + 1);
		unsigned s = shard_of(seed, ip);
		if (found == 0)
			want = s;
		if (s == want)
			snprintf(ips[found++], 32, "%s", ip);
	}
	ck_assert_int_eq(found, n);
}

START_TEST(size_full_in_use)
{
	struct stktable *t = table(STK_TYPE_IP, 8, 30000, BIT(STK_CONN_CUR) | BIT(STK_CONN_CNT));
	struct stksess *e[8];
	char ip[32];

	for (int i = 0; i < 8; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		e[i] = track(t, ip, 1000);
	}
	ck_assert_uint_eq(atomic_load(&t->used), 8);
	/* every entry is in use: a new source is not tracked (fail-open) */
	ck_assert_ptr_null(stk_track(t, key(t, "10.0.0.100"), 1000));
	ck_assert_ptr_null(stk_track(t, key(t, "10.0.0.101"), 1000));
	ck_assert_uint_eq(atomic_load(&t->untracked), 2);
	ck_assert_uint_eq(atomic_load(&t->evicted), 0);
	ck_assert_uint_eq(atomic_load(&t->used), 8);
	ck_assert_int_eq(lookup(t, "10.0.0.100", STK_CONN_CNT, 1000), 0);
	/* a known source still is */
	struct stksess *again = track(t, "10.0.0.3", 1000);
	ck_assert_ptr_eq(again, e[2]);
	ck_assert_int_eq(val(t, again, STK_CONN_CUR, 1000), 2);
	stk_release(t, again, 1000);

	/* some released: new sources take their places, one each */
	stk_release(t, e[1], 2000);
	stk_release(t, e[5], 2100);
	stk_release(t, e[6], 2200);
	for (int i = 0; i < 3; i++) {
		snprintf(ip, sizeof(ip), "10.0.1.%d", i + 1);
		struct stksess *n = track(t, ip, 3000);
		ck_assert_uint_le(atomic_load(&t->used), 8);
		ck_assert_int_eq(val(t, n, STK_CONN_CNT, 3000), 1);
	}
	ck_assert_uint_eq(atomic_load(&t->evicted), 3);
	ck_assert_uint_eq(atomic_load(&t->used), 8);
	ck_assert_int_eq(lookup(t, "10.0.0.2", STK_CONN_CNT, 3000), 0);
	ck_assert_int_eq(lookup(t, "10.0.0.6", STK_CONN_CNT, 3000), 0);
	ck_assert_int_eq(lookup(t, "10.0.0.7", STK_CONN_CNT, 3000), 0);
	/* the ones in use were not touched */
	for (int i = 0; i < 8; i++) {
		if (i == 1 || i == 5 || i == 6)
			continue;
		ck_assert_int_eq(atomic_load(&e[i]->refs), 1);
		ck_assert_int_eq(val(t, e[i], STK_CONN_CUR, 3000), 1);
		ck_assert_int_eq(val(t, e[i], STK_CONN_CNT, 3000),
		                 i == 2 ? 2 : 1); /* 3: tracked twice */
	}
	/* full of entries in use again */
	ck_assert_ptr_null(stk_track(t, key(t, "10.0.0.200"), 3000));
	ck_assert_uint_eq(atomic_load(&t->untracked), 3);
	stk_free(t); /* entries still held: freed with the table */
}
END_TEST

/* The oldest unused entry goes first (among the entries of a shard: the
 * table is sharded, see stktable.h; the keys here share one). */
START_TEST(size_evicts_oldest)
{
	const uint64_t seed = 0x1234567887654321ULL;
	char ips[7][32];
	struct stktable *t;
	struct stksess *e[4];

	same_shard(seed, ips, 7);
	t = table(STK_TYPE_IP, 4, 30000, BIT(STK_CONN_CNT));
	t->seed = seed;
	for (int i = 0; i < 4; i++)
		e[i] = track(t, ips[i], 1000);
	ck_assert_ptr_null(stk_track(t, key(t, ips[4]), 1000));
	ck_assert_uint_eq(atomic_load(&t->untracked), 1);
	/* released in the order 2, 0, 3: 2 is the oldest */
	stk_release(t, e[2], 2000);
	stk_release(t, e[0], 2100);
	stk_release(t, e[3], 2200);
	/* re-tracking 0 and releasing it again makes it the youngest */
	e[0] = track(t, ips[0], 2300);
	stk_release(t, e[0], 2400);

	track(t, ips[4], 3000); /* evicts 2 */
	ck_assert_int_eq(lookup(t, ips[2], STK_CONN_CNT, 3000), 0);
	ck_assert_int_eq(lookup(t, ips[3], STK_CONN_CNT, 3000), 1);
	ck_assert_int_eq(lookup(t, ips[0], STK_CONN_CNT, 3000), 2);
	track(t, ips[5], 3000); /* evicts 3 */
	ck_assert_int_eq(lookup(t, ips[3], STK_CONN_CNT, 3000), 0);
	ck_assert_int_eq(lookup(t, ips[0], STK_CONN_CNT, 3000), 2);
	track(t, ips[6], 3000); /* evicts 0 */
	ck_assert_int_eq(lookup(t, ips[0], STK_CONN_CNT, 3000), 0);
	ck_assert_int_eq(lookup(t, ips[1], STK_CONN_CNT, 3000), 1); /* in use all along */
	ck_assert_uint_eq(atomic_load(&t->evicted), 3);
	ck_assert_uint_eq(atomic_load(&t->used), 4);
	/* an evicted source comes back as a new entry, if there is room */
	ck_assert_ptr_null(stk_track(t, key(t, ips[2]), 3000));
	stk_free(t);
}
END_TEST

/* Sources passing through one at a time, many more than `size`: the
 * table never holds more than size, whatever the shards. */
START_TEST(size_churn)
{
	struct stktable *t = table(STK_TYPE_IP, 10, 30000, BIT(STK_CONN_CNT));
	char ip[32];

	for (int i = 0; i < 500; i++) {
		snprintf(ip, sizeof(ip), "10.2.%d.%d", i / 200, i % 200 + 1);
		struct stksess *e = track(t, ip, 1000 + (uint32_t)i);
		ck_assert_uint_le(atomic_load(&t->used), 10);
		stk_release(t, e, 1000 + (uint32_t)i);
	}
	ck_assert_uint_eq(atomic_load(&t->used), 10);
	ck_assert_uint_eq(atomic_load(&t->evicted), 490);
	ck_assert_uint_eq(atomic_load(&t->untracked), 0);
	/* the last source is always there */
	ck_assert_int_eq(lookup(t, ip, STK_CONN_CNT, 2000), 1);
	stk_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* clear table */

START_TEST(clear)
{
	struct stktable *t = table(STK_TYPE_IP, 10, 30000, BIT(STK_CONN_CUR) | BIT(STK_CONN_CNT));
	struct stksess *a = track(t, "10.0.0.1", 1000), *b = track(t, "10.0.0.2", 1000);
	struct stksess *c = track(t, "10.0.0.3", 1000), *d = track(t, "10.0.0.4", 1000);

	stk_release(t, b, 1000);
	stk_release(t, c, 1000);
	stk_release(t, d, 1000);
	ck_assert_uint_eq(atomic_load(&t->used), 4);

	/* one key: only that one, and only when unused */
	ck_assert_uint_eq(stk_clear(t, key(t, "10.0.0.2"), 2000), 1);
	ck_assert_uint_eq(stk_clear(t, key(t, "10.0.0.2"), 2000), 0);
	ck_assert_uint_eq(stk_clear(t, key(t, "10.0.0.1"), 2000), 0); /* in use: stays */
	ck_assert_uint_eq(stk_clear(t, key(t, "10.9.9.9"), 2000), 0);
	ck_assert_uint_eq(atomic_load(&t->used), 3);
	ck_assert_int_eq(lookup(t, "10.0.0.2", STK_CONN_CNT, 2000), 0);
	ck_assert_int_eq(lookup(t, "10.0.0.3", STK_CONN_CNT, 2000), 1);

	/* all: the unused ones go, the one in use stays with its counters */
	ck_assert_uint_eq(stk_clear(t, NULL, 2000), 2);
	ck_assert_uint_eq(atomic_load(&t->used), 1);
	ck_assert_int_eq(lookup(t, "10.0.0.1", STK_CONN_CUR, 2000), 1);
	ck_assert_int_eq(val(t, a, STK_CONN_CNT, 2000), 1);
	stk_release(t, a, 3000);
	ck_assert_uint_eq(stk_clear(t, NULL, 3000), 1);
	ck_assert_uint_eq(atomic_load(&t->used), 0);
	/* the table is usable afterwards */
	a = track(t, "10.0.0.1", 4000);
	ck_assert_int_eq(val(t, a, STK_CONN_CNT, 4000), 1);
	stk_release(t, a, 4000);
	stk_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* show table's entry line (HAProxy 2.6: table_dump_entry_to_buffer) */

static const char *fmt(struct stktable *t, struct stksess *e, uint32_t now)
{
	static char buf[1024];
	int n = stk_format_entry(t, e, now, buf, sizeof(buf));

	ck_assert_int_eq(n, (int)strlen(buf));
	return buf;
}

static const char *expect_line(const char *tail, const struct stksess *e)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%p: %s", (const void *)e, tail);
	return buf;
}

START_TEST(format_entry)
{
	struct stktable *t =
	    table(STK_TYPE_IP, 10, 30000, BIT(STK_CONN_CUR) | BIT(STK_HTTP_REQ_RATE));
	struct stksess *e = track(t, "10.0.0.1", 1000);

	stk_count(t, e, STK_EV_HTTP_REQ, 5, 1000);
	ck_assert_str_eq(
	    fmt(t, e, 1000),
	    expect_line("key=10.0.0.1 use=1 exp=30000 conn_cur=1 http_req_rate(10000)=5", e));
	stk_release(t, e, 2000);
	/* unused: what is left of its expiry */
	ck_assert_str_eq(
	    fmt(t, e, 6000),
	    expect_line("key=10.0.0.1 use=0 exp=26000 conn_cur=0 http_req_rate(10000)=5", e));
	ck_assert_str_eq(
	    fmt(t, e, 32000),
	    expect_line("key=10.0.0.1 use=0 exp=0 conn_cur=0 http_req_rate(10000)=0", e));
	stk_free(t);

	/* every data type, in HAProxy's order; an IPv6 table's key */
	t = stk_new("be", STK_TYPE_IPV6, 10, 60000, ALL,
	            (const unsigned[STK_NDATA]){[STK_CONN_RATE] = 1000,
	                                        [STK_SESS_RATE] = 2000,
	                                        [STK_HTTP_REQ_RATE] = 3000,
	                                        [STK_HTTP_ERR_RATE] = 4000,
	                                        [STK_BYTES_IN_RATE] = 60000});
	e = track(t, "10.0.0.1", 500);
	stk_count(t, e, STK_EV_SESS, 1, 500);
	stk_count(t, e, STK_EV_HTTP_REQ, 2, 500);
	stk_count(t, e, STK_EV_HTTP_ERR, 1, 500);
	stk_count(t, e, STK_EV_BYTES_IN, 77, 500);
	ck_assert_str_eq(
	    fmt(t, e, 500),
	    expect_line("key=::ffff:10.0.0.1 use=1 exp=60000 conn_cnt=1 conn_rate(1000)=1 "
	                "conn_cur=1 sess_cnt=1 sess_rate(2000)=1 http_req_cnt=2 "
	                "http_req_rate(3000)=2 http_err_cnt=1 http_err_rate(4000)=1 "
	                "bytes_in_cnt=77 bytes_in_rate(60000)=77",
	                e));
	/* a buffer too small: truncated, never overrun, the length it needed */
	char small[40];
	int n = stk_format_entry(t, e, 500, small, sizeof(small));
	ck_assert_int_ge(n, (int)sizeof(small));
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	stk_release(t, e, 500);
	stk_free(t);
}
END_TEST

/* HAProxy sets an entry's expiry when it is tracked (stream_track_stkctr:
 * ts->expire = now + expire) and at each touch; show table prints what
 * is left of it for an entry in use too (`exp=29000` a second after the
 * track, as stktable.h's own example shows), not the whole `expire`. */
START_TEST(format_exp_in_use)
{
	struct stktable *t = table(STK_TYPE_IP, 10, 30000, BIT(STK_CONN_CUR));
	struct stksess *e = track(t, "10.0.0.1", 1000);

	ck_assert_str_eq(fmt(t, e, 2000),
	                 expect_line("key=10.0.0.1 use=1 exp=29000 conn_cur=1", e));
	stk_release(t, e, 2000);
	stk_free(t);
}
END_TEST

/* The walk: every live entry once; one key; expired unused ones skipped. */
struct walk_acc {
	int n;
	unsigned keys; /* bit i: 10.0.0.i seen */
};

static int walk_count(void *arg, const struct stktable *t, const struct stk_view *v)
{
	struct walk_acc *a = arg;

	(void)t;
	a->n++;
	a->keys |= 1u << v->key[3];
	return 0;
}

static int walk_stop(void *arg, const struct stktable *t, const struct stk_view *v)
{
	(void)t;
	(void)v;
	return ++*(int *)arg == 2 ? 7 : 0;
}

START_TEST(walk)
{
	struct stktable *t = table(STK_TYPE_IP, 100, 5000, BIT(STK_CONN_CUR));
	struct stksess *e[6];
	struct walk_acc acc = {0};
	char ip[32];
	int stops = 0;

	for (int i = 1; i <= 5; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i);
		e[i] = track(t, ip, 1000);
	}
	stk_release(t, e[2], 1000); /* expires at 6000 */
	stk_release(t, e[3], 3000); /* at 8000 */
	ck_assert_int_eq(stk_walk(t, NULL, 7000, walk_count, &acc), 0);
	ck_assert_int_eq(acc.n, 4);
	ck_assert_uint_eq(acc.keys, (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5));
	memset(&acc, 0, sizeof(acc));
	ck_assert_int_eq(stk_walk(t, key(t, "10.0.0.4"), 7000, walk_count, &acc), 0);
	ck_assert_int_eq(acc.n, 1);
	ck_assert_uint_eq(acc.keys, 1u << 4);
	memset(&acc, 0, sizeof(acc));
	ck_assert_int_eq(stk_walk(t, key(t, "10.0.0.2"), 7000, walk_count, &acc), 0);
	ck_assert_int_eq(acc.n, 0);
	ck_assert_int_eq(stk_walk(t, NULL, 7000, walk_stop, &stops), 7);
	ck_assert_int_eq(stops, 2);
	for (int i = 1; i <= 5; i++)
		if (i != 2 && i != 3)
			stk_release(t, e[i], 7000);
	stk_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Threads: track, count and release on shared entries, with no lock but
 * the table's; every count adds up, conn_cur comes back to 0. */

#define MT_THREADS 4
#define MT_ROUNDS 20000
#define MT_KEYS 37

struct mt_arg {
	struct stktable *t;
	int id;
	uint64_t reqs, bytes, tracked;
};

static void *mt_worker(void *p)
{
	struct mt_arg *a = p;
	uint8_t k[STK_KEY_LEN];
	struct stksess *held[3] = {0};

	for (int i = 0; i < MT_ROUNDS; i++) {
		int n = (i * 7 + a->id * 13) % MT_KEYS;
		memset(k, 0, sizeof(k));
		k[0] = 10;
		k[2] = (uint8_t)(n >> 8);
		k[3] = (uint8_t)n;
		struct stksess *e = stk_track(a->t, k, 1000);
		ck_assert_ptr_nonnull(e);
		a->tracked++;
		stk_count(a->t, e, STK_EV_HTTP_REQ, 1, 1000);
		stk_count(a->t, e, STK_EV_BYTES_IN, (uint64_t)(i % 5), 1000);
		a->reqs++;
		a->bytes += (uint64_t)(i % 5);
		(void)stk_lookup_value(a->t, k, STK_CONN_CUR, 1000);
		/* hold up to three entries a while: refs cross 0 <-> 1 in
		 * every order */
		int slot = i % 3;
		if (held[slot])
			stk_release(a->t, held[slot], 1000);
		held[slot] = e;
		if (i % 1000 == 0)
			(void)stk_purge(a->t, 1000);
	}
	for (int s = 0; s < 3; s++)
		if (held[s])
			stk_release(a->t, held[s], 1000);
	return NULL;
}

struct mt_sum {
	int n;
	uint64_t conn_cnt, req_cnt, req_rate, bytes;
	int64_t conn_cur;
	int bad_use;
};

static int mt_sum_fn(void *arg, const struct stktable *t, const struct stk_view *v)
{
	struct mt_sum *s = arg;
	char line[512];

	s->n++;
	s->conn_cnt += (uint64_t)v->v[STK_CONN_CNT];
	s->req_cnt += (uint64_t)v->v[STK_HTTP_REQ_CNT];
	s->req_rate += (uint64_t)v->v[STK_HTTP_REQ_RATE];
	s->bytes += (uint64_t)v->v[STK_BYTES_IN_CNT];
	s->conn_cur += v->v[STK_CONN_CUR];
	s->bad_use += v->refs != 0;
	stk_format_view(t, v, line, sizeof(line));
	return 0;
}

static void *mt_reader(void *p)
{
	struct stktable *t = p;

	for (int i = 0; i < 200; i++) {
		struct mt_sum s = {0};
		stk_walk(t, NULL, 1000, mt_sum_fn, &s);
		ck_assert_uint_le(atomic_load(&t->used), t->size);
	}
	return NULL;
}

START_TEST(threads)
{
	struct stktable *t = stk_new("mt", STK_TYPE_IP, 1000, 60000,
	                             BIT(STK_CONN_CNT) | BIT(STK_CONN_CUR) | BIT(STK_HTTP_REQ_CNT) |
	                                 BIT(STK_HTTP_REQ_RATE) | BIT(STK_BYTES_IN_CNT),
	                             P10);
	struct mt_arg args[MT_THREADS];
	pthread_t th[MT_THREADS], reader;
	struct mt_sum sum = {0};
	uint64_t reqs = 0, bytes = 0, tracked = 0;

	ck_assert_int_eq(pthread_create(&reader, NULL, mt_reader, t), 0);
	for (int i = 0; i < MT_THREADS; i++) {
		args[i] = (struct mt_arg){.t = t, .id = i};
		ck_assert_int_eq(pthread_create(&th[i], NULL, mt_worker, &args[i]), 0);
	}
	for (int i = 0; i < MT_THREADS; i++) {
		pthread_join(th[i], NULL);
		reqs += args[i].reqs;
		bytes += args[i].bytes;
		tracked += args[i].tracked;
	}
	pthread_join(reader, NULL);

	stk_walk(t, NULL, 1000, mt_sum_fn, &sum);
	ck_assert_int_eq(sum.n, MT_KEYS);
	ck_assert_uint_eq(atomic_load(&t->used), MT_KEYS);
	ck_assert_int_eq(sum.conn_cur, 0);
	ck_assert_int_eq(sum.bad_use, 0);
	ck_assert_uint_eq(sum.conn_cnt, tracked);
	ck_assert_uint_eq(sum.conn_cnt, (uint64_t)MT_THREADS * MT_ROUNDS);
	ck_assert_uint_eq(sum.req_cnt, reqs);
	ck_assert_uint_eq(sum.req_rate, reqs); /* one period: the rate is the count */
	ck_assert_uint_eq(sum.bytes, bytes);
	ck_assert_uint_eq(atomic_load(&t->evicted), 0);
	ck_assert_uint_eq(atomic_load(&t->untracked), 0);
	stk_free(t);
}
END_TEST

/* Threads on a table far smaller than the sources: the bound holds while
 * they evict each other's entries, and nothing held is ever lost. */
#define MT_SMALL 8

static void *mt_churn(void *p)
{
	struct mt_arg *a = p;
	uint8_t k[STK_KEY_LEN];

	for (int i = 0; i < MT_ROUNDS / 4; i++) {
		int n = a->id * 100000 + i;
		memset(k, 0, sizeof(k));
		k[0] = 10;
		k[1] = (uint8_t)(n >> 16);
		k[2] = (uint8_t)(n >> 8);
		k[3] = (uint8_t)n;
		struct stksess *e = stk_track(a->t, k, (uint32_t)i);
		ck_assert_uint_le(atomic_load(&a->t->used), MT_SMALL);
		if (!e) {
			a->bytes++; /* untracked: every entry was in use */
			continue;
		}
		a->tracked++;
		stk_count(a->t, e, STK_EV_HTTP_REQ, 1, (uint32_t)i);
		ck_assert_int_ge(stk_value(a->t, e, STK_CONN_CUR, (uint32_t)i), 1);
		stk_release(a->t, e, (uint32_t)i);
	}
	return NULL;
}

START_TEST(threads_small_table)
{
	struct stktable *t = table(STK_TYPE_IP, MT_SMALL, 60000,
	                           BIT(STK_CONN_CUR) | BIT(STK_CONN_CNT) | BIT(STK_HTTP_REQ_CNT));
	struct mt_arg args[MT_THREADS];
	pthread_t th[MT_THREADS];
	struct mt_sum sum = {0};
	uint64_t tracked = 0, untracked = 0;

	for (int i = 0; i < MT_THREADS; i++) {
		args[i] = (struct mt_arg){.t = t, .id = i};
		ck_assert_int_eq(pthread_create(&th[i], NULL, mt_churn, &args[i]), 0);
	}
	for (int i = 0; i < MT_THREADS; i++) {
		pthread_join(th[i], NULL);
		tracked += args[i].tracked;
		untracked += args[i].bytes;
	}
	ck_assert_uint_eq(tracked + untracked, (uint64_t)MT_THREADS * (MT_ROUNDS / 4));
	ck_assert_uint_eq(atomic_load(&t->untracked), untracked);
	ck_assert_uint_le(untracked, tracked / 10); /* 4 held at most, in a table of 8 */
	ck_assert_uint_eq(atomic_load(&t->used), MT_SMALL);
	ck_assert_uint_eq(atomic_load(&t->evicted), tracked - MT_SMALL);
	stk_walk(t, NULL, 0, mt_sum_fn, &sum);
	ck_assert_int_eq(sum.n, MT_SMALL);
	ck_assert_int_eq(sum.conn_cur, 0);
	ck_assert_int_eq(sum.bad_use, 0);
	stk_free(t);
}
END_TEST

static Suite *stktable_suite(void)
{
	Suite *s = suite_create("stktable");
	TCase *tc = tcase_create("table");
	TCase *mt = tcase_create("threads");

	tcase_add_test(tc, data_kws);
	tcase_add_test(tc, keys_ip);
	tcase_add_test(tc, keys_ipv6);
	tcase_add_test(tc, track_release);
	tcase_add_test(tc, counting);
	tcase_add_test(tc, not_stored);
	tcase_add_test(tc, rates);
	tcase_add_test(tc, rates_stale_clock);
	tcase_add_test(tc, rates_wrap);
	tcase_add_test(tc, expiry);
	tcase_add_test(tc, no_expire);
	tcase_add_test(tc, size_full_in_use);
	tcase_add_test(tc, size_evicts_oldest);
	tcase_add_test(tc, size_churn);
	tcase_add_test(tc, clear);
	tcase_add_test(tc, format_entry);
	tcase_add_test(tc, format_exp_in_use);
	tcase_add_test(tc, walk);
	tcase_set_timeout(tc, 30); /* same_shard builds tables by the hundred under ASan */
	suite_add_tcase(s, tc);
	tcase_add_test(mt, threads);
	tcase_add_test(mt, threads_small_table);
	tcase_set_timeout(mt, 60);
	suite_add_tcase(s, mt);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stktable_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
