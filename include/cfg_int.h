/* cfg_int.h - what the files of the configuration parser share.
 *
 * Not a public header: the rest of ppbridge sees cfg.h only. The parser is
 * split by section (cfg.c drives the lines and sections, cfg_global.c,
 * cfg_proxy.c, cfg_bind.c, cfg_server.c and cfg_rules.c hold the keywords,
 * cfg_finish.c the checks after the last file); this header is the state
 * they pass around and the helpers more than one of them uses. Like them,
 * it includes no runtime header: the parser stays pure.
 */
#ifndef PPB_CFG_INT_H
#define PPB_CFG_INT_H

#include "cfg.h"

#include <stdarg.h>
#include <stddef.h>

/* ------------------------------------------------------------------ */
/* Parser state */

enum cfg_sec {
	CFG_SEC_NONE = 0,
	CFG_SEC_GLOBAL,
	CFG_SEC_PROXY,
	CFG_SEC_USERLIST,
	CFG_SEC_SKIP, /* a section we do not support: its lines are not parsed */
};

struct cfg_pstate {
	struct cfg *cfg;
	struct cfg_msgs *msgs;
	struct cfg_where where;
	enum cfg_sec sec;
	struct cfg_proxy *cur;      /* the section being filled */
	int cur_orphan;             /* `cur` is not linked anywhere (bad header) */
	int cur_hc_own;             /* `cur` wrote its own http-check rules */
	struct cfg_proxy *defaults; /* the last defaults section of this file */

	struct cfg_userlist *cur_ul; /* the userlist section being filled */
	int cur_ul_orphan;           /* `cur_ul` is not linked anywhere (bad header) */
};

