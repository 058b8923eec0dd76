/* cfg_token.c - the tokenizer and the value parsers of the configuration.
 *
 * Pure functions of their arguments (and getenv() for "${VAR}"): a line
 * becomes words with HAProxy's quoting rules; a word becomes a time, an
 * integer, a TLS version or a path.
 */
#include <config.h>

#include "cfg_int.h"

#include "hexdigit.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Allocation: running out of memory while reading a configuration is not
 * something we can report usefully, so it ends the process. */

void *cfg_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		abort();
	return p;
}

char *cfg_xstrdup(const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		abort();
	return p;
}

/* Replace an owned string. */
void cfg_set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = cfg_xstrdup(src);
}

/* ------------------------------------------------------------------ */
/* Tokenizer */

/* Output of the tokenizer under construction: bytes and word offsets (the
 * buffer moves while it grows, so pointers are set only at the end). */
struct tok {
	struct cfg_words *words;
	size_t len;
	size_t start[CFG_MAX_WORDS];
	int in_word; /* a word has started (even an empty "" one) */
};

static int tok_put(struct tok *t, char c)
{
	struct cfg_words *w = t->words;

	/* Expansion could make a line grow without bound: keep the limit. */
	if (t->len + 1 > CFG_MAX_LINE + CFG_MAX_WORDS)
		return -1;
	if (t->len + 1 > w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		char *p = realloc(w->buf, cap);
		if (!p)
			abort();
		w->buf = p;
		w->cap = cap;
	}
	w->buf[t->len++] = c;
	return 0;
}

static int tok_begin_word(struct tok *t, const char **err)
{
	if (t->in_word)
		return 0;
	if (t->words->n >= CFG_MAX_WORDS) {
		*err = "too many words on the line (max 64)";
		return -1;
	}
	t->start[t->words->n++] = t->len;
	t->in_word = 1;
	return 0;
}

static int tok_end_word(struct tok *t, const char **err)
{
	if (!t->in_word)
		return 0;
	t->in_word = 0;
	if (tok_put(t, '\0') < 0) {
		*err = "line too long after expansion (max 64 KiB)";
		return -1;
	}
	return 0;
}

/* One backslash sequence at line[*i] (the backslash). Known escapes give
 * their character; others keep the backslash, as HAProxy does, so regexes
 * like `\.` survive. `\$` is an escape only inside double quotes. */
static int tok_escape(struct tok *t, const char *line, size_t len, size_t *i, int dquote,
                      const char **err)
{
	char c = *i + 1 < len ? line[*i + 1] : '\0';
	int out;

	switch (c) {
	case ' ':
	case '#':
	case '\\':
	case '\'':
	case '"':
		out = c;
		break;
	case 'r':
		out = '\r';
		break;
	case 'n':
		out = '\n';
		break;
	case 't':
		out = '\t';
		break;
	case '$':
		if (!dquote)
			goto literal;
		out = '$';
		break;
	case 'x': {
		int hi = *i + 2 < len ? hex_digit_value(line[*i + 2]) : -1;
		int lo = *i + 3 < len ? hex_digit_value(line[*i + 3]) : -1;
		if (hi < 0 || lo < 0) {
			*err = "invalid '\\x' escape: two hexadecimal digits expected";
			return -1;
		}
		out = hi * 16 + lo;
		if (out == 0) {
			*err = "'\\x00' is not allowed";
			return -1;
		}
		if (tok_put(t, (char)out) < 0)
			goto toolong;
		*i += 4;
		return 0;
	}
	default:
		goto literal;
	}
	if (tok_put(t, (char)out) < 0)
		goto toolong;
	*i += 2;
	return 0;
literal:
	if (tok_put(t, '\\') < 0)
		goto toolong;
	*i += 1;
	return 0;
toolong:
	*err = "line too long after expansion (max 64 KiB)";
	return -1;
}

static int is_var_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

/* "$NAME" or "${NAME}" inside double quotes; an unset variable expands to
 * nothing. */
