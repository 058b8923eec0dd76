/* test_check.c - health checks (src/check.c, src/tls.c).
 *
 * Pure parts first (request text, status line, expect, target, intervals,
 * timeouts), then live checks against loopback servers that run on the
 * same event_base as the checker: TCP, HTTP, TLS (certificates made here at
 * run time) and IPv6. Every live test bounds its loop with a timeout.
 */
#include <config.h>

#include "backend.h"
#include "cfg.h"
#include "check.h"
#include "health.h"
#include "log.h"
#include "net.h"
#include "proxy_proto.h"
#include "tls.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* pure: request text                                                  */

struct conf {
	struct cfg_proxy be;
	struct cfg_server srv;
	struct cfg_hdr hdrs[4];
};

static void conf_init(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->be.name = "b";
	c->be.caps = CFG_CAP_BE;
	c->be.servers = &c->srv;
	c->be.nservers = 1;
	c->srv.name = "s";
	c->srv.host = "127.0.0.1";
	c->srv.id = 1;
	c->srv.check = 1;
	c->srv.inter_ms = 50;
	c->srv.rise = 2;
	c->srv.fall = 3;
	c->srv.weight = 1;
	c->srv.port = 80;
	ck_assert_int_eq(net_parse_ip("10.0.0.5", &c->srv.addr.ss, &c->srv.addr.len), 0);
	net_set_port((struct sockaddr *)&c->srv.addr.ss, 80);
}

static void add_hdr(struct conf *c, int i, const char *name, const char *value)
{
	c->hdrs[i].name = (char *)name;
	c->hdrs[i].value = (char *)value;
	c->hdrs[i].next = NULL;
	if (i == 0)
		c->be.httpchk.hdrs = &c->hdrs[0];
	else
		c->hdrs[i - 1].next = &c->hdrs[i];
}

static void assert_request(const struct conf *c, const char *want)
{
	char buf[1024];
	int n = chk_build_http_request(&c->be, &c->srv, buf, sizeof(buf));

	ck_assert_int_eq(n, (int)strlen(want));
	ck_assert_mem_eq(buf, want, strlen(want));
}

/* `option httpchk` alone: HAProxy sends OPTIONS / HTTP/1.0, no Host. */
START_TEST(test_req_default)
{
	struct conf c;

	conf_init(&c);
	c.be.httpchk.enabled = 1;
	assert_request(&c, "OPTIONS / HTTP/1.0\r\n\r\n");
}
END_TEST

START_TEST(test_req_option_httpchk_get)
{
	struct conf c;

	conf_init(&c);
	c.be.httpchk.enabled = 1;
	c.be.httpchk.method = "GET";
	c.be.httpchk.uri = "/readyz";
	c.be.httpchk.version = "HTTP/1.0";
	assert_request(&c, "GET /readyz HTTP/1.0\r\n\r\n");
}
END_TEST

