/* prom_query.c - the query string of a metrics request (see prom_query.h).
 *
 * Same answers as HAProxy 2.6's promex_parse_uri(), written from its
 * documented behaviour: parameters split on '&', a '#' ends the query,
 * names and values %-decoded with '+' as a space.
 */
#include <config.h>

#include "hexdigit.h"
#include "prom_query.h"

#include <stddef.h>
#include <string.h>

/* Longest name or value worth decoding whole: longer ones cannot be a
 * word we know, but are still checked for bad escapes. */
#define WORD_MAX 32

static const struct {
	const char *name;
	unsigned bits;
} scope_names[] = {
    {"*", PROM_SCOPE_ALL},
    {"global", PROM_SCOPE_GLOBAL},
    {"frontend", PROM_SCOPE_FRONTEND},
    {"listener", PROM_SCOPE_LISTENER},
    {"backend", PROM_SCOPE_BACKEND},
    {"server", PROM_SCOPE_SERVER},
    {"sticktable", PROM_SCOPE_STICKTABLE},
};

/* %-decode s[0..len) into `out` (cut at WORD_MAX; `*outlen` is the
 * decoded length up to a decoded NUL, which ends the word as it ends
 * HAProxy's C string). Returns -1 on a bad escape, even after a NUL. */
static int decode(const char *s, size_t len, char out[WORD_MAX], size_t *outlen)
{
	size_t n = 0;
	int ended = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			int hi = i + 2 < len ? hex_digit_value(s[i + 1]) : -1;
			int lo = hi >= 0 ? hex_digit_value(s[i + 2]) : -1;
			if (lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		ended |= c == '\0';
		if (ended)
			continue;
		if (n < WORD_MAX)
			out[n] = c;
		n++;
	}
	*outlen = n;
	return 0;
}

static int is_word(const char *w, size_t n, const char *want)
{
	return n <= WORD_MAX && n == strlen(want) && !memcmp(w, want, n);
}

/* The bits of a scope name, or 0 when unknown. */
static unsigned scope_bits(const char *v, size_t n)
{
	for (size_t i = 0; i < sizeof(scope_names) / sizeof(scope_names[0]); i++)
		if (is_word(v, n, scope_names[i].name))
			return scope_names[i].bits;
	return 0;
}

/* One parameter s[0..len): apply it to `o`. `*scoped` is set at the
 * first `scope`. Returns -1 when the request must be refused. */
static int one_param(const char *s, size_t len, struct prom_opts *o, int *scoped)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq ? (size_t)(eq - s) : len;
	char key[WORD_MAX], val[WORD_MAX];
	size_t kn, vn = 0;

	if (decode(s, klen, key, &kn) < 0)
		return -1;
	if (eq) {
		const char *v = eq + 1;
		size_t vlen = len - klen - 1;
		if (memchr(v, '=', vlen) || decode(v, vlen, val, &vn) < 0)
			return -1;
	}
	if (is_word(key, kn, "no-maint")) {
		o->no_maint = true;
	} else if (is_word(key, kn, "scope")) {
		unsigned bits = eq ? scope_bits(val, vn) : 0;
		if (!*scoped)
			o->scopes = 0; /* the first scope replaces the default */
		*scoped = 1;
		if (!eq || (vn > 0 && !bits))
			return -1;
		o->scopes = vn == 0 ? 0 : o->scopes | bits;
	}
	return 0;
}

int prom_parse_query(const char *query, struct prom_opts *o)
{
	struct prom_opts r = {.scopes = PROM_SCOPE_ALL, .no_maint = false};
	int scoped = 0;

	if (query) {
		size_t end = strcspn(query, "#");
		for (size_t i = 0; i < end;) {
			size_t len = strcspn(query + i, "&#");
			if (len > end - i)
				len = end - i;
			if (one_param(query + i, len, &r, &scoped) < 0)
				return -1;
			i += len + 1;
		}
	}
	*o = r;
	return 0;
}
