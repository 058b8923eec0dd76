/* stream_auto.c - `client-ip auto` on the data path.
 *
 * The server is chosen first, then the path its detected mode allows.
 * Between two probes a router can flip: a server connection that fails
 * before the server's first byte is retried the other way at once, and
 * that server's mode flips with it - but only when the client did all a
 * client should (it is still there, and what it sent is whole), so that
 * no client can flip a router at will.
 */
#include <config.h>

#include "stream_int.h"

#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "log.h"
#include "tls_hello.h"
#include "worker.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

/* The PROXY version auto sends: v1 when the servers say `send-proxy`,
 * else v2 (what the probes use; HAProxy's accept-proxy takes both). */
int strm_auto_pp_version(const struct srv *srv)
{
	return srv->conf->send_proxy == CFG_SEND_PROXY_NONE ? 2 : (int)srv->conf->send_proxy;
}

/* The HTTP loop is possible: a mode http frontend, not routed by its
 * ClientHello to a passthrough backend. */
static int http_capable(const struct stream *s)
{
	return s->fe->conf->mode == CFG_MODE_HTTP && s->be == s->fe->be;
}

/* The server first (source hash needs only the client's address), then
 * the path its detected mode allows: PROXY passthrough (the client's TLS
 * untouched) to a server that takes PROXY; else the frontend's own path,
 * X-Forwarded-For for mode http, a plain relay for mode tcp. Returns -1
 * when the stream ended. */
int strm_auto_choose(struct stream *s)
{
	struct srv *srv;
	enum strm_path path;

	if (path_decided(s->path)) {
		strm_count_path(s);
		return 0;
	}
	srv = be_select(s->be, (const struct sockaddr *)&s->cli_addr, NULL);
	s->presel = srv;
	path = path_auto(srv && srv_pp_mode(srv) == SRV_PP_PROXY, http_capable(s),
			 srv ? strm_auto_pp_version(srv) : 2);
	if (strm_set_path(s, path) < 0) {
		log_msg(LOG_ERR, "frontend %s: out of memory (stream %llu)", s->fe->conf->name, s->id);
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return -1;
	}
	/* Until the server's first byte: a close then says "not this way". */
	s->auto_watch = !path_is_http(path);
	strm_count_path(s);
	return 0;
}

void strm_auto_keep(struct stream *s, const uint8_t *data, size_t len)
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
int strm_auto_refusal_plausible(const struct stream *s)
{
	struct tls_hello hello;
	struct h1_req req;
	struct h1_field fields[H1_DEFAULT_MAX_FIELDS];
	size_t head_len = 0;
	enum h1_error err;

	if (!s->auto_watch || s->auto_keep_len == 0 || s->cli_side.eof || s->srv_side.shut)
		return 0;
	if (s->auto_keep[0] == 0x16)
		return tls_hello_parse(s->auto_keep, s->auto_keep_len, &hello) == TLS_HELLO_OK;
	if (!strm_conn_pp(s))
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
	if (s->state == STRM_ST_CONNECTING && s->srv_side.fd < 0)
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
int strm_auto_server_said(struct stream *s, const uint8_t *buf, ssize_t n)
{
	/* Closed before either side said a thing: a router draining (after
	 * `haproxy -sf` the old process resets what its listen queue still
	 * held) - nothing was exchanged, so connect again, the same way. */
	if ((n == STRM_IO_EOF || n == STRM_IO_ERROR) && s->auto_keep_len == 0 &&
	    s->cli_side.bytes_read == 0 && !s->cli_side.eof) {
		auto_reconnect_later(s);
		return 1;
	}
	/* Not a ClientHello or a request head, or no client left: the close
	 * is this client's business, the server's mode stays. */
	if ((n == STRM_IO_EOF || n == STRM_IO_ERROR) && strm_auto_refusal_plausible(s))
		return strm_auto_fallback(s, strm_conn_pp(s) ? "closed after the PROXY header, before any answer"
						   : "closed on a ClientHello without a PROXY header");
	/* A 400 before the client even sent its request answers our header;
	 * after it, only when the request was a whole, valid head. */
	if (n > 0 && strm_conn_pp(s) && !s->cli_side.eof && looks_like_proxy_400(buf, (size_t)n) &&
	    (s->auto_keep_len == 0 ||
	     (s->auto_keep[0] != 0x16 && strm_auto_refusal_plausible(s))))
		return strm_auto_fallback(s, "HTTP 400 and close to a PROXY-prefixed request");
	/* It answered (or the close is not for us to read): this connection
	 * stays on its path. */
	if (log_debug_enabled())
		log_msg(LOG_DEBUG, "stream %llu: auto: server said %zd (kept %zu bytes, client %s)",
			s->id, n, s->auto_keep_len, s->cli_side.eof ? "gone" : "there");
	s->auto_watch = 0;
	free(s->auto_keep);
	s->auto_keep = NULL;
	s->auto_keep_len = 0;
	return 0;
}

int strm_auto_flip(struct stream *s, const char *why)
{
	enum srv_pp_mode to;

	if (!strm_auto(s) || s->auto_flips >= 2 || !s->srv)
		return 0;
	to = strm_conn_pp(s) ? SRV_PP_PLAIN : SRV_PP_PROXY;
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
int strm_auto_fallback(struct stream *s, const char *why)
{
	uint8_t *keep = s->auto_keep;
	size_t len = s->auto_keep_len;
	struct srv *srv = s->srv;
	int was_pp = strm_conn_pp(s);

	if (!s->auto_watch || !strm_auto_flip(s, why))
		return 0;
	s->auto_watch = 0;
	s->auto_keep = NULL;
	s->auto_keep_len = 0;
	strm_release_srv(s);
	strm_close_server_fd(s);
	strm_queue_release(&s->srv_side);
	s->srv_side.eof = s->srv_side.shut = 0;
	s->presel = srv;
	s->attempts = 0;
	free(s->tried);
	s->tried = NULL;
	/* The backend's mode: a use_backend passthrough target is mode tcp. */
	if (strm_set_path(s, path_fallback(was_pp, s->be->conf->mode == CFG_MODE_HTTP,
					   strm_auto_pp_version(srv))) < 0) {
		free(keep);
		return auto_out_of_memory(s);
	}
	if (!path_is_http(s->path)) {
		if (len && strm_queue(&s->srv_side, keep, len) < 0) {
			free(keep);
			return auto_out_of_memory(s);
		}
		free(keep);
		strm_connect_next(s);
		return 1;
	}
	if (strm_cli_tls(s)) {
		strm_begin_client_tls(s, keep, len);
	} else {
		if (len && strm_http_take_bytes(s, keep, len) < 0) {
			free(keep);
			return auto_out_of_memory(s);
		}
		strm_http_begin(s);
	}
	free(keep);
	return 1;
}
