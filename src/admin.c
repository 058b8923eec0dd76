/* admin.c - the admin commands: their table, parsers and dispatch.
 *
 * Parsing (adm_parse) is pure. Execution (adm_exec) runs a row's handler:
 * the show handlers (admin_show.c) read the generation's counters; the
 * ones here write only the admin flags of a server (maint, drain, weight:
 * atomics that the workers' selection reads) or ask the application
 * through its hooks (reload, client-ip). The socket is admin_sock.c.
 */
#include <config.h>

#include "admin.h"
#include "admin_int.h"

#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADM_MAX_WORDS 8 /* words of one command */

/* ------------------------------------------------------------------ */
/* Answers */

void adm_out_free(struct adm_out *out)
{
	free(out->buf);
	memset(out, 0, sizeof(*out));
}

static int out_reserve(struct adm_out *out, size_t more)
{
	size_t cap = out->cap ? out->cap : 4096;

	if (out->len + more + 1 > ADM_OUT_MAX) {
		out->truncated = true;
		return -1;
	}
	while (cap < out->len + more + 1)
		cap *= 2;
	if (cap != out->cap) {
		char *b = realloc(out->buf, cap);
		if (!b) {
			out->truncated = true;
			return -1;
		}
		out->buf = b;
		out->cap = cap;
	}
	return 0;
}

