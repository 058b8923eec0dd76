/* check.h - health checks, on the main thread's event base.
 *
 * One `struct chk` per server with `check`. Every `inter` it connects to
 * the server (or to `check port`/`addr`), optionally completes a TLS
 * handshake (`check-ssl`, verified per `verify`/`ca-file`), optionally
 * exchanges one HTTP request/response (`option httpchk`, `http-check`),
 * and reports the result with srv_check_result().
 *
 * Reasons follow HAProxy's wording ("Layer4 connection problem: ...",
 * "Layer4 timeout", "Layer6 invalid response: ...", "Layer7 wrong status:
 * 503", "Layer7 check passed: 200"); the last one is kept in
 * srv->last_check.
 */
#ifndef PPB_CHECK_H
#define PPB_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct srv;
struct chk;
struct cfg_proxy;
struct cfg_server;
struct health;

/* Start checking `srv` (its first check runs soon, spread over `inter`).
 * Returns NULL with `err` filled on failure (e.g. an unusable ca-file).
 * Sets srv->chk. */
struct chk *chk_start(struct event_base *base, struct srv *srv, char *err, size_t errlen);
/* Stop at once: an in-flight check is abandoned and reports nothing.
 * Clears srv->chk. NULL is accepted. Call it from outside the check's own
 * callbacks (i.e. not from srv_check_result()), e.g. on reload or exit,
 * before be_destroy() and before the event_base is freed. */
void chk_stop(struct chk *chk);

/* Number of checks completed since chk_start() (for the admin socket and
 * tests). */
unsigned long chk_count(const struct chk *chk);

/* Build the HTTP check request text for a backend (pure; for tests).
 * Returns the length written, or -1 when it does not fit or a field
 * holds CR or LF. */
int chk_build_http_request(const struct cfg_proxy *be, const struct cfg_server *srv, char *buf,
                           size_t len);
/* Parse an HTTP status line "HTTP/1.x NNN ..." (pure). Returns the status
 * code once the line is complete (LF seen), 0 when more bytes are needed,
 * -1 when it is not HTTP. */
int chk_parse_status(const char *buf, size_t len);
/* Does `status` satisfy the backend's `http-check expect`? (pure) */
int chk_status_ok(const struct cfg_proxy *be, int status);

/* Where the check connects: the server's address, or `addr`, with port
 * `port`, else `http-check connect port`, else the server's port (pure).
 * Returns 0, or -1 with `err` filled. */
int chk_target(const struct cfg_proxy *be, const struct cfg_server *srv,
               struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errlen);

/* Delay before the next check, as HAProxy: `inter` while the health
 * counter is full, `downinter` while fully DOWN, `fastinter` in between
 * (each falling back to `inter` when unset). Pure. */
unsigned chk_interval(const struct cfg_server *srv, const struct health *h);

/* Time limits of one check (pure). With `timeout check`, the TCP connect
 * gets min(timeout connect, inter) and everything after it `timeout check`;
 * without, the whole check must end within `inter` (`*after_ms` = 0 means
 * "the connect deadline keeps running"). */
void chk_timeouts(const struct cfg_proxy *be, const struct cfg_server *srv, unsigned *connect_ms,
                  unsigned *after_ms);

/* 0 when the checks of `srv` are plain, else the PROXY version (1 or 2)
 * they start with: with `check-send-proxy`, or with `send-proxy*` when the
 * check goes to the data port (no `port`/`addr`). (pure) */
int chk_sends_proxy(const struct cfg_server *srv);
/* Do the checks of `srv` run over TLS? (pure) */
int chk_uses_ssl(const struct cfg_server *srv, const struct cfg_proxy *be);
/* The header a check sends on connected socket `fd`: v2 LOCAL (with the
 * server's crc32c/ssl options), or a real v1 line from the socket's own
 * addresses. Returns its length or a negative value. */
int chk_build_proxy_header(const struct cfg_server *srv, int version, int fd, uint8_t *buf,
			   size_t len);

#endif
