/* stream.h - one client <-> server session.
 *
 * An explicit state machine (enum strm_state); every change goes through
 * one function that checks the transition. The path a connection takes
 * (relay bytes as they are; later: PROXY header first, or TLS termination
 * with the HTTP request loop) is decided per connection after the server
 * is chosen.
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
