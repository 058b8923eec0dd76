/* stream.c - one client <-> server session: an explicit state machine.
 *
 *   INIT [--> PROXY_WAIT] --select--> CONNECTING --connected--> ESTABLISHED --> CLOSED
 *                                       |  ^
 *                                       +--+ connect failed, retry (client
 *                                            bytes stay buffered on our side,
 *                                            so nothing is lost)
 *
 * PROXY_WAIT reads an inbound PROXY header on the raw socket before
 * anything else (when the bind has accept-proxy or an expect-proxy rule
 * matched); its source becomes the client everywhere after. A server with
 * send-proxy* gets our header in clear as the first bytes of its
 * connection, before anything of the client's.
 *
 * In ESTABLISHED bytes move between the two bufferevents without copies
 * (evbuffer_add_buffer). Backpressure: when the peer's output holds more
 * than STRM_BUF_HIGH bytes we stop reading this side, and resume once it
 * drains below half of that. A side's EOF is forwarded as a shutdown of
 * writes on the other side once everything read before it is flushed;
 * the stream ends when both directions are finished, or at the first
 * error or timeout.
 *
 * Idle timeouts cost no syscall per read: a timer ticks a few times per
 * timeout and a side is idle when its byte counters did not move since
 * the previous tick.
 */
#include <config.h>

#include "stream.h"

#include "acl.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "listener.h"
#include "log.h"
#include "net.h"
#include "proxy_proto.h"
#include "worker.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define STRM_BUF_HIGH (64 * 1024)
#define STRM_IDLE_TICKS 4

enum strm_state {
	STRM_ST_INIT = 0,
	STRM_ST_PROXY_WAIT,
	STRM_ST_CONNECTING,
	STRM_ST_ESTABLISHED,
	STRM_ST_CLOSED,
};

static const char *const strm_state_names[] = {"INIT", "PROXY_WAIT", "CONNECTING", "ESTABLISHED",
						"CLOSED"};

/* How the client's bytes reach the server. Decided after the server is
 * chosen; today only RELAY exists (L4 passthrough, strategy `none`). */
enum strm_path {
	STRM_PATH_RELAY = 0,
};

struct strm_side {
	struct bufferevent *bev;
	int eof;               /* read side ended */
	int shut;              /* we shut down writes towards this side */
	int paused;            /* reading disabled by backpressure */
	unsigned long long bytes_read;   /* read from this side */
	unsigned long long bytes_queued; /* handed to this side's output */
	unsigned long long seen_read;    /* counters at the previous idle tick */
	unsigned long long seen_written;
	unsigned idle_ms;      /* idle time accumulated by ticks */
};

struct stream {
	struct stream *next; /* in w->streams */
	struct stream *prev;
	unsigned long long id;
	struct worker *w;
	struct gen *gen;
	struct fe *fe;
	struct be *be;
	struct srv *srv;
	enum strm_state state;
	enum strm_path path;
	struct strm_side cli;
	struct strm_side srvs;
	struct sockaddr_storage cli_addr; /* the client: socket peer, or PROXY source */
	socklen_t cli_addrlen;
	struct sockaddr_storage dst_addr; /* what it connected to (or PROXY dest.) */
	int have_dst;
	int expect_proxy;  /* a PROXY header must come first */
	struct pp_bytes up_unique_id; /* from the inbound header, forwarded (owned) */
	struct pp_bytes up_authority;
	struct timeval t_accept;
	struct timespec mono_accept;
	long connect_ms;   /* time to connect the last attempt, -1 none */
	int attempts;      /* server connection attempts */
	int srv_held;      /* counted in s->srv->cur_conns */
	unsigned char *tried; /* per server: already failed for this stream */
	struct event *timer;
	unsigned tick_ms;
	char term[3];      /* HAProxy-like termination state, e.g. "--", "SC" */
};

