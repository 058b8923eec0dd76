/* stats_form.c - the stats page's request target options and POST body
 * (pure; see stats_form.h for what HAProxy does and what we do alike).
 */
#include <config.h>

#include "hexdigit.h"
#include "stats_form.h"

#include "cfg.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* The request target */

static const char *const st_names[STATS_ST_COUNT] = {
    [STATS_ST_INIT] = "",     [STATS_ST_DENY] = "DENY", [STATS_ST_DONE] = "DONE",
    [STATS_ST_ERRP] = "ERRP", [STATS_ST_EXCD] = "EXCD", [STATS_ST_NONE] = "NONE",
    [STATS_ST_PART] = "PART", [STATS_ST_UNKN] = "UNKN", [STATS_ST_IVAL] = "IVAL",
};

const char *stats_st_name(enum stats_st st)
{
	return st < STATS_ST_COUNT ? st_names[st] : "";
}

/* Where `tok` first occurs in p[0..n), or NULL (memmem is not C11). */
static const char *find_tok(const char *p, size_t n, const char *tok)
{
	size_t k = strlen(tok);

	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(p + i, tok, k))
			return p + i;
	return NULL;
}

/* HAProxy wants the four letters of the code to be there; any four
 * letters that are not a code read as UNKN. */
static enum stats_st parse_st(const char *p, size_t n)
{
	const char *at = find_tok(p, n, ";st=");

	if (!at || (size_t)(p + n - at) < 8)
		return STATS_ST_INIT;
	for (int i = STATS_ST_INIT + 1; i < STATS_ST_COUNT; i++)
		if (!memcmp(at + 4, st_names[i], 4))
			return (enum stats_st)i;
	return STATS_ST_UNKN;
}

int stats_uri_parse(const char *target, size_t len, const char *prefix, struct stats_uri *out)
{
	size_t plen = strlen(prefix);
	const char *rest;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (len < plen || memcmp(target, prefix, plen) != 0)
		return -1;
	rest = target + plen;
	n = len - plen;
	out->csv = find_tok(rest, n, ";csv") != NULL;
	out->up = find_tok(rest, n, ";up") != NULL;
	out->norefresh = find_tok(rest, n, ";norefresh") != NULL;
	out->st = parse_st(rest, n);
	return 0;
}

enum stats_st stats_st_of_result(int total, int altered)
{
	if (total <= 0)
		return STATS_ST_NONE;
	if (altered <= 0)
		return STATS_ST_ERRP;
	return altered >= total ? STATS_ST_DONE : STATS_ST_PART;
}

/* ------------------------------------------------------------------ */
/* Percent-decoding */

/* One byte of in[0..n) at *i (advanced past it): '+' is a space, "%XY"
 * the byte XY. -1 for a '%' without two hex digits after it. */
static int next_byte(const char *in, size_t n, size_t *i)
{
	unsigned char c = (unsigned char)in[(*i)++];
	int hi, lo;

	if (c == '+')
		return ' ';
	if (c != '%')
		return c;
	if (n - *i < 2)
		return -1;
	hi = hex_digit_value((unsigned char)in[*i]);
	lo = hex_digit_value((unsigned char)in[*i + 1]);
	if (hi < 0 || lo < 0)
		return -1;
	*i += 2;
	return hi << 4 | lo;
}

/* Decode in[0..n) into out (STATS_FORM_MAX_LEN bytes and a NUL). A NUL
 * byte would cut a name short behind the checks' back: refused. */
static enum stats_form_rc decode(const char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		int c = next_byte(in, n, &i);
		if (c <= 0)
			return STATS_FORM_E_ENCODING;
		if (o == STATS_FORM_MAX_LEN)
			return STATS_FORM_E_LONG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return STATS_FORM_OK;
}

/* ------------------------------------------------------------------ */
/* The body */

/* What the fields said so far; the action is judged once all are read,
 * since the last `action` wins. */
