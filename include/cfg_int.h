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

#include <stddef.h>

/* ------------------------------------------------------------------ */
/* Parser state */

enum cfg_sec {
	CFG_SEC_NONE = 0,
	CFG_SEC_GLOBAL,
	CFG_SEC_PROXY,
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
};

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
/* Keyword tables (cfg_kw.c) */

/* Known, not implemented yet: the message says which issue brings it. */
struct cfg_later {
	const char *kw;
	const char *why;
};

const struct cfg_later *cfg_find_later(const struct cfg_later *t, const char *kw);
int cfg_check_caps(struct cfg_pstate *ps, const char *kw, unsigned allowed);
int cfg_kw_number(struct cfg_pstate *ps, int argc, char **argv, long min, long max, long *out);
int cfg_kw_time(struct cfg_pstate *ps, const char *kw, int argc, char **argv, int idx,
		unsigned *out);
int cfg_kw_word(struct cfg_pstate *ps, int argc, char **argv, const char *what, char **dst);

/* ------------------------------------------------------------------ */
/* Sections */

/* cfg_global.c: one line of the global section; log targets. */
void cfg_global_line(struct cfg_pstate *ps, int argc, char **argv);
int cfg_log_parse(struct cfg_pstate *ps, int argc, char **argv, struct cfg_log **list);
void cfg_log_free_list(struct cfg_log *l);
struct cfg_log *cfg_log_copy_list(const struct cfg_log *src);

/* cfg_proxy.c: one line of a proxy section; proxies' lifecycle. */
void cfg_proxy_line(struct cfg_pstate *ps, int argc, char **argv);
struct cfg_proxy *cfg_proxy_new_builtin(void);
void cfg_proxy_inherit(struct cfg_proxy *p, const struct cfg_proxy *def);
void cfg_proxy_free(struct cfg_proxy *p);
struct cfg_proxy *cfg_find_defaults(const struct cfg *cfg, const char *name);

/* cfg_bind.c */
int cfg_kw_bind(struct cfg_pstate *ps, int argc, char **argv);
void cfg_bind_free(struct cfg_bind *b);

/* cfg_server.c */
int cfg_kw_server(struct cfg_pstate *ps, int argc, char **argv);
int cfg_kw_default_server(struct cfg_pstate *ps, int argc, char **argv);
void cfg_server_init_defaults(struct cfg_server *s);
void cfg_server_free_fields(struct cfg_server *s);
void cfg_server_copy_settings(struct cfg_server *dst, const struct cfg_server *src);

/* cfg_rules.c: conditions, routing and HTTP rules, health-check requests. */
int cfg_kw_acl(struct cfg_pstate *ps, int argc, char **argv);
int cfg_kw_use_backend(struct cfg_pstate *ps, int argc, char **argv);
int cfg_kw_tcp_request(struct cfg_pstate *ps, int argc, char **argv);
int cfg_kw_http_request(struct cfg_pstate *ps, int argc, char **argv);
int cfg_kw_reqdel(struct cfg_pstate *ps, int argc, char **argv);
int cfg_kw_reqrep(struct cfg_pstate *ps, int argc, char **argv);
int cfg_kw_http_check(struct cfg_pstate *ps, int argc, char **argv);
void cfg_hc_own(struct cfg_pstate *ps);
int cfg_check_header_name(struct cfg_pstate *ps, const char *what, const char *name);
void cfg_http_rules_free(struct cfg_http_rule *r);
void cfg_tcp_rules_free(struct cfg_tcp_rule *r);
void cfg_httpchk_clear_rules(struct cfg_httpchk *c);
void cfg_httpchk_copy(struct cfg_httpchk *dst, const struct cfg_httpchk *src);

#endif
