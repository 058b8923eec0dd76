/* stream.c - one client <-> server session: an explicit state machine.
 *
 *   INIT [--> PROXY_WAIT] --select--> CONNECTING --connected--> ESTABLISHED --> CLOSED
 *                                       |  ^
 *                                       +--+ connect failed, retry (client
 *                                            bytes stay queued on our side,
 *                                            so nothing is lost)
 *
 * PROXY_WAIT reads an inbound PROXY header on the raw socket before
 * anything else (when the bind has accept-proxy or an expect-proxy rule
 * matched); its source becomes the client everywhere after. A server with
 * send-proxy* gets our header in clear as the first bytes of its
 * connection, before anything of the client's.
 *
 * The relay works on raw sockets with libevent events rather than
 * bufferevents, because it was measured: bufferevents cost an ioctl per
 * read and an epoll_ctl pair per write, ~30% more CPU per request than
 * HAProxy on the L4 jobs. Here a readable socket is read once into the
 * worker's scratch buffer and written straight to the other socket; only
 * bytes the peer could not take are copied into a per-side queue, and
 * reading that direction pauses until the queue drains (backpressure). An
 * idle connection holds no buffer at all.
 *
 * Read/write interest is derived from the state and the queues in one
 * place, strm_update_interest(). A side's EOF becomes shutdown(SHUT_WR) on the
 * other side once its queue is empty; the stream ends when both
 * directions are finished, or at the first error or timeout.
 *
 * Idle timeouts cost no syscall per read: a timer ticks a few times per
 * timeout and a side is idle when its byte counters did not move since
 * the previous tick.
 */
#include <config.h>

#include "stream.h"
#include "stream_int.h"

#include "acl.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "listener.h"
#include "log.h"
#include "net.h"
#include "proxy_proto.h"
#include "refusals.h"
#include "sample.h"
#include "tls.h"
#include "tls_bio.h"
#include "tls_hello.h"
#include "worker.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define STRM_IDLE_TICKS 4

static const char *const strm_state_names[] = {"INIT",      "PROXY_WAIT",  "INSPECT", "TLS_HS",
						"CONNECTING", "ESTABLISHED", "HTTP_REQ",
						"HTTP_XFER", "CLOSED"};

static void on_cli_io(evutil_socket_t fd, short what, void *arg);

/* RELEASE_BUFFERS: an idle TLS connection gives its 34 KB of record
 * buffers back (as HAProxy does); measured 67 KB per idle HTTPS client
 * (both sides) without it. */
#define STRM_SSL_MODES                                                                  \
	(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |          \
	 SSL_MODE_RELEASE_BUFFERS)
static void on_srv_io(evutil_socket_t fd, short what, void *arg);
static int handshake_expired(struct stream *s);
static void srv_attempt_failed(struct stream *s, char cause);
static int auto_server_said(struct stream *s, const uint8_t *buf, ssize_t n);
static int auto_refusal_plausible(const struct stream *s);
static void auto_keep(struct stream *s, const uint8_t *data, size_t len);
static int auto_fallback(struct stream *s, const char *why);

long strm_ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000L + (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* The one place a stream changes state; every allowed edge is listed. */
void strm_set_state(struct stream *s, enum strm_state next)
{
	int ok;

	switch (next) {
	case STRM_ST_PROXY_WAIT:
		ok = s->state == STRM_ST_INIT;
		break;
	case STRM_ST_INSPECT:
		ok = s->state == STRM_ST_INIT || s->state == STRM_ST_PROXY_WAIT;
		break;
	case STRM_ST_TLS_HS:
		/* ESTABLISHED: `client-ip auto` terminating a passthrough whose
		 * server refused PROXY, from the client's kept bytes. */
		ok = s->state == STRM_ST_INIT || s->state == STRM_ST_PROXY_WAIT ||
		     s->state == STRM_ST_INSPECT ||
		     ((s->state == STRM_ST_ESTABLISHED || s->state == STRM_ST_CONNECTING) &&
		      s->is_auto);
		break;
	case STRM_ST_CONNECTING:
		ok = s->state == STRM_ST_INIT || s->state == STRM_ST_PROXY_WAIT ||
		     s->state == STRM_ST_INSPECT ||
		     s->state == STRM_ST_TLS_HS || s->state == STRM_ST_CONNECTING ||
		     s->state == STRM_ST_HTTP_REQ ||
		     (s->state == STRM_ST_ESTABLISHED && s->is_auto);
		break;
	case STRM_ST_ESTABLISHED:
		ok = s->state == STRM_ST_CONNECTING || s->state == STRM_ST_HTTP_XFER;
		break;
	case STRM_ST_HTTP_REQ:
		ok = s->state == STRM_ST_INIT || s->state == STRM_ST_PROXY_WAIT ||
		     s->state == STRM_ST_INSPECT ||
		     s->state == STRM_ST_TLS_HS || s->state == STRM_ST_CONNECTING ||
		     s->state == STRM_ST_HTTP_XFER ||
		     (s->state == STRM_ST_ESTABLISHED && s->is_auto);
		break;
	case STRM_ST_HTTP_XFER:
		ok = s->state == STRM_ST_CONNECTING || s->state == STRM_ST_HTTP_REQ;
		break;
	case STRM_ST_CLOSED:
		ok = s->state != STRM_ST_CLOSED;
		break;
	default:
		ok = 0;
	}
	if (!ok) {
		log_msg(LOG_ERR, "stream %llu: invalid transition %s -> %s", s->id,
			strm_state_names[s->state], strm_state_names[next]);
		abort();
	}
	if (log_debug_enabled())
		log_msg(LOG_DEBUG, "stream %llu: %s -> %s", s->id, strm_state_names[s->state],
			strm_state_names[next]);
	s->state = next;
}

void strm_set_term(struct stream *s, char who, char phase)
{
	if (s->term[0] != '-' || s->term[1] != '-')
		return; /* the first cause wins */
	s->term[0] = who;
	s->term[1] = phase;
}

/* ---- access log ---- */

static void strm_log(struct stream *s)
{
	const struct cfg_proxy *fc = s->fe->conf;
	char cli[NET_ADDRSTRLEN], date[64], line[1024];
	struct tm tm;

	if (!fc->log_global && !fc->logs && !log_debug_enabled())
		return;
	if ((fc->options & CFG_OPT_DONTLOGNULL) && s->cli.bytes_read == 0 &&
	    (s->term[0] == '-' || s->term[0] == 'C' || s->term[0] == 'c'))
		return;
	net_format_addr((const struct sockaddr *)&s->cli_addr, cli, sizeof(cli));
	localtime_r(&s->t_accept.tv_sec, &tm);
	strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S", &tm);
	/* HAProxy's tcplog fields, plus the bytes sent by the client:
	 * client [date] frontend backend/server Tw/Tc/Tt bytes_read bytes_uploaded
	 * termination_state actconn/feconn/beconn/srv_conn/retries */
	snprintf(line, sizeof(line),
		 "%s [%s.%03ld] %s %s/%s -1/%ld/%ld %llu %llu %s %u/-/-/%u/%d", cli, date,
		 (long)s->t_accept.tv_usec / 1000, fc->name, s->be->conf->name,
		 s->srv ? s->srv->conf->name : "<NOSRV>", s->connect_ms, strm_ms_since(&s->mono_accept),
		 s->srvs.bytes_read, s->cli.bytes_read, s->term, atomic_load(&s->w->nconns),
		 s->srv ? atomic_load(&s->srv->cur_conns) : 0, s->attempts > 0 ? s->attempts - 1 : 0);
	log_access(fc->logs, fc->log_global, line);
}

/* ---- idle timer ---- */

static unsigned side_timeout(const struct stream *s, const struct strm_side *side)
{
	unsigned tunnel = s->be->conf->timeout.tunnel;

	if (tunnel && s->state == STRM_ST_ESTABLISHED)
		return tunnel;
	return side == &s->cli ? cfg_timeout_client(s->fe->conf)
			       : cfg_timeout_server(s->be->conf);
}

/* Did this side move a byte since the last tick? */
static int side_progressed(struct strm_side *side)
{
	int moved = side->bytes_read != side->seen_read || side->bytes_written != side->seen_written;

	side->seen_read = side->bytes_read;
	side->seen_written = side->bytes_written;
	return moved;
}

static void arm_timer(struct stream *s)
{
	struct timeval tv = {.tv_sec = s->tick_ms / 1000, .tv_usec = (s->tick_ms % 1000) * 1000};

	evtimer_add(s->timer, &tv);
}

static void strm_enter(struct stream *s);
static void strm_leave(struct stream *s);
static void tick(struct stream *s);

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	strm_enter(s);
	tick(s);
	strm_leave(s);
}