START_TEST(test_req_send_with_host)
{
	struct conf c;

	conf_init(&c);
	c.be.httpchk.enabled = 1;
	c.be.httpchk.method = "GET";
	c.be.httpchk.uri = "/healthz";
	c.be.httpchk.version = "HTTP/1.1";
	add_hdr(&c, 0, "Host", "x");
	assert_request(&c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
}
END_TEST

/* Headers keep their order; a lower-case `host` counts as a Host. */
START_TEST(test_req_headers_in_order)
{
	struct conf c;

	conf_init(&c);
	c.be.httpchk.method = "GET";
	c.be.httpchk.uri = "/healthz/ready";
	c.be.httpchk.version = "HTTP/1.1";
	add_hdr(&c, 0, "User-Agent", "ppbridge");
	add_hdr(&c, 1, "host", "router.example");
	add_hdr(&c, 2, "Accept", "*/*");
	assert_request(&c, "GET /healthz/ready HTTP/1.1\r\nUser-Agent: ppbridge\r\n"
	                   "host: router.example\r\nAccept: */*\r\n\r\n");
}
END_TEST

/* HTTP/1.1 without a Host header: we add the check address. */
START_TEST(test_req_http11_default_host)
{
	struct conf c;

	conf_init(&c);
	c.be.httpchk.method = "GET";
	c.be.httpchk.version = "HTTP/1.1";
	assert_request(&c, "GET / HTTP/1.1\r\nHost: 10.0.0.5\r\n\r\n");

	ck_assert_int_eq(net_parse_ip("fd00::7", &c.srv.addr.ss, &c.srv.addr.len), 0);
	assert_request(&c, "GET / HTTP/1.1\r\nHost: [fd00::7]\r\n\r\n");

	c.srv.check_addr = "192.0.2.9";
	assert_request(&c, "GET / HTTP/1.1\r\nHost: 192.0.2.9\r\n\r\n");
}
END_TEST

/* HTTP/1.0 without Host stays without one (HAProxy 2.6). */
START_TEST(test_req_http10_no_host)
{
	struct conf c;

	conf_init(&c);
	c.be.httpchk.method = "HEAD";
	c.be.httpchk.uri = "/x";
	add_hdr(&c, 0, "X-Check", "1");
	assert_request(&c, "HEAD /x HTTP/1.0\r\nX-Check: 1\r\n\r\n");
}
END_TEST

START_TEST(test_req_too_small)
{
	struct conf c;
	char buf[256];
	const char *want = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	size_t full = strlen(want);

	conf_init(&c);
	c.be.httpchk.method = "GET";
	c.be.httpchk.uri = "/healthz";
	c.be.httpchk.version = "HTTP/1.1";
	add_hdr(&c, 0, "Host", "x");
	for (size_t len = 0; len <= full; len++)
		ck_assert_msg(chk_build_http_request(&c.be, &c.srv, buf, len) == -1,
		              "len %zu accepted", len);
	ck_assert_int_eq(chk_build_http_request(&c.be, &c.srv, buf, full + 1), (int)full);
	ck_assert_mem_eq(buf, want, full);
}
END_TEST

START_TEST(test_req_refuses_crlf)
{
	struct conf c;
	char buf[256];

	conf_init(&c);
	c.be.httpchk.uri = "/\r\nX: y";
	ck_assert_int_eq(chk_build_http_request(&c.be, &c.srv, buf, sizeof(buf)), -1);
	c.be.httpchk.uri = NULL;
	c.be.httpchk.version = "HTTP/1.1\r\nHost: x";
	ck_assert_int_eq(chk_build_http_request(&c.be, &c.srv, buf, sizeof(buf)), -1);
	c.be.httpchk.version = NULL;
	add_hdr(&c, 0, "X", "a\nb");
	ck_assert_int_eq(chk_build_http_request(&c.be, &c.srv, buf, sizeof(buf)), -1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* pure: status line                                                   */

/* Every strict prefix needs more bytes; the whole line gives `code`. */
static void assert_status_split(const char *line, int code)
{
	size_t len = strlen(line);

	for (size_t i = 0; i < len; i++)
		ck_assert_msg(chk_parse_status(line, i) == 0, "'%s' cut at %zu: %d", line, i,
		              chk_parse_status(line, i));
	ck_assert_int_eq(chk_parse_status(line, len), code);
}

START_TEST(test_status_split_every_byte)
{
	assert_status_split("HTTP/1.1 200 OK\r\n", 200);
	assert_status_split("HTTP/1.0 503 Service Unavailable\r\n", 503);
	assert_status_split("HTTP/1.1 204\r\n", 204);
	assert_status_split("HTTP/1.1 301 \n", 301);
	assert_status_split("HTTP/1.1 404 Not\tFound\r\n", 404);
}
END_TEST

/* Bytes after the status line (headers, body) do not matter. */
START_TEST(test_status_with_rest)
{
	const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

	ck_assert_int_eq(chk_parse_status(r, strlen(r)), 200);
}
END_TEST

/* A non-HTTP answer fails at its first wrong byte, not at a timeout. */
static void assert_status_bad_from(const char *line, size_t bad_at)
{
	size_t len = strlen(line);

	for (size_t i = 0; i <= len; i++) {
		int r = chk_parse_status(line, i);
		if (i <= bad_at)
			ck_assert_msg(r == 0, "'%s' cut at %zu: %d, want 0", line, i, r);
		else
			ck_assert_msg(r == -1, "'%s' cut at %zu: %d, want -1", line, i, r);
	}
}

START_TEST(test_status_invalid)
{
	assert_status_bad_from("SSH-2.0-OpenSSH_9\r\n", 0);
	assert_status_bad_from("HTTP/2 200\r\n", 5);
	assert_status_bad_from("HTTP/1.x 200\r\n", 7);
	assert_status_bad_from("HTTP/1.1  200\r\n", 9);
	assert_status_bad_from("HTTP/1.1 2x0 OK\r\n", 10);
	assert_status_bad_from("HTTP/1.1 200X\r\n", 12);
	assert_status_bad_from("http/1.1 200 OK\r\n", 0);
	/* Complete but wrong. */
	ck_assert_int_eq(chk_parse_status("HTTP/1.1 099 x\r\n", 16), -1);
	ck_assert_int_eq(chk_parse_status("HTTP/1.1 200 a\rb\r\n", 18), -1);
	ck_assert_int_eq(chk_parse_status("HTTP/1.1 200 a\001\r\n", 18), -1);
	ck_assert_int_eq(chk_parse_status("HTTP/1.1 200 a\0b\r\n", 18), -1);
}
END_TEST

START_TEST(test_status_ok)
{
	struct conf c;

	conf_init(&c);
	ck_assert(chk_status_ok(&c.be, 200));
	ck_assert(chk_status_ok(&c.be, 204));
	ck_assert(chk_status_ok(&c.be, 302));
	ck_assert(chk_status_ok(&c.be, 399));
	ck_assert(!chk_status_ok(&c.be, 100));
	ck_assert(!chk_status_ok(&c.be, 199));
	ck_assert(!chk_status_ok(&c.be, 400));
	ck_assert(!chk_status_ok(&c.be, 503));
	c.be.httpchk.expect_status = 200;
	ck_assert(chk_status_ok(&c.be, 200));
	ck_assert(!chk_status_ok(&c.be, 204));
	ck_assert(!chk_status_ok(&c.be, 301));
	c.be.httpchk.expect_status = 503;
	ck_assert(chk_status_ok(&c.be, 503));
	ck_assert(!chk_status_ok(&c.be, 200));
}
END_TEST

/* ------------------------------------------------------------------ */
/* pure: target, intervals, timeouts                                   */

START_TEST(test_target_ports)
{
	struct conf c;
	struct sockaddr_storage ss;
	socklen_t len;
	char err[128], text[NET_ADDRSTRLEN];

	conf_init(&c);
	ck_assert_int_eq(chk_target(&c.be, &c.srv, &ss, &len, err, sizeof(err)), 0);
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&ss, text, sizeof(text)),
	                 "10.0.0.5:80");
	c.be.httpchk.connect_port = 8080;
	ck_assert_int_eq(chk_target(&c.be, &c.srv, &ss, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(net_get_port((struct sockaddr *)&ss), 8080);
	c.srv.check_port = 1936;
	ck_assert_int_eq(chk_target(&c.be, &c.srv, &ss, &len, err, sizeof(err)), 0);
	ck_assert_uint_eq(net_get_port((struct sockaddr *)&ss), 1936);
	c.srv.check_addr = "::1";
	ck_assert_int_eq(chk_target(&c.be, &c.srv, &ss, &len, err, sizeof(err)), 0);
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&ss, text, sizeof(text)), "[::1]:1936");
	ck_assert_int_eq(len, sizeof(struct sockaddr_in6));
}
END_TEST

START_TEST(test_target_errors)
{
	struct conf c;
	struct sockaddr_storage ss;
	socklen_t len;
	char err[128];

	conf_init(&c);
	c.srv.check_addr = "router.example";
	ck_assert_int_eq(chk_target(&c.be, &c.srv, &ss, &len, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "router.example"));
	c.srv.check_addr = NULL;
	c.srv.addr.len = 0;
	ck_assert_int_eq(chk_target(&c.be, &c.srv, &ss, &len, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not resolved"));
}
END_TEST

START_TEST(test_interval)
{
	struct conf c;
	struct health h;

	conf_init(&c);
	c.srv.inter_ms = 2000;
	health_init(&h, 2, 3);
	/* At start the counter is not full: fastinter, or inter. */
	ck_assert_uint_eq(chk_interval(&c.srv, &h), 2000);
	c.srv.fastinter_ms = 500;
	c.srv.downinter_ms = 7000;
	ck_assert_uint_eq(chk_interval(&c.srv, &h), 500);
	health_report(&h, 1);
	health_report(&h, 1);
	ck_assert_int_eq(h.health, 4);
	ck_assert_uint_eq(chk_interval(&c.srv, &h), 2000); /* full */
	health_report(&h, 0);
	ck_assert_uint_eq(chk_interval(&c.srv, &h), 500); /* going down */
	health_report(&h, 0);
	health_report(&h, 0);
	ck_assert_int_eq(h.up, 0);
	ck_assert_uint_eq(chk_interval(&c.srv, &h), 7000); /* fully down */
	health_report(&h, 1);
	ck_assert_uint_eq(chk_interval(&c.srv, &h), 500); /* coming up */
	c.srv.fastinter_ms = 0;
	c.srv.downinter_ms = 0;
	ck_assert_uint_eq(chk_interval(&c.srv, &h), 2000);
	c.srv.inter_ms = 0;
	ck_assert_uint_eq(chk_interval(&c.srv, &h), CFG_DEFAULT_INTER);
}
END_TEST

START_TEST(test_timeouts)
{
	struct conf c;
	unsigned conn, after;

	conf_init(&c);
	c.srv.inter_ms = 2000;
	chk_timeouts(&c.be, &c.srv, &conn, &after);
	ck_assert_uint_eq(conn, 2000);
	ck_assert_uint_eq(after, 0);
	c.be.timeout.connect = 5000;
	c.be.timeout.check = 300;
	chk_timeouts(&c.be, &c.srv, &conn, &after);
	ck_assert_uint_eq(conn, 2000);
	ck_assert_uint_eq(after, 300);
	c.be.timeout.connect = 700;
	chk_timeouts(&c.be, &c.srv, &conn, &after);
	ck_assert_uint_eq(conn, 700);
	c.be.timeout.connect = 0; /* before cfg_finish: the default */
	chk_timeouts(&c.be, &c.srv, &conn, &after);
	ck_assert_uint_eq(conn, 2000);
}
END_TEST

/* ------------------------------------------------------------------ */
/* live: loopback servers on the checker's event_base                  */

enum ts_mode {
	TS_ACCEPT = 0, /* accept, read and discard */
	TS_HTTP,       /* read a request head, answer `response`, close */
	TS_SILENT,     /* accept, never answer (nor handshake) */
};

#define TS_MAXCONN 64

struct tserver {
	struct event_base *base;
	struct evconnlistener *lsn;
	enum ts_mode mode;
	SSL_CTX *ssl; /* NULL: clear text */
	const char *response;
	char request[1024]; /* last request head received */
	size_t reqlen;
	int accepted;
	struct bufferevent *conns[TS_MAXCONN];
	struct sockaddr_storage addr;
	socklen_t addrlen;
};

static void ts_close(struct tserver *ts, struct bufferevent *bev)
{
	for (int i = 0; i < TS_MAXCONN; i++)
		if (ts->conns[i] == bev)
			ts->conns[i] = NULL;
	bufferevent_free(bev);
}

static void ts_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ts_close(arg, bev);
}

static void ts_written(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		ts_close(arg, bev);
}

static void ts_read(struct bufferevent *bev, void *arg)
{
	struct tserver *ts = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr end;

	if (ts->mode != TS_HTTP) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0)
		return;
	ts->reqlen =
	    (size_t)end.pos + 4 < sizeof(ts->request) ? (size_t)end.pos + 4 : sizeof(ts->request);
	evbuffer_remove(in, ts->request, ts->reqlen);
	bufferevent_setcb(bev, NULL, ts_written, ts_event, ts);
	bufferevent_write(bev, ts->response, strlen(ts->response));
}

static void ts_accept(struct evconnlistener *lsn, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	struct tserver *ts = arg;
	struct bufferevent *bev;
	int slot = -1;

	ts->accepted++;
	for (int i = 0; i < TS_MAXCONN && slot < 0; i++)
		if (!ts->conns[i])
			slot = i;
	if (slot < 0 || ts->mode == TS_SILENT) {
		/* Silent: keep the fd open and idle in a plain bufferevent. */
		if (slot < 0) {
			close(fd);
			return;
		}
		bev = bufferevent_socket_new(ts->base, fd, BEV_OPT_CLOSE_ON_FREE);
	} else if (ts->ssl) {
		bev = bufferevent_openssl_socket_new(ts->base, fd, SSL_new(ts->ssl),
		                                     BUFFEREVENT_SSL_ACCEPTING,
		                                     BEV_OPT_CLOSE_ON_FREE);
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else {
		bev = bufferevent_socket_new(ts->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	ck_assert_ptr_nonnull(bev);
	ts->conns[slot] = bev;
	bufferevent_setcb(bev, ts_read, NULL, ts_event, ts);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* Listen on `ip` port 0. Returns -1 when the family is unavailable. */
static int ts_start(struct tserver *ts, struct event_base *base, const char *ip, enum ts_mode mode)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(ts, 0, sizeof(*ts));
	ts->base = base;
	ts->mode = mode;
	ck_assert_int_eq(net_parse_ip(ip, &ss, &len), 0);
	ts->lsn =
	    evconnlistener_new_bind(base, ts_accept, ts, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
	                            16, (struct sockaddr *)&ss, (int)len);
	if (!ts->lsn)
		return -1;
	ts->addrlen = sizeof(ts->addr);
	ck_assert_int_eq(
	    getsockname(evconnlistener_get_fd(ts->lsn), (struct sockaddr *)&ts->addr, &ts->addrlen),
	    0);
	return 0;
}

static void ts_stop(struct tserver *ts)
{
	for (int i = 0; i < TS_MAXCONN; i++)
		if (ts->conns[i])
			bufferevent_free(ts->conns[i]);
	if (ts->lsn)
		evconnlistener_free(ts->lsn);
	SSL_CTX_free(ts->ssl);
	memset(ts, 0, sizeof(*ts));
}

/* A loopback port nobody listens on (bound, then closed). */
static void closed_port(struct sockaddr_storage *ss, socklen_t *len)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(net_parse_ip("127.0.0.1", ss, len), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)ss, *len), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)ss, len), 0);
	close(fd);
}

