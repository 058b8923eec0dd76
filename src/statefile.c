/* statefile.c - parsers for the lines of the state files (pure). */
#include <config.h>

#include "statefile.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* HAProxy 2.6: a version 1 line has 20 fields (through srvrecord) to 25
 * (through srv_agent_port); ppbridge adds ppb_pp_mode as the 26th. */
#define SF_MIN_FIELDS 20
#define SF_HAPROXY_FIELDS 25
#define SF_MAX_FIELDS 26

/* Field indexes of a version 1 line. */
enum {
	F_BE_ID = 0,
	F_BE_NAME,
	F_SRV_ID,
	F_SRV_NAME,
	F_ADDR,
	F_OP_STATE,
	F_ADMIN,
	F_UWEIGHT,
	F_IWEIGHT,
	F_HEALTH = 12,
	F_PORT = 18,
	F_PP_MODE = 25,
};

struct fields {
	const char *at[SF_MAX_FIELDS];
	size_t len[SF_MAX_FIELDS];
	int n;
};

/* Words separated by blanks; the line ends at '\n' or NUL. Returns -1
 * when there are more than `max`. */
static int split(const char *line, struct fields *f, int max)
{
	const char *p = line;

	f->n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '\n')
			return 0;
		if (f->n == max)
			return -1;
		f->at[f->n] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		f->len[f->n] = (size_t)(p - f->at[f->n]);
		f->n++;
	}
}

static int blank_or_comment(const char *line)
{
	while (*line == ' ' || *line == '\t' || *line == '\r')
		line++;
	return !*line || *line == '\n' || *line == '#';
}

/* A decimal in [lo, hi], the whole field. */
static int field_int(const struct fields *f, int i, long lo, long hi, int *out)
{
	char buf[24];
	char *end;
	long v;

	if (f->len[i] == 0 || f->len[i] >= sizeof(buf))
		return -1;
	memcpy(buf, f->at[i], f->len[i]);
	buf[f->len[i]] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || *end || end == buf || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int field_str(const struct fields *f, int i, char *out, size_t size)
{
	if (f->len[i] == 0 || f->len[i] >= size)
		return -1;
	memcpy(out, f->at[i], f->len[i]);
	out[f->len[i]] = '\0';
	return 0;
}

int sf_server_version_ok(const char *line)
{
	struct fields f;

	return split(line, &f, 1) == 0 && f.n == 1 && f.len[0] == 1 && f.at[0][0] == '1';
}

static enum sf_result bad(const char **why, const char *msg)
{
	*why = msg;
	return SF_ERROR;
}

static int parse_pp_mode(const struct fields *f, int *out)
{
	static const char *const names[] = {"unknown", "plain", "proxy"};

	for (int i = 0; i < 3; i++)
		if (f->len[F_PP_MODE] == strlen(names[i]) &&
		    !memcmp(f->at[F_PP_MODE], names[i], f->len[F_PP_MODE])) {
			*out = i - 1; /* enum srv_pp_mode: unknown -1, plain 0, proxy 1 */
			return 0;
		}
	return -1;
}

enum sf_result sf_parse_server(const char *line, struct sf_server *out, const char **why)
{
	struct fields f;
	int op;

	memset(out, 0, sizeof(*out));
	if (blank_or_comment(line))
		return SF_SKIP;
	if (strlen(line) > SF_LINE_MAX)
		return bad(why, "line too long");
	if (split(line, &f, SF_MAX_FIELDS) < 0)
		return bad(why, "too many fields");
	if (f.n < SF_MIN_FIELDS)
		return bad(why, "too few fields (truncated?)");
	if (field_str(&f, F_BE_NAME, out->backend, sizeof(out->backend)) < 0 ||
	    field_str(&f, F_SRV_NAME, out->server, sizeof(out->server)) < 0)
		return bad(why, "backend or server name too long");
	if (field_str(&f, F_ADDR, out->addr, sizeof(out->addr)) < 0)
		return bad(why, "invalid srv_addr");
	if (field_int(&f, F_OP_STATE, SF_OP_STOPPED, SF_OP_STOPPING, &op) < 0)
		return bad(why, "invalid srv_op_state");
	out->op_state = (enum sf_op_state)op;
	if (field_int(&f, F_ADMIN, 0, 0xff, &out->admin) < 0)
		return bad(why, "invalid srv_admin_state");
	if (field_int(&f, F_UWEIGHT, 0, 256, &out->uweight) < 0 ||
	    field_int(&f, F_IWEIGHT, 0, 256, &out->iweight) < 0)
		return bad(why, "invalid srv_uweight or srv_iweight");
	if (field_int(&f, F_HEALTH, 0, INT_MAX, &out->health) < 0)
		return bad(why, "invalid srv_check_health");
	if (field_int(&f, F_PORT, 0, 65535, &out->port) < 0)
		return bad(why, "invalid srv_port");
	out->pp_mode = SF_PP_ABSENT;
	if (f.n > SF_HAPROXY_FIELDS && parse_pp_mode(&f, &out->pp_mode) < 0)
		return bad(why, "invalid ppb_pp_mode");
	return SF_OK;
}

enum sf_result sf_parse_client_ip(const char *line, int (*parse_strategy)(const char *),
				  struct sf_client_ip *out, const char **why)
{
	struct fields f;
	char rt[32], conf[32];

	memset(out, 0, sizeof(*out));
	if (blank_or_comment(line))
		return SF_SKIP;
	if (split(line, &f, 3) < 0 || f.n != 3)
		return bad(why, "expected '<frontend> <runtime strategy> <configured strategy>'");
	if (field_str(&f, 0, out->frontend, sizeof(out->frontend)) < 0)
		return bad(why, "frontend name too long");
	if (field_str(&f, 1, rt, sizeof(rt)) < 0 || field_str(&f, 2, conf, sizeof(conf)) < 0 ||
	    (out->runtime = parse_strategy(rt)) < 0 || (out->configured = parse_strategy(conf)) < 0)
		return bad(why, "unknown client-ip strategy");
	return SF_OK;
}