static int tok_env(struct tok *t, const char *line, size_t len, size_t *i, const char **err)
{
	char name[256];
	size_t p = *i + 1, n = 0;
	int brace = 0;
	const char *value;

	if (p < len && line[p] == '{') {
		brace = 1;
		p++;
	}
	if (p >= len || !is_var_start(line[p])) {
		*err = "invalid environment variable name after '$' (use \\$ for a dollar)";
		return -1;
	}
	while (p < len && (isalnum((unsigned char)line[p]) || line[p] == '_')) {
		if (n + 1 >= sizeof(name)) {
			*err = "environment variable name too long";
			return -1;
		}
		name[n++] = line[p++];
	}
	name[n] = '\0';
	if (brace) {
		if (p >= len || line[p] != '}') {
			*err = "missing '}' after '${' (default values are not supported)";
			return -1;
		}
		p++;
	}
	*i = p;
	value = getenv(name);
	for (; value && *value; value++) {
		if (tok_put(t, *value) < 0) {
			*err = "line too long after expansion (max 64 KiB)";
			return -1;
		}
	}
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int tok_run(struct tok *t, const char *line, size_t len, const char **err)
{
	int squote = 0, dquote = 0;
	size_t i = 0;

	while (i < len) {
		char c = line[i];

		if (c == '\0') {
			*err = "NUL character in line";
			return -1;
		}
		if (squote) {
			if (c == '\'')
				squote = 0;
			else if (tok_put(t, c) < 0)
				goto toolong;
			i++;
			continue;
		}
		if (!dquote && is_blank(c)) {
			if (tok_end_word(t, err) < 0)
				return -1;
			i++;
			continue;
		}
		if (!dquote && c == '#')
			break;
		if (tok_begin_word(t, err) < 0)
			return -1;
		if (c == '\\') {
			if (tok_escape(t, line, len, &i, dquote, err) < 0)
				return -1;
		} else if (c == '"') {
			dquote = !dquote;
			i++;
		} else if (c == '\'' && !dquote) {
			squote = 1;
			i++;
		} else if (c == '$' && dquote) {
			if (tok_env(t, line, len, &i, err) < 0)
				return -1;
		} else {
			if (tok_put(t, c) < 0)
				goto toolong;
			i++;
		}
	}
	if (squote || dquote) {
		*err = squote ? "unterminated single quote" : "unterminated double quote";
		return -1;
	}
	return tok_end_word(t, err);
toolong:
	*err = "line too long after expansion (max 64 KiB)";
	return -1;
}

int cfg_tokenize(const char *line, size_t len, struct cfg_words *words, const char **err)
{
	struct tok t = {.words = words};

	words->n = 0;
	words->w[0] = NULL;
	if (len > CFG_MAX_LINE) {
		*err = "line too long (max 64 KiB)";
		return -1;
	}
	if (tok_run(&t, line, len, err) < 0) {
		words->n = 0;
		words->w[0] = NULL;
		return -1;
	}
	for (int k = 0; k < words->n; k++)
		words->w[k] = words->buf + t.start[k];
	words->w[words->n] = NULL;
	return 0;
}

void cfg_words_free(struct cfg_words *words)
{
	free(words->buf);
	memset(words, 0, sizeof(*words));
}

/* ------------------------------------------------------------------ */
/* Value parsers */

int cfg_parse_time(const char *text, unsigned *ms, const char **err)
{
	static const struct {
		const char *unit;
		unsigned long long mul, div;
	} units[] = {
	    {"", 1, 1},      {"us", 1, 1000},   {"ms", 1, 1},       {"s", 1000, 1},
	    {"m", 60000, 1}, {"h", 3600000, 1}, {"d", 86400000, 1},
	};
	unsigned long long v = 0;
	const char *p = text;

	if (!isdigit((unsigned char)*p)) {
		*err = "expects a time: a number with an optional unit (us, ms, s, m, h, d)";
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > (unsigned long long)INT_MAX * 1000ull) {
			*err = "time value too large (max 2147483647 ms, about 24.8 days)";
			return -1;
		}
	}
	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		if (strcmp(p, units[k].unit) != 0)
			continue;
		/* Round microseconds up so that a non-zero time stays non-zero. */
		v = (v * units[k].mul + units[k].div - 1) / units[k].div;
		if (v > INT_MAX) {
			*err = "time value too large (max 2147483647 ms, about 24.8 days)";
			return -1;
		}
		*ms = (unsigned)v;
		return 0;
	}
	*err = "unknown time unit (expected us, ms, s, m, h or d)";
	return -1;
}

/* A decimal integer in [min, max]: no sign other than a leading '-', no
 * spaces, no trailing garbage. */
int cfg_parse_long(const char *text, long min, long max, long *out)
{
	char *end;
	long v;

	if (!*text || isspace((unsigned char)*text) || *text == '+')
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cfg_name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* Name of a proxy, backend or server: what HAProxy accepts. */
int cfg_valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.:", *s))
			return 0;
	return 1;
}

/* `ssl-min-ver` / `ssl-max-ver` values, as TLS protocol numbers. Versions
 * below TLS 1.2 are never offered: naming one is an error, not a silent
 * upgrade. */
int cfg_parse_tls_version(const char *text, int *out, const char **err)
{
	static const struct {
		const char *name;
		int version; /* 0: refused */
	} names[] = {
	    {"SSLv3", 0}, {"TLSv1.0", 0}, {"TLSv1.1", 0}, {"TLSv1.2", 0x0303}, {"TLSv1.3", 0x0304},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i].name, text) != 0)
			continue;
		if (!names[i].version) {
			*err = "not supported: ppbridge requires TLS 1.2 or later";
			return -1;
		}
		*out = names[i].version;
		return 0;
	}
	*err = "expects TLSv1.2 or TLSv1.3";
	return -1;
}

/* A `crt` or `ca-file` path: relative ones go under `crt-base` /
 * `ca-base` when one was set, as HAProxy does. */
char *cfg_base_path(const char *base, const char *path)
{
	size_t blen, plen;
	char *out;

	if (!base || path[0] == '/')
		return cfg_xstrdup(path);
	blen = strlen(base);
	plen = strlen(path);
	while (blen > 0 && base[blen - 1] == '/')
		blen--; /* "/etc/ssl/" and "/" join without "//" */
	out = cfg_xcalloc(1, blen + plen + 2);
	memcpy(out, base, blen);
	out[blen] = '/';
	memcpy(out + blen + 1, path, plen + 1);
	return out;
}