/* The checker side: one backend with one server. */
struct fx {
	struct event_base *base;
	struct conf c;
	struct be be;
	struct srv *srv;
	struct chk *chk;
	unsigned long want_count; /* stop the loop after this many checks */
	int want_down;            /* ... or as soon as the server is DOWN */
	struct event *poll;
};

static void fx_init(struct fx *fx, struct event_base *base, const struct sockaddr_storage *ss,
                    socklen_t len)
{
	memset(fx, 0, sizeof(*fx));
	fx->base = base;
	conf_init(&fx->c);
	memcpy(&fx->c.srv.addr.ss, ss, len);
	fx->c.srv.addr.len = len;
	fx->c.srv.port = net_get_port((const struct sockaddr *)ss);
	fx->c.srv.rise = 2;
	fx->c.srv.fall = 2;
}

static struct chk *fx_start_err(struct fx *fx, char *err, size_t errlen)
{
	ck_assert_int_eq(be_init(&fx->be, &fx->c.be), 0);
	fx->srv = &fx->be.srvs[0];
	fx->chk = chk_start(fx->base, fx->srv, err, errlen);
	return fx->chk;
}

static void fx_start(struct fx *fx)
{
	char err[512] = "";

	fx_start_err(fx, err, sizeof(err));
	ck_assert_msg(fx->chk != NULL, "chk_start: %s", err);
	ck_assert_ptr_eq(fx->srv->chk, fx->chk);
}

static void fx_poll(evutil_socket_t fd, short what, void *arg)
{
	struct fx *fx = arg;

	if ((fx->want_count && chk_count(fx->chk) >= fx->want_count) ||
	    (fx->want_down && !atomic_load(&fx->srv->up)))
		event_base_loopbreak(fx->base);
}

/* Run the loop until the wanted condition holds or `max_ms` passed. */
static void fx_run(struct fx *fx, unsigned max_ms)
{
	struct timeval tick = {0, 2000};
	struct timeval limit = {max_ms / 1000, (max_ms % 1000) * 1000};

	fx->poll = event_new(fx->base, -1, EV_PERSIST, fx_poll, fx);
	event_add(fx->poll, &tick);
	event_base_loopexit(fx->base, &limit);
	event_base_dispatch(fx->base);
	event_free(fx->poll);
	fx->poll = NULL;
}

static void fx_done(struct fx *fx)
{
	chk_stop(fx->chk);
	if (fx->srv)
		ck_assert_ptr_null(fx->srv->chk);
	fx->chk = NULL;
	be_destroy(&fx->be);
}

static const char *last(const struct fx *fx)
{
	return fx->srv->last_check ? fx->srv->last_check : "(none)";
}

static int starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define ck_assert_prefix(s, prefix)                                                                \
	ck_assert_msg(starts_with(s, prefix), "got '%s', want '%s...'", s, prefix)

static struct event_base *base_new(void)
{
	struct event_base *base = event_base_new();

	ck_assert_ptr_nonnull(base);
	return base;
}

/* (a) A listening server stays UP over several checks. The first check
 * failing would take it DOWN (health starts at rise). */
START_TEST(test_live_tcp_up)
{
	struct event_base *base = base_new();
	struct tserver ts;
	struct fx fx;

	ck_assert_int_eq(ts_start(&ts, base, "127.0.0.1", TS_ACCEPT), 0);
	fx_init(&fx, base, &ts.addr, ts.addrlen);
	fx_start(&fx);
	fx.want_count = 3;
	fx.want_down = 1;
	fx_run(&fx, 2000);
	ck_assert_uint_ge(chk_count(fx.chk), 3);
	ck_assert_int_eq(atomic_load(&fx.srv->up), 1);
	ck_assert_str_eq(last(&fx), "Layer4 check passed");
	ck_assert_int_ge(ts.accepted, 3);
	fx_done(&fx);
	ts_stop(&ts);
	event_base_free(base);
}
END_TEST

