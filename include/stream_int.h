/* stream_int.h - the inside of a stream, shared by stream.c (accept, L4
 * relay, PROXY, server connections, lifecycle) and stream_http.c (the
 * HTTP/1.1 request loop). Not for other modules: they use stream.h.
 */
#ifndef PPB_STREAM_INT_H
#define PPB_STREAM_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/time.h>
#include <time.h>

#include <event2/util.h>
#include <openssl/ssl.h>

#include "cfg.h"
#include "http1.h"
#include "path.h"
#include "proxy_proto.h"
#include "srv_conn.h"
#include "svc.h"

struct be;
struct event;
struct fe;
struct gen;
struct srv;
struct worker;
struct stktable;
struct stksess;
struct tls_bind;
struct sample_ctx;
struct acl_ctx;

/* strm_recv() / strm_send() results besides a byte count. */
#define STRM_IO_EOF 0
#define STRM_IO_ERROR (-1)
#define STRM_IO_AGAIN (-2)

enum strm_state {
	STRM_ST_INIT = 0,
	STRM_ST_PROXY_WAIT,  /* reading the inbound PROXY header */
	STRM_ST_INSPECT,     /* reading the ClientHello for use_backend / tcp-request content */
	STRM_ST_TLS_HS,      /* TLS handshake with the client (bind ... ssl) */
	STRM_ST_CONNECTING,  /* connecting to a server */
	STRM_ST_ESTABLISHED, /* L4 relay (also HTTP tunnels after 101) */
	STRM_ST_HTTP_REQ,    /* waiting for / reading a request head */
	STRM_ST_HTTP_XFER,   /* a request and its response in flight */
	STRM_ST_HTTP_SVC,    /* a request ppbridge answers itself (stream_svc.c) */
	STRM_ST_CLOSED,
};

/* Is a PROXY header read first? strm_conn_rules() decides, from the bind
 * and the `tcp-request connection` rules. */
enum strm_pp_in {
	STRM_PP_IN_NONE = 0,  /* no: the first bytes are the client's */
	STRM_PP_IN_REQUIRED,  /* accept-proxy, or a matched expect-proxy layer4 rule */
	STRM_PP_IN_OPTIONAL,  /* accept-proxy optional, a trusted source: a header or not */
	STRM_PP_IN_FORBIDDEN, /* accept-proxy optional, untrusted: a header is a spoof */
};

struct strm_side {
	int fd;                /* -1: none (server not chosen yet, or closed) */
	SSL *ssl;              /* TLS on this side, or NULL */
	int hs;                /* TLS handshake in progress */
	int ssl_wants_write;   /* the last SSL call waits for the socket to be writable */
	struct event *rev;     /* readable, persistent */
	struct event *wev;     /* writable, persistent; also the connect timeout */
	int rev_on;
	int wev_on;
	uint8_t *q;            /* bytes waiting to be written to this side */
	size_t q_off;          /* first unsent byte in q */
	size_t q_len;          /* unsent bytes from q_off */
	size_t q_cap;
	int eof;               /* read side ended */
	int shut;              /* we shut down writes towards this side */
	unsigned long long bytes_read;    /* read from this side */
	unsigned long long bytes_written; /* written to this side */
	unsigned long long seen_read;     /* counters at the previous idle tick */
	unsigned long long seen_written;
	long idle_since;       /* monotonic ms of the tick that last saw it move (or accept) */
	unsigned idle_ms;      /* idle for this long at the last tick: never more than true */
};

/* Bytes read but not processed yet (HTTP heads, pipelined requests). */
struct strm_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

/* One direction of an HTTP exchange: what came from that side and is not
 * processed yet, and how far its message got. The request goes client ->
 * server, the response server -> client; one body pump serves both. */
struct http_msg {
	struct strm_buf buf;   /* bytes from this direction's sender, not forwarded yet */
	int head_done;         /* the head went on (response: a final, non-1xx head) */
	int done;              /* the whole message went on */
	uint64_t left;         /* LENGTH framing: body bytes still to forward */
	struct h1_chunk_state chunk;
	int trailers;          /* chunked: in the trailer section */
	struct h1_trailers tr;
};

