/* listener.c - listening sockets of a worker and their accept callback. */
#include <config.h>

#include "listener.h"

#include "cfg.h"
#include "gen.h"
#include "log.h"
#include "net.h"
#include "stream.h"
#include "worker.h"

#include <errno.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024

/* Accept a bounded batch per wake-up (HAProxy's tune.maxaccept): a
 * burst of new connections must not starve the I/O of established ones. */
#define LSN_MAX_ACCEPT 16

/* Blocked listeners are tried again this often when no stream of this
 * worker ends meanwhile (another thread's may have freed what they wait for). */
#define LSN_RETRY_MS 100

static struct log_gate emfile_gate;

static int fe_has_room(const struct fe *fe)
{
	unsigned max = fe->conf->maxconn;

	return !max || atomic_load_explicit(&fe->cur_conns, memory_order_relaxed) < max;
}

static void retry_later(struct worker *w)
{
	struct timeval tv = {0, LSN_RETRY_MS * 1000};

	if (!evtimer_pending(w->accept_retry, NULL))
		evtimer_add(w->accept_retry, &tv);
}

/* accept() said EMFILE/ENFILE: a listener left readable would wake the
 * loop again at once and spin. Stop accepting until a descriptor frees
 * (a stream ends) or the retry timer fires. */
static void out_of_descriptors(struct lsn *l, int err)
{
	struct worker *w = l->w;
	unsigned long long held;

	atomic_fetch_add(&l->fe->ctr.fd_exhausted, 1);
	if (log_gate_pass(&emfile_gate, &held))
		log_msg(LOG_ERR, "frontend %s: accept on %s: %s; accepting paused until a "
			"descriptor frees (%llu more since the last line)", l->fe->conf->name,
			l->bind->text, strerror(err), held);
	w->fd_starved = 1;
	lsn_update(w);
	retry_later(w);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct lsn *l = arg;

	for (int i = 0; i < LSN_MAX_ACCEPT && !l->w->paused; i++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd;
		if (!fe_has_room(l->fe)) {
			l->full = 1;
			lsn_update(l->w);
			retry_later(l->w);
			return;
		}
		fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				out_of_descriptors(l, errno);
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				 errno != ECONNABORTED)
				log_msg(LOG_ERR, "frontend %s: accept on %s failed: %s",
					l->fe->conf->name, l->bind->text, strerror(errno));
			return;
		}
		strm_accept(l->w, l, fd, (struct sockaddr *)&peer, len);
	}
}

/* An open listening socket of `from` for the same address, or -1. The
 * socket is handed over (a reload keeps it: no connection is refused). */
static int take_socket(struct lsn *from, const struct cfg_bind *b)
{
	for (struct lsn *l = from; l; l = l->next) {
		if (l->fd < 0 || l->bind->addr.len != b->addr.len ||
		    !net_addr_equal((const struct sockaddr *)&l->bind->addr.ss,
				    (const struct sockaddr *)&b->addr.ss) ||
		    l->bind->v6only != b->v6only)
			continue;
		return l->fd;
	}
	return -1;
}

int lsn_prepare(struct worker *w, struct gen *gen, struct lsn **out, char *err, size_t errlen)
{
	*out = NULL;
	for (int i = 0; i < gen->nfe; i++) {
		struct fe *fe = &gen->fes[i];
		for (const struct cfg_bind *b = fe->conf->binds; b; b = b->next) {
			char why[160];
			struct lsn *l = calloc(1, sizeof(*l));
			int fd = take_socket(w->lsns, b);
			if (!l) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			l->reused = fd >= 0;
			if (fd < 0)
				fd = net_listen((const struct sockaddr *)&b->addr.ss, b->addr.len, 1,
						b->v6only, LISTEN_BACKLOG, why, sizeof(why));
			if (fd < 0) {
				snprintf(err, errlen, "%s:%d: frontend '%s': cannot bind %s: %s",
					 b->where.file, b->where.line, fe->conf->name, b->text, why);
				free(l);
				goto fail;
			}
			l->w = w;
			l->fe = fe;
			l->bind = b;
			for (int k = 0; k < fe->nbinds; k++)
				if (fe->binds[k].conf == b)
					l->tls = fe->binds[k].tls;
			l->fd = fd;
			l->next = *out;
			*out = l;
		}
	}
	return 0;
fail:
	lsn_discard(*out);
	*out = NULL;
	return -1;
}

void lsn_discard(struct lsn *list)
{
	while (list) {
		struct lsn *next = list->next;
		if (!list->reused && list->fd >= 0)
			close(list->fd);
		free(list);
		list = next;
	}
}

int lsn_open_all(struct worker *w, char *err, size_t errlen)
{
	return lsn_prepare(w, w->gen, &w->lsns, err, errlen);
}

/* In the worker's thread: the prepared sockets replace the current ones;
 * a socket both lists share changes owner without being closed. */
int lsn_swap(struct worker *w, struct lsn *next)
{
	struct lsn *old = w->lsns;

	for (struct lsn *l = next; l; l = l->next) {
		if (!l->reused)
			continue;
		for (struct lsn *o = old; o; o = o->next) {
			if (o->fd != l->fd)
				continue;
			if (o->ev)
				event_free(o->ev);
			o->ev = NULL;
			o->fd = -1; /* now owned by l */
		}
		l->reused = 0;
	}
	w->lsns = next;
	lsn_close_list(old);
	lsn_update(w);
	return 0;
}

static int lsn_wanted(const struct lsn *l)
{
	const struct worker *w = l->w;

	return !w->paused && !w->fd_starved && !w->stopping && !l->full;
}

void lsn_update(struct worker *w)
{
	for (struct lsn *l = w->lsns; l; l = l->next) {
		int want = lsn_wanted(l);
		if (!l->ev && want) {
			l->ev = event_new(w->base, l->fd, EV_READ | EV_PERSIST, on_accept, l);
			if (!l->ev) {
				log_msg(LOG_ERR, "worker %d: cannot watch %s", w->id, l->bind->text);
				continue;
			}
		}
		if (want && !l->ev_on && event_add(l->ev, NULL) == 0)
			l->ev_on = 1;
		else if (!want && l->ev_on) {
			event_del(l->ev);
			l->ev_on = 0;
		}
	}
}

int lsn_enable_all(struct worker *w)
{
	lsn_update(w);
	for (struct lsn *l = w->lsns; l; l = l->next)
		if (lsn_wanted(l) && !l->ev_on)
			return -1;
	return 0;
}

/* Descriptors freed, frontend slots freed: accept again where possible;
 * a listener still full waits for the next stream end or retry. */
static void unblock(struct worker *w)
{
	int still_full = 0;

	w->fd_starved = 0;
	for (struct lsn *l = w->lsns; l; l = l->next) {
		if (l->full && fe_has_room(l->fe))
			l->full = 0;
		still_full |= l->full;
	}
	lsn_update(w);
	if (still_full)
		retry_later(w);
}

void lsn_stream_done(struct worker *w)
{
	if (w->fd_starved)
		unblock(w);
	else
		for (struct lsn *l = w->lsns; l; l = l->next)
			if (l->full) {
				unblock(w);
				return;
			}
}

void lsn_on_retry(int fd, short what, void *arg)
{
	unblock(arg);
}

void lsn_close_all(struct worker *w)
{
	lsn_close_list(w->lsns);
	w->lsns = NULL;
}

void lsn_close_list(struct lsn *l)
{
	while (l) {
		struct lsn *next = l->next;
		if (l->ev)
			event_free(l->ev);
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		l = next;
	}
}
