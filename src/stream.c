/* stream.c - one client <-> server session: an explicit state machine;
 * its core: accept, states, the path, queues and interest, transport, the
 * L4 relay, timers and the lifecycle. The other parts live beside it:
 * stream_client.c (connection rules, inbound PROXY, client TLS),
 * stream_inspect.c (routing by the ClientHello), stream_auto.c
 * (`client-ip auto`), stream_connect.c (server side), stream_http.c (the
 * HTTP/1.1 loop); stream_int.h is what they share.
 *
 *   INIT [--> PROXY_WAIT] --select--> CONNECTING --connected--> ESTABLISHED --> CLOSED
 *                                       |  ^
 *                                       +--+ connect failed, retry (client
 *                                            bytes stay queued on our side,
 *                                            so nothing is lost)
 *
 * PROXY_WAIT reads an inbound PROXY header on the raw socket before
 * anything else (when the bind has accept-proxy or an expect-proxy rule
 * matched; with accept-proxy optional, the first bytes that tell whether
 * one comes); its source becomes the client everywhere after. A server with
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
#include "worker.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define STRM_IDLE_TICKS 4

static const char *const strm_state_names[] = {
    [STRM_ST_INIT] = "INIT",
    [STRM_ST_PROXY_WAIT] = "PROXY_WAIT",
    [STRM_ST_INSPECT] = "INSPECT",
    [STRM_ST_TLS_HS] = "TLS_HS",
    [STRM_ST_CONNECTING] = "CONNECTING",
    [STRM_ST_ESTABLISHED] = "ESTABLISHED",
    [STRM_ST_HTTP_REQ] = "HTTP_REQ",
    [STRM_ST_HTTP_XFER] = "HTTP_XFER",
    [STRM_ST_HTTP_SVC] = "HTTP_SVC",
    [STRM_ST_CLOSED] = "CLOSED",
};
_Static_assert(sizeof(strm_state_names) / sizeof(strm_state_names[0]) == STRM_ST_CLOSED + 1,
	       "a name for every stream state");

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
		      strm_auto(s));
		break;
	case STRM_ST_CONNECTING:
		ok = s->state == STRM_ST_INIT || s->state == STRM_ST_PROXY_WAIT ||
		     s->state == STRM_ST_INSPECT ||
		     s->state == STRM_ST_TLS_HS || s->state == STRM_ST_CONNECTING ||
		     s->state == STRM_ST_HTTP_REQ ||
		     (s->state == STRM_ST_ESTABLISHED && strm_auto(s));
		break;
	case STRM_ST_ESTABLISHED:
		ok = s->state == STRM_ST_CONNECTING || s->state == STRM_ST_HTTP_XFER;
		break;
	case STRM_ST_HTTP_REQ:
		ok = s->state == STRM_ST_INIT || s->state == STRM_ST_PROXY_WAIT ||
		     s->state == STRM_ST_INSPECT ||
		     s->state == STRM_ST_TLS_HS || s->state == STRM_ST_CONNECTING ||
		     s->state == STRM_ST_HTTP_XFER || s->state == STRM_ST_HTTP_SVC ||
		     (s->state == STRM_ST_ESTABLISHED && strm_auto(s));
		break;
	case STRM_ST_HTTP_XFER:
		ok = s->state == STRM_ST_CONNECTING || s->state == STRM_ST_HTTP_REQ;
		break;
	case STRM_ST_HTTP_SVC:
		ok = s->state == STRM_ST_HTTP_REQ;
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
	if ((fc->options & CFG_OPT_DONTLOGNULL) && s->cli_side.bytes_read == 0 &&
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
		 s->srv_side.bytes_read, s->cli_side.bytes_read, s->term, atomic_load(&s->w->nconns),
		 s->srv ? atomic_load(&s->srv->cur_conns) : 0, s->attempts > 0 ? s->attempts - 1 : 0);
	log_access(fc->logs, fc->log_global, line);
}

/* ---- idle timer ---- */