static void tick(struct stream *s)
{
	struct strm_side *sides[2] = {&s->cli, &s->srvs};

	for (int i = 0; i < 2; i++) {
		struct strm_side *side = sides[i];
		if (side_progressed(side))
			side->idle_ms = 0;
		else
			side->idle_ms += s->tick_ms;
	}
	if (handshake_expired(s))
		return;
	/* HTTP has its own clocks (http-request, keep-alive, waiting for the
	 * response); the generic ones apply to its tunnels only. */
	if (s->http && s->state != STRM_ST_ESTABLISHED && s->state != STRM_ST_PROXY_WAIT &&
	    s->state != STRM_ST_INSPECT) {
		if (http_tick(s))
			return;
		if (s->state == STRM_ST_CLOSED)
			return;
		arm_timer(s);
		return;
	}
	if (s->state == STRM_ST_ESTABLISHED && s->be->conf->timeout.tunnel) {
		/* A tunnel expires only when both directions are quiet. */
		unsigned idle = s->cli.idle_ms < s->srvs.idle_ms ? s->cli.idle_ms : s->srvs.idle_ms;
		if (idle >= s->be->conf->timeout.tunnel) {
			strm_set_term(s, 'c', 'D');
			strm_close(s);
			return;
		}
	} else if (s->cli.idle_ms >= side_timeout(s, &s->cli)) {
		strm_set_term(s, 'c', s->state == STRM_ST_ESTABLISHED ? 'D' : 'C');
		strm_close(s);
		return;
	} else if (s->state == STRM_ST_ESTABLISHED &&
		   s->srvs.idle_ms >= side_timeout(s, &s->srvs)) {
		strm_set_term(s, 's', 'D');
		strm_close(s);
		return;
	}
	arm_timer(s);
}

/* TLS handshakes: the client's is bounded by `timeout client-hs` (else
 * `timeout client`), a server's by `timeout connect`. Returns 1 when the
 * stream was closed or moved on. */
static int handshake_expired(struct stream *s)
{
	if (s->state == STRM_ST_TLS_HS) {
		unsigned ms = s->fe->conf->timeout.client_hs ? s->fe->conf->timeout.client_hs
							      : cfg_timeout_client(s->fe->conf);
		if (strm_ms_since(&s->hs_start) < (long)ms)
			return 0;
		strm_log_refusal(s, "TLS handshake timeout");
		strm_set_term(s, 'c', 'R');
		strm_close(s);
		return 1;
	}
	if (s->state == STRM_ST_CONNECTING && s->srvs.hs &&
	    strm_ms_since(&s->hs_start) >= (long)cfg_timeout_connect(s->be->conf)) {
		log_msg(LOG_WARNING, "%s/%s: TLS handshake timeout (stream %llu)",
			s->be->conf->name, s->srv->conf->name, s->id);
		srv_attempt_failed(s, 's');
		return 1;
	}
	return 0;
}

static unsigned tick_for(const struct stream *s)
{
	unsigned t = cfg_timeout_client(s->fe->conf);
	unsigned srv_t = cfg_timeout_server(s->be->conf);
	unsigned tunnel = s->be->conf->timeout.tunnel;

	if (srv_t < t)
		t = srv_t;
	if (tunnel && tunnel < t)
		t = tunnel;
	if (s->tls_bind && s->fe->conf->timeout.client_hs && s->fe->conf->timeout.client_hs < t)
		t = s->fe->conf->timeout.client_hs; /* the handshake's bound is checked per tick */
	if (s->http) {
		unsigned hr = s->fe->conf->timeout.http_request;
		unsigned ka = s->fe->conf->timeout.http_keep_alive;
		if (hr && hr < t)
			t = hr;
		if (ka && ka < t)
			t = ka;
	}
	t /= STRM_IDLE_TICKS;
	return t < 10 ? 10 : t;
}

/* ---- side queues and interest ---- */

static struct strm_side *peer_of(struct stream *s, struct strm_side *side)
{
	return side == &s->cli ? &s->srvs : &s->cli;
}

static int queue_reserve(struct strm_side *side, size_t more)
{
	size_t need = side->q_len + more;
	uint8_t *q;

	if (side->q_off > 0 && side->q_len > 0)
		memmove(side->q, side->q + side->q_off, side->q_len);
	side->q_off = 0;
	if (need <= side->q_cap)
		return 0;
	q = realloc(side->q, need);
	if (!q)
		return -1;
	side->q = q;
	side->q_cap = need;
	return 0;
}

int strm_queue(struct strm_side *side, const uint8_t *data, size_t len)
{
	if (queue_reserve(side, len) < 0)
		return -1;
	memcpy(side->q + side->q_len, data, len);
	side->q_len += len;
	return 0;
}

/* Put bytes in front of what is queued (the outbound PROXY header). */
static int side_prepend(struct strm_side *side, const uint8_t *data, size_t len)
{
	if (queue_reserve(side, len) < 0)
		return -1;
	memmove(side->q + len, side->q, side->q_len);
	memcpy(side->q, data, len);
	side->q_len += len;
	return 0;
}

/* An idle side holds no memory: the queue goes once it is empty. */
static void queue_release(struct strm_side *side)
{
	free(side->q);
	side->q = NULL;
	side->q_cap = side->q_off = side->q_len = 0;
}

static void set_event(struct event *ev, int *on, int want)
{
	if (want && !*on)
		event_add(ev, NULL);
	else if (!want && *on)
		event_del(ev);
	*on = want;
}

/* Reading paused by backpressure can leave decrypted bytes inside TLS,
 * which the socket will not signal again: resuming must come back for them. */
static void set_read(struct strm_side *side, int want)
{
	int was_on = side->rev_on;

	set_event(side->rev, &side->rev_on, want);
	if (want && !was_on)
		strm_ssl_more(side);
}

/* Which events a stream needs follows from its state and queues alone. */
void strm_update_interest(struct stream *s)
{
	int relaying = s->state == STRM_ST_ESTABLISHED;
	int waiting = s->state == STRM_ST_PROXY_WAIT || s->state == STRM_ST_INSPECT;
	int cli_read = !s->cli.eof && s->srvs.q_len == 0 &&
		       (waiting || s->state == STRM_ST_CONNECTING || relaying);
	int srv_read = relaying && !s->srvs.eof && s->cli.q_len == 0;

	if (s->state == STRM_ST_CLOSED)
		return;
	if (s->http && !relaying && !waiting)
		http_interest(s, &cli_read, &srv_read);
	/* PROXY_WAIT's read carries the client-hs timeout, INSPECT's the
	 * inspect-delay: armed once, kept. */
	/* A TLS handshake reads or writes as it asks; an established TLS
	 * side may need its socket writable to go on reading. */
	if (s->cli.hs)
		cli_read = !s->cli.ssl_wants_write;
	if (s->srvs.hs)
		srv_read = !s->srvs.ssl_wants_write;
	if (!waiting)
		set_read(&s->cli, cli_read);
	/* Queued data waits for the handshake: arming write for it then
	 * would wake us on every loop while the peer has not answered. */
	set_event(s->cli.wev, &s->cli.wev_on,
		  s->cli.hs ? s->cli.ssl_wants_write : s->cli.q_len > 0 || s->cli.ssl_wants_write);
	if (s->srvs.fd >= 0) {
		set_read(&s->srvs, srv_read);
		/* CONNECTING's write event is armed with the connect timeout
		 * until the TCP connect completes. */
		if (s->state != STRM_ST_CONNECTING || s->srvs.hs)
			set_event(s->srvs.wev, &s->srvs.wev_on,
				  s->srvs.hs ? s->srvs.ssl_wants_write
					     : s->srvs.q_len > 0 || s->srvs.ssl_wants_write);
	}
}

/* ---- transport: plain socket or TLS, one contract ---- */

/* An SSL call that could not proceed: note what it waits for. Returns
 * STRM_IO_AGAIN, STRM_IO_EOF or STRM_IO_ERROR. */
static ssize_t ssl_status(struct strm_side *side, int ret)
{
	int e = SSL_get_error(side->ssl, ret);

	side->ssl_wants_write = e == SSL_ERROR_WANT_WRITE;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return STRM_IO_AGAIN;
	if (e == SSL_ERROR_ZERO_RETURN)
		return STRM_IO_EOF;
	/* SSL_OP_IGNORE_UNEXPECTED_EOF turns a bare TCP close into ZERO_RETURN;
	 * a SYSCALL error with errno 0 is the same close seen differently. */
	if (e == SSL_ERROR_SYSCALL && errno == 0)
		return STRM_IO_EOF;
	return STRM_IO_ERROR;
}

ssize_t strm_recv(struct strm_side *side, void *buf, size_t len)
{
	ssize_t n;

	if (side->ssl) {
		size_t got = 0;
		int ret;
		ERR_clear_error();
		errno = 0;
		ret = SSL_read_ex(side->ssl, buf, len, &got);
		if (ret == 1) {
			side->ssl_wants_write = 0;
			return (ssize_t)got;
		}
		return ssl_status(side, ret);
	}
	n = recv(side->fd, buf, len, 0);
	if (n > 0)
		return n;
	if (n == 0)
		return STRM_IO_EOF;
	return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? STRM_IO_AGAIN
									  : STRM_IO_ERROR;
}

