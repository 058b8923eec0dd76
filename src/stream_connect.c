/* stream_connect.c - a stream's server side: choosing the server, the
 * non-blocking connect with retries and redispatch, the outbound PROXY
 * header (in clear, first, in one send), TLS to the server, and the
 * server socket's events.
 *
 * A connect that fails before any client byte reached the server is tried
 * again (`retries`, `option redispatch`): the client's bytes stay queued
 * on our side meanwhile, so nothing is lost. ppbridge's own shortage of
 * descriptors is not the server's failure: no retry, 503 or a close.
 */
#include <config.h>

#include "stream_int.h"

#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "log.h"
#include "net.h"
#include "proxy_proto.h"
#include "sample.h"
#include "tls.h"
#include "worker.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* start_connect(): no socket to be had - ppbridge's shortage, not the server's. */
#define STRM_CONNECT_NO_FD (-2)

/* Where the client connected: the inbound header's destination, or our
 * own socket's address (asked only when a header needs it). */
const struct sockaddr *strm_frontend_addr(struct stream *s)
{
	if (!s->have_dst) {
		socklen_t len = sizeof(s->dst_addr);
		if (getsockname(s->cli_side.fd, (struct sockaddr *)&s->dst_addr,
				&len) != 0)
			return NULL;
		s->have_dst = 1;
	}
	return (const struct sockaddr *)&s->dst_addr;
}

/* A UNIQUE_ID when the upstream header brought none: unique per process
 * (pid, accept time, stream id), 32 hex digits. */
static struct pp_bytes make_unique_id(struct stream *s, char *buf, size_t len)
{
	struct pp_bytes b;

	snprintf(buf, len, "%08X%08lX%016llX", (unsigned)getpid(),
		 (unsigned long)(s->t_accept.tv_sec ^ s->t_accept.tv_usec), s->id);
	b.ptr = (const uint8_t *)buf;
	b.len = strlen(buf);
	return b;
}

static int build_proxy_header(struct stream *s, uint8_t *hdr, size_t size)
{
	const struct cfg_server *sc = s->srv->conf;
	const struct sockaddr *src = (const struct sockaddr *)&s->cli_addr;
	const struct sockaddr *dst = strm_frontend_addr(s);
	char uid[40];
	int n;

	if (s->conn->pp == 1) {
		n = pp_encode_v1(hdr, size, src, dst);
	} else {
		struct pp_v2_send snd = {.src = src, .dst = dst, .flags = sc->pp2_options};
		snd.unique_id = s->up_unique_id.ptr ? s->up_unique_id
						    : make_unique_id(s, uid, sizeof(uid));
		snd.authority = s->up_authority;
		if (!snd.authority.ptr && s->hello_sni) {
			/* A passthrough: the name the client asked for, from its
			 * ClientHello (HAProxy sends it only when it terminates). */
			snd.authority.ptr = (const uint8_t *)s->hello_sni;
			snd.authority.len = strlen(s->hello_sni);
		}
		snd.ssl = NULL; /* not terminated here: the SSL TLV says client=0 */
		n = pp_encode_v2(hdr, size, &snd);
	}
	if (n < 0)
		log_msg(LOG_ERR, "%s/%s: cannot build the PROXY header for stream %llu (%s)",
			s->be->conf->name, sc->name, s->id,
			n == PP_ENC_TOO_LARGE ? "larger than 512 bytes" : "invalid value");
	return n;
}

static int send_proxy_header(struct stream *s)
{
	uint8_t hdr[PP_SEND_MAX];
	int n = build_proxy_header(s, hdr, sizeof(hdr));

	/* First in the server's queue: it leaves in the first write, alone
	 * or ahead of the client's bytes, never split by them. */
	return n < 0 ? -1 : strm_queue_prepend(&s->srv_side, hdr, (size_t)n);
}

int strm_pp_version(const struct stream *s)
{
	int fixed = path_fixed_pp(s->path);

	if (fixed >= 0)
		return fixed;
	if (strm_auto(s)) /* the XFF path: PROXY only to a server that now needs it */
		return srv_pp_mode(s->srv) == SRV_PP_PROXY ? strm_auto_pp_version(s->srv) : 0;
	return (int)s->srv->conf->send_proxy; /* the enum's value is the version */
}

const char *strm_server_sni(struct stream *s, const struct srv *srv, char *buf, size_t len)
{
	const struct cfg_server *sc = srv->conf;
	struct sample_ctx ctx = {.src = (const struct sockaddr *)&s->cli_addr, .sni = s->sni};

	buf[0] = '\0';
	if (!sc->sni)
		return buf;
	if (s->http)
		strm_http_sample_ctx(s, &ctx);
	ctx.dst = strm_frontend_addr(s);
	if (sample_expand(sc->sni, &ctx, buf, len) < 0)
		buf[0] = '\0';
	return buf;
}

