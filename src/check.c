/* check.c - health checks, on the main thread's event base.
 *
 * A check is a small state machine (enum chk_phase) advanced by libevent
 * callbacks; every phase change goes through set_phase(), which also owns
 * the deadline timer. The TCP connect uses a plain socket bufferevent; for
 * `check-ssl` the connected descriptor is then handed to an OpenSSL
 * bufferevent, so that a refused connection is reported as Layer4 and a
 * failed handshake as Layer6, as HAProxy does.
 *
 * Only one check per server is in flight: the interval timer is armed only
 * when a check ends (HAProxy also measures `inter` from one check's end to
 * the next one's start).
 */
#include <config.h>

#include "check.h"

#include "proxy_proto.h"

#include "backend.h"
#include "cfg.h"
#include "health.h"
#include "log.h"
#include "net.h"
#include "tls.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The request is built once; HAProxy's own limit is its buffer size. */
#define CHK_REQ_MAX 8192
/* A status line longer than this is not a health-check answer. */
#define CHK_STATUS_LINE_MAX 1024
#define CHK_REASON_MAX 256

enum chk_phase {
	CHK_PHASE_IDLE = 0,    /* waiting for the next interval */
	CHK_PHASE_CONNECTING,  /* TCP connect in progress */
	CHK_PHASE_HANDSHAKING, /* TLS handshake in progress */
	CHK_PHASE_SENDING,     /* HTTP request being written */
	CHK_PHASE_READING,     /* waiting for the HTTP status line */
};

static const char *const phase_names[] = {"IDLE", "CONNECTING", "HANDSHAKING", "SENDING",
                                          "READING"};

struct chk {
	struct event_base *base;
	struct srv *srv;
	const struct cfg_server *conf;
	const struct cfg_proxy *be;
	struct event *timer;    /* next check */
	struct event *deadline; /* current check's time limit */
	struct bufferevent *bev;
	SSL_CTX *ssl_ctx; /* NULL when the check is clear-text */
	char *req;        /* HTTP request, NULL for TCP/SSL checks */
	size_t reqlen;
	struct sockaddr_storage target;
	socklen_t target_len;
	unsigned connect_ms, after_ms;
	enum chk_phase phase;
	struct timespec started;
	unsigned long count;
	int last_success; /* -1 before the first result */
	char name[128];   /* "backend/server", for messages */
};

/* ---- pure parts ---- */

/* As HAProxy: a server's `ssl` carries over to its checks unless they go
 * elsewhere (`port`/`addr`); `check-ssl` forces TLS. */
int chk_uses_ssl(const struct cfg_server *srv, const struct cfg_proxy *be)
{
	if (srv->check_ssl || be->httpchk.connect_ssl)
		return 1;
	return srv->ssl && !srv->check_port && !srv->check_addr;
}

int chk_sends_proxy(const struct cfg_server *srv)
{
	int version = srv->send_proxy == CFG_SEND_PROXY_V2 ? 2 : 1;

	if (srv->check_send_proxy)
		return version;
	/* As HAProxy: checks carry the server's PROXY setting unless they go
	 * elsewhere (`port`/`addr`), like a router's plain :1936 readiness. */
	if (srv->send_proxy != CFG_SEND_PROXY_NONE && !srv->check_port && !srv->check_addr)
		return version;
	return 0;
}

int chk_build_proxy_header(const struct cfg_server *srv, int version, int fd, uint8_t *buf,
			   size_t len)
{
	struct sockaddr_storage local, peer;
	socklen_t llen = sizeof(local), plen = sizeof(peer);

	if (version == 2) {
		/* LOCAL, as HAProxy's checks: the receiver keeps the real
		 * addresses; only the TLVs that make sense without a client. */
		struct pp_v2_send snd = {.local = true,
					 .flags = srv->pp2_options & (PP_V2_F_CRC32C | PP_V2_F_SSL)};
		return pp_encode_v2(buf, len, &snd);
	}
	/* v1 has no LOCAL: a real line from the check socket, never UNKNOWN. */
	if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0 ||
	    getpeername(fd, (struct sockaddr *)&peer, &plen) != 0)
		return -1;
	return pp_encode_v1(buf, len, (struct sockaddr *)&local, (struct sockaddr *)&peer);
}

