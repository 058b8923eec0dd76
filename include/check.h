/* check.h - health checks, on the main thread's event base.
 *
 * One `struct chk` per server with `check`. Every `inter` it connects to
 * the server (or to `check port`/`addr`), optionally completes a TLS
 * handshake (`check-ssl`, verified per `verify`/`ca-file`), optionally
 * exchanges one HTTP request/response (`option httpchk`, `http-check`),
 * and reports the result with srv_check_result().
 */
#ifndef PPB_CHECK_H
#define PPB_CHECK_H

#include <stddef.h>

struct event_base;
struct srv;
struct chk;
struct cfg_proxy;
struct cfg_server;

/* Start checking `srv` (its first check runs soon, spread over `inter`).
 * Returns NULL with `err` filled on failure (e.g. an unusable ca-file). */
struct chk *chk_start(struct event_base *base, struct srv *srv, char *err, size_t errlen);
void chk_stop(struct chk *chk);

/* Build the HTTP check request text for a backend (pure; for tests).
 * Returns the length written, or -1 when it does not fit. */
int chk_build_http_request(const struct cfg_proxy *be, const struct cfg_server *srv, char *buf,
			   size_t len);
/* Parse an HTTP status line "HTTP/1.x NNN ..." (pure). Returns the status
 * code, 0 when more bytes are needed, -1 when it is not HTTP. */
int chk_parse_status(const char *buf, size_t len);
/* Does `status` satisfy the backend's `http-check expect`? (pure) */
int chk_status_ok(const struct cfg_proxy *be, int status);

#endif