ssize_t strm_send(struct strm_side *side, const void *buf, size_t len)
{
	ssize_t n;

	if (side->ssl) {
		size_t put = 0;
		int ret;
		ERR_clear_error();
		errno = 0;
		ret = SSL_write_ex(side->ssl, buf, len, &put);
		if (ret == 1) {
			side->ssl_wants_write = 0;
			return (ssize_t)put;
		}
		n = ssl_status(side, ret);
		return n == STRM_IO_EOF ? STRM_IO_ERROR : n;
	}
	n = send(side->fd, buf, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? STRM_IO_AGAIN
									  : STRM_IO_ERROR;
}

/* Write what is queued for `to`. Returns -1 on a socket error. */
int strm_flush(struct strm_side *to)
{
	while (to->q_len > 0) {
		ssize_t n = strm_send(to, to->q + to->q_off, to->q_len);
		if (n < 0)
			return n == STRM_IO_AGAIN ? 0 : -1;
		to->q_off += (size_t)n;
		to->q_len -= (size_t)n;
		to->bytes_written += (unsigned long long)n;
	}
	queue_release(to);
	return 0;
}

/* Hand bytes to `to`: straight to its socket when nothing is queued ahead
 * of them, else behind the queue. Returns -1 on a socket error. */
int strm_deliver(struct strm_side *to, const uint8_t *data, size_t len)
{
	ssize_t n = 0;

	if (to->q_len == 0) {
		n = strm_send(to, data, len);
		if (n < 0) {
			if (n != STRM_IO_AGAIN)
				return -1;
			n = 0;
		}
		to->bytes_written += (unsigned long long)n;
	}
	if ((size_t)n < len && strm_queue(to, data + n, len - (size_t)n) < 0)
		return -1;
	return 0;
}

/* TLS may hold decrypted bytes that the socket will not signal again:
 * come back for them on the next loop turn. */
void strm_ssl_more(struct strm_side *side)
{
	if (side->ssl && SSL_pending(side->ssl) > 0 && side->rev_on)
		event_active(side->rev, EV_READ, 0);
}

static int both_directions_done(const struct stream *s)
{
	return s->cli.eof && s->srvs.shut && s->srvs.eof && s->cli.shut;
}

/* Forward a side's EOF once its bytes have left: shutdown(SHUT_WR). */
static void maybe_shutdown(struct stream *s, struct strm_side *to)
{
	struct strm_side *from = peer_of(s, to);

	if (!from->eof || to->shut || to->fd < 0 || to->q_len > 0)
		return;
	/* When `to` has ended too, the close that follows says it all. */
	if (!to->eof)
		shutdown(to->fd, SHUT_WR);
	to->shut = 1;
}

void strm_side_failed(struct stream *s, struct strm_side *side)
{
	if (side == &s->srvs && auto_refusal_plausible(s) &&
	    auto_fallback(s, s->conn_pp ? "the connection failed after the PROXY header, before "
					  "any answer"
					: "the connection failed on a ClientHello without a PROXY "
					  "header"))
		return;
	strm_set_term(s, side == &s->cli ? 'C' : 'S', s->state == STRM_ST_ESTABLISHED ? 'D' : 'C');
	strm_close(s);
}

/* One read from `from`; the bytes go to the other side, or wait in its
 * queue until the server is connected. Returns -1 when the stream ended. */
static int relay_read(struct stream *s, struct strm_side *from)
{
	struct strm_side *to = peer_of(s, from);
	uint8_t *buf = s->w->scratch;
	ssize_t n = strm_recv(from, buf, s->w->scratch_len);

	if (n == STRM_IO_AGAIN)
		return 0;
	if (from == &s->srvs && s->auto_watch && auto_server_said(s, buf, n))
		return -1; /* refused: the stream went the other way */
	if (n == STRM_IO_ERROR) {
		strm_side_failed(s, from);
		return -1;
	}
	if (n == STRM_IO_EOF) {
		from->eof = 1;
		if (from == &s->cli && s->state == STRM_ST_CONNECTING && s->srvs.q_len == 0) {
			/* Nothing to deliver: abort the connect, as HAProxy ("CC"). */
			strm_set_term(s, 'C', 'C');
			strm_close(s);
			return -1;
		}
		return 0;
	}
	from->bytes_read += (unsigned long long)n;
	strm_ssl_more(from);
	if (from == &s->cli && s->auto_watch)
		auto_keep(s, buf, (size_t)n);
	if (s->state != STRM_ST_ESTABLISHED)
		return strm_queue(to, buf, (size_t)n) < 0 ? (strm_side_failed(s, from), -1) : 0;
	if (strm_deliver(to, buf, (size_t)n) < 0) {
		strm_side_failed(s, to);
		return -1;
	}
	return 0;
}

/* After any I/O: propagate EOFs, end the stream when both directions are
 * done, else recompute the events it waits for. */
static void settle(struct stream *s)
{
	if (s->state == STRM_ST_ESTABLISHED) {
		maybe_shutdown(s, &s->srvs);
		maybe_shutdown(s, &s->cli);
		if (both_directions_done(s)) {
			strm_close(s);
			return;
		}
	}
	strm_update_interest(s);
}

/* ---- server connection ---- */

void strm_release_srv(struct stream *s)
{
	if (s->srv_held) {
		atomic_fetch_sub(&s->srv->cur_conns, 1);
		s->srv_held = 0;
	}
}

void strm_close_server_fd(struct stream *s)
{
	if (s->srvs.fd < 0)
		return;
	if (s->srvs.rev_on)
		event_del(s->srvs.rev);
	if (s->srvs.wev_on)
		event_del(s->srvs.wev);
	s->srvs.rev_on = s->srvs.wev_on = 0;
	if (s->srvs.ssl) {
		if (!s->srvs.hs && !s->srvs.eof)
			SSL_shutdown(s->srvs.ssl); /* close_notify; no wait for the answer */
		SSL_free(s->srvs.ssl);
		s->srvs.ssl = NULL;
		s->srvs.hs = s->srvs.ssl_wants_write = 0;
	}
	close(s->srvs.fd);
	s->srvs.fd = -1;
	s->conn_pp = 0;
	/* The queue stays: a retry sends it to the next server. */
	s->srvs.eof = s->srvs.shut = 0;
}

static void srv_attempt_failed(struct stream *s, char cause)
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
		if (s->http && http_connect_failed(s, cause))
			return;
		strm_set_term(s, cause, 'C');
		strm_close(s);
		return;
	}
	strm_connect_next(s);
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
static void set_keepalive(int fd, unsigned options, unsigned side_opt)
{
	int one = 1;

	if (options & (CFG_OPT_TCPKA | side_opt))
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

/* start_connect(): no socket to be had - ppbridge's shortage, not the server's. */
#define STRM_CONNECT_NO_FD (-2)

/* A non-blocking connect; completion (or the connect timeout) arrives
 * as the server's write event. Returns -1 on an immediate failure of the
 * connect, STRM_CONNECT_NO_FD when socket() itself failed. */
static int start_connect(struct stream *s, const struct cfg_server *sc)
{
	unsigned ms = cfg_timeout_connect(s->be->conf);
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	int fd = socket(sc->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return STRM_CONNECT_NO_FD;
	s->srvs.fd = fd;
	set_nodelay(fd);
	set_keepalive(fd, s->be->conf->options, CFG_OPT_SRVTCPKA);
	if (connect(fd, (const struct sockaddr *)&sc->addr.ss, sc->addr.len) < 0 &&
	    errno != EINPROGRESS)
		return -1;
	event_assign(s->srvs.rev, s->w->base, fd, EV_READ | EV_PERSIST, on_srv_io, s);
	event_assign(s->srvs.wev, s->w->base, fd, EV_WRITE | EV_PERSIST, on_srv_io, s);
	event_add(s->srvs.wev, &tv);
	s->srvs.wev_on = 1;
	return 0;
}

/* Which path a connection takes is decided here, per connection, once the
 * server is known: today the L4 relay; the toggle will add more. */
static enum strm_path choose_path(const struct stream *s)
{
	return s->http ? STRM_PATH_HTTP : STRM_PATH_RELAY;
}

/* EMFILE/ENFILE on the server side: the server is not at fault (no
 * failure counted, no retry elsewhere that would fail the same way); the
 * client gets a 503 (mode http) or a close, term "RC" as HAProxy. */
static void no_descriptor(struct stream *s, int err)
{
	static struct log_gate gate;
	unsigned long long held;

	strm_release_srv(s);
	atomic_fetch_add(&s->fe->ctr.fd_exhausted, 1);
	if (log_gate_pass(&gate, &held))
		log_msg(LOG_ERR, "frontend %s: no socket for a connection to %s/%s (%s): %s stream "
			"%llu (%llu more since the last line)", s->fe->conf->name, s->be->conf->name,
			s->srv->conf->name, strerror(err), s->http ? "503 to" : "closing", s->id,
			held);
	if (s->http && http_connect_failed(s, 'R'))
		return;
	strm_set_term(s, 'R', 'C');
	strm_close(s);
}

void strm_connect_next(struct stream *s)
{
	struct srv *srv = choose_server(s);

	if (!srv) {
		atomic_fetch_add(&s->fe->ctr.no_server, 1);
		if (s->http && http_connect_failed(s, 'N'))
			return;
		strm_set_term(s, 'S', 'C');
		log_msg(LOG_WARNING, "frontend %s: no server available in backend %s, closing stream %llu",
			s->fe->conf->name, s->be->conf->name, s->id);
		strm_close(s);
		return;
	}
	s->srv = srv;
	s->path = choose_path(s);
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
		srv_attempt_failed(s, 'S');
		return;
	}
}

static int send_proxy_header(struct stream *s);

/* The server socket became writable while connecting. When bytes wait for
 * it (the client's, a PROXY header, an HTTP request) sending them is the
 * test: a refused connect fails that send, and no getsockopt() is spent. */
static void connected_done(struct stream *s);
static void server_handshake(struct stream *s);
static int build_proxy_header(struct stream *s, uint8_t *hdr, size_t size);

/* TCP is up to a server with `ssl`: a PROXY header goes first, in clear,
 * in one send; then the TLS handshake, then the queued bytes, encrypted. */
static void start_server_tls(struct stream *s)
{
	char sni[256];
	SSL *ssl;

	s->conn_pp = strm_pp_version(s);
	if (s->conn_pp) {
		uint8_t hdr[PP_SEND_MAX];
		int n = build_proxy_header(s, hdr, sizeof(hdr));
		if (n < 0) {
			strm_set_term(s, 'P', 'C');
			strm_close(s);
			return;
		}
		if (send(s->srvs.fd, hdr, (size_t)n, MSG_NOSIGNAL) != n) {
			srv_attempt_failed(s, 'S');
			return;
		}
	}
	/* The HTTP loop expanded it while the request head was intact (a
	 * sample such as req.hdr(host) reads it); a retry reuses it. */
	if (s->http && s->req_sni)
		snprintf(sni, sizeof(sni), "%s", s->req_sni);
	else
		strm_server_sni(s, sni, sizeof(sni));
	ssl = tls_client_ssl_new(s->srv->tls, sni);
	if (!ssl || SSL_set_fd(ssl, s->srvs.fd) != 1) {
		SSL_free(ssl);
		srv_attempt_failed(s, 'R');
		return;
	}
	SSL_set_mode(ssl, STRM_SSL_MODES);
	free(s->srv_sni);
	s->srv_sni = strdup(sni);
	s->srvs.ssl = ssl;
	s->srvs.hs = 1;
	clock_gettime(CLOCK_MONOTONIC, &s->hs_start);
	event_del(s->srvs.wev); /* the connect timeout; the handshake has its own */
	s->srvs.wev_on = 0;
	server_handshake(s);
}

static int run_handshake(struct strm_side *side)
{
	int ret;

	ERR_clear_error();
	errno = 0;
	ret = SSL_do_handshake(side->ssl);
	if (ret == 1) {
		side->hs = 0;
		side->ssl_wants_write = 0;
		return 1;
	}
	return ssl_status(side, ret) == STRM_IO_AGAIN ? 0 : -1;
}

static void server_handshake(struct stream *s)
{
	int r = run_handshake(&s->srvs);

	if (r == 0) {
		strm_update_interest(s);
		return;
	}
	if (r < 0) {
		char why[256];
		long v = SSL_get_verify_result(s->srvs.ssl);
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
		    (s->conn_pp || BIO_number_read(SSL_get_rbio(s->srvs.ssl)) == 0) &&
		    strm_auto_flip(s, s->conn_pp ? "TLS handshake failed after a PROXY header"
						 : "closed on a ClientHello without a PROXY header")) {
			strm_release_srv(s);
			strm_close_server_fd(s);
			strm_connect_next(s);
			return;
		}
		srv_attempt_failed(s, 'S');
		return;
	}
	connected_done(s);
}