/* (b) A closed port: DOWN after the very first check. */
START_TEST(test_live_tcp_refused)
{
	struct event_base *base = base_new();
	struct sockaddr_storage ss;
	socklen_t len;
	struct fx fx;

	closed_port(&ss, &len);
	fx_init(&fx, base, &ss, len);
	fx_start(&fx);
	fx.want_down = 1;
	fx_run(&fx, 2000);
	ck_assert_int_eq(atomic_load(&fx.srv->up), 0);
	ck_assert_uint_eq(chk_count(fx.chk), 1);
	ck_assert_str_eq(last(&fx), "Layer4 connection problem: Connection refused");
	fx_done(&fx);
	event_base_free(base);
}
END_TEST

/* `check port` takes precedence over the server's port. */
START_TEST(test_live_check_port)
{
	struct event_base *base = base_new();
	struct sockaddr_storage ss;
	socklen_t len;
	struct tserver ts;
	struct fx fx;

	ck_assert_int_eq(ts_start(&ts, base, "127.0.0.1", TS_ACCEPT), 0);
	closed_port(&ss, &len);
	fx_init(&fx, base, &ss, len); /* the server's own port is closed */
	fx.c.srv.check_port = net_get_port((struct sockaddr *)&ts.addr);
	fx_start(&fx);
	fx.want_count = 2;
	fx.want_down = 1;
	fx_run(&fx, 2000);
	ck_assert_int_eq(atomic_load(&fx.srv->up), 1);
	ck_assert_str_eq(last(&fx), "Layer4 check passed");
	fx_done(&fx);
	ts_stop(&ts);
	event_base_free(base);
}
END_TEST

/* DOWN servers are checked every `downinter`; without it, every `inter`. */
static unsigned long checks_in(unsigned downinter_ms, unsigned run_ms)
{
	struct event_base *base = base_new();
	struct sockaddr_storage ss;
	socklen_t len;
	struct fx fx;
	unsigned long n;

	closed_port(&ss, &len);
	fx_init(&fx, base, &ss, len);
	fx.c.srv.inter_ms = 2000;
	fx.c.srv.downinter_ms = downinter_ms;
	fx_start(&fx);
	fx_run(&fx, run_ms);
	n = chk_count(fx.chk);
	fx_done(&fx);
	event_base_free(base);
	return n;
}

START_TEST(test_live_downinter)
{
	ck_assert_uint_eq(checks_in(0, 200), 1);
	ck_assert_uint_ge(checks_in(20, 200), 4);
}
END_TEST

static void http_case(const char *response, int expect_status, int *up, char *reason, size_t rlen,
                      char *request, size_t reqlen)
{
	struct event_base *base = base_new();
	struct tserver ts;
	struct fx fx;

	ck_assert_int_eq(ts_start(&ts, base, "127.0.0.1", TS_HTTP), 0);
	ts.response = response;
	fx_init(&fx, base, &ts.addr, ts.addrlen);
	fx.c.be.httpchk.enabled = 1;
	fx.c.be.httpchk.method = "GET";
	fx.c.be.httpchk.uri = "/readyz";
	fx.c.be.httpchk.expect_status = expect_status;
	fx_start(&fx);
	fx.want_count = 3;
	fx.want_down = 1;
	fx_run(&fx, 2000);
	*up = atomic_load(&fx.srv->up);
	snprintf(reason, rlen, "%s", last(&fx));
	snprintf(request, reqlen, "%.*s", (int)ts.reqlen, ts.request);
	fx_done(&fx);
	ts_stop(&ts);
	event_base_free(base);
}

/* (c) HTTP: 200 keeps the server UP, 503 takes it DOWN; the request on the
 * wire is the one built by chk_build_http_request(). */
START_TEST(test_live_http_200)
{
	char reason[256], req[1024];
	int up;

	http_case("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, &up, reason, sizeof(reason),
	          req, sizeof(req));
	ck_assert_int_eq(up, 1);
	ck_assert_str_eq(reason, "Layer7 check passed: 200");
	ck_assert_str_eq(req, "GET /readyz HTTP/1.0\r\n\r\n");
}
END_TEST

START_TEST(test_live_http_503)
{
	char reason[256], req[1024];
	int up;

	http_case("HTTP/1.1 503 Service Unavailable\r\n\r\n", 0, &up, reason, sizeof(reason), req,
	          sizeof(req));
	ck_assert_int_eq(up, 0);
	ck_assert_str_eq(reason, "Layer7 wrong status: 503");
}
END_TEST

START_TEST(test_live_http_expect_status)
{
	char reason[256], req[1024];
	int up;

	http_case("HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", 0, &up, reason, sizeof(reason), req,
	          sizeof(req));
	ck_assert_int_eq(up, 1);
	http_case("HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", 200, &up, reason, sizeof(reason),
	          req, sizeof(req));
	ck_assert_int_eq(up, 0);
	ck_assert_str_eq(reason, "Layer7 wrong status: 302");
}
END_TEST

START_TEST(test_live_http_not_http)
{
	char reason[256], req[1024];
	int up;

	http_case("SSH-2.0-OpenSSH_9.0\r\n", 0, &up, reason, sizeof(reason), req, sizeof(req));
	ck_assert_int_eq(up, 0);
	ck_assert_str_eq(reason, "Layer7 invalid response: not HTTP");
	/* Closed before a whole status line. */
	http_case("HTTP/1.1 20", 0, &up, reason, sizeof(reason), req, sizeof(req));
	ck_assert_int_eq(up, 0);
	ck_assert_prefix(reason, "Layer7 invalid response: connection closed");
}
END_TEST

/* An HTTP check against a server that never answers. */
static void silent_case(unsigned inter_ms, unsigned timeout_check_ms, unsigned run_ms, int *up,
                        char *reason, size_t rlen)
{
	struct event_base *base = base_new();
	struct tserver ts;
	struct fx fx;

	ck_assert_int_eq(ts_start(&ts, base, "127.0.0.1", TS_SILENT), 0);
	fx_init(&fx, base, &ts.addr, ts.addrlen);
	fx.c.srv.inter_ms = inter_ms;
	fx.c.be.timeout.check = timeout_check_ms;
	fx.c.be.httpchk.enabled = 1;
	fx_start(&fx);
	fx.want_down = 1;
	fx_run(&fx, run_ms);
	*up = atomic_load(&fx.srv->up);
	snprintf(reason, rlen, "%s", last(&fx));
	fx_done(&fx);
	ts_stop(&ts);
	event_base_free(base);
}

/* Without `timeout check` the whole check is bounded by `inter`. */
START_TEST(test_live_timeout_inter)
{
	char reason[256];
	int up;

	silent_case(80, 0, 1500, &up, reason, sizeof(reason));
	ck_assert_int_eq(up, 0);
	ck_assert_str_eq(reason, "Layer7 timeout");
}
END_TEST

/* With `timeout check`, it bounds the phase after the connect: 60 ms here,
 * long before `inter` (5 s) would end the check. */
START_TEST(test_live_timeout_check)
{
	char reason[256];
	int up;

	silent_case(5000, 60, 1000, &up, reason, sizeof(reason));
	ck_assert_int_eq(up, 0);
	ck_assert_str_eq(reason, "Layer7 timeout");
	/* and without it, 1 s is not enough to end a 5 s check */
	silent_case(5000, 0, 200, &up, reason, sizeof(reason));
	ck_assert_int_eq(up, 1);
	ck_assert_str_eq(reason, "(none)");
}
END_TEST

/* chk_stop() in the middle of a check: nothing fires afterwards (ASan
 * would catch a use after free) and nothing leaks (LSan). */