struct form_acc {
	struct stats_form *f;
	char action[STATS_FORM_MAX_LEN + 1];
	char client_ip[STATS_FORM_MAX_LEN + 1];
	bool b_seen;
};

static void copy_field(char *dst, const char *src)
{
	/* both are STATS_FORM_MAX_LEN + 1 bytes and src fits (decode) */
	memcpy(dst, src, strlen(src) + 1);
}

static enum stats_form_rc take_field(struct form_acc *a, const char *name, const char *value)
{
	struct stats_form *f = a->f;

	if (!strcmp(name, "s")) {
		if (f->nservers == STATS_FORM_MAX_SERVERS)
			return STATS_FORM_E_SERVERS;
		copy_field(f->servers[f->nservers++], value);
	} else if (!strcmp(name, "b")) {
		copy_field(f->backend, value);
		a->b_seen = true;
	} else if (!strcmp(name, "action")) {
		copy_field(a->action, value);
	} else if (!strcmp(name, "fe")) {
		copy_field(f->frontend, value);
	} else if (!strcmp(name, "client_ip")) {
		copy_field(a->client_ip, value);
	}
	return STATS_FORM_OK; /* other fields: ignored, as HAProxy does */
}

/* One "name[=value]" of the body. */
static enum stats_form_rc one_field(struct form_acc *a, const char *p, size_t n)
{
	const char *eq = memchr(p, '=', n);
	size_t nlen = eq ? (size_t)(eq - p) : n;
	char name[STATS_FORM_MAX_LEN + 1], value[STATS_FORM_MAX_LEN + 1];
	enum stats_form_rc rc = decode(p, nlen, name);

	if (rc == STATS_FORM_OK)
		rc = eq ? decode(eq + 1, n - nlen - 1, value) : decode("", 0, value);
	return rc == STATS_FORM_OK ? take_field(a, name, value) : rc;
}

static enum stats_form_rc split_fields(struct form_acc *a, const char *body, size_t len)
{
	int nfields = 0;

	for (size_t i = 0; i < len;) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t n = amp ? (size_t)(amp - (body + i)) : len - i;
		if (n > 0) { /* "a=1&&b=2": nothing between the two */
			enum stats_form_rc rc;
			if (++nfields > STATS_FORM_MAX_FIELDS)
				return STATS_FORM_E_FIELDS;
			rc = one_field(a, body + i, n);
			if (rc != STATS_FORM_OK)
				return rc;
		}
		i += n + 1;
	}
	return STATS_FORM_OK;
}

static const char *const act_names[] = {
    [STATS_ACT_READY] = "ready", [STATS_ACT_DRAIN] = "drain", [STATS_ACT_MAINT] = "maint"};

/* HAProxy 2.6's other actions of the form: known, not done here. */
static const char *const act_unsupported[] = {
    "shutdown", "dhlth", "ehlth", "hrunn",   "hnolb",  "hmaint", "hdown", "dagent",
    "eagent",   "arunn", "adown", "disable", "enable", "stop",   "start",
};

/* The strategies as `client-ip` spells them (cfg_client_ip_name()). */
static const char *const cip_names[] = {
    [CFG_CLIENT_IP_NONE] = "none",         [CFG_CLIENT_IP_XFF] = "xff",
    [CFG_CLIENT_IP_PROXY_V1] = "proxy-v1", [CFG_CLIENT_IP_PROXY_V2] = "proxy-v2",
    [CFG_CLIENT_IP_AUTO] = "auto",
};

static enum stats_form_rc judge_client_ip(struct form_acc *a)
{
	a->f->kind = STATS_FORM_CLIENT_IP;
	if (!a->f->frontend[0])
		return STATS_FORM_E_FRONTEND;
	for (size_t i = 0; i < sizeof(cip_names) / sizeof(cip_names[0]); i++)
		if (cip_names[i] && !strcmp(a->client_ip, cip_names[i])) {
			a->f->client_ip = (enum cfg_client_ip)i;
			return STATS_FORM_OK;
		}
	return STATS_FORM_E_STRATEGY;
}

