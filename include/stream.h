/* stream.h - one client <-> server session.
 *
 * An explicit state machine (enum strm_state); every change goes through
 * one function that checks the transition. The client-IP path a
 * connection takes (path.h: L4 relay or passthrough, with or without a
 * PROXY header, or TLS termination and the HTTP loop) is one value, set
 * at accept from the frontend's strategy, or in `client-ip auto` once the
 * server is chosen. stream_int.h is the inside, for the stream_*.c files.
 */
#ifndef PPB_STREAM_H
#define PPB_STREAM_H

#include <sys/socket.h>

struct lsn;
struct worker;

/* Take over an accepted client socket. */
void strm_accept(struct worker *w, struct lsn *lsn, int fd, const struct sockaddr *peer,
		 socklen_t peerlen);

/* Close every live stream of a worker (hard stop), logging each one. */
void strm_kill_all(struct worker *w);

#endif