static unsigned side_timeout(const struct stream *s, const struct strm_side *side)
{
	unsigned tunnel = s->be->conf->timeout.tunnel;

	if (tunnel && s->state == STRM_ST_ESTABLISHED)
		return tunnel;
	return side == &s->cli_side ? cfg_timeout_client(s->fe->conf)
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

int strm_read_until(struct stream *s, unsigned limit_ms, const struct timespec *since)
{
	long left = (long)limit_ms - strm_ms_since(since);
	struct timeval tv;

	if (left <= 0)
		return 0;
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	event_add(s->cli_side.rev, &tv);
	s->cli_side.rev_on = 1;
	return 1;
}

long strm_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

static struct strm_side *peer_of(struct stream *s, struct strm_side *side)
{
	return side == &s->cli_side ? &s->srv_side : &s->cli_side;
}

/* Idle time is measured by the clock from the tick that last saw a side
 * move, not summed from nominal tick lengths (a tick fires late, and
 * libevent's cached time can make it fire a little early): a side is
 * closed between its timeout and its timeout plus one tick, never before.
 * A client in a phase with its own deadline (PROXY header, ClientHello,
 * TLS handshake) is not idle; its idle time starts when the phase ends. */
static void measure_idle(struct stream *s)
{
	struct strm_side *sides[2] = {&s->cli_side, &s->srv_side};
	int own_deadline = s->state == STRM_ST_PROXY_WAIT || s->state == STRM_ST_INSPECT ||
			   s->state == STRM_ST_TLS_HS;
	long now = strm_now_ms();

	for (int i = 0; i < 2; i++) {
		struct strm_side *side = sides[i];
		/* A side we stopped reading because its peer has not taken the
		 * last bytes waits for that peer: the peer is the slow one. */
		if (side_progressed(side) || (side == &s->cli_side && own_deadline) ||
		    peer_of(s, side)->q_len > 0)
			side->idle_since = now;
		side->idle_ms = (unsigned)(now - side->idle_since);
	}
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
	if (s->state == STRM_ST_CONNECTING && s->srv_side.hs &&
	    strm_ms_since(&s->hs_start) >= (long)cfg_timeout_connect(s->be->conf)) {
		log_msg(LOG_WARNING, "%s/%s: TLS handshake timeout (stream %llu)",
			s->be->conf->name, s->srv->conf->name, s->id);
		strm_attempt_failed(s, 's');
		return 1;
	}
	return 0;
}

static void tick(struct stream *s)
{
	measure_idle(s);
	if (handshake_expired(s))
		return;
	/* HTTP has its own clocks (http-request, keep-alive, waiting for the
	 * response); the generic ones apply to its tunnels only. */
	if (s->http && s->state != STRM_ST_ESTABLISHED && s->state != STRM_ST_PROXY_WAIT &&
	    s->state != STRM_ST_INSPECT) {
		if (strm_http_tick(s))
			return;
		if (s->state == STRM_ST_CLOSED)
			return;
		arm_timer(s);
		return;
	}
	if (s->state == STRM_ST_ESTABLISHED && s->be->conf->timeout.tunnel) {
		/* A tunnel expires only when both directions are quiet. */
		unsigned idle = s->cli_side.idle_ms < s->srv_side.idle_ms ? s->cli_side.idle_ms : s->srv_side.idle_ms;
		if (idle >= s->be->conf->timeout.tunnel) {
			strm_set_term(s, 'c', 'D');
			strm_close(s);
			return;
		}
	} else if (s->cli_side.idle_ms >= side_timeout(s, &s->cli_side)) {
		strm_set_term(s, 'c', s->state == STRM_ST_ESTABLISHED ? 'D' : 'C');
		strm_close(s);
		return;
	} else if (s->state == STRM_ST_ESTABLISHED &&
		   s->srv_side.idle_ms >= side_timeout(s, &s->srv_side)) {
		strm_set_term(s, 's', 'D');
		strm_close(s);
		return;
	}
	arm_timer(s);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	strm_enter(s);
	tick(s);
	strm_leave(s);
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
	if (s->bind_tls && s->fe->conf->timeout.client_hs && s->fe->conf->timeout.client_hs < t)
		t = s->fe->conf->timeout.client_hs; /* the handshake's bound is checked per tick */
	if (s->fe->conf->mode == CFG_MODE_HTTP) { /* auto decides the path later */
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
int strm_queue_prepend(struct strm_side *side, const uint8_t *data, size_t len)
{
	if (queue_reserve(side, len) < 0)
		return -1;
	memmove(side->q + len, side->q, side->q_len);
	memcpy(side->q, data, len);
	side->q_len += len;
	return 0;
}

/* An idle side holds no memory: the queue goes once it is empty. */
void strm_queue_release(struct strm_side *side)
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
	int cli_read = !s->cli_side.eof && s->srv_side.q_len == 0 &&
		       (waiting || s->state == STRM_ST_CONNECTING || relaying);
	int srv_read = relaying && !s->srv_side.eof && s->cli_side.q_len == 0;

	if (s->state == STRM_ST_CLOSED)
		return;
	if (s->http && !relaying && !waiting)
		strm_http_interest(s, &cli_read, &srv_read);
	/* PROXY_WAIT's read carries the client-hs timeout, INSPECT's the
	 * inspect-delay: armed once, kept. */
	/* A TLS handshake reads or writes as it asks; an established TLS
	 * side may need its socket writable to go on reading. */
	if (s->cli_side.hs)
		cli_read = !s->cli_side.ssl_wants_write;
	if (s->srv_side.hs)
		srv_read = !s->srv_side.ssl_wants_write;
	if (!waiting)
		set_read(&s->cli_side, cli_read);
	/* Queued data waits for the handshake: arming write for it then
	 * would wake us on every loop while the peer has not answered. */
	set_event(s->cli_side.wev, &s->cli_side.wev_on,
		  s->cli_side.hs ? s->cli_side.ssl_wants_write : s->cli_side.q_len > 0 || s->cli_side.ssl_wants_write);
	if (s->srv_side.fd >= 0) {
		set_read(&s->srv_side, srv_read);
		/* CONNECTING's write event is armed with the connect timeout
		 * until the TCP connect completes. */
		if (s->state != STRM_ST_CONNECTING || s->srv_side.hs)
			set_event(s->srv_side.wev, &s->srv_side.wev_on,
				  s->srv_side.hs ? s->srv_side.ssl_wants_write
					     : s->srv_side.q_len > 0 || s->srv_side.ssl_wants_write);
	}
}

/* ---- byte buffers (HTTP heads and bodies not forwarded yet) ---- */

int strm_buf_append(struct strm_buf *b, const uint8_t *data, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		uint8_t *p;
		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void strm_buf_consume(struct strm_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void strm_buf_free(struct strm_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Make room for one read at the end of a buffer. */
int strm_buf_room(struct strm_buf *b, size_t want)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *p;

	while (cap - b->len < want)
		cap *= 2;
	if (cap == b->cap)
		return 0;
	p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
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
	strm_queue_release(to);
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
	return s->cli_side.eof && s->srv_side.shut && s->srv_side.eof && s->cli_side.shut;
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
	if (side == &s->srv_side && strm_auto_refusal_plausible(s) &&
	    strm_auto_fallback(s, strm_conn_pp(s) ? "the connection failed after the PROXY header, before "
					  "any answer"
					: "the connection failed on a ClientHello without a PROXY "
					  "header"))
		return;
	strm_set_term(s, side == &s->cli_side ? 'C' : 'S', s->state == STRM_ST_ESTABLISHED ? 'D' : 'C');
	strm_close(s);
}

/* One read from `from`; the bytes go to the other side, or wait in its
 * queue until the server is connected. Returns -1 when the stream ended. */
int strm_relay_read(struct stream *s, struct strm_side *from)
{
	struct strm_side *to = peer_of(s, from);
	uint8_t *buf = s->w->scratch;
	ssize_t n = strm_recv(from, buf, s->w->scratch_len);

	if (n == STRM_IO_AGAIN)
		return 0;
	if (from == &s->srv_side && s->auto_watch && strm_auto_server_said(s, buf, n))
		return -1; /* refused: the stream went the other way */
	if (n == STRM_IO_ERROR) {
		strm_side_failed(s, from);
		return -1;
	}
	if (n == STRM_IO_EOF) {
		from->eof = 1;
		if (from == &s->cli_side && s->state == STRM_ST_CONNECTING && s->srv_side.q_len == 0) {
			/* Nothing to deliver: abort the connect, as HAProxy ("CC"). */
			strm_set_term(s, 'C', 'C');
			strm_close(s);
			return -1;
		}
		return 0;
	}
	from->bytes_read += (unsigned long long)n;
	if (from == &s->cli_side)
		strm_stk_bytes_in(s, (size_t)n);
	strm_ssl_more(from);
	if (from == &s->cli_side && s->auto_watch)
		strm_auto_keep(s, buf, (size_t)n);
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
void strm_settle(struct stream *s)
{
	if (s->state == STRM_ST_ESTABLISHED) {
		maybe_shutdown(s, &s->srv_side);
		maybe_shutdown(s, &s->cli_side);
		if (both_directions_done(s)) {
			strm_close(s);
			return;
		}
	}
	strm_update_interest(s);
}

int strm_run_handshake(struct strm_side *side)
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




/* ---- client events ---- */

static void cli_io(struct stream *s, short what)
{
	if (s->state == STRM_ST_PROXY_WAIT) {
		strm_proxy_io(s, what);
		return;
	}
	if (s->state == STRM_ST_INSPECT) {
		strm_inspect_io(s, what);
		return;
	}
	if (s->state == STRM_ST_TLS_HS) {
		strm_client_handshake(s);
		return;
	}
	if (s->http && s->state != STRM_ST_ESTABLISHED) {
		strm_http_on_cli_io(s, what);
		return;
	}
	if ((what & EV_WRITE) && strm_flush(&s->cli_side) < 0) {
		strm_side_failed(s, &s->cli_side);
		return;
	}
	if ((what & EV_READ) && strm_relay_read(s, &s->cli_side) < 0)
		return;
	strm_settle(s);
}

static void on_cli_io(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	strm_enter(s);
	cli_io(s, what);
	strm_leave(s);
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

/* The HTTP loop logs its own lines. A connection of a mode http frontend
 * that ended before `client-ip auto` chose its path logs none either, as
 * on the XFF path: no request was seen. */
static int logs_as_tcp(const struct stream *s)
{
	return !s->http && !(s->path == STRM_PATH_PENDING && s->fe->conf->mode == CFG_MODE_HTTP);
}

static void strm_destroy(struct stream *s)
{
	if (s->srv) {
		atomic_fetch_add(&s->srv->bytes_out, s->cli_side.bytes_read);
		atomic_fetch_add(&s->srv->bytes_in, s->srv_side.bytes_read);
	}
	atomic_fetch_add(&s->fe->ctr.bytes_in, s->cli_side.bytes_read);
	atomic_fetch_add(&s->fe->ctr.bytes_out, s->srv_side.bytes_read);
	atomic_fetch_sub(&s->fe->cur_conns, 1);
	strm_stk_release(s, 0);
	if (logs_as_tcp(s))
		strm_log(s);
	strm_http_free(s);
	side_free(&s->cli_side);
	side_free(&s->srv_side);
	if (s->timer)
		event_free(s->timer);
	if (s->retry_ev)
		event_free(s->retry_ev);
	free(s->tried);
	free(s->pp_buf);
	free(s->sni);
	conn_free(s->conn);
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

/* Closing marks the stream; its memory goes when the event callback that
 * is running returns (strm_leave). Code that goes on after a helper closed
 * the stream therefore still reads valid memory and sees CLOSED. */
void strm_close(struct stream *s)
{
	if (s->state == STRM_ST_CLOSED)
		return;
	strm_release_srv(s);
	strm_set_state(s, STRM_ST_CLOSED);
	if (s->busy == 0)
		strm_destroy(s);
}

void strm_enter(struct stream *s)
{
	s->busy++;
}

void strm_leave(struct stream *s)
{
	if (--s->busy == 0 && s->state == STRM_ST_CLOSED)
		strm_destroy(s);
}

/* ---- what conditions read ---- */

void strm_acl_ctx(struct stream *s, struct acl_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->src = (const struct sockaddr *)&s->cli_addr;
	ctx->nbsrv = gen_nbsrv; /* in this stream's generation */
	ctx->nbsrv_arg = s->gen;
	ctx->stk = strm_stk_fetch;
	ctx->stk_arg = s;
	if (s->http && s->http->fields && s->http->req_head.target.len) {
		ctx->uri = (const char *)s->http->req.buf.data + s->http->req_head.target.off;
		ctx->uri_len = s->http->req_head.target.len;
	}
}

/* ---- the client-IP path ---- */

/* The frontend counter a path counts in. A path whose PROXY header the
 * servers decide counts as the backend's first server says. */
static atomic_ullong *path_counter(struct stream *s, enum strm_path p)
{
	struct fe_counters *c = &s->fe->ctr;
	int pp = path_fixed_pp(p);

	if (path_is_http(p))
		return &c->path_xff;
	if (pp < 0)
		pp = s->be->nsrv > 0 && s->be->srvs[0].conf->send_proxy != CFG_SEND_PROXY_NONE;
	return pp ? &c->path_proxy : &c->path_plain;
}

/* Per-frontend path counters, once per connection (strm_set_path() moves
 * the count when auto changes a counted path). */
void strm_count_path(struct stream *s)
{
	if (s->path_counted)
		return;
	s->path_counted = 1;
	atomic_fetch_add(path_counter(s, s->path), 1);
}

int strm_set_path(struct stream *s, enum strm_path path)
{
	if (path_is_http(path) && !s->http && !(s->http = calloc(1, sizeof(*s->http))))
		return -1;
	if (!path_is_http(path))
		strm_http_free(s);
	if (s->path_counted && path != s->path) {
		atomic_fetch_sub(path_counter(s, s->path), 1);
		atomic_fetch_add(path_counter(s, path), 1);
	}
	if (log_debug_enabled() && path != s->path)
		log_msg(LOG_DEBUG, "stream %llu: path %s -> %s", s->id, path_name(s->path),
			path_name(path));
	s->path = path;
	return 0;
}

struct tls_bind *strm_cli_tls(const struct stream *s)
{
	return path_terminates_tls(s->path) ? s->bind_tls : NULL;
}

/* ---- accept ---- */

static int strm_init_events(struct stream *s, int fd)
{
	struct event_base *base = s->w->base;

	s->cli_side.fd = fd;
	s->cli_side.rev = event_new(base, fd, EV_READ | EV_PERSIST, on_cli_io, s);
	s->cli_side.wev = event_new(base, fd, EV_WRITE | EV_PERSIST, on_cli_io, s);
	/* The server's events get their descriptor at connect (event_assign). */
	s->srv_side.rev = event_new(base, -1, 0, strm_on_srv_io, s);
	s->srv_side.wev = event_new(base, -1, 0, strm_on_srv_io, s);
	s->timer = evtimer_new(base, on_tick, s);
	return s->cli_side.rev && s->cli_side.wev && s->srv_side.rev && s->srv_side.wev && s->timer ? 0 : -1;
}

/* The frontend's client-IP strategy at accept decides this connection's
 * path (a runtime switch applies to connections accepted after it); see
 * path.h. Without `client-ip` the section's HAProxy semantics apply. */
static enum strm_path path_of_strategy(struct stream *s)
{
	const struct cfg_proxy *fc = s->fe->conf;
	enum cfg_client_ip st = atomic_load_explicit(&s->fe->client_ip, memory_order_relaxed);
	int derived = fc->client_ip == CFG_CLIENT_IP_UNSET && st == gen_config_client_ip(fc);

	s->strategy = st;
	return path_at_accept(st, derived, fc->mode == CFG_MODE_HTTP);
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
	s->bind_tls = lsn->tls;
	s->cli_side.fd = s->srv_side.fd = -1;
	s->cli_side.idle_since = s->srv_side.idle_since = strm_now_ms();
	s->connect_ms = -1;
	memcpy(s->term, "--", 3);
	memcpy(&s->cli_addr, peer, peerlen < sizeof(s->cli_addr) ? peerlen : sizeof(s->cli_addr));
	s->cli_addrlen = peerlen;
	net_unmap_v4(&s->cli_addr);
	gettimeofday(&s->t_accept, NULL);
	clock_gettime(CLOCK_MONOTONIC, &s->mono_accept);
	atomic_fetch_add(&fe->ctr.conns, 1);

	reject = strm_conn_rules(s, lsn->bind);
	if (reject) {
		char why[160];
		int drop = reject->action == CFG_TCP_SILENT_DROP;
		atomic_fetch_add(&fe->ctr.rejected, 1);
		snprintf(why, sizeof(why), "%s by 'tcp-request connection %s' at %s:%d",
			 drop ? "dropped" : "rejected", drop ? "silent-drop" : "reject",
			 reject->where.file, reject->where.line);
		strm_log_refusal(s, why);
		if (drop) {
			strm_silent_drop(fd);
		} else {
			strm_reset_on_close(fd);
			close(fd);
		}
		strm_set_term(s, 'P', 'R');
		strm_close(s);
		return s;
	}
	if (strm_set_path(s, path_of_strategy(s)) < 0) {
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
	strm_set_keepalive(fd, fe->conf->options, CFG_OPT_CLITCPKA);
	s->tick_ms = tick_for(s);
	arm_timer(s);
	if (s->pp_in != STRM_PP_IN_NONE) {
		strm_proxy_wait(s);
		return s;
	}
	strm_client_begin(s, NULL, 0);
	return s;
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