static int has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

/* The Host value an HTTP/1.1 check sends when the configuration gives
 * none: the address the check connects to, without the port. */
static void default_host(const struct cfg_server *srv, char *buf, size_t len)
{
	char ip[NET_ADDRSTRLEN];
	const char *host = srv->host ? srv->host : "localhost";

	if (srv->check_addr)
		host = srv->check_addr;
	else if (srv->addr.len)
		host = net_format_ip((const struct sockaddr *)&srv->addr.ss, ip, sizeof(ip));
	if (strchr(host, ':') && host[0] != '[')
		snprintf(buf, len, "[%s]", host);
	else
		snprintf(buf, len, "%s", host);
}

static int appendf(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* snprintf at `*used`; -1 when the text does not fit. */
static int appendf(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used)
		return -1;
	*used += (size_t)n;
	return 0;
}

int chk_build_http_request(const struct cfg_proxy *be, const struct cfg_server *srv, char *buf,
                           size_t len)
{
	const struct cfg_httpchk *hc = &be->httpchk;
	/* HAProxy's defaults for a bare `option httpchk`. */
	const char *meth = hc->method ? hc->method : "OPTIONS";
	const char *uri = hc->uri ? hc->uri : "/";
	const char *ver = hc->version ? hc->version : "HTTP/1.0";
	char host[NET_ADDRSTRLEN + 2];
	int have_host = 0;
	size_t used = 0;

	if (len == 0 || has_crlf(meth) || has_crlf(uri) || has_crlf(ver))
		return -1;
	if (appendf(buf, len, &used, "%s %s %s\r\n", meth, uri, ver) < 0)
		return -1;
	for (const struct cfg_hdr *h = hc->hdrs; h; h = h->next) {
		if (has_crlf(h->name) || has_crlf(h->value))
			return -1;
		if (strcasecmp(h->name, "host") == 0)
			have_host = 1;
		if (appendf(buf, len, &used, "%s: %s\r\n", h->name, h->value) < 0)
			return -1;
	}
	/* HAProxy 2.6 sends a Host only when `http-check send hdr Host` gives
	 * one. HTTP/1.1 makes Host mandatory, and servers answer 400 without
	 * it, so we add the check address there; HTTP/1.0 stays as HAProxy. */
	if (!have_host && strcmp(ver, "HTTP/1.1") == 0) {
		default_host(srv, host, sizeof(host));
		if (appendf(buf, len, &used, "Host: %s\r\n", host) < 0)
			return -1;
	}
	if (appendf(buf, len, &used, "\r\n") < 0)
		return -1;
	return (int)used;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Checks the bytes seen so far against "HTTP/1.D SP DDD", so that a
 * non-HTTP answer fails at its first wrong byte instead of a timeout. */
static int status_prefix_ok(const char *buf, size_t len)
{
	static const char proto[] = "HTTP/1.";

	for (size_t i = 0; i < len && i < 12; i++) {
		char c = buf[i];
		if (i < 7 && c != proto[i])
			return 0;
		if ((i == 7 || (i >= 9 && i <= 11)) && !is_digit(c))
			return 0;
		if (i == 8 && c != ' ')
			return 0;
	}
	return 1;
}

int chk_parse_status(const char *buf, size_t len)
{
	const char *lf;
	int code;

	if (!status_prefix_ok(buf, len))
		return -1;
	if (len < 13)
		return 0;
	/* After the code: end of line, or a space and a reason phrase. */
	if (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
		return -1;
	lf = memchr(buf + 12, '\n', len - 12);
	if (!lf)
		return 0;
	for (const char *p = buf + 12; p < lf; p++) {
		unsigned char c = (unsigned char)*p;
		/* A CR only right before the LF; no other control bytes. */
		if ((c < 0x20 && c != '\t' && !(c == '\r' && p + 1 == lf)) || c == 0x7f)
			return -1;
	}
	code = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	return code >= 100 ? code : -1;
}

int chk_status_ok(const struct cfg_proxy *be, int status)
{
	if (be->httpchk.expect_status)
		return status == be->httpchk.expect_status;
	return status >= 200 && status <= 399;
}

int chk_target(const struct cfg_proxy *be, const struct cfg_server *srv,
               struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen)
{
	uint16_t port = srv->port;

	if (srv->check_addr) {
		if (net_parse_ip(srv->check_addr, ss, sslen) < 0) {
			snprintf(err, errlen,
			         "invalid check address '%s' (an IP literal is needed)",
			         srv->check_addr);
			return -1;
		}
	} else if (srv->addr.len) {
		memcpy(ss, &srv->addr.ss, srv->addr.len);
		*sslen = srv->addr.len;
	} else {
		snprintf(err, errlen, "address '%s' is not resolved", srv->host ? srv->host : "?");
		return -1;
	}
	if (srv->check_port)
		port = srv->check_port;
	else if (be->httpchk.connect_port)
		port = be->httpchk.connect_port;
	else if (!port)
		port = net_get_port((const struct sockaddr *)&srv->addr.ss);
	if (!port) {
		snprintf(err, errlen, "no port to check (set `port`)");
		return -1;
	}
	net_set_port((struct sockaddr *)ss, port);
	return 0;
}

static unsigned server_inter(const struct cfg_server *srv)
{
	return srv->inter_ms ? srv->inter_ms : CFG_DEFAULT_INTER;
}

unsigned chk_interval(const struct cfg_server *srv, const struct health *h)
{
	unsigned inter = server_inter(srv);

	if (h->health >= h->rise + h->fall - 1)
		return inter;
	if (!h->up && h->health == 0)
		return srv->downinter_ms ? srv->downinter_ms : inter;
	return srv->fastinter_ms ? srv->fastinter_ms : inter;
}

void chk_timeouts(const struct cfg_proxy *be, const struct cfg_server *srv, unsigned *connect_ms,
                  unsigned *after_ms)
{
	unsigned inter = server_inter(srv);
	unsigned conn = be->timeout.connect ? be->timeout.connect : CFG_DEFAULT_TIMEOUT_CONNECT;

	if (be->timeout.check) {
		*connect_ms = conn < inter ? conn : inter;
		*after_ms = be->timeout.check;
	} else {
		*connect_ms = inter;
		*after_ms = 0;
	}
}

/* ---- the state machine ---- */

static void timer_cb(evutil_socket_t fd, short what, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);
static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);

static void arm(struct event *ev, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	evtimer_add(ev, &tv);
}

static int transition_allowed(enum chk_phase from, enum chk_phase to)
{
	switch (to) {
	case CHK_PHASE_IDLE:
		return 1; /* any phase may end the check */
	case CHK_PHASE_CONNECTING:
		return from == CHK_PHASE_IDLE;
	case CHK_PHASE_HANDSHAKING:
		return from == CHK_PHASE_CONNECTING;
	case CHK_PHASE_SENDING:
		return from == CHK_PHASE_CONNECTING || from == CHK_PHASE_HANDSHAKING;
	case CHK_PHASE_READING:
		return from == CHK_PHASE_SENDING;
	}
	return 0;
}

/* The one place the phase changes. It also keeps the timers consistent:
 * entering CONNECTING starts the deadline, leaving it switches to
 * `timeout check` when set, and IDLE drops the connection and schedules
 * the next check from the (already updated) health counter. */
static void set_phase(struct chk *chk, enum chk_phase to)
{
	enum chk_phase from = chk->phase;

	if (!transition_allowed(from, to)) {
		log_msg(LOG_ERR, "check %s: bug: phase %s -> %s refused", chk->name,
		        phase_names[from], phase_names[to]);
		abort();
	}
	chk->phase = to;
	if (log_debug_enabled())
		log_msg(LOG_DEBUG, "check %s: %s -> %s", chk->name, phase_names[from],
		        phase_names[to]);
	if (to == CHK_PHASE_CONNECTING) {
		arm(chk->deadline, chk->connect_ms);
	} else if (from == CHK_PHASE_CONNECTING && to != CHK_PHASE_IDLE && chk->after_ms) {
		arm(chk->deadline, chk->after_ms);
	} else if (to == CHK_PHASE_IDLE) {
		evtimer_del(chk->deadline);
		if (chk->bev) {
			bufferevent_free(chk->bev);
			chk->bev = NULL;
		}
		arm(chk->timer, chk_interval(chk->conf, &chk->srv->health));
	}
}

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* `option log-health-checks`: one line per change of outcome, worded as
 * HAProxy's ("status: 2/3 UP" counts towards the next transition). */
static void log_result(struct chk *chk, int success, const char *reason, int changed)
{
	const struct health *h = &chk->srv->health;

	if (!changed || !(chk->be->options & CFG_OPT_LOG_HEALTH_CHECKS))
		return;
	log_msg(LOG_INFO,
	        "Health check for %sserver %s %s, reason: %s, check duration: %ldms, "
	        "status: %d/%d %s.",
	        chk->conf->backup ? "backup " : "", chk->name, success ? "succeeded" : "failed",
	        reason, elapsed_ms(&chk->started), h->up ? h->health - h->rise + 1 : h->health,
	        h->up ? h->fall : h->rise, h->up ? "UP" : "DOWN");
}

static void finish(struct chk *chk, int success, const char *reason)
{
	struct srv *srv = chk->srv;
	int changed = success != chk->last_success || !srv->last_check ||
	              strcmp(srv->last_check, reason) != 0;

	if (changed) {
		char *copy = strdup(reason);
		if (copy) {
			free(srv->last_check);
			srv->last_check = copy;
		}
	}
	chk->last_success = success;
	chk->count++;
	srv_check_result(srv, success, reason);
	log_result(chk, success, reason, changed);
	set_phase(chk, CHK_PHASE_IDLE);
}

static void finishf(struct chk *chk, int success, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finishf(struct chk *chk, int success, const char *fmt, ...)
{
	char reason[CHK_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	finish(chk, success, reason);
}

static void send_request(struct chk *chk)
{
	set_phase(chk, CHK_PHASE_SENDING);
	bufferevent_setcb(chk->bev, read_cb, write_cb, event_cb, chk);
	bufferevent_enable(chk->bev, EV_READ | EV_WRITE);
	if (bufferevent_write(chk->bev, chk->req, chk->reqlen) < 0)
		finishf(chk, 0, "Layer7 invalid response: cannot queue the request");
}

/* The SNI of a check: `http-check connect sni` (the rule's own) wins over
 * the server's `check-sni`, as in HAProxy's tcp-check connect. */
static const char *check_sni(const struct chk *chk)
{
	if (chk->be->httpchk.connect_sni)
		return chk->be->httpchk.connect_sni;
	return chk->conf->check_sni;
}

/* The chain is verified by OpenSSL itself (SSL_VERIFY_PEER); the host
 * name, when an SNI is set, as HAProxy does without `verifyhost`: against
 * the SNI. */
static SSL *new_ssl(struct chk *chk)
{
	SSL *ssl = SSL_new(chk->ssl_ctx);
	const char *sni = check_sni(chk);

	if (!ssl)
		return NULL;
	if (sni && *sni) {
		if (SSL_set_tlsext_host_name(ssl, sni) != 1 ||
		    (chk->conf->verify != CFG_VERIFY_NONE && SSL_set1_host(ssl, sni) != 1)) {
			SSL_free(ssl);
			return NULL;
		}
	}
	return ssl;
}

/* Move the connected descriptor from the socket bufferevent to an OpenSSL
 * one in client mode. */
static void start_tls(struct chk *chk)
{
	evutil_socket_t fd = bufferevent_getfd(chk->bev);
	char ossl[CHK_REASON_MAX];
	SSL *ssl;

	bufferevent_setfd(chk->bev, -1); /* keep the fd open across the free */
	bufferevent_free(chk->bev);
	chk->bev = NULL;
	set_phase(chk, CHK_PHASE_HANDSHAKING);
	ERR_clear_error();
	ssl = new_ssl(chk);
	if (ssl)
		chk->bev = bufferevent_openssl_socket_new(
		    chk->base, fd, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (!chk->bev) {
		SSL_free(ssl);
		close(fd);
		finishf(chk, 0, "Layer6 invalid response: %s", tls_errors(ossl, sizeof(ossl)));
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(chk->bev, 1);
	bufferevent_setcb(chk->bev, NULL, NULL, event_cb, chk);
	bufferevent_enable(chk->bev, EV_READ);
}

/* The frontend's client-IP strategy wins over the servers' settings: with
 * PROXY on the data path the routers refuse checks without it. A check
 * sent elsewhere (`port`/`addr`, e.g. :1936) stays plain. */
static int proxy_version(const struct chk *chk)
{
	int forced = atomic_load_explicit(&chk->srv->be->check_pp, memory_order_relaxed);

	if (forced == BE_CHECK_PP_AUTO)
		forced = srv_pp_mode(chk->srv) == SRV_PP_PROXY ? 2 : -1;
	if (forced > 0 && !chk->conf->check_port && !chk->conf->check_addr)
		return forced;
	return chk_sends_proxy(chk->conf);
}

/* The PROXY header goes out in clear, in one send() on the fresh socket,
 * before the TLS handshake or the HTTP request (a few dozen bytes always
 * fit in an empty socket buffer). */
static int send_proxy(struct chk *chk)
{
	uint8_t hdr[PP_SEND_MAX];
	int fd = bufferevent_getfd(chk->bev);
	int n = chk_build_proxy_header(chk->conf, proxy_version(chk), fd, hdr, sizeof(hdr));

	if (n < 0)
		return -1;
	return send(fd, hdr, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

static void on_connected(struct chk *chk)
{
	if (chk->phase == CHK_PHASE_CONNECTING && proxy_version(chk) && send_proxy(chk) < 0) {
		finishf(chk, 0, "Layer4 connection problem: cannot send the PROXY header: %s",
			strerror(errno));
		return;
	}
	if (chk->phase == CHK_PHASE_CONNECTING && chk->ssl_ctx) {
		start_tls(chk);
		return;
	}
	if (chk->req) {
		send_request(chk);
		return;
	}
	if (chk->phase == CHK_PHASE_HANDSHAKING)
		finish(chk, 1, "Layer6 check passed");
	else
		finish(chk, 1, "Layer4 check passed");
}

/* "certificate verify failed: unable to get local issuer certificate"
 * rather than OpenSSL's bare reason: the verify result says why. */
static const char *tls_failure(struct chk *chk, char *buf, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(chk->bev);
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e;
	int err = EVUTIL_SOCKET_ERROR();

	if (vr != X509_V_OK) {
		snprintf(buf, len, "certificate verify failed: %s",
		         X509_verify_cert_error_string(vr));
		while (bufferevent_get_openssl_error(chk->bev))
			;
		return buf;
	}
	e = bufferevent_get_openssl_error(chk->bev);
	if (e) {
		const char *r = ERR_reason_error_string(e);
		if (r)
			snprintf(buf, len, "%s", r);
		else
			ERR_error_string_n(e, buf, len);
		while (bufferevent_get_openssl_error(chk->bev))
			;
		return buf;
	}
	snprintf(buf, len, "%s", err ? strerror(err) : "TLS handshake failure");
	return buf;
}

static void on_error(struct chk *chk, short what)
{
	char why[CHK_REASON_MAX];
	int err = EVUTIL_SOCKET_ERROR();

	switch (chk->phase) {
	case CHK_PHASE_CONNECTING:
		if (!err) {
			socklen_t elen = sizeof(err);
			getsockopt(bufferevent_getfd(chk->bev), SOL_SOCKET, SO_ERROR, &err, &elen);
		}
		finishf(chk, 0, "Layer4 connection problem: %s",
		        err ? strerror(err) : "connection failed");
		return;
	case CHK_PHASE_HANDSHAKING:
		if (what & BEV_EVENT_EOF)
			finishf(chk, 0,
			        "Layer6 invalid response: connection closed during handshake");
		else
			finishf(chk, 0, "Layer6 invalid response: %s",
			        tls_failure(chk, why, sizeof(why)));
		return;
	case CHK_PHASE_SENDING:
	case CHK_PHASE_READING:
		if (what & BEV_EVENT_EOF)
			finishf(chk, 0,
			        "Layer7 invalid response: connection closed before the "
			        "status line");
		else if (chk->ssl_ctx)
			finishf(chk, 0, "Layer7 invalid response: %s",
			        tls_failure(chk, why, sizeof(why)));
		else
			finishf(chk, 0, "Layer7 invalid response: %s",
			        err ? strerror(err) : "read error");
		return;
	case CHK_PHASE_IDLE:
		return;
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct chk *chk = arg;

	if (what & BEV_EVENT_CONNECTED)
		on_connected(chk);
	else if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF | BEV_EVENT_TIMEOUT))
		on_error(chk, what);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct chk *chk = arg;

	if (chk->phase == CHK_PHASE_SENDING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		set_phase(chk, CHK_PHASE_READING);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct chk *chk = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	size_t look = len < CHK_STATUS_LINE_MAX ? len : CHK_STATUS_LINE_MAX;
	const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
	int status = chk_parse_status(p, look);

	if (status == 0 && look < CHK_STATUS_LINE_MAX)
		return; /* wait for the rest of the line */
	if (status == 0)
		finishf(chk, 0, "Layer7 invalid response: status line too long");
	else if (status < 0)
		finishf(chk, 0, "Layer7 invalid response: not HTTP");
	else if (chk_status_ok(chk->be, status))
		finishf(chk, 1, "Layer7 check passed: %d", status);
	else
		finishf(chk, 0, "Layer7 wrong status: %d", status);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct chk *chk = arg;

	switch (chk->phase) {
	case CHK_PHASE_CONNECTING:
		finish(chk, 0, "Layer4 timeout");
		return;
	case CHK_PHASE_HANDSHAKING:
		finish(chk, 0, "Layer6 timeout");
		return;
	case CHK_PHASE_SENDING:
	case CHK_PHASE_READING:
		finish(chk, 0, "Layer7 timeout");
		return;
	case CHK_PHASE_IDLE:
		return;
	}
}

/* ppbridge itself is out of descriptors: the server did nothing wrong,
 * so this round counts neither way (a full process must not take every
 * server DOWN); the next round tries again. */
static int no_descriptor(struct chk *chk, int err)
{
	static struct log_gate gate;
	unsigned long long held;

	if (err != EMFILE && err != ENFILE)
		return 0;
	if (log_gate_pass(&gate, &held))
		log_msg(LOG_WARNING, "check %s: no descriptor (%s): round skipped, not counted "
			"(%llu more since the last line)", chk->name, strerror(err), held);
	set_phase(chk, CHK_PHASE_IDLE);
	return 1;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct chk *chk = arg;

	if (chk->phase != CHK_PHASE_IDLE)
		return;
	clock_gettime(CLOCK_MONOTONIC, &chk->started);
	chk->bev = bufferevent_socket_new(chk->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!chk->bev) {
		/* Not even started: report it, or the server would never move. */
		set_phase(chk, CHK_PHASE_CONNECTING);
		finishf(chk, 0, "Layer4 connection problem: %s", strerror(errno));
		return;
	}
	bufferevent_setcb(chk->bev, NULL, NULL, event_cb, chk);
	set_phase(chk, CHK_PHASE_CONNECTING);
	/* Refusals and completions come back through event_cb (deferred);
	 * only a local failure (no route, no descriptor) returns -1 here. */
	if (bufferevent_socket_connect(chk->bev, (struct sockaddr *)&chk->target,
	                               (int)chk->target_len) < 0 &&
	    !no_descriptor(chk, errno))
		finishf(chk, 0, "Layer4 connection problem: %s", strerror(errno));
}

/* ---- setup ---- */

static int setup_tls(struct chk *chk, char *err, size_t errlen)
{
	const struct cfg_server *cs = chk->conf;
	int verify_none = cs->verify == CFG_VERIFY_NONE;
	char why[512];

	if (!chk_uses_ssl(cs, chk->be))
		return 0;
	/* HAProxy 2.6 refuses this too ("verify is enabled by default but no
	 * CA file specified"): the system store is not a trust anchor for
	 * private cluster CAs, and silently checking nothing is worse. */
	if (!verify_none && !cs->ca_file) {
		snprintf(err, errlen,
		         "server '%s': verify required needs a ca-file (or set verify none)",
		         chk->name);
		return -1;
	}
	chk->ssl_ctx = tls_client_ctx_new(cs->ca_file, verify_none, why, sizeof(why));
	if (!chk->ssl_ctx) {
		snprintf(err, errlen, "server '%s': %s", chk->name, why);
		return -1;
	}
	return 0;
}

static int setup_http(struct chk *chk, char *err, size_t errlen)
{
	char buf[CHK_REQ_MAX];
	int n;

	if (!chk->be->httpchk.enabled)
		return 0;
	n = chk_build_http_request(chk->be, chk->conf, buf, sizeof(buf));
	if (n < 0) {
		/* CR/LF comes from the legacy `option httpchk GET / HTTP/1.1\r\nHost:\ x`
		 * form, which HAProxy splits into headers; we ask for the modern one. */
		snprintf(err, errlen,
		         "server '%s': the http-check request is too long or holds CR/LF "
		         "(write headers as `http-check send hdr <name> <value>`)",
		         chk->name);
		return -1;
	}
	chk->req = malloc((size_t)n);
	if (!chk->req) {
		snprintf(err, errlen, "server '%s': out of memory", chk->name);
		return -1;
	}
	memcpy(chk->req, buf, (size_t)n);
	chk->reqlen = (size_t)n;
	return 0;
}

/* HAProxy spreads the first checks of a backend over one interval; a
 * spread by position keeps restarts (and tests) reproducible. */
static unsigned first_delay(const struct chk *chk)
{
	int n = chk->be->nservers > 0 ? chk->be->nservers : 1;
	int pos = chk->conf->id > 0 ? (chk->conf->id - 1) % n : 0;

	return (unsigned)((unsigned long long)server_inter(chk->conf) * (unsigned)pos /
	                  (unsigned)n);
}

static int setup(struct chk *chk, char *err, size_t errlen)
{
	char why[256];

	if (!chk->conf->check) {
		snprintf(err, errlen, "server '%s' has no `check`", chk->name);
		return -1;
	}
	if (chk_target(chk->be, chk->conf, &chk->target, &chk->target_len, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "server '%s': %s", chk->name, why);
		return -1;
	}
	if (setup_tls(chk, err, errlen) < 0 || setup_http(chk, err, errlen) < 0)
		return -1;
	chk_timeouts(chk->be, chk->conf, &chk->connect_ms, &chk->after_ms);
	chk->timer = evtimer_new(chk->base, timer_cb, chk);
	chk->deadline = evtimer_new(chk->base, deadline_cb, chk);
	if (!chk->timer || !chk->deadline) {
		snprintf(err, errlen, "server '%s': cannot create timers", chk->name);
		return -1;
	}
	return 0;
}

static void chk_free(struct chk *chk)
{
	if (chk->bev)
		bufferevent_free(chk->bev);
	if (chk->timer)
		event_free(chk->timer);
	if (chk->deadline)
		event_free(chk->deadline);
	SSL_CTX_free(chk->ssl_ctx);
	free(chk->req);
	free(chk);
}

struct chk *chk_start(struct event_base *base, struct srv *srv, char *err, size_t errlen)
{
	struct chk *chk = calloc(1, sizeof(*chk));

	if (!chk) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	chk->base = base;
	chk->srv = srv;
	chk->conf = srv->conf;
	chk->be = srv->be->conf;
	chk->phase = CHK_PHASE_IDLE;
	chk->last_success = -1;
	snprintf(chk->name, sizeof(chk->name), "%s/%s", chk->be->name ? chk->be->name : "?",
	         chk->conf->name ? chk->conf->name : "?");
	if (setup(chk, err, errlen) < 0) {
		chk_free(chk);
		return NULL;
	}
	arm(chk->timer, first_delay(chk));
	srv->chk = chk;
	return chk;
}

void chk_stop(struct chk *chk)
{
	if (!chk)
		return;
	if (chk->srv->chk == chk)
		chk->srv->chk = NULL;
	chk_free(chk);
}

unsigned long chk_count(const struct chk *chk)
{
	return chk->count;
}
