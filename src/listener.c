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
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *peer,
		      int peerlen, void *arg)
{
	struct lsn *l = arg;

	strm_accept(l->w, l, fd, peer, (socklen_t)peerlen);
}

static void on_accept_error(struct evconnlistener *evl, void *arg)
{
	struct lsn *l = arg;
	int err = EVUTIL_SOCKET_ERROR();

	/* EMFILE/ENFILE: out of descriptors. Pause briefly rather than spin. */
	log_msg(LOG_ERR, "frontend %s: accept on %s failed: %s", l->fe->conf->name, l->bind->text,
		evutil_socket_error_to_string(err));
}

int lsn_open_all(struct worker *w, char *err, size_t errlen)
{
	struct gen *gen = w->gen;

	for (int i = 0; i < gen->nfe; i++) {
		struct fe *fe = &gen->fes[i];
		for (const struct cfg_bind *b = fe->conf->binds; b; b = b->next) {
			char why[160];
			int fd = net_listen((const struct sockaddr *)&b->addr.ss, b->addr.len, 1,
					    b->v6only, LISTEN_BACKLOG, why, sizeof(why));
			if (fd < 0) {
				snprintf(err, errlen, "%s:%d: frontend '%s': cannot bind %s: %s",
					 b->where.file, b->where.line, fe->conf->name, b->text, why);
				return -1;
			}
			struct lsn *l = calloc(1, sizeof(*l));
			if (!l) {
				close(fd);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			l->w = w;
			l->fe = fe;
			l->bind = b;
			l->fd = fd;
			l->next = w->lsns;
			w->lsns = l;
		}
	}
	return 0;
}

int lsn_enable_all(struct worker *w)
{
	for (struct lsn *l = w->lsns; l; l = l->next) {
		l->evl = evconnlistener_new(w->base, on_accept, l, LEV_OPT_CLOSE_ON_FREE, -1, l->fd);
		if (!l->evl)
			return -1;
		evconnlistener_set_error_cb(l->evl, on_accept_error);
	}
	return 0;
}

void lsn_pause(struct worker *w, int paused)
{
	for (struct lsn *l = w->lsns; l; l = l->next) {
		if (!l->evl)
			continue;
		if (paused)
			evconnlistener_disable(l->evl);
		else
			evconnlistener_enable(l->evl);
	}
}

void lsn_close_all(struct worker *w)
{
	struct lsn *l = w->lsns;

	while (l) {
		struct lsn *next = l->next;
		if (l->evl)
			evconnlistener_free(l->evl);
		else if (l->fd >= 0)
			close(l->fd);
		free(l);
		l = next;
	}
	w->lsns = NULL;
}