static void on_connected(struct stream *s)
{
	unsigned long long before = s->srvs.bytes_written;
	size_t hdr = s->srvs.q_len;

	if (s->srv->conf->ssl && s->srv->tls && !s->srv_plain) {
		start_server_tls(s);
		return;
	}

	s->conn_pp = strm_pp_version(s);
	if (s->conn_pp && send_proxy_header(s) < 0) {
		strm_set_term(s, 'P', 'C');
		strm_close(s);
		return;
	}
	hdr = s->srvs.q_len - hdr; /* the PROXY header now in front of the queue */
	if (strm_flush(&s->srvs) < 0) {
		if (s->srvs.bytes_written == before) {
			/* Nothing reached it: the connect failed. Take our header
			 * back out; the retry builds its own. */
			s->srvs.q_off += hdr;
			s->srvs.q_len -= hdr;
			srv_attempt_failed(s, 'S');
			return;
		}
		strm_side_failed(s, &s->srvs);
		return;
	}
	connected_done(s);
}

/* The server connection is usable (TCP, and TLS when asked). */
static void connected_done(struct stream *s)
{
	s->connect_ms = strm_ms_since(&s->mono_accept);
	if (s->srvs.wev_on) {
		event_del(s->srvs.wev); /* drop the connect timeout */
		s->srvs.wev_on = 0;
	}
	if (s->srvs.ssl && strm_flush(&s->srvs) < 0) {
		strm_side_failed(s, &s->srvs);
		return;
	}
	if (s->http) {
		http_connected(s);
		return;
	}
	strm_set_state(s, STRM_ST_ESTABLISHED);
	settle(s);
}

static void srv_io(struct stream *s, evutil_socket_t fd, short what);

static void on_srv_io(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	strm_enter(s);
	srv_io(s, fd, what);
	strm_leave(s);
}

static void srv_io(struct stream *s, evutil_socket_t fd, short what)
{

	if (s->state == STRM_ST_CONNECTING && s->srvs.hs) {
		server_handshake(s);
		return;
	}
	if (s->state == STRM_ST_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (what & EV_TIMEOUT) {
			srv_attempt_failed(s, 's');
			return;
		}
		if (s->srvs.q_len == 0 && s->srv->conf->send_proxy == CFG_SEND_PROXY_NONE &&
		    (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)) {
			srv_attempt_failed(s, 'S');
			return;
		}
		on_connected(s);
		return;
	}
	if (s->http && s->state != STRM_ST_ESTABLISHED) {
		http_on_srv_io(s, what);
		return;
	}
	if ((what & EV_WRITE) && strm_flush(&s->srvs) < 0) {
		strm_side_failed(s, &s->srvs);
		return;
	}
	if ((what & EV_READ) && relay_read(s, &s->srvs) < 0)
		return;
	settle(s);
}

static void proxy_read(struct stream *s);
static void proxy_failed(struct stream *s, short what);
static void auto_choose(struct stream *s);
static void inspect_read(struct stream *s, short what);
static void client_begin(struct stream *s, const uint8_t *prefix, size_t len);
static void client_handshake(struct stream *s);
static void begin_client_tls(struct stream *s, const uint8_t *prefix, size_t len);
static void after_client_ready(struct stream *s);

static void cli_io(struct stream *s, short what);

static void on_cli_io(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	strm_enter(s);
	cli_io(s, what);
	strm_leave(s);
}

static void cli_io(struct stream *s, short what)
{

	if (s->state == STRM_ST_PROXY_WAIT) {
		if (what & EV_TIMEOUT)
			proxy_failed(s, what);
		else
			proxy_read(s);
		return;
	}
	if (s->state == STRM_ST_INSPECT) {
		inspect_read(s, what);
		return;
	}
	if (s->state == STRM_ST_TLS_HS) {
		client_handshake(s);
		return;
	}
	if (s->http && s->state != STRM_ST_ESTABLISHED) {
		http_on_cli_io(s, what);
		return;
	}
	if ((what & EV_WRITE) && strm_flush(&s->cli) < 0) {
		strm_side_failed(s, &s->cli);
		return;
	}
	if ((what & EV_READ) && relay_read(s, &s->cli) < 0)
		return;
	settle(s);
}

/* ---- lifecycle ---- */

static void side_free(struct strm_side *side)
{
	if (side->rev) {
		if (side->rev_on)
			event_del(side->rev);
		event_free(side->rev);
	}
	if (side->wev) {
		if (side->wev_on)
			event_del(side->wev);
		event_free(side->wev);
	}
	if (side->ssl) {
		if (!side->hs && !side->eof && side->fd >= 0)
			SSL_shutdown(side->ssl);
		SSL_free(side->ssl);
	}
	if (side->fd >= 0)
		close(side->fd);
	free(side->q);
}

/* Closing marks the stream; its memory goes when the event callback that
 * is running returns (strm_leave). Code that goes on after a helper closed
 * the stream therefore still reads valid memory and sees CLOSED. */
static void strm_destroy(struct stream *s);

void strm_close(struct stream *s)
{
	if (s->state == STRM_ST_CLOSED)
		return;
	strm_release_srv(s);
	strm_set_state(s, STRM_ST_CLOSED);
	if (s->busy == 0)
		strm_destroy(s);
}

static void strm_enter(struct stream *s)
{
	s->busy++;
}

static void strm_leave(struct stream *s)
{
	if (--s->busy == 0 && s->state == STRM_ST_CLOSED)
		strm_destroy(s);
}

static void strm_destroy(struct stream *s)
{
	if (s->srv) {
		atomic_fetch_add(&s->srv->bytes_out, s->cli.bytes_read);
		atomic_fetch_add(&s->srv->bytes_in, s->srvs.bytes_read);
	}
	atomic_fetch_add(&s->fe->ctr.bytes_in, s->cli.bytes_read);
	atomic_fetch_add(&s->fe->ctr.bytes_out, s->srvs.bytes_read);
	atomic_fetch_sub(&s->fe->cur_conns, 1);
	if (!s->http)
		strm_log(s);
	http_free(s);
	side_free(&s->cli);
	side_free(&s->srvs);
	if (s->timer)
		event_free(s->timer);
	if (s->retry_ev)
		event_free(s->retry_ev);
	free(s->tried);
	free(s->pp_buf);
	free(s->sni);
	free(s->srv_sni);
	free(s->req_sni);
	free(s->auto_keep);
	free(s->insp_buf);
	free(s->hello_sni);
	free((void *)s->up_unique_id.ptr);
	free((void *)s->up_authority.ptr);
	struct worker *w = s->w;
	if (s->prev)
		s->prev->next = s->next;
	else
		w->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	gen_unref(s->gen);
	free(s);
	worker_stream_done(w);
}

