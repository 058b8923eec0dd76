/* cfg_kw.c - what every keyword table uses: lookup, sections, values. */
#include <config.h>

#include "cfg_int.h"

#include <string.h>

/* "N" in [min, max] for keyword argv[0]. */
int cfg_kw_number(struct cfg_pstate *ps, int argc, char **argv, long min, long max, long *out)
{
	if (argc != 2 || cfg_parse_long(argv[1], min, max, out) < 0) {
		ERR(ps, "'%s' expects an integer between %ld and %ld%s%s%s", argv[0], min, max,
		    argc >= 2 ? ", got '" : "", argc >= 2 ? argv[1] : "", argc >= 2 ? "'" : "");
		return -1;
	}
	return 0;
}

int cfg_kw_time(struct cfg_pstate *ps, const char *kw, int argc, char **argv, int idx, unsigned *out)
{
	const char *err;

	if (idx >= argc) {
		ERR(ps, "'%s' expects a time", kw);
		return -1;
	}
	if (cfg_parse_time(argv[idx], out, &err) < 0) {
		ERR(ps, "'%s': %s, got '%s'", kw, err, argv[idx]);
		return -1;
	}
	if (idx + 1 < argc) {
		ERR(ps, "'%s': unexpected word '%s'", kw, argv[idx + 1]);
		return -1;
	}
	return 0;
}

/* One word argument: a cipher list, a directory. */
int cfg_kw_word(struct cfg_pstate *ps, int argc, char **argv, const char *what, char **dst)
{
	if (argc != 2 || !*argv[1]) {
		ERR(ps, "'%s' expects %s", argv[0], what);
		return -1;
	}
	cfg_set_str(dst, argv[1]);
	return 0;
}

const struct cfg_later *cfg_find_later(const struct cfg_later *t, const char *kw)
{
	for (; t->kw; t++)
		if (!strcmp(t->kw, kw))
			return t;
	return NULL;
}

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

/* Report a keyword used in the wrong kind of section. */
int cfg_check_caps(struct cfg_pstate *ps, const char *kw, unsigned allowed)
{
	if (caps_allow(allowed, ps->cur->caps))
		return 0;
	ERR(ps, "'%s' is not allowed in '%s' section (only in %s)", kw, cfg_sec_name(ps->cur->caps),
	    caps_list(allowed));
	return -1;
}
