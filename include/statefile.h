/* statefile.h - the lines of ppbridge's two state files (pure).
 *
 * `server-state-file`: HAProxy's server state format, version 1, as the
 * admin socket's `show servers state` prints it (a version line "1", a
 * "# be_id be_name ..." header, one line per server), with one optional
 * column of ppbridge's after HAProxy's 25: ppb_pp_mode (HAProxy 2.6 reads
 * at most 25 fields of a line, so it loads our file as its own).
 *
 * `client-ip-state`: one line per frontend whose strategy was switched at
 * run time: "<frontend> <runtime strategy> <strategy its config meant>".
 *
 * Both parsers take one line without or with its '\n' and never touch a
 * file: state.c reads and writes the files.
 */
#ifndef PPB_STATEFILE_H
#define PPB_STATEFILE_H

#include <stddef.h>

#define SF_NAME_MAX 128
#define SF_ADDR_MAX 64
#define SF_LINE_MAX 1024 /* longer lines are refused */

/* HAProxy's srv_op_state values. */
enum sf_op_state {
	SF_OP_STOPPED = 0,
	SF_OP_STARTING = 1,
	SF_OP_RUNNING = 2,
	SF_OP_STOPPING = 3,
};

/* HAProxy's srv_admin_state bits that a state file may carry. */
#define SF_ADMIN_FMAINT 0x01 /* forced maintenance (admin socket) */
#define SF_ADMIN_CMAINT 0x04 /* maintenance from the configuration (`disabled`) */
#define SF_ADMIN_FDRAIN 0x08 /* forced drain (admin socket) */

#define SF_PP_ABSENT (-2) /* the line has no ppb_pp_mode column (HAProxy wrote it) */

struct sf_server {
	char backend[SF_NAME_MAX];
	char server[SF_NAME_MAX];
	char addr[SF_ADDR_MAX]; /* srv_addr: an IP, or "-" */
	enum sf_op_state op_state;
	int admin;        /* SF_ADMIN_* bits */
	int uweight;      /* the weight in force when written */
	int iweight;      /* the weight its configuration said then */
	int health;       /* srv_check_health */
	int port;         /* srv_port */
	int pp_mode;      /* enum srv_pp_mode, or SF_PP_ABSENT */
};

enum sf_result {
	SF_SKIP = 0,  /* blank line or comment */
	SF_OK = 1,    /* one record parsed */
	SF_ERROR = -1 /* malformed: `*why` says how */
};

/* The first line of a server state file: "1" is the only version. */
int sf_server_version_ok(const char *line);

/* One server line. `line` may end with '\n'; NUL-terminated. */
enum sf_result sf_parse_server(const char *line, struct sf_server *out, const char **why);

struct sf_client_ip {
	char frontend[SF_NAME_MAX];
	int runtime;    /* enum cfg_client_ip */
	int configured; /* enum cfg_client_ip */
};

/* One client-ip-state line; `parse_strategy` maps a name to enum
 * cfg_client_ip or -1 (cfg_client_ip_parse: this module stays apart from
 * the config parser). */
enum sf_result sf_parse_client_ip(const char *line, int (*parse_strategy)(const char *),
				  struct sf_client_ip *out, const char **why);

#endif
