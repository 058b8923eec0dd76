/* listener.h - listening sockets of a worker and their accept callback. */
#ifndef PPB_LISTENER_H
#define PPB_LISTENER_H

#include <stddef.h>

struct cfg_bind;
struct event;
struct fe;
struct tls_bind;
struct worker;

struct lsn {
	struct lsn *next;
	struct worker *w;
	struct fe *fe;
	const struct cfg_bind *bind;
	struct tls_bind *tls; /* `ssl` on this bind, else NULL */
	int fd;
	struct event *ev; /* readable: connections to accept */
};

/* Open one socket per bind of every frontend for worker `w` (not yet
 * accepting). Returns -1 with `err` filled on the first failure. */
int lsn_open_all(struct worker *w, char *err, size_t errlen);
/* Attach the sockets to w->base and start accepting. */
int lsn_enable_all(struct worker *w);
void lsn_pause(struct worker *w, int paused);
void lsn_close_all(struct worker *w);

#endif