/* The HTTP side of a stream: one exchange (request + response) at a time. */
struct strm_http {
	struct http_msg req;   /* client -> server */
	struct http_msg rsp;   /* server -> client */
	struct h1_req req_head;
	struct h1_resp rsp_head;
	struct h1_field *fields; /* H1_DEFAULT_MAX_FIELDS, only while a head is parsed or in
				  * flight: an idle keep-alive connection holds none */
	int nreq;              /* requests seen on this connection */
	struct timespec head_start; /* when we started waiting for this head */
	int head_started;      /* a byte of the head arrived */
	unsigned long long resp_bytes; /* bytes sent to the client for this response */
	int status;
	/* connection management */
	int close_after;       /* close the client once this response is out */
	int srv_keep;          /* the server connection may be reused after it */
	int from_pool;         /* this request rides on a reused connection */
	struct strm_buf replay;/* what was sent on a reused connection, for a replay */
	int replayable;
	int replays;
	int closing;           /* answered and closing: lingering for the client's FIN */
	struct timespec closing_since;
	int logged;            /* this exchange's access-log line is out */
	int srv_keep_wanted;   /* we ask the server to keep the connection */
	int srv_idle;          /* the server connection is kept, clean, between requests */
	/* access log */
	struct timeval t_req;
	struct timespec mono_req;
	long t_connect_ms;
	char reqline[256];
	/* a request answered by ppbridge itself (svc.h) */
	enum svc_kind svc_kind;          /* SVC_NONE: forwarded to a server */
	const struct cfg_proxy *svc_px;  /* the proxy the log names */
	struct svc_req *svc;             /* being filled or rendered */
	int svc_submitted;               /* handed to the main thread */
	/* http-request tarpit: answered when its timer fires */
	const struct cfg_http_rule *tarpit;
	struct event *tarpit_ev;
	const struct cfg_http_rule *edge_rule; /* the deny/tarpit rule that held */
	int bad_request;       /* refused as malformed (an http_err whatever the status) */
	int head_only;         /* a refused HEAD: the error's head without its body */
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
	struct srv_conn *conn;  /* the server connection (srv_conn.h): from its connect until closed
				 * or parked; its socket and TLS are srv_side's meanwhile */
	enum strm_state state;
	enum strm_path path;    /* how the client's address reaches the server: strm_set_path() */
	enum cfg_client_ip strategy; /* the frontend's strategy at accept */
	struct strm_side cli_side; /* the client connection */
	struct strm_side srv_side; /* the server connection (fd -1: none yet) */
	struct sockaddr_storage cli_addr; /* the client: socket peer, or PROXY source */
	socklen_t cli_addrlen;
	struct sockaddr_storage dst_addr; /* what it connected to (or PROXY dest.) */
	int have_dst;
	enum strm_pp_in pp_in; /* a PROXY header first: due, optional, forbidden, or not read */
	uint8_t *pp_buf;   /* PROXY_WAIT: the header's bytes so far */
	size_t pp_len;
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
	struct strm_http *http; /* exactly on the XFF path (path.h) */
	int busy;               /* event callbacks running on it: freed when 0 and closed */
	struct srv *presel;     /* the server the HTTP loop chose for the next connect */
	struct tls_bind *bind_tls; /* `bind ... ssl`: the TLS a terminating path uses */
	char *sni;              /* the client's SNI (ssl_fc_sni), or NULL */
	char *req_sni;          /* HTTP: the SNI expanded when the request head was whole,
				 * for the connection it opens (the head is consumed by
				 * the time the connect completes) */
	struct timespec hs_start; /* when the current TLS handshake began */
	/* `client-ip auto`: the path follows the chosen server's detected mode. */
	int auto_watch;         /* PROXY passthrough: no server byte yet, client bytes kept */
	uint8_t *auto_keep;     /* the client's bytes so far (ClientHello, request) */
	size_t auto_keep_len;
	struct event *retry_ev; /* a reconnect after a short pause (auto) */
	int auto_flips;         /* server modes this stream changed (at most 2: no ping-pong) */
	int path_counted;       /* counted in the frontend's path counters */
	/* Reading the ClientHello before termination. */
	int inspected;
	uint8_t *insp_buf;
	size_t insp_len;
	char *hello_sni;        /* req.ssl_sni: the ClientHello's server name, or NULL */
	/* Stick counters (track-sc0..2): the entries this stream counts on. */
	struct strm_sc {
		struct stktable *t;
		struct stksess *e;
		int per_request; /* http-request track-sc: let go when the request ends */
	} sc[3];
	int nsc;                /* counters in use: 0 skips every stick table hook */
	const struct cfg_proxy *rule_px; /* whose rules are being evaluated (src_*()) */
};