static void strm_close(struct stream *s);
static void strm_connect_next(struct stream *s);
static void proxy_read(struct stream *s);

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000L + (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* The one place a stream changes state; every allowed edge is listed. */
static void strm_set_state(struct stream *s, enum strm_state next)
{
	int ok;

	switch (next) {
	case STRM_ST_PROXY_WAIT:
		ok = s->state == STRM_ST_INIT;
		break;
	case STRM_ST_CONNECTING:
		ok = s->state == STRM_ST_INIT || s->state == STRM_ST_PROXY_WAIT ||
		     s->state == STRM_ST_CONNECTING;
		break;
	case STRM_ST_ESTABLISHED:
		ok = s->state == STRM_ST_CONNECTING;
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

static void set_term(struct stream *s, char who, char phase)
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
		 s->srv ? s->srv->conf->name : "<NOSRV>", s->connect_ms, ms_since(&s->mono_accept),
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
	unsigned long long written = side->bytes_queued;
	int moved;

	if (side->bev)
		written -= evbuffer_get_length(bufferevent_get_output(side->bev));
	moved = side->bytes_read != side->seen_read || written != side->seen_written;
	side->seen_read = side->bytes_read;
	side->seen_written = written;
	return moved;
}

static void arm_timer(struct stream *s)
{
	struct timeval tv = {.tv_sec = s->tick_ms / 1000, .tv_usec = (s->tick_ms % 1000) * 1000};

	evtimer_add(s->timer, &tv);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;
	struct strm_side *sides[2] = {&s->cli, &s->srvs};

	for (int i = 0; i < 2; i++) {
		struct strm_side *side = sides[i];
		if (side_progressed(side))
			side->idle_ms = 0;
		else
			side->idle_ms += s->tick_ms;
	}
	if (s->state == STRM_ST_ESTABLISHED && s->be->conf->timeout.tunnel) {
		/* A tunnel expires only when both directions are quiet. */
		unsigned idle = s->cli.idle_ms < s->srvs.idle_ms ? s->cli.idle_ms : s->srvs.idle_ms;
		if (idle >= s->be->conf->timeout.tunnel) {
			set_term(s, 'c', 'D');
			strm_close(s);
			return;
		}
	} else if (s->cli.idle_ms >= side_timeout(s, &s->cli)) {
		set_term(s, 'c', s->state == STRM_ST_ESTABLISHED ? 'D' : 'C');
		strm_close(s);
		return;
	} else if (s->state == STRM_ST_ESTABLISHED &&
		   s->srvs.idle_ms >= side_timeout(s, &s->srvs)) {
		set_term(s, 's', 'D');
		strm_close(s);
		return;
	}
	arm_timer(s);
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
	t /= STRM_IDLE_TICKS;
	return t < 10 ? 10 : t;
}

/* ---- data movement ---- */

static struct strm_side *peer_of(struct stream *s, struct strm_side *side)
{
	return side == &s->cli ? &s->srvs : &s->cli;
}

static struct strm_side *side_of(struct stream *s, struct bufferevent *bev)
{
	return bev == s->cli.bev ? &s->cli : &s->srvs;
}

static int both_directions_done(const struct stream *s)
{
	return s->cli.eof && s->srvs.shut && s->srvs.eof && s->cli.shut;
}

/* Forward a side's EOF once its bytes have left: shutdown(SHUT_WR). */
static void maybe_shutdown(struct stream *s, struct strm_side *to)
{
	struct strm_side *from = peer_of(s, to);

	if (!from->eof || to->shut || !to->bev)
		return;
	if (evbuffer_get_length(bufferevent_get_output(to->bev)) > 0)
		return;
	shutdown(bufferevent_getfd(to->bev), SHUT_WR);
	to->shut = 1;
}

static void pump(struct stream *s, struct strm_side *from)
{
	struct strm_side *to = peer_of(s, from);
	struct evbuffer *in = bufferevent_get_input(from->bev);
	struct evbuffer *out = bufferevent_get_output(to->bev);
	size_t len = evbuffer_get_length(in);

	if (len == 0)
		return;
	from->bytes_read += len;
	to->bytes_queued += len;
	evbuffer_add_buffer(out, in);
	if (evbuffer_get_length(out) >= STRM_BUF_HIGH && !from->paused) {
		from->paused = 1;
		bufferevent_disable(from->bev, EV_READ);
		bufferevent_setwatermark(to->bev, EV_WRITE, STRM_BUF_HIGH / 2, 0);
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;
	struct strm_side *side = side_of(s, bev);

	if (s->state == STRM_ST_PROXY_WAIT) {
		proxy_read(s);
		return;
	}
	/* Before ESTABLISHED the client's bytes wait in its input buffer,
	 * bounded by its read watermark; they are counted when moved. */
	if (s->state != STRM_ST_ESTABLISHED)
		return;
	pump(s, side);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct stream *s = arg;
	struct strm_side *to = side_of(s, bev);
	struct strm_side *from = peer_of(s, to);

	if (from->paused) {
		from->paused = 0;
		bufferevent_setwatermark(to->bev, EV_WRITE, 0, 0);
		if (!from->eof)
			bufferevent_enable(from->bev, EV_READ);
	}
	maybe_shutdown(s, to);
	if (both_directions_done(s))
		strm_close(s);
}

static void side_eof(struct stream *s, struct strm_side *side)
{
	struct strm_side *to = peer_of(s, side);

	side->eof = 1;
	if (side == &s->cli && s->state == STRM_ST_CONNECTING &&
	    evbuffer_get_length(bufferevent_get_input(side->bev)) == 0) {
		/* Nothing to deliver: abort the connect, as HAProxy ("CC"). */
		set_term(s, 'C', 'C');
		strm_close(s);
		return;
	}
	if (s->state == STRM_ST_ESTABLISHED) {
		pump(s, side);
		maybe_shutdown(s, to);
	}
	if (both_directions_done(s))
		strm_close(s);
}

/* ---- server connection ---- */

static void release_srv(struct stream *s)
{
	if (s->srv_held) {
		atomic_fetch_sub(&s->srv->cur_conns, 1);
		s->srv_held = 0;
	}
}

static void srv_attempt_failed(struct stream *s, char cause)
{
	struct srv *srv = s->srv;

	release_srv(s);
	atomic_fetch_add(&srv->conn_failures, 1);
	bufferevent_free(s->srvs.bev);
	s->srvs.bev = NULL;
	if (!s->tried)
		s->tried = calloc((size_t)s->be->nsrv, 1);
	if (s->tried)
		s->tried[srv - s->be->srvs] = 1;
	if (s->attempts > s->be->conf->retries) {
		set_term(s, cause, 'C');
		atomic_fetch_add(&s->fe->ctr.conn_fail, 1);
		log_msg(LOG_WARNING, "%s/%s: giving up on stream %llu after %d attempts",
			s->be->conf->name, srv->conf->name, s->id, s->attempts);
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

static void strm_connect_next(struct stream *s)
{
	struct srv *srv = choose_server(s);
	const struct cfg_server *sc;
	struct timeval tv;
	unsigned ms;

	if (!srv) {
		set_term(s, 'S', 'C');
		atomic_fetch_add(&s->fe->ctr.no_server, 1);
		log_msg(LOG_WARNING, "frontend %s: no server available in backend %s, closing stream %llu",
			s->fe->conf->name, s->be->conf->name, s->id);
		strm_close(s);
		return;
	}
	s->srv = srv;
	sc = srv->conf;
	s->attempts++;
	strm_set_state(s, STRM_ST_CONNECTING);
	atomic_fetch_add(&srv->cur_conns, 1);
	s->srv_held = 1;
	atomic_fetch_add(&srv->total_conns, 1);
	s->srvs.bev = bufferevent_socket_new(s->w->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!s->srvs.bev) {
		srv_attempt_failed(s, 'R');
		return;
	}
	bufferevent_setcb(s->srvs.bev, on_read, on_write, on_event, s);
	ms = cfg_timeout_connect(s->be->conf);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	bufferevent_set_timeouts(s->srvs.bev, NULL, &tv);
	if (bufferevent_socket_connect(s->srvs.bev, (const struct sockaddr *)&sc->addr.ss,
				       (int)sc->addr.len) < 0) {
		srv_attempt_failed(s, 'S');
		return;
	}
}

static int send_proxy_header(struct stream *s);

static void on_connected(struct stream *s)
{
	int fd = bufferevent_getfd(s->srvs.bev);

	set_nodelay(fd);
	set_keepalive(fd, s->be->conf->options, CFG_OPT_SRVTCPKA);
	s->connect_ms = ms_since(&s->mono_accept);
	bufferevent_set_timeouts(s->srvs.bev, NULL, NULL);
	strm_set_state(s, STRM_ST_ESTABLISHED);
	if (s->srv->conf->send_proxy != CFG_SEND_PROXY_NONE && send_proxy_header(s) < 0) {
		set_term(s, 'P', 'C');
		strm_close(s);
		return;
	}
	bufferevent_enable(s->srvs.bev, EV_READ | EV_WRITE);
	/* What the client sent while we connected goes first. */
	pump(s, &s->cli);
	if (s->cli.eof)
		maybe_shutdown(s, &s->srvs);
	if (s->state != STRM_ST_CLOSED && !s->cli.paused && !s->cli.eof) {
		bufferevent_setwatermark(s->cli.bev, EV_READ, 0, 0);
		bufferevent_enable(s->cli.bev, EV_READ);
	}
}

static void proxy_failed(struct stream *s, short what);

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct stream *s = arg;
	struct strm_side *side = side_of(s, bev);

	if (s->state == STRM_ST_PROXY_WAIT) {
		proxy_failed(s, what);
		return;
	}
	if (side == &s->srvs && s->state == STRM_ST_CONNECTING) {
		if (what & BEV_EVENT_CONNECTED) {
			on_connected(s);
			return;
		}
		srv_attempt_failed(s, (what & BEV_EVENT_TIMEOUT) ? 's' : 'S');
		return;
	}
	if (what & BEV_EVENT_EOF) {
		side_eof(s, side);
		return;
	}
	/* An error (reset) on either side ends the whole stream. */
	set_term(s, side == &s->cli ? 'C' : 'S', s->state == STRM_ST_ESTABLISHED ? 'D' : 'C');
	strm_close(s);
}

/* ---- lifecycle ---- */

static void strm_close(struct stream *s)
{
	if (s->state == STRM_ST_CLOSED)
		return;
	release_srv(s);
	strm_set_state(s, STRM_ST_CLOSED);
	if (s->srv) {
		atomic_fetch_add(&s->srv->bytes_out, s->cli.bytes_read);
		atomic_fetch_add(&s->srv->bytes_in, s->srvs.bytes_read);
	}
	atomic_fetch_add(&s->fe->ctr.bytes_in, s->cli.bytes_read);
	atomic_fetch_add(&s->fe->ctr.bytes_out, s->srvs.bytes_read);
	strm_log(s);
	if (s->cli.bev)
		bufferevent_free(s->cli.bev);
	if (s->srvs.bev)
		bufferevent_free(s->srvs.bev);
	if (s->timer)
		event_free(s->timer);
	free(s->tried);
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

static void log_refusal(struct stream *s, const char *why)
{
	char peer[NET_ADDRSTRLEN];

	net_format_addr((const struct sockaddr *)&s->cli_addr, peer, sizeof(peer));
	log_msg(LOG_NOTICE, "frontend %s: closing connection from %s: %s", s->fe->conf->name, peer,
		why);
}

static void proxy_refuse(struct stream *s, enum pp_error err)
{
	char why[96];

	atomic_fetch_add(&s->fe->ctr.pp_errors[err], 1);
	snprintf(why, sizeof(why), "invalid PROXY header (%s)", pp_strerror(err));
	log_refusal(s, why);
	reset_on_close(bufferevent_getfd(s->cli.bev));
	set_term(s, 'P', 'R');
	strm_close(s);
}

static void proxy_failed(struct stream *s, short what)
{
	if (what & BEV_EVENT_TIMEOUT) {
		atomic_fetch_add(&s->fe->ctr.pp_timeout, 1);
		log_refusal(s, "timeout while waiting for the PROXY header (timeout client-hs)");
		reset_on_close(bufferevent_getfd(s->cli.bev));
		set_term(s, 'c', 'R');
	} else {
		atomic_fetch_add(&s->fe->ctr.pp_closed, 1);
		log_refusal(s, "closed before a complete PROXY header (truncated)");
		set_term(s, 'C', 'R');
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

static void proxy_read(struct stream *s)
{
	struct evbuffer *in = bufferevent_get_input(s->cli.bev);
	unsigned max = s->gen->cfg->global.pp_max_header;
	size_t look = evbuffer_get_length(in);
	struct pp_decode_opts opts = {.max_header = max ? max : PP_DEFAULT_MAX_HEADER};
	struct pp_header h;
	size_t consumed = 0;
	enum pp_error err = PP_ERR_NONE;
	const uint8_t *bytes;

	if (look > opts.max_header)
		look = opts.max_header;
	bytes = evbuffer_pullup(in, (ev_ssize_t)look);
	switch (pp_decode(bytes, look, &opts, &h, &consumed, &err)) {
	case PP_NEED_MORE:
		if (look >= opts.max_header)
			proxy_refuse(s, PP_ERR_TOO_LARGE);
		return;
	case PP_ERROR:
		proxy_refuse(s, err);
		return;
	case PP_OK:
		break;
	}
	proxy_adopt(s, &h);
	evbuffer_drain(in, consumed);
	bufferevent_set_timeouts(s->cli.bev, NULL, NULL);
	atomic_fetch_add(&s->fe->ctr.pp_accepted, 1);
	if (log_debug_enabled()) {
		char peer[NET_ADDRSTRLEN];
		net_format_addr((const struct sockaddr *)&s->cli_addr, peer, sizeof(peer));
		log_msg(LOG_DEBUG, "stream %llu: PROXY v%d %s, client %s", s->id, h.version,
			h.use_real_addrs ? "without addresses" : "accepted", peer);
	}
	strm_connect_next(s);
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
static const struct sockaddr *frontend_addr(struct stream *s)
{
	if (!s->have_dst) {
		socklen_t len = sizeof(s->dst_addr);
		if (getsockname(bufferevent_getfd(s->cli.bev), (struct sockaddr *)&s->dst_addr,
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

static int send_proxy_header(struct stream *s)
{
	const struct cfg_server *sc = s->srv->conf;
	const struct sockaddr *src = (const struct sockaddr *)&s->cli_addr;
	const struct sockaddr *dst = frontend_addr(s);
	uint8_t hdr[PP_SEND_MAX];
	char uid[40];
	int n;

	if (sc->send_proxy == CFG_SEND_PROXY_V1) {
		n = pp_encode_v1(hdr, sizeof(hdr), src, dst);
	} else {
		struct pp_v2_send snd = {.src = src, .dst = dst, .flags = sc->pp2_options};
		snd.unique_id = s->up_unique_id.ptr ? s->up_unique_id
						    : make_unique_id(s, uid, sizeof(uid));
		snd.authority = s->up_authority;
		snd.ssl = NULL; /* not terminated here: the SSL TLV says client=0 */
		n = pp_encode_v2(hdr, sizeof(hdr), &snd);
	}
	if (n < 0) {
		log_msg(LOG_ERR, "%s/%s: cannot build the PROXY header for stream %llu (%s)",
			s->be->conf->name, sc->name, s->id,
			n == PP_ENC_TOO_LARGE ? "larger than 512 bytes" : "invalid value");
		return -1;
	}
	/* First in the output buffer: it leaves in the first write, alone
	 * or ahead of the client's bytes, never split by them. */
	return bufferevent_write(s->srvs.bev, hdr, (size_t)n);
}

/* ---- lifecycle ---- */

void strm_accept(struct worker *w, struct lsn *lsn, int fd, const struct sockaddr *peer,
		 socklen_t peerlen)
{
	struct fe *fe = lsn->fe;
	struct stream *s = calloc(1, sizeof(*s));
	const struct cfg_tcp_rule *reject;

	if (!s) {
		log_msg(LOG_ERR, "frontend %s: out of memory, refusing a connection", fe->conf->name);
		close(fd);
		return;
	}
	worker_stream_started(w);
	s->next = w->streams;
	if (s->next)
		s->next->prev = s;
	w->streams = s;
	s->id = ((unsigned long long)w->id << 48) | ++w->next_stream_id;
	s->w = w;
	s->gen = gen_ref(w->gen);
	s->fe = fe;
	s->be = fe->be;
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
		log_refusal(s, why);
		reset_on_close(fd);
		close(fd);
		set_term(s, 'P', 'R');
		strm_close(s);
		return;
	}
	set_nodelay(fd);
	set_keepalive(fd, fe->conf->options, CFG_OPT_CLITCPKA);
	s->cli.bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->timer = evtimer_new(w->base, on_tick, s);
	if (!s->cli.bev || !s->timer) {
		if (!s->cli.bev)
			close(fd);
		set_term(s, 'R', 'C');
		strm_close(s);
		return;
	}
	bufferevent_setcb(s->cli.bev, on_read, on_write, on_event, s);
	/* Until the server answers, hold at most one buffer of client bytes. */
	bufferevent_setwatermark(s->cli.bev, EV_READ, 0, STRM_BUF_HIGH);
	bufferevent_enable(s->cli.bev, EV_READ | EV_WRITE);
	s->tick_ms = tick_for(s);
	arm_timer(s);
	s->path = STRM_PATH_RELAY;
	if (s->expect_proxy) {
		unsigned ms = s->fe->conf->timeout.client_hs ? s->fe->conf->timeout.client_hs
							      : CFG_DEFAULT_TIMEOUT_CLIENT_HS;
		struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
		strm_set_state(s, STRM_ST_PROXY_WAIT);
		bufferevent_set_timeouts(s->cli.bev, &tv, NULL);
		return;
	}
	strm_connect_next(s);
}

void strm_kill_all(struct worker *w)
{
	while (w->streams) {
		set_term(w->streams, 'K', w->streams->state == STRM_ST_ESTABLISHED ? 'D' : 'C');
		strm_close(w->streams);
	}
}
