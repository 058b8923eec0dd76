/* test_probe.c - the PROXY-acceptance probe (src/probe.c): its pure
 * verdicts, and real probes on loopback against a tiny threaded server
 * that behaves as HAProxy does with and without `accept-proxy`. */
#include <config.h>

#include "probe.h"

#include <check.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

START_TEST(test_vote_table)
{
	/* plain, proxied -> vote */
	ck_assert_int_eq(probe_vote(PROBE_OK, PROBE_REFUSED), PROBE_VOTE_PLAIN);
	ck_assert_int_eq(probe_vote(PROBE_REFUSED, PROBE_OK), PROBE_VOTE_PROXY);
	ck_assert_int_eq(probe_vote(PROBE_OK, PROBE_OK), PROBE_VOTE_PROXY);
	ck_assert_int_eq(probe_vote(PROBE_REFUSED, PROBE_REFUSED), PROBE_VOTE_NONE);
	ck_assert_int_eq(probe_vote(PROBE_UNREACHABLE, PROBE_UNREACHABLE), PROBE_VOTE_NONE);
	/* the PROXY probe never reached the server: nothing proves a refusal */
	ck_assert_int_eq(probe_vote(PROBE_OK, PROBE_UNREACHABLE), PROBE_VOTE_NONE);
	ck_assert_int_eq(probe_vote(PROBE_UNREACHABLE, PROBE_OK), PROBE_VOTE_PROXY);
}
END_TEST

START_TEST(test_http_answer)
{
	ck_assert_int_eq(probe_http_answer("HTTP/1.1 200 OK\r\n", 17), 1);
	ck_assert_int_eq(probe_http_answer("HTTP/1.0 503 Service\r\n", 22), 1);
	ck_assert_int_eq(probe_http_answer("HTTP/1.1 400 Bad request\r\n", 26), -1);
	ck_assert_int_eq(probe_http_answer("HTTP/1.1 20", 11), 0);
	ck_assert_int_eq(probe_http_answer("SSH-2.0-OpenSSH\r\n", 17), -1);
	ck_assert_int_eq(probe_http_answer("", 0), 0);
}
END_TEST

/* ---- a loopback server: "proxy" wants a header first, "plain" answers
 * 400 to one; "mute" accepts and closes at once ---- */

enum srv_kind { SRV_PLAIN, SRV_PROXY, SRV_MUTE };

struct tsrv {
	int fd;
	enum srv_kind kind;
	int conns; /* to serve, then exit */
	pthread_t th;
};

static int starts_with_proxy(const char *buf, size_t len)
{
	static const char v2[] = "\r\n\r\n\0\r\nQUIT\n";

	return (len >= 6 && memcmp(buf, "PROXY ", 6) == 0) ||
	       (len >= 12 && memcmp(buf, v2, 12) == 0);
}

static void *serve(void *arg)
{
	struct tsrv *t = arg;

	for (int i = 0; i < t->conns; i++) {
		char buf[1024];
		ssize_t n;
		int c = accept(t->fd, NULL, NULL);
		if (c < 0)
			break;
		n = t->kind == SRV_MUTE ? 0 : recv(c, buf, sizeof(buf), 0);
		if (n > 0) {
			int pp = starts_with_proxy(buf, (size_t)n);
			const char *ans = NULL;
			if (t->kind == SRV_PLAIN)
				ans = pp ? "HTTP/1.1 400 Bad request\r\n\r\n" : "HTTP/1.1 200 OK\r\n\r\n";
			else if (pp)
				ans = "HTTP/1.1 503 Service Unavailable\r\n\r\n";
			/* SRV_PROXY without a header: close, as HAProxy */
			if (ans)
				(void)!send(c, ans, strlen(ans), MSG_NOSIGNAL);
		}
		close(c);
	}
	return NULL;
}