/* A passthrough whose server has not answered keeps this much of the
 * client's bytes to restart them on the XFF path (a ClientHello with
 * post-quantum key shares is about 1.8 KB; a request head fits too). */
#define STRM_AUTO_KEEP_MAX 16384

/* `client-ip auto` decides each connection's path by its server. */
static inline int strm_auto(const struct stream *s)
{
	return s->strategy == CFG_CLIENT_IP_AUTO;
}

/* The PROXY version sent on the current server connection (0: none). */
static inline int strm_conn_pp(const struct stream *s)
{
	return s->conn ? s->conn->pp : 0;
}

/* RELEASE_BUFFERS: an idle TLS connection gives its 34 KB of record
 * buffers back (as HAProxy does); measured 67 KB per idle HTTPS client
 * (both sides) without it. */
#define STRM_SSL_MODES                                                                  \
	(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |          \
	 SSL_MODE_RELEASE_BUFFERS)

/* ---- stream.c: core ---- */

/* Byte buffers: -1 when memory runs out. */
int strm_buf_append(struct strm_buf *b, const uint8_t *data, size_t len);
void strm_buf_consume(struct strm_buf *b, size_t n);
void strm_buf_free(struct strm_buf *b);
/* Room for `want` more bytes at the end. */
int strm_buf_room(struct strm_buf *b, size_t want);

/* The one place a stream's path changes; the HTTP transaction exists
 * exactly on the XFF path, and the path counters follow once counted.
 * Returns -1 when the transaction cannot be allocated. */
int strm_set_path(struct stream *s, enum strm_path path);
/* Count the connection in its path's frontend counter (once). */
void strm_count_path(struct stream *s);
/* The TLS to terminate with the client: the bind's, on a path that
 * terminates; NULL for a passthrough (or a bind without `ssl`). */
struct tls_bind *strm_cli_tls(const struct stream *s);
void strm_set_state(struct stream *s, enum strm_state next);
void strm_set_term(struct stream *s, char who, char phase);
void strm_close(struct stream *s);
/* Every event callback holds its stream: a close inside frees it only
 * when the outermost callback returns. */
void strm_enter(struct stream *s);
void strm_leave(struct stream *s);
long strm_ms_since(const struct timespec *t0);
long strm_now_ms(void); /* monotonic */
/* Read the client with a deadline `limit_ms` after `since` (one deadline
 * for a whole phase: a persistent event's own timeout would start again at
 * every byte). Returns 0 when it is already over. */
int strm_read_until(struct stream *s, unsigned limit_ms, const struct timespec *since);
/* Transport: plain socket or TLS, one contract. */
ssize_t strm_recv(struct strm_side *side, void *buf, size_t len);
ssize_t strm_send(struct strm_side *side, const void *buf, size_t len);
void strm_ssl_more(struct strm_side *side);
/* One step of a TLS handshake: 1 done, 0 wants more, -1 failed. */
int strm_run_handshake(struct strm_side *side);
/* Queues: bytes a side could not take yet. */
int strm_queue(struct strm_side *side, const uint8_t *data, size_t len);
int strm_queue_prepend(struct strm_side *side, const uint8_t *data, size_t len);
void strm_queue_release(struct strm_side *side);
int strm_flush(struct strm_side *to);
int strm_deliver(struct strm_side *to, const uint8_t *data, size_t len);
void strm_update_interest(struct stream *s);
/* The L4 relay: one read from a side (-1: the stream ended); after I/O,
 * EOFs propagate and the stream ends when both directions are done. */