START_TEST(test_live_stop_in_flight)
{
	struct event_base *base = base_new();
	struct timeval t = {0, 30000};
	struct tserver ts;
	struct fx fx;

	ck_assert_int_eq(ts_start(&ts, base, "127.0.0.1", TS_SILENT), 0);
	fx_init(&fx, base, &ts.addr, ts.addrlen);
	fx.c.srv.inter_ms = 1000;
	fx.c.srv.check_ssl = 1; /* stuck in the handshake */
	fx.c.srv.verify = CFG_VERIFY_NONE;
	fx_start(&fx);
	fx_run(&fx, 60);
	ck_assert_int_eq(ts.accepted, 1);
	ck_assert_uint_eq(chk_count(fx.chk), 0);
	fx_done(&fx);
	event_base_loopexit(base, &t);
	event_base_dispatch(base);

	ts_stop(&ts);
	ck_assert_int_eq(ts_start(&ts, base, "127.0.0.1", TS_SILENT), 0);
	fx_init(&fx, base, &ts.addr, ts.addrlen);
	fx.c.srv.inter_ms = 1000;
	fx.c.be.httpchk.enabled = 1; /* stuck waiting for the status line */
	fx_start(&fx);
	fx_run(&fx, 60);
	ck_assert_uint_eq(chk_count(fx.chk), 0);
	fx_done(&fx);
	event_base_loopexit(base, &t);
	event_base_dispatch(base);
	ts_stop(&ts);
	event_base_free(base);
}
END_TEST

/* (e) IPv6 loopback, when the host has it. */
START_TEST(test_live_ipv6)
{
	struct event_base *base = base_new();
	struct tserver ts;
	struct fx fx;

	if (ts_start(&ts, base, "::1", TS_ACCEPT) < 0) {
		fprintf(stderr, "test_live_ipv6: no ::1 here, skipped\n");
		event_base_free(base);
		return;
	}
	fx_init(&fx, base, &ts.addr, ts.addrlen);
	fx_start(&fx);
	fx.want_count = 2;
	fx.want_down = 1;
	fx_run(&fx, 2000);
	ck_assert_int_eq(atomic_load(&fx.srv->up), 1);
	ck_assert_str_eq(last(&fx), "Layer4 check passed");
	fx_done(&fx);
	ts_stop(&ts);

	/* and a refused ::1 port goes DOWN */
	ck_assert_int_eq(ts_start(&ts, base, "::1", TS_ACCEPT), 0);
	struct sockaddr_storage ss = ts.addr;
	socklen_t len = ts.addrlen;
	ts_stop(&ts);
	fx_init(&fx, base, &ss, len);
	fx_start(&fx);
	fx.want_down = 1;
	fx_run(&fx, 2000);
	ck_assert_int_eq(atomic_load(&fx.srv->up), 0);
	ck_assert_str_eq(last(&fx), "Layer4 connection problem: Connection refused");
	fx_done(&fx);
	event_base_free(base);
}
END_TEST

/* `option log-health-checks`: one line per change of outcome. */
static int count_in_file(const char *path, const char *needle)
{
	char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n;
	int count = 0;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (const char *p = buf; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		count++;
	return count;
}

static int logged_lines(int option)
{
	struct event_base *base = base_new();
	char path[] = "/tmp/ppb-chk-log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2), n;
	struct tserver ts;
	struct fx fx;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(ts_start(&ts, base, "127.0.0.1", TS_HTTP), 0);
	ts.response = "HTTP/1.1 503 Service Unavailable\r\n\r\n";
	fx_init(&fx, base, &ts.addr, ts.addrlen);
	fx.c.be.httpchk.enabled = 1;
	if (option)
		fx.c.be.options |= CFG_OPT_LOG_HEALTH_CHECKS;
	fx_start(&fx);
	fx.want_count = 3;
	dup2(fd, 2);
	log_setup(0, 1, LOG_INFO);
	fx_run(&fx, 2000);
	log_setup(0, 0, LOG_INFO);
	dup2(saved, 2);
	close(saved);
	close(fd);
	ck_assert_uint_ge(chk_count(fx.chk), 3);
	n = count_in_file(path, "Health check for server b/s failed, reason: Layer7 wrong "
	                        "status: 503, check duration: ");
	ck_assert_int_eq(count_in_file(path, "Health check for"), n);
	unlink(path);
	fx_done(&fx);
	ts_stop(&ts);
	event_base_free(base);
	log_shutdown();
	return n;
}

START_TEST(test_live_log_health_checks)
{
	ck_assert_int_eq(logged_lines(1), 1);
	ck_assert_int_eq(logged_lines(0), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* TLS: a CA, a server certificate it signs, and an unrelated CA        */

struct pki {
	char dir[64];
	char ca_path[128], other_ca_path[128], garbage_path[128];
	EVP_PKEY *ca_key, *leaf_key, *other_key;
	X509 *ca, *leaf, *other;
};

static struct pki pki;

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ck_assert_ptr_nonnull(ext);
	ck_assert_int_eq(X509_add_ext(cert, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

/* Self-signed CA when `issuer` is NULL, else a server certificate for
 * localhost, 127.0.0.1 and ::1. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
                       long serial)
{
	X509 *x = X509_new();
	X509_NAME *name;

	ck_assert_ptr_nonnull(x);
	name = X509_get_subject_name(x);
	ck_assert_int_eq(X509_set_version(x, 2), 1); /* v3 */
	ck_assert_int_eq(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	ck_assert_int_eq(X509_set_pubkey(x, key), 1);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	ck_assert_int_eq(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name), 1);
	if (!issuer) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
		add_ext(x, x, NID_subject_key_identifier, "hash");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer, NID_ext_key_usage, "serverAuth");
		add_ext(x, issuer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
	}
	ck_assert_int_gt(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()), 0);
	return x;
}

static void write_pem(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(PEM_write_X509(f, x), 1);
	fclose(f);
}

static void pki_setup(void)
{
	FILE *f;

	memset(&pki, 0, sizeof(pki));
	snprintf(pki.dir, sizeof(pki.dir), "/tmp/ppb-chk-pki.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(pki.dir));
	pki.ca_key = EVP_EC_gen("P-256");
	pki.leaf_key = EVP_EC_gen("P-256");
	pki.other_key = EVP_EC_gen("P-256");
	ck_assert(pki.ca_key && pki.leaf_key && pki.other_key);
	pki.ca = make_cert("ppbridge test CA", pki.ca_key, NULL, NULL, 1);
	pki.leaf = make_cert("localhost", pki.leaf_key, pki.ca, pki.ca_key, 2);
	pki.other = make_cert("some other CA", pki.other_key, NULL, NULL, 3);
	snprintf(pki.ca_path, sizeof(pki.ca_path), "%s/ca.pem", pki.dir);
	snprintf(pki.other_ca_path, sizeof(pki.other_ca_path), "%s/other.pem", pki.dir);
	snprintf(pki.garbage_path, sizeof(pki.garbage_path), "%s/garbage.pem", pki.dir);
	write_pem(pki.ca_path, pki.ca);
	write_pem(pki.other_ca_path, pki.other);
	f = fopen(pki.garbage_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("this is not a certificate\n", f);
	fclose(f);
}

static void pki_teardown(void)
{
	unlink(pki.ca_path);
	unlink(pki.other_ca_path);
	unlink(pki.garbage_path);
	rmdir(pki.dir);
	X509_free(pki.ca);
	X509_free(pki.leaf);
	X509_free(pki.other);
	EVP_PKEY_free(pki.ca_key);
	EVP_PKEY_free(pki.leaf_key);
	EVP_PKEY_free(pki.other_key);
	memset(&pki, 0, sizeof(pki));
}

static SSL_CTX *server_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_use_certificate(ctx, pki.leaf), 1);
	ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, pki.leaf_key), 1);
	ck_assert_int_eq(SSL_CTX_check_private_key(ctx), 1);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return ctx;
}