void strm_release_srv(struct stream *s)
{
	if (s->srv_held) {
		atomic_fetch_sub(&s->srv->cur_conns, 1);
		s->srv_held = 0;
	}
}

void strm_close_server_fd(struct stream *s)
{
	conn_free(s->conn);
	s->conn = NULL;
	if (s->srv_side.fd < 0)
		return;
	if (s->srv_side.rev_on)
		event_del(s->srv_side.rev);
	if (s->srv_side.wev_on)
		event_del(s->srv_side.wev);
	s->srv_side.rev_on = s->srv_side.wev_on = 0;
	if (s->srv_side.ssl) {
		if (!s->srv_side.hs && !s->srv_side.eof)
			SSL_shutdown(s->srv_side.ssl); /* close_notify; no wait for the answer */
		SSL_free(s->srv_side.ssl);
		s->srv_side.ssl = NULL;
		s->srv_side.hs = s->srv_side.ssl_wants_write = 0;
	}
	close(s->srv_side.fd);
	s->srv_side.fd = -1;
	/* The queue stays: a retry sends it to the next server. */
	s->srv_side.eof = s->srv_side.shut = 0;
}

/* HAProxy's `option redispatch [N]`: N > 0 redispatches every Nth retry,
 * N < 0 on the |N|th retry before the last (default -1: the last one). */
static int want_redispatch(const struct stream *s)
{
	const struct cfg_proxy *bc = s->be->conf;
	int retry = s->attempts; /* the retry about to be made: 1..retries */
	int n = bc->redispatch_interval;

	if (!(bc->options & CFG_OPT_REDISPATCH))
		return 0;
	if (n > 0)
		return retry % n == 0;
	if (n == 0)
		return 0; /* `option redispatch 0`: never, as HAProxy */
	return retry >= bc->retries + 1 + n;
}

static struct srv *choose_server(struct stream *s)
{
	const struct sockaddr *client = (const struct sockaddr *)&s->cli_addr;

	if (s->attempts == 0 && s->presel) {
		struct srv *chosen = s->presel;
		s->presel = NULL;
		if (srv_usable(chosen))
			return chosen;
	}
	if (s->attempts == 0)
		return be_select(s->be, client, NULL);
	if (!want_redispatch(s) && srv_usable(s->srv))
		return s->srv;
	struct srv *next = be_select(s->be, client, s->tried);
	/* Every server tried already: start over rather than give up early. */
	return next ? next : be_select(s->be, client, NULL);
}