int strm_relay_read(struct stream *s, struct strm_side *from);
void strm_settle(struct stream *s);
void strm_side_failed(struct stream *s, struct strm_side *side);

/* What a condition may read of this stream now: the client's address,
 * runtime state (nbsrv) and, once a request head is parsed, its target. */
void strm_acl_ctx(struct stream *s, struct acl_ctx *ctx);

/* ---- stream_client.c: before the path runs ---- */

/* HAProxy's `tcp-request connection` rules on the socket's addresses;
 * returns the rule that rejected the connection, or NULL. */
const struct cfg_tcp_rule *strm_conn_rules(struct stream *s, const struct cfg_bind *bind);
void strm_proxy_wait(struct stream *s);
void strm_proxy_io(struct stream *s, short what);
/* The client is accepted (its PROXY header read, if one was due): read
 * the ClientHello when rules route by it, else choose the path and start
 * on it with `prefix`, the client's bytes already read. */
void strm_client_begin(struct stream *s, const uint8_t *prefix, size_t len);
void strm_begin_client_tls(struct stream *s, const uint8_t *prefix, size_t len);
void strm_client_handshake(struct stream *s);
void strm_log_refusal(struct stream *s, const char *why);
/* The same for a request refused on a connection that stays open. */
void strm_log_refused_request(struct stream *s, const char *why);
/* A reload, a soft-stop, a toggle or `monitor fail` asks keep-alive
 * clients to come back on a new connection (stream_http.c). */
int strm_http_superseded(const struct stream *s);
/* A refused or broken client connection is reset, as HAProxy does. */
void strm_reset_on_close(int fd);

/* ---- stream_inspect.c: routing by the ClientHello ---- */

int strm_needs_inspect(const struct stream *s);
/* `tcp-request content` rules that read nothing of the ClientHello
 * (track-sc, src conditions) run at once, as HAProxy runs them without
 * inspect-delay. Returns -1 when the connection was rejected (closed). */
int strm_content_rules_now(struct stream *s);
void strm_inspect_start(struct stream *s, const uint8_t *prefix, size_t len);
void strm_inspect_io(struct stream *s, short what);

/* ---- stream_auto.c: client-ip auto ---- */

/* The PROXY version auto sends a server that takes PROXY. */
int strm_auto_pp_version(const struct srv *srv);
/* Decide a pending path by the chosen server (-1: the stream ended). */
int strm_auto_choose(struct stream *s);
void strm_auto_keep(struct stream *s, const uint8_t *data, size_t len);
int strm_auto_refusal_plausible(const struct stream *s);
/* The server's first read while watched: 1 when it refused and the
 * stream went the other way (or ended). */
int strm_auto_server_said(struct stream *s, const uint8_t *buf, ssize_t n);
int strm_auto_fallback(struct stream *s, const char *why);
/* `client-ip auto` on the XFF path: a server connection that failed before
 * the server sent a byte says the server's mode changed. Flips it (once
 * per stream) and returns 1 when the caller should retry the other way. */
int strm_auto_flip(struct stream *s, const char *why);

/* ---- stream_connect.c: the server side ---- */

void strm_connect_next(struct stream *s);
/* A server attempt failed (cause: HAProxy's termination letter): retry,
 * redispatch, or give up. */
void strm_attempt_failed(struct stream *s, char cause);
void strm_close_server_fd(struct stream *s);
void strm_release_srv(struct stream *s);
/* Attach a connection taken from the pool: its socket and TLS become
 * srv_side's. */
void strm_attach_conn(struct stream *s, struct srv_conn *conn);
void strm_on_srv_io(evutil_socket_t fd, short what, void *arg);
/* The PROXY version this stream sends its server (0: none). */
int strm_pp_version(const struct stream *s);
/* The SNI for a TLS server connection: the server's `sni` expression
 * (ssl_fc_sni, req.hdr(host), ...), or "" when it has none. */
