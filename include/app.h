/* app.h - the daemon's start-up, main loop, signals and shutdown. */
#ifndef PPB_APP_H
#define PPB_APP_H

#include <stddef.h>

struct gen;

/* Everything main() does; returns the process exit status. */
int app_main(int argc, char **argv);

/* The generation new connections use now (main thread only). */
struct gen *app_current_gen(void);

/* Reload the configuration from the same -f files: parse and build the
 * new generation completely (TLS included) before touching anything; on
 * error the running one keeps serving. Main thread only. Returns 0 with a
 * summary in `msg`, or -1 with the error(s) in `msg`. */
int app_reload(char *msg, size_t len);

/* `set frontend <f> client-ip <st>`: new connections of that frontend
 * take the new path at once; the choice is kept in `client-ip-state`.
 * Returns 0 with a summary, or -1 with the reason. Main thread only. */
int app_set_client_ip(const char *frontend, int st, char *msg, size_t len);

/* The state directory's runtime files and the start time, for `show info`. */
long app_uptime_seconds(void);

#endif
