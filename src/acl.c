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

/* One pattern per line; blank lines and `#` comments are skipped. */
static int load_file(struct acl_expr *e, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int lineno = 0;

	if (!f) {
		snprintf(err, errlen, "cannot read pattern file '%s': %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct net_cidr cidr;
		char *p = trim(line);
		lineno++;
		if (*p == '\0' || *p == '#')
			continue;
		if (net_parse_cidr(p, &cidr) < 0 || add_net(e, &cidr) < 0) {
			snprintf(err, errlen, "%s:%d: invalid address or network '%s'", path, lineno,
				 p);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

struct acl_expr *acl_expr_parse(char *const *words, int nwords, char *err, size_t errlen)
{
	struct acl_expr *e;

	if (nwords < 1) {
		snprintf(err, errlen, "missing fetch method (e.g. 'src')");
		return NULL;
	}
	if (strcmp(words[0], "src") != 0) {
		snprintf(err, errlen, "unsupported fetch '%s' (supported: src)", words[0]);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->fetch = ACL_FETCH_SRC;
	for (int i = 1; i < nwords; i++) {
		struct net_cidr cidr;
		if (strcmp(words[i], "-f") == 0) {
			if (i + 1 >= nwords) {
				snprintf(err, errlen, "'-f' needs a file name");
				goto bad;
			}
			if (load_file(e, words[++i], err, errlen) < 0)
				goto bad;
			continue;
		}
		if (strcmp(words[i], "--") == 0)
			continue;
		if (net_parse_cidr(words[i], &cidr) < 0) {
			snprintf(err, errlen, "invalid address or network '%s' for 'src'", words[i]);
			goto bad;
		}
		if (add_net(e, &cidr) < 0) {
			snprintf(err, errlen, "too many patterns");
			goto bad;
		}
	}
	if (e->nnets == 0) {
		snprintf(err, errlen, "'src' needs at least one address or network");
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

static int expr_match(const struct acl_expr *e, const struct acl_ctx *ctx)
{
	for (; e; e = e->next) {
		if (e->fetch != ACL_FETCH_SRC || !ctx->src)
			continue;
		for (int i = 0; i < e->nnets; i++)
			if (net_cidr_match(&e->nets[i], ctx->src))
				return 1;
	}
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
