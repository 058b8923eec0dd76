/* admin.h - the runtime admin socket (`stats socket`), HAProxy's CLI.
 *
 * A unix stream socket on the main thread's event base. The protocol is
 * HAProxy's: a line holds one or more commands separated by ';'; each
 * answer ends with an empty line; the connection closes after the line
 * unless the client entered interactive mode with `prompt`.
 *
 * Three layers, so the first two are unit-tested without a socket:
 *   adm_parse()   text -> struct adm_cmd (pure);            admin.c
 *   adm_exec()    a command against a generation -> text;   admin.c, admin_show.c
 *   adm_start()   the socket and its connections (libevent); admin_sock.c
 * and `ppbridge ctl`, a client of the socket: admin_ctl.c.
 *
 * Every command is one row of the table in admin.c: words, usage, help,
 * level, parser, handler (struct adm_kw, admin_int.h).
 */
#ifndef PPB_ADMIN_H
#define PPB_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg.h" /* enum adm_level, enum cfg_client_ip: both are configuration */

struct adm_kw;
struct event_base;
struct gen;

#define ADM_NAME_MAX 128       /* longest word, e.g. a backend or server name */
#define ADM_LINE_MAX 4096      /* longest command line; longer ones close the connection */
#define ADM_OUT_MAX (8u << 20) /* largest answer buffered for one client */

/* `set server <bk>/<srv> state <st>` */
enum adm_state {
	ADM_STATE_READY = 0,
	ADM_STATE_DRAIN,
	ADM_STATE_MAINT,
};

/* `set severity-output <fmt>`: how a connection marks error answers. */
enum adm_severity {
	ADM_SEVERITY_NONE = 0, /* not at all (HAProxy's default) */
	ADM_SEVERITY_NUMBER,   /* "[3]: " before the answer */
};

/* A parsed command: its row, and the arguments its row's parser took. */
struct adm_cmd {
	const struct adm_kw *kw;    /* NULL for an empty command: no answer */
	char backend[ADM_NAME_MAX]; /* show servers state [b], <b>/<s> */
	char server[ADM_NAME_MAX];
	char frontend[ADM_NAME_MAX];  /* set frontend <f> client-ip */
	enum adm_state state;         /* set server ... state */
	int weight;                   /* set server ... weight: 0..256, or a percentage */
	bool weight_pct;              /* the weight was written "N%" (of the configured one) */
	enum adm_severity severity;   /* set severity-output */
	enum cfg_client_ip client_ip; /* set frontend ... client-ip */
	char table[ADM_NAME_MAX];     /* show|clear table <t>: "" = every table (show) */
	char key[ADM_NAME_MAX];       /* ... key <k>: "" = every entry */
};

/* Parse one command (no ';'). Returns 0, or -1 with a one-line message for
 * wrong arguments, or -2 for an unknown command (the caller adds the help).
 * Pure. */
int adm_parse(const char *line, struct adm_cmd *out, char *err, size_t errlen);

/* The usage line of a parsed command's row as the help prints it ("" for
 * the empty command), and the least level that may run it. */
const char *adm_cmd_usage(const struct adm_cmd *cmd);
enum adm_level adm_cmd_level(const struct adm_cmd *cmd);

/* Split the next command off a line at an unescaped ';' ("\;" is a literal
 * semicolon): copies it into `buf` and advances `*line`. Returns 0, or -1
 * when nothing is left. Pure. */
int adm_next_cmd(const char **line, char *buf, size_t len);

/* A growing answer, bounded by ADM_OUT_MAX (`truncated` is set past it). */
struct adm_out {
	char *buf;
	size_t len;
	size_t cap;
	bool truncated;
};

void adm_out_free(struct adm_out *out);
void adm_printf(struct adm_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append `len` bytes as they are (no format: for large answers built in blocks). */
void adm_write(struct adm_out *out, const char *buf, size_t len);

/* What the admin socket needs from the application. The application
 * gives them to adm_start(), so the admin module never calls into it.
 * All are set but `servers_changed`; all run on the main thread. */
struct adm_hooks {
	/* The generation new connections use now. */
	struct gen *(*current_gen)(void);
	/* Reload the configuration from the same files; on error the running
	 * one keeps serving. 0 with a summary in `msg`, or -1 with the errors. */
	int (*reload)(char *msg, size_t len);
	/* `set frontend <f> client-ip <st>`: 0 with a summary in `msg`, or -1
	 * with the reason. */
	int (*set_client_ip)(const char *frontend, enum cfg_client_ip st, char *msg, size_t len);
	/* Seconds since start, for `show info` and `show metrics`. */
	long (*uptime_seconds)(void);
	/* A command changed a server's maintenance, drain or weight (what
	 * depends on servers' state, `monitor fail`, is evaluated again now
	 * rather than at its next tick). NULL: nobody is told. */
	void (*servers_changed)(void);
};

/* Execute a parsed command against `gen` at access `level`, with the
 * application's hooks for what the generation does not hold; the answer
 * (without the empty line that ends it) is appended to `out`. Returns 0,
 * or -1 when the answer is an error. Main thread only. */
int adm_exec(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
             enum adm_level level, struct adm_out *out);

/* The exact header of HAProxy 2.6's `show stat` (without "\n"). */
extern const char adm_stat_header[];

/* Open `g->stats_socket` (when set) on the main thread's base; commands
 * run against `app->current_gen()` (`app` is copied). Returns 0 (also when
 * no socket is configured) or -1 with a message. */
int adm_start(struct event_base *base, const struct cfg_global *g, const struct adm_hooks *app,
              char *err, size_t errlen);
/* Close the socket, its connections, and unlink the path. */
void adm_stop(void);

/* `ppbridge ctl <socket> <command...>`: returns the exit status. */
int adm_ctl_main(int argc, char **argv);

#endif
