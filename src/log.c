/* log.c - daemon messages and access-log lines, to stderr and syslog.
 *
 * One event is one line on the console: a message the daemon prints on
 * stderr itself (stamped, with its level) is not repeated by a `log stdout`
 * or `log stderr` target; those targets print what stderr did not show
 * (access logs without -d, notices under -q).
 *
 * Every line leaves in a single write()/sendto(), so lines from several
 * worker threads never interleave. Syslog targets are sent RFC 3164
 * datagrams (UDP or a unix datagram socket such as /dev/log); the sockets
 * are shared and unconnected, which makes sendto() thread-safe.
 */
#include <config.h>

#include "log.h"

#include "cfg.h"
#include "net.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

struct log_target {
	enum cfg_log_kind kind;
	enum cfg_log_format format;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int facility;
	int max_level;
};

static struct {
	int debug;
	int to_stderr;
	int stderr_level; /* the least severe level stderr shows */
	int fd_inet;
	int fd_inet6;
	int fd_unix;
	pthread_mutex_t lock; /* guards `targets` replacement */
	struct log_target *targets;
	int ntargets;
} logst = {.fd_inet = -1, .fd_inet6 = -1, .fd_unix = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

static const char *const level_names[] = {"EMERG", "ALERT", "CRIT",   "ERR",
					  "WARNING", "NOTICE", "INFO", "DEBUG"};

void log_setup(int debug, int to_stderr, int stderr_level)
{
	logst.debug = debug;
	logst.to_stderr = to_stderr;
	logst.stderr_level = debug ? LOG_DEBUG : stderr_level;
	/* Created once, before any thread runs, then only used with sendto(). */
	if (logst.fd_inet == -1)
		logst.fd_inet = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (logst.fd_inet6 == -1)
		logst.fd_inet6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (logst.fd_unix == -1)
		logst.fd_unix = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

int log_debug_enabled(void)
{
	return logst.debug;
}

static int target_from_cfg(struct log_target *t, const struct cfg_log *cl)
{
	memset(t, 0, sizeof(*t));
	t->kind = cl->kind;
	t->format = cl->format;
	t->facility = cl->facility;
	t->max_level = cl->max_level;
	if (cl->kind == CFG_LOG_UDP) {
		memcpy(&t->addr, &cl->addr.ss, sizeof(t->addr));
		t->addrlen = cl->addr.len;
	} else if (cl->kind == CFG_LOG_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&t->addr;
		if (!cl->path || strlen(cl->path) >= sizeof(sun->sun_path))
			return -1;
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, cl->path);
		t->addrlen = sizeof(*sun);
	}
	return 0;
}

int log_set_targets(const struct cfg_log *targets)
{
	int n = 0, i = 0;
	struct log_target *arr = NULL;

	for (const struct cfg_log *cl = targets; cl; cl = cl->next)
		n++;
	if (n > 0) {
		arr = calloc((size_t)n, sizeof(*arr));
		if (!arr)
			return -1;
	}
	for (const struct cfg_log *cl = targets; cl; cl = cl->next)
		if (target_from_cfg(&arr[i], cl) == 0)
			i++;
	pthread_mutex_lock(&logst.lock);
	free(logst.targets);
	logst.targets = arr;
	logst.ntargets = i;
	pthread_mutex_unlock(&logst.lock);
	return 0;
}

void log_shutdown(void)
{
	pthread_mutex_lock(&logst.lock);
	free(logst.targets);
	logst.targets = NULL;
	logst.ntargets = 0;
	pthread_mutex_unlock(&logst.lock);
	if (logst.fd_inet != -1)
		close(logst.fd_inet);
	if (logst.fd_inet6 != -1)
		close(logst.fd_inet6);
	if (logst.fd_unix != -1)
		close(logst.fd_unix);
	logst.fd_inet = logst.fd_inet6 = logst.fd_unix = -1;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void emit(const struct log_target *t, int level, const char *msg)
{
	char line[LOG_LINE_MAX + 128];
	int len;

	if (level > t->max_level)
		return;
	if (t->kind == CFG_LOG_STDOUT || t->kind == CFG_LOG_STDERR) {
		len = snprintf(line, sizeof(line), "%s\n", msg);
		if (len > (int)sizeof(line) - 1)
			len = (int)sizeof(line) - 1;
		write_all(t->kind == CFG_LOG_STDOUT ? 1 : 2, line, (size_t)len);
		return;
	}
	if (t->format == CFG_LOG_FMT_RAW) {
		len = snprintf(line, sizeof(line), "%s", msg);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		len = snprintf(line, sizeof(line), "<%d>%s ppbridge[%d]: %s",
			       t->facility * 8 + level, stamp, (int)getpid(), msg);
	}
	if (len > (int)sizeof(line) - 1)
		len = (int)sizeof(line) - 1;
	int fd = t->kind == CFG_LOG_UNIX ? logst.fd_unix
		 : t->addr.ss_family == AF_INET6 ? logst.fd_inet6
						 : logst.fd_inet;
	if (fd != -1)
		(void)sendto(fd, line, (size_t)len, MSG_DONTWAIT, (const struct sockaddr *)&t->addr,
			     t->addrlen);
}

/* A `log stdout` / `log stderr` target writes to the terminal (or the
 * journal) the daemon's own stderr lines go to. */
static int is_console(enum cfg_log_kind kind)
{
	return kind == CFG_LOG_STDOUT || kind == CFG_LOG_STDERR;
}

/* `shown`: the message went to stderr already (stamped, with its level):
 * a console target would print the same event a second time. */
static void emit_global(int level, const char *msg, int shown)
{
	pthread_mutex_lock(&logst.lock);
	for (int i = 0; i < logst.ntargets; i++)
		if (!shown || !is_console(logst.targets[i].kind))
			emit(&logst.targets[i], level, msg);
	pthread_mutex_unlock(&logst.lock);
}

static void to_stderr(int level, const char *msg)
{
	char line[LOG_LINE_MAX + 96];
	char stamp[40];
	struct timespec ts;
	struct tm tm;
	int len;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	len = snprintf(line, sizeof(line), "[%s] %s.%03ld (%d) : %s\n",
		       level_names[level & 7], stamp, ts.tv_nsec / 1000000L, (int)getpid(), msg);
	if (len > (int)sizeof(line) - 1)
		len = (int)sizeof(line) - 1;
	write_all(2, line, (size_t)len);
}

void log_msg(int level, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;
	int shown;

	if (level == LOG_DEBUG && !logst.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	shown = (logst.to_stderr || logst.debug) && level <= logst.stderr_level;
	if (shown)
		to_stderr(level, msg);
	if (level != LOG_DEBUG)
		emit_global(level, msg, shown);
}

void log_access(const struct cfg_log *targets, int use_global, const char *line)
{
	int shown = logst.debug;

	if (shown)
		to_stderr(LOG_INFO, line);
	if (use_global)
		emit_global(LOG_INFO, line, shown);
	for (const struct cfg_log *cl = targets; cl; cl = cl->next) {
		struct log_target t;
		if (shown && is_console(cl->kind))
			continue;
		if (target_from_cfg(&t, cl) == 0)
			emit(&t, LOG_INFO, line);
	}
}

int log_gate_pass(struct log_gate *gate, unsigned long long *held)
{
	struct timespec ts;
	long long now, next;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	next = atomic_load_explicit(&gate->next_ms, memory_order_relaxed);
	if (now < next || !atomic_compare_exchange_strong(&gate->next_ms, &next, now + 1000)) {
		atomic_fetch_add_explicit(&gate->suppressed, 1, memory_order_relaxed);
		return 0;
	}
	*held = atomic_exchange(&gate->suppressed, 0);
	return 1;
}
