/* admin_int.h - the inside of the admin module, shared by admin.c (the
 * command table, parsers, dispatch), admin_show.c (the show answers) and
 * admin_sock.c (the socket). Not for other modules: they use admin.h.
 */
#ifndef PPB_ADMIN_INT_H
#define PPB_ADMIN_INT_H

#include <stdatomic.h>
#include <stddef.h>

#include "admin.h"

struct be;
struct gen;

#define ADM_KW_WORDS 5 /* keywords of a row, with the NULL after them */
#define ADM_ARG "*"    /* in a row's keywords: the place of one argument */

/* What a command does to the connection that sent it, besides its answer. */
enum adm_conn_op {
	ADM_CONN_KEEP = 0, /* nothing */
	ADM_CONN_PROMPT,   /* toggle interactive mode */
	ADM_CONN_QUIT,     /* close it, without an answer */
	ADM_CONN_SEVERITY, /* mark error answers as cmd->severity says */
};

/* One admin command, all of it: a new command is a new row of adm_kws[]
 * (admin.c) plus its handler. */
struct adm_kw {
	/* The keywords that name it, NULL after the last; ADM_ARG holds
	 * the place of an argument between two keywords. A line that has
	 * the keywords before an ADM_ARG but matches no row whole goes to
	 * the first such row's parser, which says what is wrong. */
	const char *words[ADM_KW_WORDS];
	const char *usage;     /* the help's left column */
	const char *help;      /* the help's right column */
	enum adm_level level;  /* the least level that may run it */
	enum adm_conn_op conn; /* what the socket layer does besides answering */
	/* Take the arguments into `cmd` (w[0..n-1] are all the words);
	 * 0, or -1 with a one-line message. NULL: it takes no argument. */
	int (*parse)(char w[][ADM_NAME_MAX], int n, struct adm_cmd *cmd, char *err, size_t errlen);
	/* Answer it (appended to `out`); 0, or -1 for an error answer.
	 * NULL: nothing to answer beyond `conn`. */
	int (*exec)(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
	            struct adm_out *out);
};

/* admin.c */
void adm_help(struct adm_out *out); /* the usage lines of every row */
int adm_err_answer(struct adm_out *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct be *adm_find_backend(struct gen *gen, const char *name);
/* Servers that may take new connections, active and backup. */
void adm_count_usable(const struct be *be, int *act, int *bck);

/* admin_show.c: the handlers of the show rows */
int adm_show_info(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                  struct adm_out *out);
int adm_show_stat(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                  struct adm_out *out);
int adm_show_servers_state(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                           struct adm_out *out);
int adm_show_frontends(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                       struct adm_out *out);
int adm_show_client_ip(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                       struct adm_out *out);
int adm_show_backend(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                     struct adm_out *out);
int adm_show_backends(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                      struct adm_out *out);
int adm_show_table(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                   struct adm_out *out);
int adm_clear_table(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                    struct adm_out *out);
int adm_show_errors(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                    struct adm_out *out);
int adm_show_metrics(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                     struct adm_out *out);
int adm_show_version(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                     struct adm_out *out);

/* The counters and flags the workers update, read without ordering. */
static inline int adm_ld(const atomic_int *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static inline unsigned long long adm_ldu(const atomic_ullong *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

#endif