struct tls_case {
	enum cfg_verify verify;
	const char *ca_file;
	const char *sni;
	const char *connect_sni; /* `http-check connect sni` */
	int http;                /* option httpchk, server answers 200 */
	int connect_ssl;         /* `http-check connect ssl` instead of check-ssl */
	/* results */
	int up;
	unsigned long count;
	char reason[256];
};

static void run_tls_case(struct tls_case *tc)
{
	struct event_base *base = base_new();
	struct tserver ts;
	struct fx fx;

	ck_assert_int_eq(ts_start(&ts, base, "127.0.0.1", tc->http ? TS_HTTP : TS_ACCEPT), 0);
	ts.ssl = server_ctx();
	ts.response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	fx_init(&fx, base, &ts.addr, ts.addrlen);
	fx.c.srv.verify = tc->verify;
	fx.c.srv.ca_file = (char *)tc->ca_file;
	fx.c.srv.check_sni = (char *)tc->sni;
	fx.c.be.httpchk.connect_sni = (char *)tc->connect_sni;
	if (tc->connect_ssl)
		fx.c.be.httpchk.connect_ssl = 1;
	else
		fx.c.srv.check_ssl = 1;
	fx.c.be.httpchk.enabled = tc->http;
	fx_start(&fx);
	fx.want_count = 2;
	fx.want_down = 1;
	fx_run(&fx, 3000);
	tc->up = atomic_load(&fx.srv->up);
	tc->count = chk_count(fx.chk);
	snprintf(tc->reason, sizeof(tc->reason), "%s", last(&fx));
	fx_done(&fx);
	ts_stop(&ts);
	event_base_free(base);
}

/* (d) verify required with the right CA: UP. */
START_TEST(test_tls_verified)
{
	struct tls_case tc = {.verify = CFG_VERIFY_REQUIRED, .ca_file = pki.ca_path};

	run_tls_case(&tc);
	ck_assert_int_eq(tc.up, 1);
	ck_assert_uint_ge(tc.count, 2);
	ck_assert_str_eq(tc.reason, "Layer6 check passed");

	/* `verify` not written means required too */
	struct tls_case dflt = {.verify = CFG_VERIFY_DEFAULT, .ca_file = pki.ca_path};
	run_tls_case(&dflt);
	ck_assert_int_eq(dflt.up, 1);
}
END_TEST

/* ... with a CA that did not sign the server's certificate: DOWN, Layer6. */
START_TEST(test_tls_wrong_ca)
{
	struct tls_case tc = {.verify = CFG_VERIFY_REQUIRED, .ca_file = pki.other_ca_path};

	run_tls_case(&tc);
	ck_assert_int_eq(tc.up, 0);
	ck_assert_uint_eq(tc.count, 1);
	ck_assert_prefix(tc.reason, "Layer6 invalid response: certificate verify failed: ");
}
END_TEST

/* verify none trusts anything, even with the wrong CA file loaded. */
START_TEST(test_tls_verify_none)
{
	struct tls_case tc = {.verify = CFG_VERIFY_NONE};

	run_tls_case(&tc);
	ck_assert_int_eq(tc.up, 1);
	ck_assert_str_eq(tc.reason, "Layer6 check passed");

	struct tls_case wrong = {.verify = CFG_VERIFY_NONE, .ca_file = pki.other_ca_path};
	run_tls_case(&wrong);
	ck_assert_int_eq(wrong.up, 1);
}
END_TEST

/* check-sni is sent and, with verify, matched against the certificate. */
START_TEST(test_tls_sni)
{
	struct tls_case ok = {
	    .verify = CFG_VERIFY_REQUIRED, .ca_file = pki.ca_path, .sni = "localhost"};
	struct tls_case bad = {
	    .verify = CFG_VERIFY_REQUIRED, .ca_file = pki.ca_path, .sni = "wrong.example"};
	struct tls_case none = {.verify = CFG_VERIFY_NONE, .sni = "wrong.example"};

	run_tls_case(&ok);
	ck_assert_int_eq(ok.up, 1);
	run_tls_case(&bad);
	ck_assert_int_eq(bad.up, 0);
	ck_assert_prefix(bad.reason, "Layer6 invalid response: certificate verify failed: ");
	ck_assert_ptr_nonnull(strstr(bad.reason, "mismatch"));
	run_tls_case(&none);
	ck_assert_int_eq(none.up, 1);

	/* `http-check connect sni` overrides check-sni */
	struct tls_case rule = {.verify = CFG_VERIFY_REQUIRED,
	                        .ca_file = pki.ca_path,
	                        .sni = "wrong.example",
	                        .connect_sni = "localhost"};
	run_tls_case(&rule);
	ck_assert_int_eq(rule.up, 1);
	rule.sni = "localhost";
	rule.connect_sni = "wrong.example";
	run_tls_case(&rule);
	ck_assert_int_eq(rule.up, 0);
}
END_TEST

/* HTTPS checks: check-ssl + option httpchk, and `http-check connect ssl`. */
START_TEST(test_tls_http)
{
	struct tls_case tc = {.verify = CFG_VERIFY_REQUIRED, .ca_file = pki.ca_path, .http = 1};
	struct tls_case conn = {
	    .verify = CFG_VERIFY_REQUIRED, .ca_file = pki.ca_path, .http = 1, .connect_ssl = 1};

	run_tls_case(&tc);
	ck_assert_int_eq(tc.up, 1);
	ck_assert_str_eq(tc.reason, "Layer7 check passed: 200");
	run_tls_case(&conn);
	ck_assert_int_eq(conn.up, 1);
	ck_assert_str_eq(conn.reason, "Layer7 check passed: 200");
}
END_TEST

/* A server that accepts TCP but never speaks TLS: Layer6 timeout. */
START_TEST(test_tls_handshake_timeout)
{
	struct event_base *base = base_new();
	struct tserver ts;
	struct fx fx;

	ck_assert_int_eq(ts_start(&ts, base, "127.0.0.1", TS_SILENT), 0);
	fx_init(&fx, base, &ts.addr, ts.addrlen);
	fx.c.srv.check_ssl = 1;
	fx.c.srv.ca_file = pki.ca_path;
	fx.c.srv.inter_ms = 80;
	fx_start(&fx);
	fx.want_down = 1;
	fx_run(&fx, 2000);
	ck_assert_int_eq(atomic_load(&fx.srv->up), 0);
	ck_assert_str_eq(last(&fx), "Layer6 timeout");
	fx_done(&fx);
	ts_stop(&ts);
	event_base_free(base);
}
END_TEST

/* A TLS check against a plain HTTP server: it answers garbage to the
 * ClientHello or closes; either way Layer6, never UP. */
START_TEST(test_tls_against_plain)
{
	struct event_base *base = base_new();
	struct tserver ts;
	struct fx fx;

	ck_assert_int_eq(ts_start(&ts, base, "127.0.0.1", TS_HTTP), 0);
	ts.response = "HTTP/1.1 400 Bad Request\r\n\r\n";
	fx_init(&fx, base, &ts.addr, ts.addrlen);
	fx.c.srv.check_ssl = 1;
	fx.c.srv.verify = CFG_VERIFY_NONE;
	fx.c.srv.inter_ms = 80;
	fx_start(&fx);
	fx.want_down = 1;
	fx_run(&fx, 2000);
	ck_assert_int_eq(atomic_load(&fx.srv->up), 0);
	ck_assert_prefix(last(&fx), "Layer6 ");
	fx_done(&fx);
	ts_stop(&ts);
	event_base_free(base);
}
END_TEST

