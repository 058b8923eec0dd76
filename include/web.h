/* web.h - the main thread's side of the requests ppbridge answers itself
 * (svc.h): the stats page, its CSV and its admin actions, and the
 * Prometheus exposition, rendered from the counters the workers update.
 *
 * Guarded like the admin socket: read-only unless `stats admin` holds for
 * an authenticated user; actions only as a same-origin POST, at the admin
 * socket's operator level, one audit log line each.
 */
#ifndef PPB_WEB_H
#define PPB_WEB_H

#include <stddef.h>

struct adm_hooks;
struct event_base;

/* Take the workers' render requests on `base` (the main thread's), with
 * the application's hooks (`app` is copied). 0, or -1 with a message. */
int web_start(struct event_base *base, const struct adm_hooks *app, char *err, size_t errlen);
void web_stop(void);

/* A POST's Origin (else Referer) names the page's own site: scheme and
 * Host as the request came. A browser on another site, or a sandboxed
 * document (Origin "null"), is refused; a client that sends neither (a
 * script) is not. 1 same origin, 0 foreign. Pure. */
int web_same_origin(const char *origin, const char *referer, const char *host, int tls);

#endif
