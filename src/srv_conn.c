/* srv_conn.c - server connections as objects, and the idle pool. */
#include <config.h>

#include "srv_conn.h"

#include "gen.h"
#include "worker.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct srv_conn *conn_new(struct srv *srv)
{
	struct srv_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->srv = srv;
	c->fd = -1;
	return c;
}

void conn_free(struct srv_conn *c)
{
	if (!c)
		return;
	free(c->sni);
	free(c);
}

/* At thousands of connections per second, TIME_WAIT ports exhaust the
 * ephemeral range and every connect() searches for one (measured: twice
 * the kernel time per request). */
void conn_close_idle(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void pool_unlink(struct srv_conn *c)
{
	struct worker *w = c->w;

	if (c->prev)
		c->prev->next = c->next;
	else
		w->pool = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	w->npool--;
}

static void pool_drop(struct srv_conn *c)
{
	pool_unlink(c);
	event_free(c->ev);
	if (c->ssl)
		SSL_shutdown(c->ssl); /* keeps its session resumable */
	SSL_free(c->ssl);
	gen_unref(c->gen);
	conn_close_idle(c->fd);
	conn_free(c);
}

/* Readable while idle means the server closed it (or sent garbage). */
static void pool_cb(evutil_socket_t fd, short what, void *arg)
{
	pool_drop(arg);
}

static unsigned count_pooled(const struct worker *w, const struct srv *srv)
{
	unsigned n = 0;

	for (const struct srv_conn *c = w->pool; c; c = c->next)
		n += c->srv == srv;
	return n;
}

void conn_pool_put(struct worker *w, struct gen *gen, struct srv_conn *c, int fd, SSL *ssl,
		   unsigned idle_ms, unsigned max_per_srv)
{
	struct timeval tv = {.tv_sec = idle_ms / 1000, .tv_usec = (idle_ms % 1000) * 1000};

	if (count_pooled(w, c->srv) >= max_per_srv || (!c->sni && !(c->sni = strdup(""))) ||
	    !(c->ev = event_new(w->base, fd, EV_READ, pool_cb, c))) {
		SSL_free(ssl);
		conn_close_idle(fd);
		conn_free(c);
		return;
	}
	c->w = w;
	c->gen = gen_ref(gen);
	c->fd = fd;
	c->ssl = ssl;
	c->next = w->pool;
	if (c->next)
		c->next->prev = c;
	w->pool = c;
	w->npool++;
	event_add(c->ev, &tv);
}

int conn_still_open(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       (errno == EAGAIN || errno == EWOULDBLOCK);
}

struct srv_conn *conn_pool_take(struct worker *w, const struct srv *srv, const char *sni,
				unsigned min_uses, int check_open)
{
	struct srv_conn *next;

	for (struct srv_conn *c = w->pool; c; c = next) {
		next = c->next;
		if (c->srv != srv || c->uses < min_uses || strcmp(c->sni, sni) != 0)
			continue;
		if (check_open && !conn_still_open(c->fd)) {
			pool_drop(c);
			continue;
		}
		pool_unlink(c);
		event_free(c->ev);
		c->ev = NULL;
		gen_unref(c->gen); /* the taker holds the same generation */
		c->gen = NULL;
		c->w = NULL;
		return c;
	}
	return NULL;
}

void conn_pool_flush(struct worker *w)
{
	while (w->pool)
		pool_drop(w->pool);
}
