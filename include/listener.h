/* listener.h - listening sockets of a worker and their accept callback. */
#ifndef PPB_LISTENER_H
#define PPB_LISTENER_H

#include <stddef.h>

struct cfg_bind;
struct event;
struct fe;
struct gen;
struct tls_bind;
struct worker;

struct lsn {
	struct lsn *next;
	struct worker *w;
	struct fe *fe;
	const struct cfg_bind *bind;
	struct tls_bind *tls; /* `ssl` on this bind, else NULL */
	int fd;
	int reused;           /* prepared for a reload: the socket belongs to an old lsn */
	int full;             /* its frontend's maxconn is reached: not accepting */
	struct event *ev;     /* readable: connections to accept */
	int ev_on;
};

/* Open one socket per bind of every frontend for worker `w` (not yet
 * accepting). Returns -1 with `err` filled on the first failure. */
int lsn_open_all(struct worker *w, char *err, size_t errlen);
/* For a reload: sockets for every bind of `gen`, reusing w's own for
 * unchanged addresses (never closed, so nothing is refused meanwhile) and
 * opening the others. Nothing changes for `w` yet. */
int lsn_prepare(struct worker *w, struct gen *gen, struct lsn **out, char *err, size_t errlen);
/* Drop a prepared list that will not be used (closes only new sockets). */
void lsn_discard(struct lsn *list);
/* In the worker's own thread: adopt a prepared list, close what is gone. */
int lsn_swap(struct worker *w, struct lsn *next);
void lsn_close_list(struct lsn *list);

/* Attach the sockets to w->base and start accepting. */
int lsn_enable_all(struct worker *w);
/* Watch exactly the listeners that may accept now: not while the worker
 * is at its maxconn share (w->paused) or out of descriptors
 * (w->fd_starved), nor a listener whose frontend is at its maxconn; the
 * connections wait in the kernel's backlog meanwhile, as HAProxy's do. */
void lsn_update(struct worker *w);
/* A stream of `w` ended: descriptors and frontend slots may be free again. */
void lsn_stream_done(struct worker *w);
/* The worker's retry timer: try the blocked listeners again. */
void lsn_on_retry(int fd, short what, void *arg);
void lsn_close_all(struct worker *w);

#endif
