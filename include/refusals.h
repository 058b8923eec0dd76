/* refusals.h - the last refused connections and requests, for `show errors`.
 *
 * The data path records a refusal where it makes it (HAProxy keeps its
 * captured errors with the proxy, not in the CLI); the admin socket only
 * reads them. A bounded ring: the oldest entries make room for new ones.
 */
#ifndef PPB_REFUSALS_H
#define PPB_REFUSALS_H

#include <stddef.h>
#include <sys/time.h>

#define REFUSALS_KEEP 64 /* entries kept; older ones are dropped */

struct refusal {
	struct timeval when;
	char frontend[64];
	char client[64]; /* "ip:port", or "-" */
	char reason[160];
};

/* Record a refusal. Any thread; the strings are copied (and cut to fit),
 * a NULL one is written "-". */
void refusals_note(const char *frontend, const char *client, const char *reason);

/* Copy the entries kept, oldest first, into `out`; returns how many (at
 * most REFUSALS_KEEP) and sets `*total` to the number ever noted. Any
 * thread. */
size_t refusals_read(struct refusal out[REFUSALS_KEEP], unsigned long long *total);

#endif