const char *strm_server_sni(struct stream *s, const struct srv *srv, char *buf, size_t len);
const struct sockaddr *strm_frontend_addr(struct stream *s);
/* `option tcpka|clitcpka|srvtcpka`: kernel keep-alive probes on a side. */
void strm_set_keepalive(int fd, unsigned options, unsigned side_opt);

/* stream_http.c */
void strm_http_begin(struct stream *s);
int strm_http_take_bytes(struct stream *s, const uint8_t *data, size_t len);
/* Let samples see the current request's headers (req.hdr). */
void strm_http_sample_ctx(struct stream *s, struct sample_ctx *ctx);
void strm_http_connected(struct stream *s);
void strm_http_on_cli_io(struct stream *s, short what);
void strm_http_on_srv_io(struct stream *s, short what);
int strm_http_connect_failed(struct stream *s, char cause); /* 1: handled (answered 503) */
int strm_http_tick(struct stream *s); /* 1: the stream was closed */
void strm_http_interest(struct stream *s, int *cli_read, int *srv_read);
void strm_http_free(struct stream *s);
void strm_http_log(struct stream *s);
/* Refuse the current request with `status` and close (never forwarded). */
int strm_http_fail(struct stream *s, int status, const char *why, char who, char phase);
/* A request answered by ppbridge itself: send `answer` (a whole response),
 * log, end the exchange. Inside the request loop (monitor-uri): -1 when
 * the stream ended, else 0; from outside it (a rendered page coming back)
 * strm_http_svc_back() also goes on with the next request. */
int strm_http_answered(struct stream *s, int status, const uint8_t *answer, size_t len);
void strm_http_svc_back(struct stream *s, int status, const uint8_t *answer, size_t len);

/* stream_svc.c */
enum svc_kind strm_svc_pick(struct stream *s);

/* stream_stick.c: stick counters (track-sc) and the edge actions. */
struct cfg_track;
struct cfg_proxy;
/* Which rule tracks: what is counted at once and how long it holds. */
enum strm_track_at {
	STRM_TRACK_CONN = 0, /* tcp-request connection: a session is counted */
	STRM_TRACK_CONTENT,  /* tcp-request content: held to the end */
	STRM_TRACK_HTTP,     /* http-request: this request counted; held to its end */
};
/* Track `t` on counter t->sc unless it tracks something already; `px`
 * is the proxy whose rule it is (src_*() read its table by default). */
void strm_stk_track(struct stream *s, const struct cfg_track *t, enum strm_track_at at);
/* A request starts: the last request's per-request counters let go, the
 * others count it (http_req_*). */
void strm_stk_request(struct stream *s);
/* The request ended, as an error (http_err_*: a 4xx, or a deny or tarpit
 * answer whatever its status, as HAProxy) or not; what an http-request
 * rule tracked for it lets go. */
void strm_stk_request_end(struct stream *s, int error);
void strm_stk_bytes_in(struct stream *s, size_t n);
void strm_stk_release(struct stream *s, int per_request_only);
/* acl_ctx's stk callback (arg: the stream). */
int strm_stk_fetch(void *arg, int sc, const char *table, int data, int64_t *out);
/* http-request deny / tarpit (stream_stick.c). */
int strm_http_deny(struct stream *s, const struct cfg_http_rule *r, size_t head_len);
int strm_http_tarpit(struct stream *s, const struct cfg_http_rule *r);
/* `tcp-request connection silent-drop`: reset with a TTL of 1. */
void strm_silent_drop(int fd);
/* Answer the parsed head (`head_len` bytes in req.buf) with service `k`:
 * -1 when the stream ended, else 0. */
int strm_svc_start(struct stream *s, enum svc_kind k, size_t head_len);
int strm_svc_progress(struct stream *s); /* HTTP_SVC: 0 to wait, -1 ended */
void strm_svc_release(struct stream *s);

/* stream_http_head.c */
/* Rewrite the parsed request head into the server's queue (X-Forwarded-For,
 * rules); -1 when it cannot be built. */
int strm_http_forward_head(struct stream *s);

#endif
