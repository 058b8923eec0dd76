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

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct lsn *l = arg;

	for (int i = 0; i < LSN_MAX_ACCEPT && !l->w->paused; i++) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				/* EMFILE/ENFILE: out of descriptors; the next wake-up retries. */
				log_msg(LOG_ERR, "frontend %s: accept on %s failed: %s",
					l->fe->conf->name, l->bind->text, strerror(errno));
			return;
		}
		strm_accept(l->w, l, fd, (struct sockaddr *)&peer, len);
	}
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
			for (int k = 0; k < fe->nbinds; k++)
				if (fe->binds[k].conf == b)
					l->tls = fe->binds[k].tls;
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
		l->ev = event_new(w->base, l->fd, EV_READ | EV_PERSIST, on_accept, l);
		if (!l->ev || event_add(l->ev, NULL) != 0)
			return -1;
	}
	return 0;
}

void lsn_pause(struct worker *w, int paused)
{
	for (struct lsn *l = w->lsns; l; l = l->next) {
		if (!l->ev)
			continue;
		if (paused)
			event_del(l->ev);
		else
			event_add(l->ev, NULL);
	}
}

void lsn_close_all(struct worker *w)
{
	struct lsn *l = w->lsns;

	while (l) {
		struct lsn *next = l->next;
		if (l->ev)
			event_free(l->ev);
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		l = next;
	}
	w->lsns = NULL;
}