void adm_printf(struct adm_out *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || out->truncated || out_reserve(out, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(out->buf + out->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	out->len += (size_t)n;
}

void adm_write(struct adm_out *out, const char *buf, size_t len)
{
	if (out->truncated || out_reserve(out, len) < 0)
		return;
	memcpy(out->buf + out->len, buf, len);
	out->len += len;
	out->buf[out->len] = '\0';
}

int adm_err_answer(struct adm_out *out, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	adm_printf(out, "%s\n", msg);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Lookups and server state */

struct be *adm_find_backend(struct gen *gen, const char *name)
{
	for (int i = 0; i < gen->nbe; i++)
		if (!strcmp(gen->bes[i].conf->name, name))
			return &gen->bes[i];
	return NULL;
}

static struct srv *find_server(struct gen *gen, const struct adm_cmd *cmd, struct adm_out *out)
{
	struct be *be = adm_find_backend(gen, cmd->backend);

	if (!be) {
		adm_err_answer(out, "No such backend.");
		return NULL;
	}
	for (int i = 0; i < be->nsrv; i++)
		if (!strcmp(be->srvs[i].conf->name, cmd->server))
			return &be->srvs[i];
	adm_err_answer(out, "No such server.");
	return NULL;
}

void adm_count_usable(const struct be *be, int *act, int *bck)
{
	*act = *bck = 0;
	for (int i = 0; i < be->nsrv; i++) {
		if (!srv_usable(&be->srvs[i]))
			continue;
		if (be->srvs[i].conf->backup)
			(*bck)++;
		else
			(*act)++;
	}
}

static void log_state_change(const struct srv *s, const char *what)
{
	int act, bck;

	adm_count_usable(s->be, &act, &bck);
	log_msg(LOG_WARNING,
	        "Server %s/%s %s. %d active and %d backup servers left. %u sessions active.",
	        s->be->conf->name, s->conf->name, what, act, bck,
	        atomic_load_explicit(&s->cur_conns, memory_order_relaxed));
}

static void set_maint(struct srv *s, int on)
{
	if (adm_ld(&s->maint) == on)
		return;
	atomic_store(&s->maint, on);
	srv_state_changed(s);
	if (on)
		log_state_change(s, "is going DOWN for maintenance");
	else
		log_state_change(s, adm_ld(&s->up) ? "is UP/READY (leaving forced maintenance)"
		                                   : "is DOWN (leaving forced maintenance)");
}

static void set_drain(struct srv *s, int on)
{
	if (adm_ld(&s->drain) == on)
		return;
	atomic_store(&s->drain, on);
	srv_state_changed(s);
	log_state_change(s, on ? "enters drain state" : "is UP/READY (leaving forced drain)");
}

/* After a command that may have changed a server's state. */
static void servers_changed(const struct adm_hooks *app)
{
	if (app->servers_changed)
		app->servers_changed();
}

static int exec_disable(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                        struct adm_out *out)
{
	struct srv *s = find_server(gen, cmd, out);

	if (!s)
		return -1;
	set_maint(s, 1);
	servers_changed(app);
	return 0;
}

static int exec_enable(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                       struct adm_out *out)
{
	struct srv *s = find_server(gen, cmd, out);

	if (!s)
		return -1;
	set_maint(s, 0);
	servers_changed(app);
	return 0;
}

static int exec_set_state(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                          struct adm_out *out)
{
	struct srv *s = find_server(gen, cmd, out);

	if (!s)
		return -1;
	switch (cmd->state) {
	case ADM_STATE_READY:
		set_maint(s, 0);
		set_drain(s, 0);
		break;
	case ADM_STATE_DRAIN:
		set_maint(s, 0);
		set_drain(s, 1);
		break;
	case ADM_STATE_MAINT:
		set_maint(s, 1);
		break;
	}
	servers_changed(app);
	return 0;
}

static int exec_set_weight(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                           struct adm_out *out)
{
	struct srv *s = find_server(gen, cmd, out);
	int w, old;

	if (!s)
		return -1;
	w = cmd->weight_pct ? s->conf->weight * cmd->weight / 100 : cmd->weight;
	old = atomic_exchange(&s->weight, w);
	if (old != w) {
		srv_state_changed(s);
		log_msg(LOG_NOTICE, "Server %s/%s weight changed from %d to %d.", s->be->conf->name,
		        s->conf->name, old, w);
		servers_changed(app);
	}
	return 0;
}

static int exec_set_client_ip(struct gen *gen, const struct adm_hooks *app,
                              const struct adm_cmd *cmd, struct adm_out *out)
{
	char msg[512];

	if (app->set_client_ip(cmd->frontend, cmd->client_ip, msg, sizeof(msg)) < 0)
		return adm_err_answer(out, "%s", msg);
	adm_printf(out, "%s\n", msg);
	return 0;
}

static int exec_reload(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                       struct adm_out *out)
{
	char msg[4096] = "";
	int rc = app->reload(msg, sizeof(msg));
	size_t n = strlen(msg);

	adm_printf(out, "Success=%d\n--\n%s%s", rc == 0, msg, n && msg[n - 1] != '\n' ? "\n" : "");
	return rc == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Parsers (pure): one a row, when the row takes arguments */

static int split_words(const char *line, char words[][ADM_NAME_MAX], int max)
{
	int n = 0;

	while (*line) {
		size_t len = 0;
		while (*line == ' ' || *line == '\t' || *line == '\r')
			line++;
		if (!*line)
			break;
		if (n == max)
			return -1;
		while (line[len] && line[len] != ' ' && line[len] != '\t' && line[len] != '\r')
			len++;
		if (len >= ADM_NAME_MAX)
			return -1;
		memcpy(words[n], line, len);
		words[n][len] = '\0';
		line += len;
		n++;
	}
	return n;
}

static int fail(char *err, size_t errlen, int rc, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return rc;
}

/* "<backend>/<server>" into the command. */
static int parse_target(const char *word, struct adm_cmd *out, char *err, size_t errlen)
{
	const char *slash = strchr(word, '/');

	if (!slash || slash == word || !slash[1])
		return fail(err, errlen, -1, "Require 'backend/server'.");
	snprintf(out->backend, sizeof(out->backend), "%.*s", (int)(slash - word), word);
	snprintf(out->server, sizeof(out->server), "%s", slash + 1);
	return 0;
}

/* "N" (0..256) or "N%" (a share of the configured weight, as HAProxy). */
static int parse_weight(const char *text, struct adm_cmd *out, char *err, size_t errlen)
{
	char *end;
	long v;

	if (text[0] < '0' || text[0] > '9')
		return fail(err, errlen, -1, "Empty weight string empty or preceded by garbage");
	v = strtol(text, &end, 10);
	if (*end == '%' && end[1] == '\0') {
		if (v > 100)
			return fail(err, errlen, -1,
			            "Relative weight can only be between 0 and 100% inclusive.");
		out->weight = (int)v;
		out->weight_pct = 1;
		return 0;
	}
	if (*end)
		return fail(err, errlen, -1, "Trailing garbage in weight string");
	if (v > CFG_MAX_WEIGHT)
		return fail(err, errlen, -1,
		            "Absolute weight can only be between 0 and 256 inclusive.");
	out->weight = (int)v;
	return 0;
}

/* `help <anything>` lists everything too, as HAProxy's does. */
static int parse_any(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err, size_t errlen)
{
	return 0;
}

static int parse_servers_state(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                               size_t errlen)
{
	if (n > 4)
		return fail(err, errlen, -1, "usage: show servers state [<backend>]");
	if (n == 4)
		snprintf(out->backend, sizeof(out->backend), "%s", w[3]);
	return 0;
}

/* `show table [<t> [key <k>]]`, `clear table <t> [key <k>]` */
static int parse_table(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                       size_t errlen)
{
	int clear = !strcmp(w[0], "clear");

	if (n == 2 && !clear)
		return 0;
	if (n == 3 || (n == 5 && !strcmp(w[3], "key"))) {
		snprintf(out->table, sizeof(out->table), "%s", w[2]);
		if (n == 5)
			snprintf(out->key, sizeof(out->key), "%s", w[4]);
		return 0;
	}
	if (n > 3 && !strncmp(w[3], "data.", 5))
		return fail(err, errlen, -1, "'data.<type> <op> <value>' filters are not supported: "
		                             "use 'key <address>'");
	return fail(err, errlen, -1,
	            clear ? "usage: clear table <table> [key <address>]"
	                  : "usage: show table [<table> [key <address>]]");
}

/* `enable server <bk>/<srv>`, `disable server <bk>/<srv>` */
static int parse_server_toggle(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                               size_t errlen)
{
	if (n != 3)
		return fail(err, errlen, -1, "Require 'backend/server'.");
	return parse_target(w[2], out, err, errlen);
}

/* `set server <bk>/<srv> <what> ...`: what the state and weight rows
 * share. Their parser also answers the lines of the family that are
 * neither (`set server`, `set server b/s addr x`), with HAProxy's words. */
static int parse_set_server(char w[][ADM_NAME_MAX], int n, const char *what, struct adm_cmd *out,
                            char *err, size_t errlen)
{
	if (n < 4)
		return fail(err, errlen, -1,
		            n < 3 ? "Require 'backend/server'."
		                  : "usage: set server <backend>/<server> state | weight");
	if (parse_target(w[2], out, err, errlen) < 0)
		return -1;
	if (strcmp(w[3], what) != 0)
		return fail(err, errlen, -1, "usage: set server <backend>/<server> state | weight");
	return 0;
}

static int parse_set_state(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                           size_t errlen)
{
	static const char *const names[] = {
	    [ADM_STATE_READY] = "ready", [ADM_STATE_DRAIN] = "drain", [ADM_STATE_MAINT] = "maint"};

	if (parse_set_server(w, n, "state", out, err, errlen) < 0)
		return -1;
	for (size_t i = 0; n == 5 && i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(w[4], names[i])) {
			out->state = (enum adm_state)i;
			return 0;
		}
	}
	return fail(err, errlen, -1,
	            "'set server <srv> state' expects 'ready', 'drain' and 'maint'.");
}

static int parse_set_weight(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                            size_t errlen)
{
	if (parse_set_server(w, n, "weight", out, err, errlen) < 0)
		return -1;
	if (n != 5)
		return fail(err, errlen, -1, "'set server <srv> weight' expects an integer.");
	return parse_weight(w[4], out, err, errlen);
}

static int parse_set_client_ip(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                               size_t errlen)
{
	int v;

	if (n != 5 || strcmp(w[3], "client-ip") != 0)
		return fail(err, errlen, -1,
		            "usage: set frontend <frontend> client-ip "
		            "none|xff|proxy-v1|proxy-v2|auto");
	v = cfg_client_ip_parse(w[4]);
	if (v < 0)
		return fail(err, errlen, -1,
		            "'client-ip' expects none, xff, proxy-v1, proxy-v2 or auto.");
	snprintf(out->frontend, sizeof(out->frontend), "%s", w[2]);
	out->client_ip = (enum cfg_client_ip)v;
	return 0;
}

static int parse_severity(char w[][ADM_NAME_MAX], int n, struct adm_cmd *out, char *err,
                          size_t errlen)
{
	if (n == 3 && !strcmp(w[2], "none"))
		out->severity = ADM_SEVERITY_NONE;
	else if (n == 3 && !strcmp(w[2], "number"))
		out->severity = ADM_SEVERITY_NUMBER;
	else
		return fail(err, errlen, -1,
		            "one of 'none' or 'number' is expected (\"string\" is not supported).");
	return 0;
}

/* ------------------------------------------------------------------ */
/* The commands: one row each */

static int exec_help(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                     struct adm_out *out);

/* In the order of the help, which is HAProxy's layout. Left out: .conn
 * is ADM_CONN_KEEP, .parse NULL (no argument), .exec NULL (no answer). */
static const struct adm_kw adm_kws[] = {
    {.words = {"help"},
     .usage = "help",
     .help = "list the commands",
     .level = ADM_LEVEL_USER,
     .parse = parse_any,
     .exec = exec_help},
    {.words = {"prompt"},
     .usage = "prompt",
     .help = "toggle interactive mode with prompt",
     .level = ADM_LEVEL_USER,
     .conn = ADM_CONN_PROMPT},
    {.words = {"quit"},
     .usage = "quit",
     .help = "disconnect",
     .level = ADM_LEVEL_USER,
     .conn = ADM_CONN_QUIT},
    {.words = {"show", "info"},
     .usage = "show info",
     .help = "report information about the running process",
     .level = ADM_LEVEL_USER,
     .exec = adm_show_info},
    {.words = {"show", "stat"},
     .usage = "show stat",
     .help = "report counters for each proxy and server (CSV)",
     .level = ADM_LEVEL_USER,
     .exec = adm_show_stat},
    {.words = {"show", "servers", "state"},
     .usage = "show servers state [<backend>]",
     .help = "dump volatile server information",
     .level = ADM_LEVEL_USER,
     .parse = parse_servers_state,
     .exec = adm_show_servers_state},
    {.words = {"show", "frontends"},
     .usage = "show frontends",
     .help = "list frontends with their binds and client-IP strategy",
     .level = ADM_LEVEL_USER,
     .exec = adm_show_frontends},
    {.words = {"show", "client-ip"},
     .usage = "show client-ip",
     .help = "paths taken per frontend; servers' detected PROXY mode (auto)",
     .level = ADM_LEVEL_USER,
     .exec = adm_show_client_ip},
    {.words = {"show", "backend"},
     .usage = "show backend",
     .help = "list backends (names only, as HAProxy)",
     .level = ADM_LEVEL_USER,
     .exec = adm_show_backend},
    {.words = {"show", "backends"},
     .usage = "show backends",
     .help = "list backends with their servers' states",
     .level = ADM_LEVEL_USER,
     .exec = adm_show_backends},
    {.words = {"show", "errors"},
     .usage = "show errors",
     .help = "report the last refused connections and requests",
     .level = ADM_LEVEL_USER,
     .exec = adm_show_errors},
    {.words = {"show", "metrics"},
     .usage = "show metrics",
     .help = "report counters in Prometheus text format",
     .level = ADM_LEVEL_USER,
     .exec = adm_show_metrics},
    {.words = {"show", "table"},
     .usage = "show table [<t> [key <k>]]",
     .help = "list stick tables, or the entries of one (HAProxy's format)",
     .level = ADM_LEVEL_USER,
     .parse = parse_table,
     .exec = adm_show_table},
    {.words = {"clear", "table"},
     .usage = "clear table <t> [key <k>]",
     .help = "remove the unused entries of a stick table, or one (operator)",
     .level = ADM_LEVEL_OPERATOR,
     .parse = parse_table,
     .exec = adm_clear_table},
    {.words = {"show", "version"},
     .usage = "show version",
     .help = "show the version of the current process",
     .level = ADM_LEVEL_USER,
     .exec = adm_show_version},
    {.words = {"disable", "server"},
     .usage = "disable server <bk>/<srv>",
     .help = "put a server in maintenance (operator)",
     .level = ADM_LEVEL_OPERATOR,
     .parse = parse_server_toggle,
     .exec = exec_disable},
    {.words = {"enable", "server"},
     .usage = "enable server <bk>/<srv>",
     .help = "take a server out of maintenance (operator)",
     .level = ADM_LEVEL_OPERATOR,
     .parse = parse_server_toggle,
     .exec = exec_enable},
    {.words = {"set", "server", ADM_ARG, "state"},
     .usage = "set server <bk>/<srv> state <st>",
     .help = "ready, drain or maint (operator)",
     .level = ADM_LEVEL_OPERATOR,
     .parse = parse_set_state,
     .exec = exec_set_state},
    {.words = {"set", "server", ADM_ARG, "weight"},
     .usage = "set server <bk>/<srv> weight <w>",
     .help = "0..256, or N% of the configured weight (operator)",
     .level = ADM_LEVEL_OPERATOR,
     .parse = parse_set_weight,
     .exec = exec_set_weight},
    {.words = {"set", "frontend", ADM_ARG, "client-ip"},
     .usage = "set frontend <f> client-ip <strategy>",
     .help = "none, xff, proxy-v1, proxy-v2 or auto for new connections (operator)",
     .level = ADM_LEVEL_OPERATOR,
     .parse = parse_set_client_ip,
     .exec = exec_set_client_ip},
    {.words = {"set", "severity-output"},
     .usage = "set severity-output <fmt>",
     .help = "none or number: prefix errors with [3]:",
     .level = ADM_LEVEL_USER,
     .conn = ADM_CONN_SEVERITY,
     .parse = parse_severity},
    {.words = {"reload"},
     .usage = "reload",
     .help = "reload the configuration; Success=1 or Success=0 (admin)",
     .level = ADM_LEVEL_ADMIN,
     .exec = exec_reload},
};

#define ADM_NKWS (sizeof(adm_kws) / sizeof(adm_kws[0]))

void adm_help(struct adm_out *out)
{
	for (size_t i = 0; i < ADM_NKWS; i++)
		adm_printf(out, "  %-38s: %s\n", adm_kws[i].usage, adm_kws[i].help);
}

static int exec_help(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
                     struct adm_out *out)
{
	adm_printf(out, "The following commands are valid at this level:\n");
	adm_help(out);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Dispatch */

enum adm_match {
	ADM_MATCH_NONE = 0,
	ADM_MATCH_FAMILY, /* the keywords before its first ADM_ARG match */
	ADM_MATCH_ALL,    /* every keyword matches (ADM_ARG takes any word) */
};

static enum adm_match kw_match(const struct adm_kw *kw, char w[][ADM_NAME_MAX], int n)
{
	bool past_arg = false;

	for (int i = 0; kw->words[i]; i++) {
		bool arg = !strcmp(kw->words[i], ADM_ARG);
		if (i >= n || (!arg && strcmp(kw->words[i], w[i]) != 0))
			return (past_arg || arg) ? ADM_MATCH_FAMILY : ADM_MATCH_NONE;
		past_arg = past_arg || arg;
	}
	return ADM_MATCH_ALL;
}

/* The row every keyword of which the words match; or else the first row
 * of their family, whose parser explains what is wrong; or NULL. */
static const struct adm_kw *kw_find(char w[][ADM_NAME_MAX], int n)
{
	const struct adm_kw *family = NULL;

	for (size_t i = 0; i < ADM_NKWS; i++) {
		enum adm_match m = kw_match(&adm_kws[i], w, n);
		if (m == ADM_MATCH_ALL)
			return &adm_kws[i];
		if (m == ADM_MATCH_FAMILY && !family)
			family = &adm_kws[i];
	}
	return family;
}

static int kw_nwords(const struct adm_kw *kw)
{
	int n = 0;

	while (kw->words[n])
		n++;
	return n;
}

/* A row without a parser: its keywords and nothing after them. */
static int parse_none(const struct adm_kw *kw, int n, char *err, size_t errlen)
{
	int nwords = kw_nwords(kw);
	char name[ADM_NAME_MAX] = "";

	if (n == nwords)
		return 0;
	for (int i = 0; i < nwords; i++)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "%s%s", i ? " " : "",
		         kw->words[i]);
	snprintf(err, errlen, "'%s' takes no argument.", name);
	return -1;
}

int adm_parse(const char *line, struct adm_cmd *out, char *err, size_t errlen)
{
	char w[ADM_MAX_WORDS][ADM_NAME_MAX];
	int n = split_words(line, w, ADM_MAX_WORDS);

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (n < 0)
		return fail(err, errlen, -1, "Command too long (too many or too long words).");
	if (n == 0)
		return 0; /* the empty command: no row, no answer */
	out->kw = kw_find(w, n);
	if (!out->kw)
		return fail(err, errlen, -2, "Unknown command.");
	if (!out->kw->parse)
		return parse_none(out->kw, n, err, errlen);
	return out->kw->parse(w, n, out, err, errlen);
}

const char *adm_cmd_usage(const struct adm_cmd *cmd)
{
	return cmd->kw ? cmd->kw->usage : "";
}

enum adm_level adm_cmd_level(const struct adm_cmd *cmd)
{
	return cmd->kw ? cmd->kw->level : ADM_LEVEL_USER;
}

int adm_next_cmd(const char **line, char *buf, size_t len)
{
	const char *p = *line;
	size_t n = 0;

	if (!*p)
		return -1;
	for (; *p && *p != ';'; p++) {
		if (p[0] == '\\' && p[1] == ';')
			p++;
		if (n + 1 < len)
			buf[n++] = *p;
	}
	buf[n] = '\0';
	*line = *p ? p + 1 : p;
	return 0;
}

int adm_exec(struct gen *gen, const struct adm_hooks *app, const struct adm_cmd *cmd,
             enum adm_level level, struct adm_out *out)
{
	if (level < adm_cmd_level(cmd))
		return adm_err_answer(out, "Permission denied");
	if (!cmd->kw || !cmd->kw->exec)
		return 0; /* the empty command, or one for its connection only */
	return cmd->kw->exec(gen, app, cmd, out);
}