static void set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* `option tcpka|clitcpka|srvtcpka`: kernel keep-alive probes on that side. */
void strm_set_keepalive(int fd, unsigned options, unsigned side_opt)
{
	int one = 1;

	if (options & (CFG_OPT_TCPKA | side_opt))
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

/* A non-blocking connect; completion (or the connect timeout) arrives
 * as the server's write event. Returns -1 on an immediate failure of the
 * connect, STRM_CONNECT_NO_FD when socket() itself failed. */
static int start_connect(struct stream *s, const struct cfg_server *sc)
{
	unsigned ms = cfg_timeout_connect(s->be->conf);
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	int fd;

	if (!(s->conn = conn_new(s->srv)))
		return -1;
	fd = socket(sc->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return STRM_CONNECT_NO_FD;
	s->srv_side.fd = fd;
	s->srv_side.idle_since = strm_now_ms(); /* the server's clock starts with its connection */
	set_nodelay(fd);
	strm_set_keepalive(fd, s->be->conf->options, CFG_OPT_SRVTCPKA);
	if (connect(fd, (const struct sockaddr *)&sc->addr.ss, sc->addr.len) < 0 &&
	    errno != EINPROGRESS)
		return -1;
	event_assign(s->srv_side.rev, s->w->base, fd, EV_READ | EV_PERSIST, strm_on_srv_io, s);
	event_assign(s->srv_side.wev, s->w->base, fd, EV_WRITE | EV_PERSIST, strm_on_srv_io, s);
	event_add(s->srv_side.wev, &tv);
	s->srv_side.wev_on = 1;
	return 0;
}

void strm_attempt_failed(struct stream *s, char cause)
{
	struct srv *srv = s->srv;

	strm_release_srv(s);
	atomic_fetch_add(&srv->conn_failures, 1);
	strm_close_server_fd(s);
	if (!s->tried)
		s->tried = calloc((size_t)s->be->nsrv, 1);
	if (s->tried)
		s->tried[srv - s->be->srvs] = 1;
	if (s->attempts > s->be->conf->retries) {
		atomic_fetch_add(&s->fe->ctr.conn_fail, 1);
		log_msg(LOG_WARNING, "%s/%s: giving up on stream %llu after %d attempts",
			s->be->conf->name, srv->conf->name, s->id, s->attempts);
		if (s->http && strm_http_connect_failed(s, cause))
			return;
		strm_set_term(s, cause, 'C');
		strm_close(s);
		return;
	}
	strm_connect_next(s);
}

/* EMFILE/ENFILE on the server side: the server is not at fault (no
 * failure counted, no retry elsewhere that would fail the same way); the
 * client gets a 503 (mode http) or a close, term "RC" as HAProxy. */
static void no_descriptor(struct stream *s, int err)
{
	static struct log_gate gate;
	unsigned long long held;

	strm_release_srv(s);
	conn_free(s->conn);
	s->conn = NULL;
	atomic_fetch_add(&s->fe->ctr.fd_exhausted, 1);
	if (log_gate_pass(&gate, &held))
		log_msg(LOG_ERR, "frontend %s: no socket for a connection to %s/%s (%s): %s stream "
			"%llu (%llu more since the last line)", s->fe->conf->name, s->be->conf->name,
			s->srv->conf->name, strerror(err), s->http ? "503 to" : "closing", s->id,
			held);
	if (s->http && strm_http_connect_failed(s, 'R'))
		return;
	strm_set_term(s, 'R', 'C');
	strm_close(s);
}

void strm_connect_next(struct stream *s)
{
	struct srv *srv = choose_server(s);

	if (!srv) {
		atomic_fetch_add(&s->fe->ctr.no_server, 1);
		if (s->http && strm_http_connect_failed(s, 'N'))
			return;
		strm_set_term(s, 'S', 'C');
		log_msg(LOG_WARNING, "frontend %s: no server available in backend %s, closing stream %llu",
			s->fe->conf->name, s->be->conf->name, s->id);
		strm_close(s);
		return;
	}
	s->srv = srv;
	s->attempts++;
	strm_set_state(s, STRM_ST_CONNECTING);
	atomic_fetch_add(&srv->cur_conns, 1);
	s->srv_held = 1;
	atomic_fetch_add(&srv->total_conns, 1);
	switch (start_connect(s, srv->conf)) {
	case 0:
		strm_update_interest(s);
		return;
	case STRM_CONNECT_NO_FD:
		no_descriptor(s, errno);
		return;
	default:
		strm_attempt_failed(s, 'S');
		return;
	}
}

/* The server connection is usable (TCP, and TLS when asked). */
static void connected_done(struct stream *s)
{
	s->connect_ms = strm_ms_since(&s->mono_accept);
	if (s->srv_side.wev_on) {
		event_del(s->srv_side.wev); /* drop the connect timeout */
		s->srv_side.wev_on = 0;
	}
	if (s->srv_side.ssl && strm_flush(&s->srv_side) < 0) {
		strm_side_failed(s, &s->srv_side);
		return;
	}
	if (s->http) {
		strm_http_connected(s);
		return;
	}
	strm_set_state(s, STRM_ST_ESTABLISHED);
	strm_settle(s);
}

static void server_handshake(struct stream *s)
{
	int r = strm_run_handshake(&s->srv_side);

	if (r == 0) {
		strm_update_interest(s);
		return;
	}
	if (r < 0) {
		char why[256];
		long v = SSL_get_verify_result(s->srv_side.ssl);
		if (v != X509_V_OK)
			snprintf(why, sizeof(why), "certificate verify failed: %s",
				 X509_verify_cert_error_string(v));
		else
			tls_errors(why, sizeof(why));
		log_msg(LOG_WARNING, "%s/%s: TLS handshake failed (stream %llu): %s",
			s->be->conf->name, s->srv->conf->name, s->id, why[0] ? why : "closed");
		/* A router that now wants PROXY closes on a bare ClientHello;
		 * one that no longer does fails on the header: retry the other way. */
		if (v == X509_V_OK &&
		    (strm_conn_pp(s) || BIO_number_read(SSL_get_rbio(s->srv_side.ssl)) == 0) &&
		    strm_auto_flip(s, strm_conn_pp(s) ? "TLS handshake failed after a PROXY header"
						 : "closed on a ClientHello without a PROXY header")) {
			strm_release_srv(s);
			strm_close_server_fd(s);
			strm_connect_next(s);
			return;
		}
		strm_attempt_failed(s, 'S');
		return;
	}
	connected_done(s);
}

/* TCP is up to a server with `ssl`: a PROXY header goes first, in clear,
 * in one send; then the TLS handshake, then the queued bytes, encrypted. */
static void start_server_tls(struct stream *s)
{
	char sni[256];
	SSL *ssl;

	s->conn->pp = strm_pp_version(s);
	if (s->conn->pp) {
		uint8_t hdr[PP_SEND_MAX];
		int n = build_proxy_header(s, hdr, sizeof(hdr));
		if (n < 0) {
			strm_set_term(s, 'P', 'C');
			strm_close(s);
			return;
		}
		if (send(s->srv_side.fd, hdr, (size_t)n, MSG_NOSIGNAL) != n) {
			strm_attempt_failed(s, 'S');
			return;
		}
	}
	/* The HTTP loop expanded it while the request head was intact (a
	 * sample such as req.hdr(host) reads it); a retry reuses it. */
	if (s->http && s->req_sni)
		snprintf(sni, sizeof(sni), "%s", s->req_sni);
	else
		strm_server_sni(s, s->srv, sni, sizeof(sni));
	ssl = tls_client_ssl_new(s->srv->tls, sni);
	if (!ssl || SSL_set_fd(ssl, s->srv_side.fd) != 1) {
		SSL_free(ssl);
		strm_attempt_failed(s, 'R');
		return;
	}
	SSL_set_mode(ssl, STRM_SSL_MODES);
	free(s->conn->sni);
	s->conn->sni = strdup(sni);
	s->srv_side.ssl = ssl;
	s->srv_side.hs = 1;
	clock_gettime(CLOCK_MONOTONIC, &s->hs_start);
	event_del(s->srv_side.wev); /* the connect timeout; the handshake has its own */
	s->srv_side.wev_on = 0;
	server_handshake(s);
}

/* The server socket became writable while connecting. When bytes wait for
 * it (the client's, a PROXY header, an HTTP request) sending them is the
 * test: a refused connect fails that send, and no getsockopt() is spent. */
static void on_connected(struct stream *s)
{
	unsigned long long before = s->srv_side.bytes_written;
	size_t hdr = s->srv_side.q_len;

	if (s->srv->conf->ssl && s->srv->tls && path_server_tls(s->path)) {
		start_server_tls(s);
		return;
	}

	s->conn->pp = strm_pp_version(s);
	if (s->conn->pp && send_proxy_header(s) < 0) {
		strm_set_term(s, 'P', 'C');
		strm_close(s);
		return;
	}
	hdr = s->srv_side.q_len - hdr; /* the PROXY header now in front of the queue */
	if (strm_flush(&s->srv_side) < 0) {
		if (s->srv_side.bytes_written == before) {
			/* Nothing reached it: the connect failed. Take our header
			 * back out; the retry builds its own. */
			s->srv_side.q_off += hdr;
			s->srv_side.q_len -= hdr;
			strm_attempt_failed(s, 'S');
			return;
		}
		strm_side_failed(s, &s->srv_side);
		return;
	}
	connected_done(s);
}

static void srv_io(struct stream *s, evutil_socket_t fd, short what)
{

	if (s->state == STRM_ST_CONNECTING && s->srv_side.hs) {
		server_handshake(s);
		return;
	}
	if (s->state == STRM_ST_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (what & EV_TIMEOUT) {
			strm_attempt_failed(s, 's');
			return;
		}
		if (s->srv_side.q_len == 0 && s->srv->conf->send_proxy == CFG_SEND_PROXY_NONE &&
		    (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)) {
			strm_attempt_failed(s, 'S');
			return;
		}
		on_connected(s);
		return;
	}
	if (s->http && s->state != STRM_ST_ESTABLISHED) {
		strm_http_on_srv_io(s, what);
		return;
	}
	if ((what & EV_WRITE) && strm_flush(&s->srv_side) < 0) {
		strm_side_failed(s, &s->srv_side);
		return;
	}
	if ((what & EV_READ) && strm_relay_read(s, &s->srv_side) < 0)
		return;
	strm_settle(s);
}

void strm_on_srv_io(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	strm_enter(s);
	srv_io(s, fd, what);
	strm_leave(s);
}

void strm_attach_conn(struct stream *s, struct srv_conn *conn)
{
	int fd = conn->fd;

	s->conn = conn;
	s->srv_side.ssl = conn->ssl;
	conn->fd = -1;
	conn->ssl = NULL;
	s->srv_side.fd = fd;
	s->srv_side.idle_since = strm_now_ms();
	s->srv_side.eof = s->srv_side.shut = 0;
	s->srv_side.rev_on = s->srv_side.wev_on = 0;
	event_assign(s->srv_side.rev, s->w->base, fd, EV_READ | EV_PERSIST, strm_on_srv_io, s);
	event_assign(s->srv_side.wev, s->w->base, fd, EV_WRITE | EV_PERSIST, strm_on_srv_io, s);
}
