/* srv_conn.h - a server connection as one object, and the worker's pool
 * of idle ones (HAProxy's `struct connection` and idle list, our shape).
 *
 * A stream owns its server connection while it connects, uses it, and
 * keeps it between two requests of its client; the worker's pool owns it
 * between clients. It moves by pointer. While a stream uses it, its
 * socket and TLS are the stream's server side (the I/O view the relay and
 * the HTTP loop work on); parked, they move into the object.
 */
#ifndef PPB_SRV_CONN_H
#define PPB_SRV_CONN_H

#include <openssl/ssl.h>

struct event;
struct gen;
struct srv;
struct worker;

struct srv_conn {
	struct srv_conn *next;  /* in the worker's pool */
	struct srv_conn *prev;
	struct srv *srv;
	char *sni;              /* the SNI it was opened with ("" for none): TLS is reused for it only */
	int pp;                 /* the PROXY version sent on it (0: none); a header ties it to one client */
	unsigned uses;          /* requests it served */
	/* parked in the pool: */
	struct worker *w;
	struct gen *gen;        /* keeps `srv` alive while pooled (a reload may retire it) */
	int fd;
	SSL *ssl;
	struct event *ev;       /* readable (the server closed it) or the pool's idle timeout */
};

/* A new connection to `srv`, not connected yet (no socket). NULL: out of memory. */
struct srv_conn *conn_new(struct srv *srv);
/* Forget a connection a stream no longer uses (its socket and TLS are the
 * stream's to close). */
void conn_free(struct srv_conn *c);

/* Park an idle connection with its socket and TLS for `idle_ms`: other
 * clients may take it. When the server already has `max_per_srv` parked
 * connections (or memory runs out) it is closed instead. */
void conn_pool_put(struct worker *w, struct gen *gen, struct srv_conn *c, int fd, SSL *ssl,
		   unsigned idle_ms, unsigned max_per_srv);
/* The most recently parked connection to `srv` opened with `sni` that
 * served at least `min_uses` requests, taken out of the pool; NULL when
 * there is none. With `check_open`, one the server closed meanwhile is
 * dropped on the way (see conn_still_open()). The caller adopts its fd
 * and ssl. */
struct srv_conn *conn_pool_take(struct worker *w, const struct srv *srv, const char *sni,
				unsigned min_uses, int check_open);

/* Has the server not closed this idle connection yet? Its FIN may wait
 * behind the client's event in the same loop round. A request that cannot
 * be replayed checks before it rides a reused connection, so only a true
 * race with the server's close is left (as HAProxy's http-reuse safe
 * describes); one peek, spared to the requests that may be replayed. */
int conn_still_open(int fd);
/* Close every parked connection of a worker (reload, stop). */
void conn_pool_flush(struct worker *w);

/* Close an idle connection's socket with a reset: nothing is in flight on
 * it, and an active close would leave our port in TIME_WAIT for a minute. */
void conn_close_idle(int fd);

#endif