/* cfg_msg_add() with `what` (when not NULL) and ": " before the text. */
void cfg_msg_vadd(struct cfg_msgs *msgs, enum cfg_severity sev, const struct cfg_where *where,
                  const char *what, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

#define ERR(ps, ...) cfg_msg_add((ps)->msgs, CFG_SEV_ERROR, &(ps)->where, __VA_ARGS__)
#define WARN(ps, ...) cfg_msg_add((ps)->msgs, CFG_SEV_WARNING, &(ps)->where, __VA_ARGS__)
#define NOTICE(ps, ...) cfg_msg_add((ps)->msgs, CFG_SEV_NOTICE, &(ps)->where, __VA_ARGS__)

/* Sections a proxy keyword is valid in (enum cfg_cap bits). */
#define CAP_DEF CFG_CAP_DEF
#define CAP_FE CFG_CAP_FE
#define CAP_BE CFG_CAP_BE
#define CAP_ALL (CFG_CAP_DEF | CFG_CAP_FE | CFG_CAP_BE)

/* "defaults", "frontend", "backend" or "listen". */
const char *cfg_sec_name(unsigned caps);

/* ------------------------------------------------------------------ */
/* Allocation (cfg_token.c): running out of memory while reading a
 * configuration is not something we can report usefully, so these end the
 * process. */

void *cfg_xcalloc(size_t n, size_t size);
char *cfg_xstrdup(const char *s);
void cfg_set_str(char **dst, const char *src); /* replace an owned string */

/* ------------------------------------------------------------------ */
/* Value parsers (cfg_token.c) */

int cfg_parse_long(const char *text, long min, long max, long *out);
int cfg_name_index(const char *const *names, int n, const char *s);
int cfg_valid_name(const char *s);
int cfg_parse_tls_version(const char *text, int *out, const char **err);
char *cfg_base_path(const char *base, const char *path);

/* ------------------------------------------------------------------ */
/* Keyword tables (cfg_kw.c)
 *
 * Every table of keywords has one row shape, struct cfg_kw: the keyword,
 * how many words follow it, the sections that take it, its handler and,
 * for a keyword that is known but refused, no handler and the hint its
 * error gives. Rows are written with the CFG_KW_* macros below, never by
 * hand: tests/unit/t_docs.sh reads them to check that ppbridge.cfg(5)
 * documents every keyword (and every refused one in NOT YET SUPPORTED).
 *
 * A typed row is a row whose handler is one of the generic cfg_kw_<type>()
 * handlers: the row says where the value goes (an offset into the object
 * the table fills) and its limits, so that a scalar setting is one row and
 * no code. Adding a keyword: a typed row, or a row and its handler, in the
 * table of its section; nothing else.
 */

/* No upper limit on the words after a keyword (a line has at most this). */
#define CFG_MANY CFG_MAX_WORDS

/* What a handler works on. */
struct cfg_ctx {
	struct cfg_pstate *ps;
	void *obj;        /* what the table fills: typed rows store at obj + off */
	const char *what; /* option lists (bind, server): their owner, which
	                   * starts every message ("server 'web1'"); NULL for
	                   * the keywords of a section */
	const char *name; /* the keyword as messages show it ("timeout connect") */
};

/* How a typed number is stored: the field's type (CFG_KW_INT finds it). */
enum cfg_kw_store {
	CFG_STORE_NONE = 0, /* checked, then dropped: accepted for compatibility */
	CFG_STORE_INT,
	CFG_STORE_UINT,
};

struct cfg_kw {
	const char *kw;
	int min_args, max_args; /* words after the keyword */
	unsigned caps;          /* proxy tables: the sections that take it
	                         * (CFG_CAP_* bits); 0 in the other tables */
	/* argv[0] is the keyword, argc counts it; returns 0, or -1 once the
	 * error is reported. NULL: the keyword is refused with `hint`. */
	int (*fn)(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
	const char *hint;  /* refused: the error is "'<keyword>' <hint>" */
	const char *usage; /* what the keyword expects. For a keyword of a line,
	                    * the error when the words after it are not
	                    * [min_args, max_args]: "'<keyword>' expects <usage>";
	                    * NULL: `fn` checks that itself, because its message
	                    * (kept as it always was) mixes it with the value.
	                    * Option lists check their words themselves ("expects
	                    * a value"); there it is the error for an empty value
	                    * of a typed string (or of a handler that asks). */
	/* Typed rows and handlers that take a parameter from their row. */
	size_t off; /* the field in `obj` */
	enum cfg_kw_store store;
	long min, max;      /* numbers; times: min 1 refuses 0 */
	unsigned bits;      /* option bits, PROXY v2 TLVs */
	const char *notice; /* said after a successful line: "<keyword>: <notice>",
	                     * in an option list "<what>: '<keyword>' <notice>" */
};

/* (clang-format 14 does not know _Generic.) */
/* clang-format off */
/* The offset of field `f` of `T`, and a compile error unless it is a `ty`. */
#define CFG_KW_OFF(ty, T, f) (offsetof(T, f) + 0 * sizeof(_Generic(((T *)0)->f, ty: 1)))
/* How an int or unsigned field `f` of `T` is stored; any other type is a
 * compile error. */
#define CFG_KW_STORE(T, f) _Generic(((T *)0)->f, int: CFG_STORE_INT, unsigned: CFG_STORE_UINT)
/* clang-format on */

/* A keyword its handler parses. */
#define CFG_KW_FN(kw_, min_, max_, caps_, fn_, usage_)                                             \
	{                                                                                          \
		.kw = (kw_), .min_args = (min_), .max_args = (max_), .caps = (caps_), .fn = (fn_), \
		.usage = (usage_)                                                                  \
	}
/* The same, with a field (of type `ty`) the handler fills. */
#define CFG_KW_FN_AT(kw_, min_, max_, caps_, fn_, usage_, ty, T, f)                                \
	{                                                                                          \
		.kw = (kw_), .min_args = (min_), .max_args = (max_), .caps = (caps_), .fn = (fn_), \
		.usage = (usage_), .off = CFG_KW_OFF(ty, T, f)                                     \
	}
/* The same, with bits the handler sets. */
#define CFG_KW_FN_BITS(kw_, min_, max_, caps_, fn_, usage_, bits_)                                 \
	{                                                                                          \
		.kw = (kw_), .min_args = (min_), .max_args = (max_), .caps = (caps_), .fn = (fn_), \
		.usage = (usage_), .bits = (bits_)                                                 \
	}
/* Known, refused: "'<keyword>' <hint>" (whatever follows it). */
#define CFG_KW_REFUSE(kw_, caps_, hint_)                                                           \
	{                                                                                          \
		.kw = (kw_), .min_args = 0, .max_args = CFG_MANY, .caps = (caps_), .fn = NULL,     \
		.hint = (hint_)                                                                    \
	}
/* An integer in [min, max] stored in an int or unsigned field. */
#define CFG_KW_INT(kw_, caps_, T, f, min_, max_)                                                   \
	{                                                                                          \
		.kw = (kw_), .min_args = 1, .max_args = 1, .caps = (caps_), .fn = cfg_kw_int,      \
		.off = offsetof(T, f), .store = CFG_KW_STORE(T, f), .min = (min_), .max = (max_)   \
	}
/* An integer in [min, max] that has no effect here: checked, then `notice`. */
#define CFG_KW_INT_IGNORED(kw_, caps_, min_, max_, notice_)                                        \
	{                                                                                          \
		.kw = (kw_), .min_args = 1, .max_args = 1, .caps = (caps_), .fn = cfg_kw_int,      \
		.store = CFG_STORE_NONE, .min = (min_), .max = (max_), .notice = (notice_)         \
	}
/* A time (milliseconds) in an unsigned field; min_ 1 refuses 0. */
#define CFG_KW_TIME(kw_, caps_, T, f, min_)                                                        \
	{                                                                                          \
		.kw = (kw_), .min_args = 1, .max_args = 1, .caps = (caps_), .fn = cfg_kw_time,     \
		.off = CFG_KW_OFF(unsigned, T, f), .min = (min_)                                   \
	}
/* A word kept as a string; with a usage, an empty word is refused. */
#define CFG_KW_STR(kw_, caps_, T, f, usage_)                                                       \
	{                                                                                          \
		.kw = (kw_), .min_args = 1, .max_args = 1, .caps = (caps_), .fn = cfg_kw_str,      \
		.usage = (usage_), .off = CFG_KW_OFF(char *, T, f)                                 \
	}
/* A word alone that sets an int field to 1. */
#define CFG_KW_FLAG(kw_, caps_, T, f)                                                              \
	{                                                                                          \
		.kw = (kw_), .min_args = 0, .max_args = 0, .caps = (caps_), .fn = cfg_kw_flag,     \
		.off = CFG_KW_OFF(int, T, f), .store = CFG_STORE_INT                               \
	}
/* A flag kept for compatibility: says `notice`, and ignores any words after it
 * (as it always has). */
#define CFG_KW_FLAG_NOTICE(kw_, caps_, T, f, notice_)                                              \
	{                                                                                          \
		.kw = (kw_), .min_args = 0, .max_args = CFG_MANY, .caps = (caps_),                 \
		.fn = cfg_kw_flag, .off = CFG_KW_OFF(int, T, f), .store = CFG_STORE_INT,           \
		.notice = (notice_)                                                                \
	}
/* An option that has no effect here: accepted with `notice`. */
#define CFG_KW_IGNORED(kw_, caps_, notice_)                                                        \
	{                                                                                          \
		.kw = (kw_), .min_args = 0, .max_args = 0, .caps = (caps_), .fn = cfg_kw_flag,     \
		.store = CFG_STORE_NONE, .notice = (notice_)                                       \
	}
/* A TLS version (TLSv1.2, TLSv1.3) in an int field, as a protocol number. */
#define CFG_KW_TLS_VERSION(kw_, caps_, T, f)                                                       \
	{                                                                                          \
		.kw = (kw_), .min_args = 1, .max_args = 1, .caps = (caps_),                        \
		.fn = cfg_kw_tls_version, .off = CFG_KW_OFF(int, T, f)                             \
	}
/* An `option` that sets bits of the proxy's options (`no option` clears them). */
#define CFG_KW_OPTION(kw_, caps_, bits_)                                                           \
	{                                                                                          \
		.kw = (kw_), .min_args = 0, .max_args = 0, .caps = (caps_),                        \
		.fn = cfg_kw_option_bits, .bits = (bits_)                                          \
	}
/* The end of a table. */
#define CFG_KW_END                                                                                 \
	{                                                                                          \
		.kw = NULL                                                                         \
	}

/* Lookup; NULL when the table does not have the keyword. */
const struct cfg_kw *cfg_kw_find(const struct cfg_kw *t, const char *kw);
/* May row `k` run in a section of `caps` (0: not a proxy section)? Reports
 * a keyword of another section and a refused keyword. */
int cfg_kw_admit(struct cfg_ctx *c, const struct cfg_kw *k, unsigned caps);
/* A keyword line: admitted, the right number of words, its handler. */
int cfg_kw_run(struct cfg_ctx *c, const struct cfg_kw *k, unsigned caps, int argc, char **argv);
/* The options after a bind address or a server: each a row of `t` with
 * max_args (0 or 1) value words. `nonempty`: an empty value is a missing
 * one. Stops at the first problem: the rest would be read out of step. */
int cfg_kw_opts(struct cfg_ctx *c, const struct cfg_kw *t, int argc, char **argv, int nonempty);
/* "'<keyword>' expects <usage>"; returns -1. */
int cfg_kw_usage(struct cfg_ctx *c, const struct cfg_kw *k);
/* An error or a notice, after "<what>: " in an option list. */
void cfg_kw_err(const struct cfg_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cfg_kw_notice(const struct cfg_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The typed handlers. */
int cfg_kw_int(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_time(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_str(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_flag(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_tls_version(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);

int cfg_kw_option_bits(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);

/* The tables. */
extern const struct cfg_kw cfg_section_kws[]; /* cfg.c: section headers */
extern const struct cfg_kw cfg_global_kws[];  /* cfg_global.c */
extern const struct cfg_kw cfg_proxy_kws[];   /* cfg_proxy.c */
extern const struct cfg_kw cfg_timeout_kws[]; /* cfg_proxy.c: `timeout <name>` */
extern const struct cfg_kw cfg_option_kws[];  /* cfg_proxy.c: `option <name>` */
extern const struct cfg_kw cfg_bind_kws[];    /* cfg_bind.c: bind options */
extern const struct cfg_kw cfg_server_kws[];  /* cfg_server.c: server options */
extern const struct cfg_kw cfg_stats_kws[];   /* cfg_stats.c: `stats <name>` in proxies */
/* cfg_userlist.c: user, group */
extern const struct cfg_kw cfg_userlist_kws[];

/* What bind and server options say about TLS versions below 1.2. */
#define CFG_OLD_TLS_NOTICE "has no effect: ppbridge never offers TLS versions below 1.2"

/* ------------------------------------------------------------------ */
/* Sections */

/* cfg_global.c: one line of the global section; log targets. */
void cfg_global_line(struct cfg_pstate *ps, int argc, char **argv);
#define CFG_LOG_USAGE "<target> [len N] [format rfc3164|raw] <facility> [<level> [<minlevel>]]"
int cfg_log_parse(struct cfg_pstate *ps, int argc, char **argv, struct cfg_log **list);
void cfg_log_free_list(struct cfg_log *l);
struct cfg_log *cfg_log_copy_list(const struct cfg_log *src);

/* cfg_proxy.c: one line of a proxy section; proxies' lifecycle. */
void cfg_proxy_line(struct cfg_pstate *ps, int argc, char **argv);
struct cfg_proxy *cfg_proxy_new_builtin(void);
void cfg_proxy_inherit(struct cfg_proxy *p, const struct cfg_proxy *def);
void cfg_proxy_free(struct cfg_proxy *p);
struct cfg_proxy *cfg_find_defaults(const struct cfg *cfg, const char *name);

/* cfg_stick.c: `stick-table`, the `track-sc<N>` action, their checks */
int cfg_kw_stick_table(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_track_parse(struct cfg_pstate *ps, const char *what, int argc, char **argv, int *next,
                    struct cfg_track *t);
void cfg_track_free(struct cfg_track *t);
void cfg_stick_finish(struct cfg *cfg, struct cfg_proxy *p, struct cfg_msgs *msgs);

/* cfg_bind.c */
int cfg_kw_bind(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
void cfg_bind_free(struct cfg_bind *b);

/* cfg_server.c */
int cfg_kw_server(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_default_server(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
void cfg_server_init_defaults(struct cfg_server *s);
void cfg_server_free_fields(struct cfg_server *s);
void cfg_server_copy_settings(struct cfg_server *dst, const struct cfg_server *src);

/* cfg_stats.c: `stats`, `monitor-uri` and `monitor` in proxies. */
int cfg_kw_stats(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_monitor_uri(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_monitor(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
void cfg_stats_free(struct cfg_stats *st);
void cfg_stats_inherit(struct cfg_stats *dst, const struct cfg_stats *def);
void cfg_monitor_fails_free(struct cfg_monitor_fail *m);
void cfg_stats_finish(struct cfg_proxy *p, struct cfg_msgs *msgs);

/* cfg_rules.c: conditions, routing and HTTP rules, health-check requests. */
int cfg_kw_acl(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_use_backend(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_tcp_request(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_http_request(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_reqdel(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
int cfg_kw_http_check(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
void cfg_hc_own(struct cfg_pstate *ps);
int cfg_check_header_name(struct cfg_pstate *ps, const char *what, const char *name);
void cfg_http_rules_free(struct cfg_http_rule *r);
void cfg_tcp_rules_free(struct cfg_tcp_rule *r);
void cfg_httpchk_clear_rules(struct cfg_httpchk *c);
void cfg_httpchk_copy(struct cfg_httpchk *dst, const struct cfg_httpchk *src);
/* A condition that needs the client's credentials (http_auth,
 * http_auth_group) can only be evaluated by `stats` rules, on the main
 * thread: the data path never sees them. Reports "<what>: ..." and returns
 * -1 for such a condition, 0 for any other (NULL included). */
int cfg_refuse_auth_cond(struct cfg_pstate *ps, const char *what, const struct acl_cond *cond);

/* cfg_userlist.c: `userlist` sections. */
int cfg_sec_userlist(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv);
void cfg_userlist_line(struct cfg_pstate *ps, int argc, char **argv);
void cfg_userlist_end(struct cfg_pstate *ps); /* the section ends */
void cfg_userlist_free(struct cfg_userlist *ul);
/* After the last file: users' and groups' names, each user's `groups`. */
void cfg_userlist_finish(struct cfg *cfg, struct cfg_msgs *msgs);
/* The userlists (and http_auth_group's groups) a condition, or declared
 * ACLs, name must exist: errors at `where`. For the rules of every
 * section, `stats` ones included. */
void cfg_userlist_check_cond(const struct cfg *cfg, const struct acl_cond *cond,
                             const struct cfg_where *where, struct cfg_msgs *msgs);
void cfg_userlist_check_acls(const struct cfg *cfg, const struct acl *acls,
                             const struct cfg_where *where, struct cfg_msgs *msgs);

#endif
