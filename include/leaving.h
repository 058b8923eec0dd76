/* leaving.h - the process is "leaving" while a `monitor fail` holds.
 *
 * A failing monitor-uri tells keepalived (or a GSLB) to move the VIPs
 * away from this host. Once they have moved, the peer's kernel resets
 * every connection this host still carries, so keep-alive clients should
 * leave first: while any `monitor fail` condition of this process holds,
 * every HTTP/1 keep-alive client connection closes after its current
 * response (`Connection: close` in it; an idle one is closed), and its
 * client reconnects, to the peer once the VIPs have moved. New
 * connections are still served. L4 connections (TLS passthrough,
 * WebSockets after their upgrade) have no response to end at and are
 * reset by the move: their clients reconnect.
 *
 * Evaluated on the main thread, every LEAVING_TICK_MS and at once after
 * an admin command that changed a server's state; one process-wide atomic
 * flag carries the result to the worker threads.
 *
 * Only the conditions of frontends that have a `monitor-uri` count, and of
 * those only the ones that read runtime state alone (`nbsrv(<backend>)`,
 * TRUE, FALSE): a condition on the request (`src`, `path`) holds per
 * request, not for the process.
 */
#ifndef PPB_LEAVING_H
#define PPB_LEAVING_H

struct acl_cond;
struct cfg_proxy;
struct event_base;
struct gen;

#define LEAVING_TICK_MS 250

/* Does this condition count for the process (it reads runtime state only)? */
int leaving_cond_counts(const struct acl_cond *cond);

/* The first frontend of `gen` whose `monitor fail` holds now, among those
 * that count; NULL when none does. Reads the servers' state, no I/O. */
const struct cfg_proxy *leaving_eval(struct gen *gen);

/* Main thread: evaluate `gen` and set the flag; one log line when the
 * process starts leaving and one when it stops. Returns the flag. */
int leaving_update(struct gen *gen);

/* Any thread: is the process leaving? */
int leaving_now(void);

/* Main thread: evaluate `current()` every LEAVING_TICK_MS on `base`.
 * Returns 0, or -1 when the timer cannot be set up. */
int leaving_start(struct event_base *base, struct gen *(*current)(void));
void leaving_stop(void);

#endif