static void tsrv_start(struct tsrv *t, enum srv_kind kind, int conns, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(t->fd, 0);
	ck_assert_int_eq(bind(t->fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	ck_assert_int_eq(listen(t->fd, 8), 0);
	ck_assert_int_eq(getsockname(t->fd, (struct sockaddr *)sin, &len), 0);
	t->kind = kind;
	t->conns = conns;
	ck_assert_int_eq(pthread_create(&t->th, NULL, serve, t), 0);
}

static void tsrv_stop(struct tsrv *t)
{
	pthread_join(t->th, NULL);
	close(t->fd);
}

struct outcome {
	int done;
	enum probe_result r;
	char why[160];
};

static void on_done(void *arg, enum probe_result r, const char *why)
{
	struct outcome *o = arg;

	o->done = 1;
	o->r = r;
	snprintf(o->why, sizeof(o->why), "%s", why);
}

/* Probe with PROXY version `pp` (0 none); returns the outcome. */
static struct outcome run_probe(const struct sockaddr_in *sin, int pp)
{
	struct event_base *base = event_base_new();
	struct probe_spec spec = {.pp_version = pp, .kind = PROBE_HTTP, .timeout_ms = 2000};
	struct outcome o = {0};

	memcpy(&spec.addr, sin, sizeof(*sin));
	spec.addrlen = sizeof(*sin);
	ck_assert_ptr_nonnull(probe_start(base, NULL, &spec, on_done, &o));
	ck_assert_int_eq(o.done, 0); /* never reported from inside probe_start */
	event_base_dispatch(base);
	event_base_free(base);
	ck_assert_int_eq(o.done, 1);
	return o;
}

START_TEST(test_probe_plain_server)
{
	struct tsrv t;
	struct sockaddr_in sin;
	struct outcome o;

	tsrv_start(&t, SRV_PLAIN, 3, &sin);
	o = run_probe(&sin, 0);
	ck_assert_int_eq(o.r, PROBE_OK);
	o = run_probe(&sin, 1);
	ck_assert_int_eq(o.r, PROBE_REFUSED);
	ck_assert_ptr_nonnull(strstr(o.why, "400"));
	o = run_probe(&sin, 2);
	ck_assert_int_eq(o.r, PROBE_REFUSED);
	tsrv_stop(&t);
}
END_TEST

START_TEST(test_probe_proxy_server)
{
	struct tsrv t;
	struct sockaddr_in sin;
	struct outcome o;

	tsrv_start(&t, SRV_PROXY, 3, &sin);
	o = run_probe(&sin, 0);
	ck_assert_int_eq(o.r, PROBE_REFUSED);
	o = run_probe(&sin, 1);
	ck_assert_int_eq(o.r, PROBE_OK); /* 503 is an answer: the exchange completed */
	o = run_probe(&sin, 2);
	ck_assert_int_eq(o.r, PROBE_OK);
	tsrv_stop(&t);
}
END_TEST

START_TEST(test_probe_connect_only_proves_nothing)
{
	struct tsrv t;
	struct sockaddr_in sin;
	struct outcome o;

	tsrv_start(&t, SRV_MUTE, 1, &sin);
	o = run_probe(&sin, 0);
	ck_assert_int_eq(o.r, PROBE_REFUSED); /* connected, then nothing: not OK */
	tsrv_stop(&t);
}
END_TEST

START_TEST(test_probe_unreachable)
{
	struct tsrv t;
	struct sockaddr_in sin;
	struct outcome o;

	tsrv_start(&t, SRV_MUTE, 0, &sin);
	tsrv_stop(&t); /* the port is closed now */
	o = run_probe(&sin, 2);
	ck_assert_int_eq(o.r, PROBE_UNREACHABLE);
}
END_TEST

static Suite *probe_suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_vote_table);
	tcase_add_test(tc, test_http_answer);
	tcase_add_test(tc, test_probe_plain_server);
	tcase_add_test(tc, test_probe_proxy_server);
	tcase_add_test(tc, test_probe_connect_only_proves_nothing);
	tcase_add_test(tc, test_probe_unreachable);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(probe_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