static enum stats_form_rc judge_servers(struct form_acc *a)
{
	for (size_t i = 0; i < sizeof(act_names) / sizeof(act_names[0]); i++)
		if (!strcmp(a->action, act_names[i])) {
			a->f->action = (enum stats_form_action)i;
			/* HAProxy: servers without a backend are never looked at */
			return a->b_seen && a->f->nservers > 0 ? STATS_FORM_OK
			                                       : STATS_FORM_E_MISSING;
		}
	for (size_t i = 0; i < sizeof(act_unsupported) / sizeof(act_unsupported[0]); i++)
		if (!strcmp(a->action, act_unsupported[i]))
			return STATS_FORM_E_UNSUPPORTED;
	return STATS_FORM_E_ACTION;
}

enum stats_form_rc stats_form_parse(const char *body, size_t len, struct stats_form *out)
{
	struct form_acc a = {.f = out};
	enum stats_form_rc rc;

	memset(out, 0, sizeof(*out));
	if (len > STATS_FORM_MAX_BODY)
		return STATS_FORM_E_TOO_BIG;
	rc = split_fields(&a, body, len);
	if (rc != STATS_FORM_OK)
		return rc;
	if (!a.action[0])
		return STATS_FORM_E_MISSING;
	if (!strcmp(a.action, "set-client-ip"))
		return judge_client_ip(&a);
	return judge_servers(&a);
}

enum stats_st stats_form_st(enum stats_form_rc rc)
{
	switch (rc) {
	case STATS_FORM_OK:
		return STATS_ST_INIT;
	case STATS_FORM_E_TOO_BIG:
	case STATS_FORM_E_FIELDS:
	case STATS_FORM_E_SERVERS:
		return STATS_ST_EXCD;
	case STATS_FORM_E_MISSING:
		return STATS_ST_NONE;
	default:
		return STATS_ST_ERRP;
	}
}

const char *stats_form_strerror(enum stats_form_rc rc)
{
	static const char *const msgs[STATS_FORM_RC_COUNT] = {
	    [STATS_FORM_OK] = "ok",
	    [STATS_FORM_E_TOO_BIG] = "body too large",
	    [STATS_FORM_E_FIELDS] = "too many fields",
	    [STATS_FORM_E_SERVERS] = "too many servers",
	    [STATS_FORM_E_LONG] = "a field name or value is too long",
	    [STATS_FORM_E_ENCODING] = "bad percent-encoding",
	    [STATS_FORM_E_ACTION] = "unknown action",
	    [STATS_FORM_E_UNSUPPORTED] = "action not supported by ppbridge",
	    [STATS_FORM_E_MISSING] = "no action, backend or server",
	    [STATS_FORM_E_FRONTEND] = "set-client-ip without a frontend",
	    [STATS_FORM_E_STRATEGY] = "set-client-ip without a known strategy",
	};

	return rc < STATS_FORM_RC_COUNT ? msgs[rc] : "?";
}

const char *stats_form_action_name(enum stats_form_action a)
{
	return a <= STATS_ACT_MAINT ? act_names[a] : "?";
}

/* "#12": digits only, as a proxy id; anything else is no id. */
static int parse_iid(const char *s)
{
	int v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

const struct cfg_proxy *stats_form_backend(const struct cfg *cfg, const char *b)
{
	int want = b[0] == '#' ? parse_iid(b + 1) : 0;
	int id = 0;

	if (want < 0)
		return NULL;
	for (const struct cfg_proxy *p = cfg->proxies; p; p = p->next) {
		id++; /* HAProxy's proxy id: frontends count too (admin_show.c) */
		if (!(p->caps & CFG_CAP_BE))
			continue;
		if (want ? id == want : !strcmp(p->name, b))
			return p;
	}
	return NULL;
}
