/* acl.c - HAProxy-style conditions (pure, but for reading `-f` files). */
#include <config.h>

#include "acl.h"

#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACL_MAX_PATTERNS 65536

static int add_net(struct acl_expr *e, const struct net_cidr *cidr)
{
	struct net_cidr *more;

	if (e->nnets >= ACL_MAX_PATTERNS)
		return -1;
	more = realloc(e->nets, (size_t)(e->nnets + 1) * sizeof(*more));
	if (!more)
		return -1;
	e->nets = more;
	e->nets[e->nnets++] = *cidr;
	return 0;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* A host name pattern: lower-cased; "*.suffix" matches names below it. */
static int add_name(struct acl_expr *e, const char *name)
{
	char **more;
	char *copy;

	if (e->nstrs >= ACL_MAX_PATTERNS || !*name)
		return -1;
	for (const char *p = name; *p; p++)
		if (*p == ' ' || *p == '\t' || (unsigned char)*p < 0x20)
			return -1;
	more = realloc(e->strs, (size_t)(e->nstrs + 1) * sizeof(*more));
	if (!more)
		return -1;
	e->strs = more;
	if (!(copy = strdup(name)))
		return -1;
	for (char *p = copy; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	e->strs[e->nstrs++] = copy;
	return 0;
}

static int add_int(struct acl_expr *e, const char *text)
{
	char *end;
	long v = strtol(text, &end, 10);
	int *more;

	if (*text == '\0' || *end != '\0' || v < 0 || v > 255 || e->nints >= 256)
		return -1;
	more = realloc(e->ints, (size_t)(e->nints + 1) * sizeof(*more));
	if (!more)
		return -1;
	e->ints = more;
	e->ints[e->nints++] = (int)v;
	return 0;
}

/* One pattern of the expression's kind. */
static int add_pattern(struct acl_expr *e, const char *text)
{
	struct net_cidr cidr;

	switch (e->fetch) {
	case ACL_FETCH_SRC:
		return net_parse_cidr(text, &cidr) < 0 ? -1 : add_net(e, &cidr);
	case ACL_FETCH_SSL_SNI:
		return add_name(e, text);
	case ACL_FETCH_SSL_HELLO_TYPE:
		return add_int(e, text);
	}
	return -1;
}

static const char *pattern_kind(enum acl_fetch f)
{
	return f == ACL_FETCH_SRC ? "address or network" : f == ACL_FETCH_SSL_SNI ? "host name"
										    : "integer 0..255";
}

/* One pattern per line; blank lines and `#` comments are skipped. */
static int load_file(struct acl_expr *e, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int lineno = 0;

	if (!f) {
		snprintf(err, errlen, "cannot read pattern file '%s': %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = trim(line);
		lineno++;
		if (*p == '\0' || *p == '#')
			continue;
		if (add_pattern(e, p) < 0) {
			snprintf(err, errlen, "%s:%d: invalid %s '%s'", path, lineno,
				 pattern_kind(e->fetch), p);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

static const struct {
	const char *name;
	enum acl_fetch fetch;
} fetches[] = {
    {"src", ACL_FETCH_SRC},
    {"req.ssl_sni", ACL_FETCH_SSL_SNI},
    {"req_ssl_sni", ACL_FETCH_SSL_SNI},
    {"req.ssl_hello_type", ACL_FETCH_SSL_HELLO_TYPE},
    {"req_ssl_hello_type", ACL_FETCH_SSL_HELLO_TYPE},
};

/* HAProxy's pattern flags: `-i` (names are compared without case anyway),
 * `-m str|end|beg` (names), `-f <file>`, `--`. Returns the number of words
 * taken, 0 when `words[0]` is a pattern, -1 on error. */
static int parse_flag(struct acl_expr *e, char *const *words, int nwords, char *err,
		      size_t errlen)
{
	const char *w = words[0];

	if (strcmp(w, "-i") == 0 && e->fetch == ACL_FETCH_SSL_SNI)
		return 1;
	if (strcmp(w, "-m") == 0 && e->fetch == ACL_FETCH_SSL_SNI) {
		if (nwords < 2 || (strcmp(words[1], "str") && strcmp(words[1], "end") &&
				   strcmp(words[1], "beg"))) {
			snprintf(err, errlen, "'-m' expects str, end or beg");
			return -1;
		}
		e->match = !strcmp(words[1], "end") ? ACL_MATCH_END
			   : !strcmp(words[1], "beg") ? ACL_MATCH_BEG
						      : ACL_MATCH_STR;
		return 2;
	}
	if (strcmp(w, "-f") == 0) {
		if (nwords < 2) {
			snprintf(err, errlen, "'-f' needs a file name");
			return -1;
		}
		return load_file(e, words[1], err, errlen) < 0 ? -1 : 2;
	}
	if (w[0] == '-' && w[1] != '\0' && e->fetch != ACL_FETCH_SRC) {
		snprintf(err, errlen, "unsupported flag '%s' (supported: -i, -m str|end|beg, -f)", w);
		return -1;
	}
	return 0;
}

struct acl_expr *acl_expr_parse(char *const *words, int nwords, char *err, size_t errlen)
{
	struct acl_expr *e;
	size_t f = 0;

	if (nwords < 1) {
		snprintf(err, errlen, "missing fetch method (e.g. 'src')");
		return NULL;
	}
	while (f < sizeof(fetches) / sizeof(fetches[0]) && strcmp(words[0], fetches[f].name) != 0)
		f++;
	if (f == sizeof(fetches) / sizeof(fetches[0])) {
		snprintf(err, errlen,
			 "unsupported fetch '%s' (supported: src, req.ssl_sni, req_ssl_hello_type)",
			 words[0]);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->fetch = fetches[f].fetch;
	for (int i = 1; i < nwords; i++) {
		int used;
		if (strcmp(words[i], "--") == 0)
			continue;
		used = parse_flag(e, words + i, nwords - i, err, errlen);
		if (used < 0)
			goto bad;
		if (used > 0) {
			i += used - 1;
			continue;
		}
		if (add_pattern(e, words[i]) < 0) {
			snprintf(err, errlen, "invalid %s '%s' for '%s'", pattern_kind(e->fetch),
				 words[i], words[0]);
			goto bad;
		}
	}
	if (e->nnets + e->nstrs + e->nints == 0) {
		snprintf(err, errlen, "'%s' needs at least one pattern", words[0]);
		goto bad;
	}
	return e;
bad:
	acl_expr_free(e);
	return NULL;
}

void acl_expr_free(struct acl_expr *expr)
{
	while (expr) {
		struct acl_expr *next = expr->next;
		free(expr->nets);
		for (int i = 0; i < expr->nstrs; i++)
			free(expr->strs[i]);
		free(expr->strs);
		free(expr->ints);
		free(expr);
		expr = next;
	}
}

int acl_declare(struct acl **list, const char *name, char *const *words, int nwords, char *err,
		size_t errlen)
{
	struct acl *acl = (struct acl *)acl_find(*list, name);
	struct acl_expr *e, **tail;

	for (const char *p = name; *p; p++) {
		if (!(*p == '-' || *p == '_' || *p == '.' || *p == ':' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
			snprintf(err, errlen, "invalid character '%c' in ACL name '%s'", *p, name);
			return -1;
		}
	}
	e = acl_expr_parse(words, nwords, err, errlen);
	if (!e)
		return -1;
	if (!acl) {
		acl = calloc(1, sizeof(*acl));
		if (!acl || !(acl->name = strdup(name))) {
			free(acl);
			acl_expr_free(e);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		acl->next = *list;
		*list = acl;
	}
	for (tail = &acl->exprs; *tail; tail = &(*tail)->next)
		;
	*tail = e;
	return 0;
}

const struct acl *acl_find(const struct acl *list, const char *name)
{
	for (; list; list = list->next)
		if (strcmp(list->name, name) == 0)
			return list;
	return NULL;
}

void acl_list_free(struct acl *list)
{
	while (list) {
		struct acl *next = list->next;
		acl_expr_free(list->exprs);
		free(list->name);
		free(list);
		list = next;
	}
}

static int add_term(struct acl_group *g, const struct acl_term *t)
{
	struct acl_term *more = realloc(g->terms, (size_t)(g->nterms + 1) * sizeof(*more));

	if (!more)
		return -1;
	g->terms = more;
	g->terms[g->nterms++] = *t;
	return 0;
}

static struct acl_group *new_group(struct acl_cond *c)
{
	struct acl_group *more = realloc(c->groups, (size_t)(c->ngroups + 1) * sizeof(*more));

	if (!more)
		return NULL;
	c->groups = more;
	memset(&c->groups[c->ngroups], 0, sizeof(c->groups[0]));
	return &c->groups[c->ngroups++];
}

/* Parse one term at words[*i]; advances *i past it. */
static int parse_term(char *const *words, int nwords, int *i, const struct acl *named,
		      struct acl_term *t, char *err, size_t errlen)
{
	const char *w = words[*i];

	memset(t, 0, sizeof(*t));
	if (w[0] == '!') {
		t->negate = 1;
		if (w[1] != '\0') {
			w++; /* "!name" written without a space */
		} else if (++*i >= nwords) {
			snprintf(err, errlen, "'!' must be followed by an ACL");
			return -1;
		} else {
			w = words[*i];
		}
	}
	if (strcmp(w, "{") == 0) {
		int start = ++*i;
		while (*i < nwords && strcmp(words[*i], "}") != 0)
			++*i;
		if (*i >= nwords) {
			snprintf(err, errlen, "missing '}' after anonymous ACL");
			return -1;
		}
		t->anonymous = acl_expr_parse(words + start, *i - start, err, errlen);
		++*i;
		return t->anonymous ? 0 : -1;
	}
	t->named = acl_find(named, w);
	if (!t->named) {
		snprintf(err, errlen, "unknown ACL '%s' (declare it with 'acl' before use)", w);
		return -1;
	}
	++*i;
	return 0;
}

struct acl_cond *acl_cond_parse(char *const *words, int nwords, const struct acl *named,
				char *err, size_t errlen)
{
	struct acl_cond *c;
	struct acl_group *g;
	int i = 1;

	if (nwords < 1 || (strcmp(words[0], "if") != 0 && strcmp(words[0], "unless") != 0)) {
		snprintf(err, errlen, "expected 'if' or 'unless'");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(g = new_group(c))) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->unless = strcmp(words[0], "unless") == 0;
	if (nwords < 2) {
		snprintf(err, errlen, "missing condition after '%s'", words[0]);
		goto bad;
	}
	while (i < nwords) {
		struct acl_term t;
		if (strcmp(words[i], "||") == 0 || strcmp(words[i], "or") == 0) {
			if (g->nterms == 0 || i + 1 >= nwords) {
				snprintf(err, errlen, "'%s' needs a condition on both sides", words[i]);
				goto bad;
			}
			if (!(g = new_group(c))) {
				snprintf(err, errlen, "out of memory");
				goto bad;
			}
			i++;
			continue;
		}
		if (parse_term(words, nwords, &i, named, &t, err, errlen) < 0)
			goto bad;
		if (add_term(g, &t) < 0) {
			acl_expr_free(t.anonymous);
			snprintf(err, errlen, "out of memory");
			goto bad;
		}
	}
	return c;
bad:
	acl_cond_free(c);
	return NULL;
}

void acl_cond_free(struct acl_cond *cond)
{
	if (!cond)
		return;
	for (int g = 0; g < cond->ngroups; g++) {
		for (int t = 0; t < cond->groups[g].nterms; t++)
			acl_expr_free(cond->groups[g].terms[t].anonymous);
		free(cond->groups[g].terms);
	}
	free(cond->groups);
	free(cond);
}

/* A host name against one pattern: exact, "*.suffix" (names below it),
 * or HAProxy's -m end / -m beg. Both sides are lower-case. */
static int name_match(const struct acl_expr *e, const char *pat, const char *name)
{
	size_t pl = strlen(pat), nl = strlen(name);

	if (e->match == ACL_MATCH_END)
		return nl >= pl && strcmp(name + nl - pl, pat) == 0;
	if (e->match == ACL_MATCH_BEG)
		return strncmp(name, pat, pl) == 0;
	if (pat[0] == '*' && pat[1] == '.')
		return nl > pl - 1 && strcmp(name + nl - (pl - 1), pat + 1) == 0;
	return strcmp(name, pat) == 0;
}

static int one_match(const struct acl_expr *e, const struct acl_ctx *ctx)
{
	switch (e->fetch) {
	case ACL_FETCH_SRC:
		for (int i = 0; ctx->src && i < e->nnets; i++)
			if (net_cidr_match(&e->nets[i], ctx->src))
				return 1;
		return 0;
	case ACL_FETCH_SSL_SNI:
		for (int i = 0; ctx->sni && *ctx->sni && i < e->nstrs; i++)
			if (name_match(e, e->strs[i], ctx->sni))
				return 1;
		return 0;
	case ACL_FETCH_SSL_HELLO_TYPE:
		for (int i = 0; i < e->nints; i++)
			if (ctx->hello_type == e->ints[i])
				return 1;
		return 0;
	}
	return 0;
}

static int expr_match(const struct acl_expr *e, const struct acl_ctx *ctx)
{
	for (; e; e = e->next)
		if (one_match(e, ctx))
			return 1;
	return 0;
}

static int term_holds(const struct acl_term *t, const struct acl_ctx *ctx)
{
	int m = t->anonymous ? expr_match(t->anonymous, ctx) : expr_match(t->named->exprs, ctx);

	return t->negate ? !m : m;
}

int acl_cond_eval(const struct acl_cond *cond, const struct acl_ctx *ctx)
{
	int result = 0;

	if (!cond)
		return 1;
	for (int g = 0; g < cond->ngroups && !result; g++) {
		int all = 1;
		for (int t = 0; t < cond->groups[g].nterms && all; t++)
			all = term_holds(&cond->groups[g].terms[t], ctx);
		result = all;
	}
	return cond->unless ? !result : result;
}

unsigned acl_cond_fetches(const struct acl_cond *cond)
{
	unsigned mask = 0;

	for (int g = 0; cond && g < cond->ngroups; g++)
		for (int t = 0; t < cond->groups[g].nterms; t++) {
			const struct acl_term *term = &cond->groups[g].terms[t];
			for (const struct acl_expr *e = term->anonymous ? term->anonymous
									: term->named->exprs;
			     e; e = e->next)
				mask |= 1u << e->fetch;
		}
	return mask;
}