/* ---- inbound PROXY header ---- */

/* As HAProxy: a refused or broken client connection is reset, not closed
 * gracefully, so the sender sees at once that nothing was accepted. */
static void reset_on_close(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

void strm_log_refusal(struct stream *s, const char *why)
{
	char peer[NET_ADDRSTRLEN];

	net_format_addr((const struct sockaddr *)&s->cli_addr, peer, sizeof(peer));
	log_msg(LOG_NOTICE, "frontend %s: closing connection from %s: %s", s->fe->conf->name, peer,
		why);
	refusals_note(s->fe->conf->name, peer, why); /* for `show errors` */
}

static void proxy_refuse(struct stream *s, enum pp_error err)
{
	char why[96];

	atomic_fetch_add(&s->fe->ctr.pp_errors[err], 1);
	snprintf(why, sizeof(why), "invalid PROXY header (%s)", pp_strerror(err));
	strm_log_refusal(s, why);
	reset_on_close(s->cli.fd);
	strm_set_term(s, 'P', 'R');
	strm_close(s);
}

static void proxy_failed(struct stream *s, short what)
{
	if (what & EV_TIMEOUT) {
		atomic_fetch_add(&s->fe->ctr.pp_timeout, 1);
		strm_log_refusal(s, "timeout while waiting for the PROXY header (timeout client-hs)");
		reset_on_close(s->cli.fd);
		strm_set_term(s, 'c', 'R');
	} else {
		atomic_fetch_add(&s->fe->ctr.pp_closed, 1);
		strm_log_refusal(s, "closed before a complete PROXY header (truncated)");
		strm_set_term(s, 'C', 'R');
	}
	strm_close(s);
}

static struct pp_bytes dup_bytes(struct pp_bytes b)
{
	struct pp_bytes copy = {NULL, 0};
	uint8_t *p;

	if (!b.ptr || !(p = malloc(b.len ? b.len : 1)))
		return copy;
	memcpy(p, b.ptr, b.len);
	copy.ptr = p;
	copy.len = b.len;
	return copy;
}

/* The header's addresses replace the socket's, unless it carries none
 * (LOCAL, UNKNOWN, UNSPEC); the TLVs we forward are copied out of the
 * input buffer before it is drained. */
static void proxy_adopt(struct stream *s, const struct pp_header *h)
{
	if (!h->use_real_addrs) {
		memcpy(&s->cli_addr, &h->src, sizeof(s->cli_addr));
		s->cli_addrlen = net_sockaddr_len((const struct sockaddr *)&h->src);
		net_unmap_v4(&s->cli_addr);
		memcpy(&s->dst_addr, &h->dst, sizeof(s->dst_addr));
		s->have_dst = 1;
	}
	s->up_unique_id = dup_bytes(h->tlv.unique_id);
	s->up_authority = dup_bytes(h->tlv.authority);
}

/* Bytes that came with the PROXY header: the HTTP loop parses them, the
 * relay sends them on. */
static int proxy_leftover(struct stream *s, const uint8_t *data, size_t len)
{
	if (s->tls_bind)
		return 0; /* the start of a ClientHello: begin_client_tls() takes it */
	if (s->http)
		return http_take_bytes(s, data, len);
	if (s->auto_watch)
		auto_keep(s, data, len);
	return strm_queue(&s->srvs, data, len);
}

/* ---- TLS with the client ---- */

/* The client is ready for the request path: TLS done (or none). */
static void after_client_ready(struct stream *s)
{
	if (s->http)
		http_begin(s);
	else
		strm_connect_next(s);
}

static void client_handshake(struct stream *s)
{
	int r = run_handshake(&s->cli);
	const char *sni;

	if (r == 0) {
		strm_update_interest(s);
		return;
	}
	if (r < 0) {
		char why[256], msg[300];
		tls_errors(why, sizeof(why));
		snprintf(msg, sizeof(msg), "TLS handshake failed: %s", why[0] ? why : "closed");
		strm_log_refusal(s, msg);
		strm_set_term(s, 'C', 'R');
		strm_close(s);
		return;
	}
	atomic_fetch_add(&s->fe->ctr.tls_handshakes, 1);
	if (SSL_session_reused(s->cli.ssl))
		atomic_fetch_add(&s->fe->ctr.tls_resumed, 1);
	sni = SSL_get_servername(s->cli.ssl, TLSEXT_NAMETYPE_host_name);
	if (sni && !(s->sni = strdup(sni))) {
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	after_client_ready(s);
}

/* `bind ... ssl`: terminate TLS, starting from `prefix` (bytes that came
 * with a PROXY header) before the socket's own. */
static void begin_client_tls(struct stream *s, const uint8_t *prefix, size_t len)
{
	SSL *ssl = tls_bind_ssl_new(s->tls_bind);
	BIO *bio = ssl ? tls_bio_new(s->cli.fd, prefix, len) : NULL;

	if (!ssl || !bio) {
		SSL_free(ssl);
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	SSL_set_bio(ssl, bio, bio);
	SSL_set_mode(ssl, STRM_SSL_MODES);
	s->cli.ssl = ssl;
	s->cli.hs = 1;
	clock_gettime(CLOCK_MONOTONIC, &s->hs_start);
	strm_set_state(s, STRM_ST_TLS_HS);
	client_handshake(s);
}

static size_t pp_limit(const struct stream *s)
{
	unsigned max = s->gen->cfg->global.pp_max_header;

	return max ? max : PP_DEFAULT_MAX_HEADER;
}

static unsigned client_hs_ms(const struct stream *s)
{
	unsigned ms = s->fe->conf->timeout.client_hs;

	return ms ? ms : CFG_DEFAULT_TIMEOUT_CLIENT_HS;
}

/* `timeout client-hs` bounds the whole header, from accept: a persistent
 * event's timeout would start again at every byte, and a client sending
 * one byte a second would never time out. Returns 0 when it is over. */
static int proxy_rearm(struct stream *s)
{
	long left = (long)client_hs_ms(s) - strm_ms_since(&s->mono_accept);
	struct timeval tv;

	if (left <= 0)
		return 0;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	event_add(s->cli.rev, &tv);
	s->cli.rev_on = 1;
	return 1;
}

/* Read what the header may need (never more than the limit), decode, and
 * keep the bytes after it for the server. */
static void proxy_read(struct stream *s)
{
	size_t max = pp_limit(s);
	struct pp_decode_opts opts = {.max_header = max};
	struct pp_header h;
	size_t consumed = 0;
	enum pp_error err = PP_ERR_NONE;
	ssize_t n;

	if (!s->pp_buf && !(s->pp_buf = malloc(max))) {
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	n = recv(s->cli.fd, s->pp_buf + s->pp_len, max - s->pp_len, 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		proxy_failed(s, EV_READ);
		return;
	}
	s->pp_len += (size_t)n;
	switch (pp_decode(s->pp_buf, s->pp_len, &opts, &h, &consumed, &err)) {
	case PP_NEED_MORE:
		if (s->pp_len >= max)
			proxy_refuse(s, PP_ERR_TOO_LARGE);
		else if (!proxy_rearm(s))
			proxy_failed(s, EV_TIMEOUT);
		return;
	case PP_ERROR:
		proxy_refuse(s, err);
		return;
	case PP_OK:
		break;
	}
	proxy_adopt(s, &h);
	s->cli.bytes_read += s->pp_len - consumed;
	/* Re-arm the client's read event without the client-hs timeout. */
	event_del(s->cli.rev);
	s->cli.rev_on = 0;
	atomic_fetch_add(&s->fe->ctr.pp_accepted, 1);
	if (log_debug_enabled()) {
		char peer[NET_ADDRSTRLEN];
		net_format_addr((const struct sockaddr *)&s->cli_addr, peer, sizeof(peer));
		log_msg(LOG_DEBUG, "stream %llu: PROXY v%d %s, client %s", s->id, h.version,
			h.use_real_addrs ? "without addresses" : "accepted", peer);
	}
	/* The stream may end inside client_begin(): let go of our buffer
	 * first (whoever keeps the bytes copies them). */
	{
		uint8_t *buf = s->pp_buf;
		s->pp_buf = NULL;
		client_begin(s, buf + consumed, s->pp_len - consumed);
		free(buf);
	}
}

/* HAProxy's `tcp-request connection` rules, in order, on the real socket
 * addresses. Returns the rule that rejected the connection, or NULL. */
static const struct cfg_tcp_rule *apply_conn_rules(struct stream *s, const struct cfg_bind *bind)
{
	struct acl_ctx ctx = {.src = (const struct sockaddr *)&s->cli_addr};

	s->expect_proxy = bind->accept_proxy;
	for (const struct cfg_tcp_rule *r = s->fe->conf->tcp_conn_rules; r; r = r->next) {
		if (!acl_cond_eval(r->cond, &ctx))
			continue;
		if (r->action == CFG_TCP_ACCEPT)
			return NULL;
		if (r->action == CFG_TCP_REJECT)
			return r;
		s->expect_proxy = 1; /* expect-proxy layer4: not final */
	}
	return NULL;
}

/* ---- outbound PROXY header ---- */

/* Where the client connected: the inbound header's destination, or our
 * own socket's address (asked only when a header needs it). */
const struct sockaddr *strm_frontend_addr(struct stream *s)
{
	if (!s->have_dst) {
		socklen_t len = sizeof(s->dst_addr);
		if (getsockname(s->cli.fd, (struct sockaddr *)&s->dst_addr,
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

	if (s->conn_pp == 1) {
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
	return n < 0 ? -1 : side_prepend(&s->srvs, hdr, (size_t)n);
}

/* ---- client-ip auto ---- */

/* The PROXY version auto sends: v1 when the servers say `send-proxy`,
 * else v2 (what the probes use; HAProxy's accept-proxy takes both). */
static int auto_pp_version(const struct srv *srv)
{
	return srv->conf->send_proxy == CFG_SEND_PROXY_NONE ? 2 : (int)srv->conf->send_proxy;
}

/* Per-frontend path counters, once per connection. */
static void count_path(struct stream *s)
{
	struct fe_counters *c = &s->fe->ctr;
	int pp;

	if (s->path_counted)
		return;
	s->path_counted = 1;
	if (s->http) {
		atomic_fetch_add(&c->path_xff, 1);
		return;
	}
	pp = s->pp_set ? s->pp_ver
		       : s->be->nsrv > 0 && s->be->srvs[0].conf->send_proxy != CFG_SEND_PROXY_NONE;
	atomic_fetch_add(pp ? &c->path_proxy : &c->path_plain, 1);
}

/* The server first (source hash needs only the client's address), then
 * the path its detected mode allows: PROXY passthrough (the client's TLS
 * untouched) to a server that takes PROXY; else the frontend's own path,
 * X-Forwarded-For for mode http, a plain relay for mode tcp. */
static void auto_choose(struct stream *s)
{
	struct srv *srv;

	if (!s->is_auto || s->path_counted) {
		count_path(s);
		return;
	}
	srv = be_select(s->be, (const struct sockaddr *)&s->cli_addr, NULL);
	s->presel = srv;
	s->pp_set = !s->http; /* mode tcp: never the servers' send-proxy */
	s->pp_ver = 0;
	if (srv && srv_pp_mode(srv) == SRV_PP_PROXY) {
		http_free(s);
		s->want_http = 0;
		s->tls_bind = NULL;
		s->srv_plain = 1;
		s->pp_set = 1;
		s->pp_ver = auto_pp_version(srv);
		s->auto_watch = 1; /* until the server's first byte */
	} else if (!s->http) {
		s->srv_plain = 1;
		s->auto_watch = 1; /* a server that now wants PROXY closes at once */
	}
	count_path(s);
}

static void auto_keep(struct stream *s, const uint8_t *data, size_t len)
{
	uint8_t *more;

	if (s->auto_keep_len + len > STRM_AUTO_KEEP_MAX ||
	    !(more = realloc(s->auto_keep, s->auto_keep_len + len))) {
		/* Too much to restart from: this connection stays as it is. */
		free(s->auto_keep);
		s->auto_keep = NULL;
		s->auto_keep_len = 0;
		s->auto_watch = 0;
		return;
	}
	memcpy(more + s->auto_keep_len, data, len);
	s->auto_keep = more;
	s->auto_keep_len += len;
}

/* A server's close can only say "not this way" when the client did all
 * a client should: it is still there (a health check or a preconnect that
 * leaves, or a client gone quiet past the server's timeout, is closed on
 * for itself), and what it sent is whole - a complete ClientHello (a
 * scanner's garbage is closed on for itself too), or for plain HTTP a
 * complete request head. The server's mode is global: one client must not
 * be able to flip it at will. */
static int auto_refusal_plausible(const struct stream *s)
{
	struct tls_hello hello;
	struct h1_req req;
	struct h1_field fields[H1_DEFAULT_MAX_FIELDS];
	size_t head_len = 0;
	enum h1_error err;

	if (!s->auto_watch || s->auto_keep_len == 0 || s->cli.eof || s->srvs.shut)
		return 0;
	if (s->auto_keep[0] == 0x16)
		return tls_hello_parse(s->auto_keep, s->auto_keep_len, &hello) == TLS_HELLO_OK;
	if (!s->conn_pp)
		return 0; /* a plain relay: only a ClientHello counts */
	h1_req_init(&req, fields, H1_DEFAULT_MAX_FIELDS);
	return h1_parse_request(s->auto_keep, s->auto_keep_len, NULL, &req, &head_len, &err) ==
	       H1_OK;
}

/* HAProxy's own answer to a PROXY header it does not expect on a plain
 * HTTP port: 400 with `connection: close`, as the first bytes. An
 * application's 400 on a kept-alive connection does not look like it. */
static int looks_like_proxy_400(const uint8_t *buf, size_t n)
{
	static const char close_hdr[] = "\r\nconnection: close\r\n";
	size_t k = sizeof(close_hdr) - 1;

	if (n < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || memcmp(buf + 8, " 400", 4) != 0)
		return 0;
	for (size_t i = 0; i + k <= n; i++) {
		size_t j = 0;
		while (j < k && (buf[i + j] | 0x20) == (close_hdr[j] | 0x20))
			j++;
		if (j == k)
			return 1;
		if (buf[i] == '\r' && i + 3 < n && buf[i + 1] == '\n' && buf[i + 2] == '\r')
			return 0; /* end of the head */
	}
	return 0;
}

/* HAProxy waits min(timeout connect, 1s) before a retry to the same
 * server; a draining router's reset needs only a short pause: 25 ms, then
 * 50, ... so that the retry does not land in the dying listen queue. */
static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	strm_enter(s);
	if (s->state == STRM_ST_CONNECTING && s->srvs.fd < 0)
		strm_connect_next(s);
	strm_leave(s);
}

static void auto_reconnect_later(struct stream *s)
{
	struct srv *srv = s->srv;
	struct timeval tv = {.tv_sec = 0, .tv_usec = 25000 * (s->attempts < 8 ? s->attempts : 8)};

	log_msg(LOG_INFO, "%s/%s: closed before any byte either way; reconnecting stream %llu",
		s->be->conf->name, srv->conf->name, s->id);
	strm_release_srv(s);
	atomic_fetch_add(&srv->conn_failures, 1);
	strm_close_server_fd(s);
	if (s->attempts > s->be->conf->retries) {
		atomic_fetch_add(&s->fe->ctr.conn_fail, 1);
		log_msg(LOG_WARNING, "%s/%s: giving up on stream %llu after %d attempts",
			s->be->conf->name, srv->conf->name, s->id, s->attempts);
		strm_set_term(s, 'S', 'C');
		strm_close(s);
		return;
	}
	if (!s->retry_ev && !(s->retry_ev = evtimer_new(s->w->base, on_retry_timer, s))) {
		strm_connect_next(s);
		return;
	}
	strm_set_state(s, STRM_ST_CONNECTING);
	evtimer_add(s->retry_ev, &tv);
	strm_update_interest(s);
}

/* The first thing a watched passthrough's server did (`n`: bytes, or
 * STRM_IO_EOF/ERROR). A close before any answer means it wants the other
 * way (a router with accept-proxy closes on anything but a header; one
 * without closes on the header), and so does HAProxy's 400 to a header it
 * does not expect. Returns 1 when the stream went another way. */
static int auto_server_said(struct stream *s, const uint8_t *buf, ssize_t n)
{
	/* Closed before either side said a thing: a router draining (after
	 * `haproxy -sf` the old process resets what its listen queue still
	 * held) - nothing was exchanged, so connect again, the same way. */
	if ((n == STRM_IO_EOF || n == STRM_IO_ERROR) && s->auto_keep_len == 0 &&
	    s->cli.bytes_read == 0 && !s->cli.eof) {
		auto_reconnect_later(s);
		return 1;
	}
	/* Not a ClientHello or a request head, or no client left: the close
	 * is this client's business, the server's mode stays. */
	if ((n == STRM_IO_EOF || n == STRM_IO_ERROR) && auto_refusal_plausible(s))
		return auto_fallback(s, s->conn_pp ? "closed after the PROXY header, before any answer"
						   : "closed on a ClientHello without a PROXY header");
	/* A 400 before the client even sent its request answers our header;
	 * after it, only when the request was a whole, valid head. */
	if (n > 0 && s->conn_pp && !s->cli.eof && looks_like_proxy_400(buf, (size_t)n) &&
	    (s->auto_keep_len == 0 ||
	     (s->auto_keep[0] != 0x16 && auto_refusal_plausible(s))))
		return auto_fallback(s, "HTTP 400 and close to a PROXY-prefixed request");
	/* It answered (or the close is not for us to read): this connection
	 * stays on its path. */
	if (log_debug_enabled())
		log_msg(LOG_DEBUG, "stream %llu: auto: server said %zd (kept %zu bytes, client %s)",
			s->id, n, s->auto_keep_len, s->cli.eof ? "gone" : "there");
	s->auto_watch = 0;
	free(s->auto_keep);
	s->auto_keep = NULL;
	s->auto_keep_len = 0;
	return 0;
}

int strm_auto_flip(struct stream *s, const char *why)
{
	enum srv_pp_mode to;

	if (!s->is_auto || s->auto_flips >= 2 || !s->srv)
		return 0;
	to = s->conn_pp ? SRV_PP_PLAIN : SRV_PP_PROXY;
	s->auto_flips++;
	srv_set_pp_mode(s->srv, to, why);
	atomic_fetch_add(&s->fe->ctr.auto_retries, 1);
	log_msg(LOG_NOTICE, "stream %llu: %s/%s: %s; retrying %s a PROXY header", s->id,
		s->be->conf->name, s->srv->conf->name, why, to == SRV_PP_PROXY ? "with" : "without");
	return 1;
}

static int auto_out_of_memory(struct stream *s)
{
	log_msg(LOG_ERR, "frontend %s: out of memory retrying stream %llu the other way",
		s->fe->conf->name, s->id);
	strm_set_term(s, 'R', 'C');
	strm_close(s);
	return 1;
}

/* A passthrough's server refused what it got before answering: restart
 * the client's kept bytes the other way. After a PROXY header: without
 * it, on the frontend's own path - TLS terminated here and
 * X-Forwarded-For for mode http (never a silent loss of the client's
 * address), a plain relay for mode tcp. After none (mode tcp): behind a
 * header. Returns 1 when the stream went on that way (or ended), 0 when
 * it cannot. */
static int auto_fallback(struct stream *s, const char *why)
{
	uint8_t *keep = s->auto_keep;
	size_t len = s->auto_keep_len;
	struct srv *srv = s->srv;
	int was_pp = s->conn_pp;

	if (!s->auto_watch || !strm_auto_flip(s, why))
		return 0;
	s->auto_watch = 0;
	s->auto_keep = NULL;
	s->auto_keep_len = 0;
	strm_release_srv(s);
	strm_close_server_fd(s);
	queue_release(&s->srvs);
	s->srvs.eof = s->srvs.shut = 0;
	s->pp_ver = 0;
	s->presel = srv;
	s->attempts = 0;
	free(s->tried);
	s->tried = NULL;
	atomic_fetch_sub(was_pp ? &s->fe->ctr.path_proxy : &s->fe->ctr.path_plain, 1);
	/* The backend's mode: a use_backend passthrough target is mode tcp. */
	if (s->be->conf->mode != CFG_MODE_HTTP) {
		atomic_fetch_add(was_pp ? &s->fe->ctr.path_plain : &s->fe->ctr.path_proxy, 1);
		s->pp_ver = was_pp ? 0 : auto_pp_version(srv);
		if (len && strm_queue(&s->srvs, keep, len) < 0) {
			free(keep);
			return auto_out_of_memory(s);
		}
		free(keep);
		strm_connect_next(s);
		return 1;
	}
	atomic_fetch_add(&s->fe->ctr.path_xff, 1);
	s->srv_plain = 0;
	s->pp_set = 0;
	s->want_http = 1;
	if (!(s->http = calloc(1, sizeof(*s->http)))) {
		free(keep);
		return auto_out_of_memory(s);
	}
	if (s->auto_tls) {
		s->tls_bind = s->auto_tls;
		begin_client_tls(s, keep, len);
	} else {
		if (len && http_take_bytes(s, keep, len) < 0) {
			free(keep);
			return auto_out_of_memory(s);
		}
		http_begin(s);
	}
	free(keep);
	return 1;
}

/* ---- routing by the ClientHello (before termination) ---- */

/* Room for a whole ClientHello and its record headers. */
#define INSPECT_MAX (TLS_HELLO_MAX + 1024)

/* The server wants the PP2 AUTHORITY TLV and the client's TLS may pass
 * through: only the ClientHello can tell the name then. */
static int wants_authority(const struct stream *s)
{
	int st = s->strategy;

	if (!s->bind_ssl || (st != CFG_CLIENT_IP_PROXY_V2 && st != CFG_CLIENT_IP_AUTO))
		return 0;
	for (int i = 0; i < s->be->nsrv; i++)
		if (s->be->srvs[i].conf->pp2_options & PP_V2_F_AUTHORITY)
			return 1;
	return 0;
}

static int needs_inspect(const struct stream *s)
{
	const struct cfg_proxy *fc = s->fe->conf;

	return fc->use_backends || fc->tcp_content_rules || wants_authority(s);
}

static unsigned inspect_delay(const struct stream *s)
{
	unsigned ms = s->fe->conf->timeout.inspect_delay;

	return ms ? ms : CFG_DEFAULT_INSPECT_DELAY;
}

/* Hand the connection to a `use_backend` target: at L4, the client's TLS
 * untouched, with the PROXY header the strategy asks for (proxy-v1/v2; in
 * auto as the target's servers take it; else the servers' send-proxy). */
static void route_passthrough(struct stream *s, struct be *be)
{
	int st = s->strategy;

	s->be = be;
	http_free(s);
	s->want_http = 0;
	s->tls_bind = NULL;
	s->auto_tls = NULL;
	s->srv_plain = 1;
	s->pp_set = st == CFG_CLIENT_IP_PROXY_V1 || st == CFG_CLIENT_IP_PROXY_V2;
	s->pp_ver = st == CFG_CLIENT_IP_PROXY_V1 ? 1 : st == CFG_CLIENT_IP_PROXY_V2 ? 2 : 0;
}

/* `tcp-request content` then `use_backend`, on what the ClientHello said.
 * Returns -1 when the connection was rejected (and closed). */
static int apply_content_rules(struct stream *s, const struct tls_hello *hello)
{
	struct acl_ctx ctx = {.src = (const struct sockaddr *)&s->cli_addr,
			      .sni = hello->sni[0] ? hello->sni : NULL,
			      .hello_type = hello->hello_type};
	int i = 0;

	for (const struct cfg_tcp_rule *r = s->fe->conf->tcp_content_rules; r; r = r->next) {
		char why[160];
		if (!acl_cond_eval(r->cond, &ctx))
			continue;
		if (r->action == CFG_TCP_ACCEPT)
			break;
		atomic_fetch_add(&s->fe->ctr.rejected, 1);
		snprintf(why, sizeof(why), "rejected by 'tcp-request content reject' at %s:%d",
			 r->where.file, r->where.line);
		strm_log_refusal(s, why);
		reset_on_close(s->cli.fd);
		strm_set_term(s, 'P', 'R');
		strm_close(s);
		return -1;
	}
	for (const struct cfg_use_backend *u = s->fe->conf->use_backends; u; u = u->next, i++)
		if (acl_cond_eval(u->cond, &ctx)) {
			route_passthrough(s, s->fe->use_bes[i]);
			break;
		}
	return 0;
}

/* The ClientHello is complete, or will not come (not TLS, too large,
 * inspect-delay over): decide, then go on with every byte read so far. */
static void inspect_done(struct stream *s, enum tls_hello_status st, struct tls_hello *hello,
			 int timed_out)
{
	uint8_t *buf = s->insp_buf;
	size_t len = s->insp_len;

	event_del(s->cli.rev);
	s->cli.rev_on = 0;
	s->inspected = 1;
	if (st != TLS_HELLO_OK)
		hello->sni[0] = '\0';
	if (log_debug_enabled())
		log_msg(LOG_DEBUG, "stream %llu: %s after %zu bytes%s, SNI '%s'", s->id,
			tls_hello_status_name(st), len, timed_out ? " (inspect-delay over)" : "",
			hello->sni);
	if (hello->sni[0] && !(s->hello_sni = strdup(hello->sni))) {
		log_msg(LOG_ERR, "frontend %s: out of memory (stream %llu)", s->fe->conf->name, s->id);
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	if (apply_content_rules(s, hello) < 0)
		return;
	s->insp_buf = NULL;
	s->insp_len = 0;
	client_begin(s, buf, len);
	free(buf);
}

/* inspect-delay is one deadline for the whole ClientHello, as HAProxy's:
 * a client trickling bytes does not push it back. Returns 0 when over. */
static int inspect_rearm(struct stream *s)
{
	long left = (long)inspect_delay(s) - strm_ms_since(&s->hs_start);
	struct timeval tv;

	if (left <= 0)
		return 0;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	event_add(s->cli.rev, &tv);
	s->cli.rev_on = 1;
	return 1;
}

/* Parse what came so far (one parse per read); decide once the hello is
 * whole, is not TLS, is too large, or the inspect-delay ran out. */
static void inspect_check(struct stream *s, int timed_out)
{
	struct tls_hello hello;
	enum tls_hello_status st = tls_hello_parse(s->insp_buf, s->insp_len, &hello);

	if (st == TLS_HELLO_NEED_MORE && !timed_out && s->insp_len < INSPECT_MAX) {
		if (inspect_rearm(s))
			return;
		timed_out = 1;
	}
	inspect_done(s, st, &hello, timed_out);
}

static void inspect_read(struct stream *s, short what)
{
	ssize_t n;

	if (what & EV_TIMEOUT) {
		inspect_check(s, 1);
		return;
	}
	n = recv(s->cli.fd, s->insp_buf + s->insp_len, INSPECT_MAX - s->insp_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		strm_log_refusal(s, "closed before a complete ClientHello");
		strm_set_term(s, 'C', 'R');
		strm_close(s);
		return;
	}
	s->insp_len += (size_t)n;
	s->cli.bytes_read += (unsigned long long)n;
	inspect_check(s, 0);
}

/* Wait for the ClientHello, bounded by `tcp-request inspect-delay`,
 * starting with the bytes that came with a PROXY header. */
static void inspect_start(struct stream *s, const uint8_t *prefix, size_t len)
{
	size_t cap = len > INSPECT_MAX ? len : INSPECT_MAX;

	if (!(s->insp_buf = malloc(cap))) {
		log_msg(LOG_ERR, "frontend %s: out of memory reading a ClientHello (stream %llu)",
			s->fe->conf->name, s->id);
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	if (len)
		memcpy(s->insp_buf, prefix, len);
	s->insp_len = len;
	strm_set_state(s, STRM_ST_INSPECT);
	clock_gettime(CLOCK_MONOTONIC, &s->hs_start); /* the inspect-delay runs from here */
	inspect_check(s, 0); /* bytes that came with a PROXY header may decide now */
}

/* The client is accepted (its PROXY header read, if one was due): read
 * the ClientHello when rules route by it, else choose the path and start
 * on it with `prefix`, the client's bytes already read. */
static void client_begin(struct stream *s, const uint8_t *prefix, size_t len)
{
	if (!s->inspected && needs_inspect(s)) {
		inspect_start(s, prefix, len);
		return;
	}
	auto_choose(s);
	if (s->tls_bind) {
		begin_client_tls(s, prefix, len);
		return;
	}
	if (len && proxy_leftover(s, prefix, len) < 0) {
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	after_client_ready(s);
}

/* ---- accept ---- */

static int strm_init_events(struct stream *s, int fd)
{
	struct event_base *base = s->w->base;

	s->cli.fd = fd;
	s->cli.rev = event_new(base, fd, EV_READ | EV_PERSIST, on_cli_io, s);
	s->cli.wev = event_new(base, fd, EV_WRITE | EV_PERSIST, on_cli_io, s);
	/* The server's events get their descriptor at connect (event_assign). */
	s->srvs.rev = event_new(base, -1, 0, on_srv_io, s);
	s->srvs.wev = event_new(base, -1, 0, on_srv_io, s);
	s->timer = evtimer_new(base, on_tick, s);
	return s->cli.rev && s->cli.wev && s->srvs.rev && s->srvs.wev && s->timer ? 0 : -1;
}

/* The frontend's client-IP strategy decides this connection's path (a
 * runtime switch applies to connections accepted after it):
 *   xff              terminate TLS if the bind has `ssl`, HTTP loop, X-Forwarded-For
 *   proxy-v1/v2      L4 passthrough (TLS untouched) behind a PROXY header,
 *                    whatever the servers' send-proxy and ssl settings say
 *   none             L4 passthrough (explicit `client-ip none`: no header)
 * Without `client-ip` the section's HAProxy semantics apply unchanged. */
static void choose_client_path(struct stream *s)
{
	const struct cfg_proxy *fc = s->fe->conf;
	int st = atomic_load_explicit(&s->fe->client_ip, memory_order_relaxed);

	s->strategy = st;
	s->want_http = fc->mode == CFG_MODE_HTTP;
	if (st == CFG_CLIENT_IP_AUTO) {
		s->is_auto = 1;
		s->auto_tls = s->tls_bind;
		return; /* per server, once the client's address is final: auto_choose() */
	}
	if (st == CFG_CLIENT_IP_XFF)
		return;
	if (fc->client_ip == CFG_CLIENT_IP_UNSET && st == gen_config_client_ip(fc) &&
	    fc->mode != CFG_MODE_HTTP)
		return; /* plain HAProxy semantics for a tcp section */
	if (st == CFG_CLIENT_IP_PROXY_V1 || st == CFG_CLIENT_IP_PROXY_V2 ||
	    st == CFG_CLIENT_IP_NONE) {
		s->want_http = 0;
		s->tls_bind = NULL; /* the client's TLS goes through untouched */
		s->srv_plain = 1;   /* and so no TLS of ours towards the server */
		s->pp_set = 1;
		s->pp_ver = st == CFG_CLIENT_IP_PROXY_V1 ? 1 : st == CFG_CLIENT_IP_PROXY_V2 ? 2 : 0;
	}
}

int strm_pp_version(const struct stream *s)
{
	if (s->pp_set)
		return s->pp_ver;
	if (s->is_auto) /* the XFF path: PROXY only to a server that now needs it */
		return srv_pp_mode(s->srv) == SRV_PP_PROXY ? auto_pp_version(s->srv) : 0;
	return (int)s->srv->conf->send_proxy; /* the enum's value is the version */
}

static struct stream *accept_stream(struct worker *w, struct lsn *lsn, int fd,
				     const struct sockaddr *peer, socklen_t peerlen)
{
	struct fe *fe = lsn->fe;
	struct stream *s = calloc(1, sizeof(*s));
	const struct cfg_tcp_rule *reject;

	if (!s) {
		log_msg(LOG_ERR, "frontend %s: out of memory, refusing a connection", fe->conf->name);
		close(fd);
		return NULL;
	}
	worker_stream_started(w);
	atomic_fetch_add(&fe->cur_conns, 1);
	s->busy = 1; /* released at the end of strm_accept */
	s->next = w->streams;
	if (s->next)
		s->next->prev = s;
	w->streams = s;
	s->id = ((unsigned long long)w->id << 48) | ++w->next_stream_id;
	s->w = w;
	s->gen = gen_ref(w->gen);
	s->fe = fe;
	s->be = fe->be;
	s->tls_bind = lsn->tls;
	s->bind_ssl = lsn->tls != NULL;
	s->cli.fd = s->srvs.fd = -1;
	s->connect_ms = -1;
	memcpy(s->term, "--", 3);
	memcpy(&s->cli_addr, peer, peerlen < sizeof(s->cli_addr) ? peerlen : sizeof(s->cli_addr));
	s->cli_addrlen = peerlen;
	net_unmap_v4(&s->cli_addr);
	gettimeofday(&s->t_accept, NULL);
	clock_gettime(CLOCK_MONOTONIC, &s->mono_accept);
	atomic_fetch_add(&fe->ctr.conns, 1);

	reject = apply_conn_rules(s, lsn->bind);
	if (reject) {
		char why[160];
		atomic_fetch_add(&fe->ctr.rejected, 1);
		snprintf(why, sizeof(why), "rejected by 'tcp-request connection reject' at %s:%d",
			 reject->where.file, reject->where.line);
		strm_log_refusal(s, why);
		reset_on_close(fd);
		close(fd);
		strm_set_term(s, 'P', 'R');
		strm_close(s);
		return s;
	}
	choose_client_path(s);
	if (s->want_http && !(s->http = calloc(1, sizeof(*s->http)))) {
		close(fd);
		strm_set_term(s, 'R', 'C');
		strm_close(s);
		return s;
	}
	if (strm_init_events(s, fd) < 0) {
		strm_set_term(s, 'R', 'C');
		strm_close(s);
		return s;
	}
	/* TCP_NODELAY comes from the listening socket (inherited on accept). */
	set_keepalive(fd, fe->conf->options, CFG_OPT_CLITCPKA);
	s->tick_ms = tick_for(s);
	arm_timer(s);
	if (s->expect_proxy) {
		strm_set_state(s, STRM_ST_PROXY_WAIT);
		proxy_rearm(s);
		return s;
	}
	client_begin(s, NULL, 0);
	return s;
}

const char *strm_server_sni(struct stream *s, char *buf, size_t len)
{
	const struct cfg_server *sc = s->srv->conf;
	struct sample_ctx ctx = {.src = (const struct sockaddr *)&s->cli_addr, .sni = s->sni};

	buf[0] = '\0';
	if (!sc->sni)
		return buf;
	if (s->http)
		http_sample_ctx(s, &ctx);
	ctx.dst = strm_frontend_addr(s);
	if (sample_expand(sc->sni, &ctx, buf, len) < 0)
		buf[0] = '\0';
	return buf;
}

/* Every entry into a stream holds it (strm_enter/strm_leave) so that a
 * close in the middle frees it only on the way out. */
void strm_accept(struct worker *w, struct lsn *lsn, int fd, const struct sockaddr *peer,
		 socklen_t peerlen)
{
	struct stream *s = accept_stream(w, lsn, fd, peer, peerlen);

	if (s)
		strm_leave(s);
}

void strm_attach_server_fd(struct stream *s, int fd)
{
	s->srvs.fd = fd;
	s->srvs.eof = s->srvs.shut = 0;
	s->srvs.rev_on = s->srvs.wev_on = 0;
	event_assign(s->srvs.rev, s->w->base, fd, EV_READ | EV_PERSIST, on_srv_io, s);
	event_assign(s->srvs.wev, s->w->base, fd, EV_WRITE | EV_PERSIST, on_srv_io, s);
}

void strm_kill_all(struct worker *w)
{
	struct stream *next;

	/* Walks by next pointers: a stream held by a running callback is
	 * only marked closed here and stays on the list until it returns. */
	for (struct stream *s = w->streams; s; s = next) {
		next = s->next;
		if (s->state == STRM_ST_CLOSED)
			continue;
		strm_set_term(s, 'K', s->state == STRM_ST_ESTABLISHED ? 'D' : 'C');
		strm_close(s);
	}
}
