/* cfg_kw.c - what every keyword table uses: lookup, sections, refusals,
 * the number of words, messages, and the typed handlers.
 */
#include <config.h>

#include "cfg_int.h"

#include <stdarg.h>
#include <string.h>

const struct cfg_kw *cfg_kw_find(const struct cfg_kw *t, const char *kw)
{
	for (; t->kw; t++)
		if (!strcmp(t->kw, kw))
			return t;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Messages */

void cfg_kw_err(const struct cfg_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_msg_vadd(c->ps->msgs, CFG_SEV_ERROR, &c->ps->where, c->what, fmt, ap);
	va_end(ap);
}

void cfg_kw_notice(const struct cfg_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_msg_vadd(c->ps->msgs, CFG_SEV_NOTICE, &c->ps->where, c->what, fmt, ap);
	va_end(ap);
}

int cfg_kw_usage(struct cfg_ctx *c, const struct cfg_kw *k)
{
	cfg_kw_err(c, "'%s' expects %s", c->name, k->usage);
	return -1;
}

/* A row's notice: "daemon: ignored, ...", "'bind :443': 'no-sslv3' has no
 * effect: ...". */
static void kw_noted(const struct cfg_ctx *c, const struct cfg_kw *k)
{
	if (!k->notice)
		return;
	if (c->what)
		cfg_kw_notice(c, "'%s' %s", c->name, k->notice);
	else
		NOTICE(c->ps, "%s: %s", c->name, k->notice);
}

/* ------------------------------------------------------------------ */
/* Sections and refusals */

/* Is a keyword allowed in a `caps` section? A listen has both sides. */
static int caps_allow(unsigned allowed, unsigned caps)
{
	if (caps & CFG_CAP_DEF)
		return (allowed & CFG_CAP_DEF) != 0;
	return (allowed & caps & (CFG_CAP_FE | CFG_CAP_BE)) != 0;
}

static const char *caps_list(unsigned allowed)
{
	static const char *const lists[8] = {
	    "",
	    "frontend, listen",
	    "backend, listen",
	    "frontend, backend, listen",
	    "defaults",
	    "defaults, frontend, listen",
	    "defaults, backend, listen",
	    "defaults, frontend, backend, listen",
	};
	return lists[allowed & 7];
}

int cfg_kw_admit(struct cfg_ctx *c, const struct cfg_kw *k, unsigned caps)
{
	if (caps && !caps_allow(k->caps, caps)) {
		ERR(c->ps, "'%s' is not allowed in '%s' section (only in %s)", c->name,
		    cfg_sec_name(caps), caps_list(k->caps));
		return -1;
	}
	if (!k->fn) {
		cfg_kw_err(c, "'%s' %s", c->name, k->hint);
		return -1;
	}
	return 0;
}

int cfg_kw_run(struct cfg_ctx *c, const struct cfg_kw *k, unsigned caps, int argc, char **argv)
{
	int n = argc - 1;

	if (cfg_kw_admit(c, k, caps) < 0)
		return -1;
	if (k->usage && (n < k->min_args || n > k->max_args))
		return cfg_kw_usage(c, k);
	return k->fn(c, k, argc, argv);
}

int cfg_kw_opts(struct cfg_ctx *c, const struct cfg_kw *t, int argc, char **argv, int nonempty)
{
	for (int i = 0; i < argc; i++) {
		const struct cfg_kw *k = cfg_kw_find(t, argv[i]);
		int n;

		if (!k) {
			cfg_kw_err(c, "unknown option '%s'", argv[i]);
			return -1;
		}
		c->name = k->kw;
		if (cfg_kw_admit(c, k, 0) < 0)
			return -1;
		n = k->max_args;
		/* A word it may go without (`accept-proxy [optional]`): taken
		 * unless the next word is an option of the table itself. */
		if (k->min_args < n && (i + 1 >= argc || cfg_kw_find(t, argv[i + 1])))
			n = k->min_args;
		if (i + n >= argc || (n && nonempty && !*argv[i + 1])) {
			cfg_kw_err(c, "'%s' expects a value", k->kw);
			return -1;
		}
		if (k->fn(c, k, 1 + n, argv + i) < 0)
			return -1;
		i += n;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Typed handlers: the row says where and within which limits. */

static void *kw_field(const struct cfg_ctx *c, const struct cfg_kw *k)
{
	return (char *)c->obj + k->off;
}

int cfg_kw_int(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	long v;

	if (argc != 2 || cfg_parse_long(argv[1], k->min, k->max, &v) < 0) {
		cfg_kw_err(c, "'%s' expects an integer between %ld and %ld%s%s%s", c->name, k->min,
		           k->max, argc >= 2 ? ", got '" : "", argc >= 2 ? argv[1] : "",
		           argc >= 2 ? "'" : "");
		return -1;
	}
	switch (k->store) {
	case CFG_STORE_NONE:
		break;
	case CFG_STORE_INT:
		*(int *)kw_field(c, k) = (int)v;
		break;
	case CFG_STORE_UINT:
		*(unsigned *)kw_field(c, k) = (unsigned)v;
		break;
	}
	kw_noted(c, k);
	return 0;
}

int cfg_kw_time(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	const char *err;
	unsigned v;

	if (argc < 2) {
		cfg_kw_err(c, "'%s' expects a time", c->name);
		return -1;
	}
	if (cfg_parse_time(argv[1], &v, &err) < 0) {
		cfg_kw_err(c, "'%s': %s, got '%s'", c->name, err, argv[1]);
		return -1;
	}
	if (argc > 2) {
		cfg_kw_err(c, "'%s': unexpected word '%s'", c->name, argv[2]);
		return -1;
	}
	if ((long)v < k->min) {
		cfg_kw_err(c, "'%s' must be greater than 0", c->name);
		return -1;
	}
	*(unsigned *)kw_field(c, k) = v;
	return 0;
}

int cfg_kw_str(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	if (k->usage && !*argv[1])
		return cfg_kw_usage(c, k);
	cfg_set_str(kw_field(c, k), argv[1]);
	return 0;
}

int cfg_kw_flag(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	if (k->store == CFG_STORE_INT)
		*(int *)kw_field(c, k) = 1;
	kw_noted(c, k);
	return 0;
}

int cfg_kw_tls_version(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	const char *err;

	if (cfg_parse_tls_version(argv[1], kw_field(c, k), &err) < 0) {
		cfg_kw_err(c, "'%s %s': %s", c->name, argv[1], err);
		return -1;
	}
	return 0;
}
