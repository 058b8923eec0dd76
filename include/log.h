/* log.h - daemon messages and access-log lines.
 *
 * Two streams: daemon messages (start, stop, server UP/DOWN, refused
 * connections) and one access-log line per connection. Both go to stderr
 * and to the `log` targets of `global` (and of the proxy, for access logs).
 * Safe to call from any thread: each line leaves in one write()/send().
 */
#ifndef PPB_LOG_H
#define PPB_LOG_H

#include <stdatomic.h>
#include <syslog.h>

struct cfg_log;

/* Where daemon messages go: stderr (up to `stderr_level`: LOG_ERR for -q)
 * plus the global targets. */
void log_setup(int debug, int to_stderr, int stderr_level);
/* Replace the global targets (the list is copied; safe to free after). */
int log_set_targets(const struct cfg_log *targets);
void log_shutdown(void);

/* A daemon message at syslog `level` (LOG_ERR ... LOG_DEBUG). */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Access-log line: sent to `targets` (a proxy's own), or the global ones
 * when `use_global` is set, and to stderr in debug mode. */
void log_access(const struct cfg_log *targets, int use_global, const char *line);

int log_debug_enabled(void);

/* At most one line a second for one kind of event, from any thread: a
 * flood (descriptor exhaustion, a write that keeps failing) must not
 * become a flood of log lines. Zero-initialised. */
struct log_gate {
	atomic_llong next_ms;        /* monotonic ms before which lines are held */
	atomic_ullong suppressed;    /* events held since the last line */
};

/* 1 when the caller may log now; then `*held` is how many events were not
 * logged since the previous line (say so in the line). */
int log_gate_pass(struct log_gate *gate, unsigned long long *held);

#endif