static void start_error(struct fx *fx)
{
	struct event_base *base = base_new();
	struct sockaddr_storage ss;
	socklen_t len;

	closed_port(&ss, &len);
	fx_init(fx, base, &ss, len);
	fx->c.srv.check_ssl = 1;
}

static void start_error_end(struct fx *fx)
{
	struct event_base *base = fx->base;

	be_destroy(&fx->be);
	event_base_free(base);
}

START_TEST(test_start_errors)
{
	char err[512];
	struct fx fx;

	start_error(&fx);
	ck_assert_ptr_null(fx_start_err(&fx, err, sizeof(err)));
	ck_assert_str_eq(err, "server 'b/s': verify required needs a ca-file (or set verify none)");
	ck_assert_ptr_null(fx.srv->chk);
	start_error_end(&fx);

	start_error(&fx);
	fx.c.srv.ca_file = "/nonexistent/ca.pem";
	ck_assert_ptr_null(fx_start_err(&fx, err, sizeof(err)));
	ck_assert_prefix(err, "server 'b/s': cannot load CA file '/nonexistent/ca.pem': ");
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	start_error_end(&fx);

	start_error(&fx);
	fx.c.srv.ca_file = pki.garbage_path;
	fx.c.srv.verify = CFG_VERIFY_NONE; /* a broken file is an error all the same */
	ck_assert_ptr_null(fx_start_err(&fx, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, pki.garbage_path));
	ck_assert_int_gt(strlen(err), strlen(pki.garbage_path) + 40);
	start_error_end(&fx);

	start_error(&fx);
	fx.c.srv.check_ssl = 0; /* no TLS: ca-file is the server's business, not ours */
	fx.c.srv.check_addr = "not-an-ip";
	ck_assert_ptr_null(fx_start_err(&fx, err, sizeof(err)));
	ck_assert_prefix(err, "server 'b/s': invalid check address 'not-an-ip'");
	start_error_end(&fx);

	start_error(&fx);
	fx.c.srv.check = 0;
	ck_assert_ptr_null(fx_start_err(&fx, err, sizeof(err)));
	start_error_end(&fx);
}
END_TEST

START_TEST(test_tls_ctx_direct)
{
	char err[512];
	SSL_CTX *ctx;

	ctx = tls_client_ctx_new(pki.ca_path, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
	ck_assert(SSL_CTX_get_options(ctx) & SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_free(ctx);
	ctx = tls_client_ctx_new(NULL, 1, err, sizeof(err));
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
	SSL_CTX_free(ctx);
	ck_assert_ptr_null(tls_client_ctx_new(pki.garbage_path, 0, err, sizeof(err)));
	ck_assert_prefix(err, "cannot load CA file '");
	/* the error queue was drained into the message */
	ck_assert_uint_eq(ERR_peek_error(), 0);
	ck_assert_str_eq(tls_errors(err, sizeof(err)), "no OpenSSL error reported");
}
END_TEST

/* ------------------------------------------------------------------ */
/* through the real parser (src/cfg.c)                                 */

static struct cfg *parse(const char *text)
{
	struct cfg *cfg = cfg_new();
	struct cfg_msgs msgs;

	cfg_msgs_init(&msgs);
	ck_assert_ptr_nonnull(cfg);
	/* cfg_finish() numbers the servers (srv->id, nservers). */
	if (cfg_parse_text(cfg, "t.cfg", text, strlen(text), &msgs) < 0 ||
	    cfg_finish(cfg, &msgs) < 0 || cfg_resolve(cfg, &msgs) < 0)
		ck_abort_msg("config refused: %s", msgs.head ? msgs.head->text : "?");
	cfg_msgs_free(&msgs);
	return cfg;
}

/* The OpenShift API check from the docs: GET /readyz over check-ssl. */
START_TEST(test_cfg_openshift_api)
{
	struct cfg *cfg =
	    parse("listen api\n"
	          "    bind :6443\n"
	          "    mode tcp\n"
	          "    option httpchk GET /readyz HTTP/1.0\n"
	          "    http-check expect status 200\n"
	          "    server m1 192.0.2.10:6443 check check-ssl verify none inter 1s\n"
	          "    server m2 192.0.2.11:6443 check port 1936 addr 192.0.2.99\n");
	const struct cfg_proxy *be = cfg_find_proxy(cfg, "api", CFG_CAP_BE);
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[256], err[128], text[NET_ADDRSTRLEN];
	int n;

	ck_assert_ptr_nonnull(be);
	ck_assert_ptr_nonnull(be->servers);
	n = chk_build_http_request(be, be->servers, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_mem_eq(buf, "GET /readyz HTTP/1.0\r\n\r\n", (size_t)n);
	ck_assert(chk_status_ok(be, 200));
	ck_assert(!chk_status_ok(be, 204));
	ck_assert_int_eq(chk_target(be, be->servers, &ss, &len, err, sizeof(err)), 0);
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&ss, text, sizeof(text)),
	                 "192.0.2.10:6443");
	ck_assert_int_eq(chk_target(be, be->servers->next, &ss, &len, err, sizeof(err)), 0);
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&ss, text, sizeof(text)),
	                 "192.0.2.99:1936");
	cfg_free(cfg);
}
END_TEST

START_TEST(test_cfg_http_check_send)
{
	struct cfg *cfg =
	    parse("listen b\n"
	          "    bind :80\n"
	          "    option httpchk\n"
	          "    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host x\n"
	          "    server s 127.0.0.1:80 check\n");
	const struct cfg_proxy *be = cfg_find_proxy(cfg, "b", CFG_CAP_BE);
	char buf[256];
	const char *want = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

	ck_assert_ptr_nonnull(be);
	ck_assert_int_eq(chk_build_http_request(be, be->servers, buf, sizeof(buf)),
	                 (int)strlen(want));
	ck_assert_mem_eq(buf, want, strlen(want));
	cfg_free(cfg);

	cfg = parse("listen b\n    bind :80\n    option httpchk\n"
	            "    server s 127.0.0.1:80 check\n");
	be = cfg_find_proxy(cfg, "b", CFG_CAP_BE);
	want = "OPTIONS / HTTP/1.0\r\n\r\n";
	ck_assert_int_eq(chk_build_http_request(be, be->servers, buf, sizeof(buf)),
	                 (int)strlen(want));
	ck_assert_mem_eq(buf, want, strlen(want));
	cfg_free(cfg);
}
END_TEST

