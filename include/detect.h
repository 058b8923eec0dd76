/* detect.h - `client-ip auto`: find out, per server, whether its data
 * port takes a PROXY header.
 *
 * Every `inter`, while the server's backend is in auto (be->check_pp ==
 * BE_CHECK_PP_AUTO), two probes run side by side on the data port: one
 * with a PROXY v2 header, one without (probe.h). Their vote moves the
 * server's mode (srv->pp_mode) after `rise` votes in a row for the other
 * mode; the first vote for a server not probed yet counts at once. The
 * data path may change the mode sooner, when a connection proves it.
 * Main thread only, as the health checks.
 */
#ifndef PPB_DETECT_H
#define PPB_DETECT_H

#include <stddef.h>

struct event_base;
struct srv;
struct det;

/* Sets srv->det. Returns NULL with `err` filled on failure. */
struct det *det_start(struct event_base *base, struct srv *srv, char *err, size_t errlen);
/* Stop at once (probes in flight are abandoned). Clears srv->det. */
void det_stop(struct det *d);
/* The last vote and why, for `show servers state` (never NULL). */
const char *det_last(const struct det *d);

#endif