/* A parsed configuration drives a live check end to end. */
START_TEST(test_cfg_live)
{
	struct event_base *base = base_new();
	struct tserver ts;
	struct cfg *cfg;
	struct be be;
	char text[512], err[256];
	struct chk *chk;
	struct fx fx;

	ck_assert_int_eq(ts_start(&ts, base, "127.0.0.1", TS_HTTP), 0);
	ts.response = "HTTP/1.0 200 OK\r\n\r\n";
	snprintf(text, sizeof(text),
	         "listen b\n"
	         "    bind 127.0.0.1:1\n"
	         "    option httpchk GET /healthz/ready\n"
	         "    timeout check 500ms\n"
	         "    server s 127.0.0.1:1 check port %u inter 30ms rise 2 fall 2\n",
	         net_get_port((struct sockaddr *)&ts.addr));
	cfg = parse(text);
	ck_assert_int_eq(be_init(&be, cfg_find_proxy(cfg, "b", CFG_CAP_BE)), 0);
	chk = chk_start(base, &be.srvs[0], err, sizeof(err));
	ck_assert_msg(chk != NULL, "chk_start: %s", err);
	memset(&fx, 0, sizeof(fx));
	fx.base = base;
	fx.srv = &be.srvs[0];
	fx.chk = chk;
	fx.want_count = 3;
	fx.want_down = 1;
	fx_run(&fx, 2000);
	ck_assert_int_eq(atomic_load(&be.srvs[0].up), 1);
	ck_assert_str_eq(last(&fx), "Layer7 check passed: 200");
	ck_assert_str_eq(ts.request, "GET /healthz/ready HTTP/1.0\r\n\r\n");
	chk_stop(chk);
	be_destroy(&be);
	cfg_free(cfg);
	ts_stop(&ts);
	event_base_free(base);
}
END_TEST


/* When checks carry a PROXY header, and which one (HAProxy's rules). */
START_TEST(test_proxy_rules)
{
	struct cfg_server sv;

	memset(&sv, 0, sizeof(sv));
	ck_assert_int_eq(chk_sends_proxy(&sv), 0);
	sv.send_proxy = CFG_SEND_PROXY_V1;
	ck_assert_int_eq(chk_sends_proxy(&sv), 1);
	sv.send_proxy = CFG_SEND_PROXY_V2;
	ck_assert_int_eq(chk_sends_proxy(&sv), 2);
	sv.check_port = 1936; /* a router's plain readiness port */
	ck_assert_int_eq(chk_sends_proxy(&sv), 0);
	sv.check_send_proxy = 1;
	ck_assert_int_eq(chk_sends_proxy(&sv), 2);
	sv.check_port = 0;
	sv.check_send_proxy = 0;
	sv.check_addr = "127.0.0.2";
	ck_assert_int_eq(chk_sends_proxy(&sv), 0);
	sv.send_proxy = CFG_SEND_PROXY_NONE;
	sv.check_send_proxy = 1;
	ck_assert_int_eq(chk_sends_proxy(&sv), 1);
}
END_TEST

/* v2 checks send LOCAL (with crc32c/ssl TLVs only); v1 checks send a real
 * line built from the socket's own addresses, never UNKNOWN. */
START_TEST(test_proxy_header_bytes)
{
	static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
					0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
	struct cfg_server sv;
	uint8_t buf[PP_SEND_MAX];
	int fds[2], n;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	char line[128], expect[128];
	struct sockaddr_in local;
	socklen_t llen = sizeof(local);

	memset(&sv, 0, sizeof(sv));
	sv.send_proxy = CFG_SEND_PROXY_V2;
	sv.pp2_options = PP_V2_F_CRC32C | PP_V2_F_UNIQUE_ID | PP_V2_F_SSL;
	n = chk_build_proxy_header(&sv, 2, -1, buf, sizeof(buf));
	/* LOCAL needs no socket: 16 + CRC32C (7) + SSL (8) = 31, as HAProxy's. */
	ck_assert_int_eq(n, 31);
	ck_assert_mem_eq(buf, sig, 12);
	ck_assert_uint_eq(buf[12], 0x20);
	ck_assert_uint_eq(buf[13], 0x00);
	ck_assert_uint_eq(buf[14], 0x00);
	ck_assert_uint_eq(buf[15], 0x0F);

	sv.send_proxy = CFG_SEND_PROXY_V1;
	ck_assert_int_lt(chk_build_proxy_header(&sv, 1, -1, buf, sizeof(buf)), 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fds[0], (struct sockaddr *)&a, sizeof(a)), 0);
	fds[1] = accept(lfd, NULL, NULL);
	ck_assert_int_eq(getsockname(fds[0], (struct sockaddr *)&local, &llen), 0);
	n = chk_build_proxy_header(&sv, 1, fds[0], buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	memcpy(line, buf, (size_t)n);
	line[n] = '\0';
	snprintf(expect, sizeof(expect), "PROXY TCP4 127.0.0.1 127.0.0.1 %u %u\r\n",
		 ntohs(local.sin_port), ntohs(a.sin_port));
	ck_assert_str_eq(line, expect);
	close(fds[0]);
	close(fds[1]);
	close(lfd);
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *check_suite(void)
{
	Suite *s = suite_create("check");
	TCase *pure = tcase_create("pure");
	TCase *live = tcase_create("live");
	TCase *tls = tcase_create("tls");
	TCase *withcfg = tcase_create("cfg");

	tcase_add_test(pure, test_req_default);
	tcase_add_test(pure, test_req_option_httpchk_get);
	tcase_add_test(pure, test_req_send_with_host);
	tcase_add_test(pure, test_req_headers_in_order);
	tcase_add_test(pure, test_req_http11_default_host);
	tcase_add_test(pure, test_req_http10_no_host);
	tcase_add_test(pure, test_req_too_small);
	tcase_add_test(pure, test_req_refuses_crlf);
	tcase_add_test(pure, test_status_split_every_byte);
	tcase_add_test(pure, test_status_with_rest);
	tcase_add_test(pure, test_status_invalid);
	tcase_add_test(pure, test_status_ok);
	tcase_add_test(pure, test_target_ports);
	tcase_add_test(pure, test_target_errors);
	tcase_add_test(pure, test_interval);
	tcase_add_test(pure, test_timeouts);
	tcase_add_test(pure, test_proxy_rules);
	tcase_add_test(pure, test_proxy_header_bytes);
	suite_add_tcase(s, pure);

	tcase_set_timeout(live, 10);
	tcase_add_test(live, test_live_tcp_up);
	tcase_add_test(live, test_live_tcp_refused);
	tcase_add_test(live, test_live_check_port);
	tcase_add_test(live, test_live_downinter);
	tcase_add_test(live, test_live_http_200);
	tcase_add_test(live, test_live_http_503);
	tcase_add_test(live, test_live_http_expect_status);
	tcase_add_test(live, test_live_http_not_http);
	tcase_add_test(live, test_live_timeout_inter);
	tcase_add_test(live, test_live_timeout_check);
	tcase_add_test(live, test_live_stop_in_flight);
	tcase_add_test(live, test_live_ipv6);
	tcase_add_test(live, test_live_log_health_checks);
	suite_add_tcase(s, live);

	tcase_set_timeout(tls, 10);
	tcase_add_checked_fixture(tls, pki_setup, pki_teardown);
	tcase_add_test(tls, test_tls_verified);
	tcase_add_test(tls, test_tls_wrong_ca);
	tcase_add_test(tls, test_tls_verify_none);
	tcase_add_test(tls, test_tls_sni);
	tcase_add_test(tls, test_tls_http);
	tcase_add_test(tls, test_tls_handshake_timeout);
	tcase_add_test(tls, test_tls_against_plain);
	tcase_add_test(tls, test_start_errors);
	tcase_add_test(tls, test_tls_ctx_direct);
	suite_add_tcase(s, tls);

	tcase_set_timeout(withcfg, 10);
	tcase_add_test(withcfg, test_cfg_openshift_api);
	tcase_add_test(withcfg, test_cfg_http_check_send);
	tcase_add_test(withcfg, test_cfg_live);
	suite_add_tcase(s, withcfg);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(check_suite());
	int failed;

	/* OpenSSL writes with write(2): a peer that already closed raises
	 * SIGPIPE. The daemon ignores it in main(); so must this process. */
	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
