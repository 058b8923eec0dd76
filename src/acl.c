/* acl.c - HAProxy-style conditions (pure, but for reading `-f` files).
 *
 * The vocabulary is in tables: match methods (acl_match_kws[]), integer
 * operators (acl_int_ops[]), derived ACL keywords (acl_kws[], `path_beg`
 * is `path -m beg`) and predefined ACLs (acl_predefs[]); fetches and
 * converters are smp.c's. Adding one is a row and, for a method or an
 * operator, its function.
 */
#include <config.h>

#include "acl.h"

#include "net.h"
#include "smp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert((int)ACL_FETCH_SRC == (int)SMP_USE_SRC &&
                   (int)ACL_FETCH_SSL_SNI == (int)SMP_USE_HELLO_SNI &&
                   (int)ACL_FETCH_SSL_HELLO_TYPE == (int)SMP_USE_HELLO_TYPE &&
                   (int)ACL_FETCH_HTTP_URI == (int)SMP_USE_HTTP_URI &&
                   (int)ACL_FETCH_STATE == (int)SMP_USE_STATE &&
                   (int)ACL_FETCH_HTTP_AUTH == (int)SMP_USE_HTTP_AUTH,
               "acl.h's fetch bits are smp.h's uses");

#define ACL_MAX_PATTERNS 65536
#define ACL_MAX_LINE 512 /* a line of a -f file, newline included */

/* What the patterns of a match method are. */
enum acl_pat_kind {
	ACL_PAT_NONE = 0, /* no pattern: found, bool */
	ACL_PAT_STR,
	ACL_PAT_INT, /* a value or a range; operators apply */
	ACL_PAT_NET, /* an address or a network */
};

struct acl_pat {
	char *str; /* STR: lower-case when icase */
	size_t len;
	int icase;
	int64_t min, max; /* INT: inclusive */
	struct net_cidr net;
};

/* A match method, `-m <name>`. */
struct acl_match_kw {
	const char *name;
	unsigned types; /* the sample types it reads: bits 1u << enum smp_type */
	enum acl_pat_kind pat;
	/* p is NULL for ACL_PAT_NONE */
	int (*match)(const struct acl_expr *e, const struct acl_pat *p, const struct smp *v);
};

/* ------------------------------------------------------------------ */
/* Match methods */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int mem_eq(const char *a, const char *b, size_t n, int icase)
{
	if (!icase)
		return memcmp(a, b, n) == 0;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static int m_found(const struct acl_expr *e, const struct acl_pat *p, const struct smp *v)
{
	return 1;
}

static int m_bool(const struct acl_expr *e, const struct acl_pat *p, const struct smp *v)
{
	return v->i != 0;
}

static int m_int(const struct acl_expr *e, const struct acl_pat *p, const struct smp *v)
{
	return v->i >= p->min && v->i <= p->max;
}

static int m_ip(const struct acl_expr *e, const struct acl_pat *p, const struct smp *v)
{
	return net_cidr_match(&p->net, (const struct sockaddr *)&v->ip);
}

/* Exact; for a host name fetch, "*.suffix" matches the names below it. */
static int m_str(const struct acl_expr *e, const struct acl_pat *p, const struct smp *v)
{
	if (e->host && p->len >= 2 && p->str[0] == '*' && p->str[1] == '.') {
		size_t sl = p->len - 1; /* ".suffix" */
		return v->len > sl && mem_eq(v->str + v->len - sl, p->str + 1, sl, 1);
	}
	return v->len == p->len && mem_eq(v->str, p->str, p->len, p->icase);
}

static int m_beg(const struct acl_expr *e, const struct acl_pat *p, const struct smp *v)
{
	return v->len >= p->len && mem_eq(v->str, p->str, p->len, p->icase);
}

static int m_end(const struct acl_expr *e, const struct acl_pat *p, const struct smp *v)
{
	return v->len >= p->len && mem_eq(v->str + v->len - p->len, p->str, p->len, p->icase);
}

static int m_sub(const struct acl_expr *e, const struct acl_pat *p, const struct smp *v)
{
	for (size_t i = 0; v->len >= p->len && i <= v->len - p->len; i++)
		if (mem_eq(v->str + i, p->str, p->len, p->icase))
			return 1;
	return 0;
}

static int m_len(const struct acl_expr *e, const struct acl_pat *p, const struct smp *v)
{
	return (int64_t)v->len >= p->min && (int64_t)v->len <= p->max;
}

#define T(x) (1u << SMP_T_##x)
#define NUM (T(BOOL) | T(INT))

static const struct acl_match_kw acl_match_kws[] = {
    {"found", T(BOOL) | T(INT) | T(IP) | T(STR), ACL_PAT_NONE, m_found},
    {"bool", NUM, ACL_PAT_NONE, m_bool},
    {"int", NUM, ACL_PAT_INT, m_int},
    {"ip", T(IP), ACL_PAT_NET, m_ip},
    {"str", T(STR), ACL_PAT_STR, m_str},
    {"beg", T(STR), ACL_PAT_STR, m_beg},
    {"end", T(STR), ACL_PAT_STR, m_end},
    {"sub", T(STR), ACL_PAT_STR, m_sub},
    {"len", T(STR), ACL_PAT_INT, m_len},
};

#define NMATCH (sizeof(acl_match_kws) / sizeof(acl_match_kws[0]))

static const struct acl_match_kw *match_find(const char *name)
{
	for (size_t i = 0; i < NMATCH; i++)
		if (strcmp(acl_match_kws[i].name, name) == 0)
			return &acl_match_kws[i];
	return NULL;
}

/* The method a sample type gets without `-m`, as in HAProxy. */
static const struct acl_match_kw *match_default(enum smp_type t)
{
	switch (t) {
	case SMP_T_BOOL:
		return match_find("bool");
	case SMP_T_INT:
		return match_find("int");
	case SMP_T_IP:
		return match_find("ip");
	case SMP_T_STR:
		return match_find("str");
	}
	return NULL;
}

static void match_list(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NMATCH && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
		                         acl_match_kws[i].name);
}

/* ------------------------------------------------------------------ */
/* Integer operators: `lt 2` is the range `:1` (HAProxy's compatibility
 * layer); an operator applies to the values after it, up to the next. */

static int op_eq(int64_t v, struct acl_pat *p)
{
	p->min = p->max = v;
	return 0;
}

static int op_lt(int64_t v, struct acl_pat *p)
{
	p->min = INT64_MIN;
	p->max = v - 1; /* v >= 0: written without a sign */
	return 0;
}

static int op_le(int64_t v, struct acl_pat *p)
{
	p->min = INT64_MIN;
	p->max = v;
	return 0;
}

static int op_gt(int64_t v, struct acl_pat *p)
{
	p->min = v + 1; /* v < 10^18 */
	p->max = INT64_MAX;
	return 0;
}

static int op_ge(int64_t v, struct acl_pat *p)
{
	p->min = v;
	p->max = INT64_MAX;
	return 0;
}

static const struct acl_int_op {
	const char *name;
	int (*apply)(int64_t v, struct acl_pat *p);
} acl_int_ops[] = {
    {"eq", op_eq}, {"lt", op_lt}, {"le", op_le}, {"gt", op_gt}, {"ge", op_ge},
};

static const struct acl_int_op *int_op_find(const char *name)
{
	for (size_t i = 0; i < sizeof(acl_int_ops) / sizeof(acl_int_ops[0]); i++)
		if (strcmp(acl_int_ops[i].name, name) == 0)
			return &acl_int_ops[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Derived keywords and predefined ACLs */

static const struct {
	const char *name;
	const char *fetch;
	const char *match;
} acl_kws[] = {
    {"path_beg", "path", "beg"},
    {"path_end", "path", "end"},
    {"path_sub", "path", "sub"},
    {"path_len", "path", "len"},
};

#define NKW (sizeof(acl_kws) / sizeof(acl_kws[0]))

static const struct {
	const char *name;
	const char *words[3];
	int nwords;
} acl_predefs[] = {
    {"TRUE", {"always_true"}, 1},
    {"FALSE", {"always_false"}, 1},
    {"LOCALHOST", {"src", "127.0.0.1/8", "::1"}, 3},
};

#define NPREDEF (sizeof(acl_predefs) / sizeof(acl_predefs[0]))

/* ------------------------------------------------------------------ */
/* Patterns */

/* While the words of one ACL are read. */
struct pat_state {
	struct acl_expr *e;
	const char *what; /* the fetch word, for messages */
	int icase;
	const struct acl_int_op *op; /* NULL: plain values */
	int op_waits;                /* an operator was read, no value after it yet */
	int64_t vmin, vmax;          /* bounds of the values written, when vmax > vmin */
};

static struct acl_pat *new_pat(struct acl_expr *e)
{
	struct acl_pat *more;

	if (e->npats >= ACL_MAX_PATTERNS)
		return NULL;
	more = realloc(e->pats, (size_t)(e->npats + 1) * sizeof(*more));
	if (!more)
		return NULL;
	e->pats = more;
	return memset(&e->pats[e->npats], 0, sizeof(*more));
}

static int parse_str_pat(struct pat_state *st, const char *text, struct acl_pat *p)
{
	size_t len = strlen(text);

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return -1;
	p->icase = st->icase || st->e->host;
	if (!(p->str = strdup(text)))
		return -1;
	p->len = len;
	for (size_t i = 0; p->icase && i < len; i++)
		p->str[i] = (char)lower((unsigned char)p->str[i]);
	return 0;
}

/* Decimal digits, at most 18 of them: no overflow anywhere below. */
static int parse_num(const char *text, size_t len, int64_t *v)
{
	*v = 0;
	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		*v = *v * 10 + (text[i] - '0');
	}
	return 0;
}

static int in_bounds(const struct pat_state *st, int64_t v)
{
	return st->vmax <= st->vmin || (v >= st->vmin && v <= st->vmax);
}

/* "5", "1024:65535", ":1023", "1024:" (HAProxy also takes '-' as the
 * separator). Returns -1 for the generic message, -2 with `err` filled. */
static int parse_range(struct pat_state *st, const char *text, struct acl_pat *p, char *err,
                       size_t errlen)
{
	size_t cut = strcspn(text, ":-");
	const char *hi = text + cut + 1;

	if (text[0] == '-' && text[1] >= '0' && text[1] <= '9') {
		snprintf(err, errlen,
		         "'%.40s' for '%s': HAProxy reads a leading '-' as a range (':%.40s'); "
		         "write ':%.40s', or 'lt 0' for negative values",
		         text, st->what, text + 1, text + 1);
		return -2;
	}
	if (st->op && st->op->apply != op_eq) {
		snprintf(err, errlen, "'%s' takes an integer, not the range '%.40s'", st->op->name,
		         text);
		return -2;
	}
	p->min = INT64_MIN;
	p->max = INT64_MAX;
	if (cut > 0 && (parse_num(text, cut, &p->min) < 0 || !in_bounds(st, p->min)))
		return -1;
	if (*hi && (parse_num(hi, strlen(hi), &p->max) < 0 || !in_bounds(st, p->max)))
		return -1;
	return (cut == 0 && !*hi) || p->min > p->max ? -1 : 0;
}

static int parse_int_pat(struct pat_state *st, const char *text, struct acl_pat *p, char *err,
                         size_t errlen)
{
	int64_t v;

	if (text[strcspn(text, ":-")])
		return parse_range(st, text, p, err, errlen);
	if (parse_num(text, strlen(text), &v) < 0 || !in_bounds(st, v))
		return -1;
	return st->op ? st->op->apply(v, p) : op_eq(v, p);
}

static const char *pat_kind(const struct pat_state *st, char *buf, size_t len)
{
	switch (st->e->match->pat) {
	case ACL_PAT_NET:
		return "address or network";
	case ACL_PAT_INT:
		if (st->vmax > st->vmin) {
			snprintf(buf, len, "integer %lld..%lld", (long long)st->vmin,
			         (long long)st->vmax);
			return buf;
		}
		return "integer";
	case ACL_PAT_STR:
		return "string";
	case ACL_PAT_NONE:
		break;
	}
	return "pattern";
}

/* One pattern of the expression's kind. Returns -1 for the generic
 * "invalid <kind>" message, -2 with `err` filled. */
static int add_pattern(struct pat_state *st, const char *text, char *err, size_t errlen)
{
	struct acl_pat *p = new_pat(st->e);
	int rc = -1;

	if (!p) {
		snprintf(err, errlen, "too many patterns (max %d) or out of memory",
		         ACL_MAX_PATTERNS);
		return -2;
	}
	switch (st->e->match->pat) {
	case ACL_PAT_NET:
		rc = net_parse_cidr(text, &p->net) < 0 ? -1 : 0;
		break;
	case ACL_PAT_INT:
		rc = parse_int_pat(st, text, p, err, errlen);
		break;
	case ACL_PAT_STR:
		rc = parse_str_pat(st, text, p);
		break;
	case ACL_PAT_NONE:
		snprintf(err, errlen, "'-m %s' takes no pattern (got '%.40s')", st->e->match->name,
		         text);
		return -2;
	}
	if (rc == 0)
		st->e->npats++;
	return rc;
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

/* "<file>:<line>: " before the reason a line was refused. */
static void file_err(const struct pat_state *st, const char *path, int lineno, const char *line,
                     int rc, char *err, size_t errlen)
{
	char why[256], kind[64];

	if (rc == -1)
		snprintf(why, sizeof(why), "invalid %s '%s'", pat_kind(st, kind, sizeof(kind)),
		         line);
	else
		snprintf(why, sizeof(why), "%s", err);
	snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
}

/* One pattern per line; blank lines and `#` comments are skipped;
 * operators do not apply. */
static int load_file(struct pat_state *st, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	const struct acl_int_op *op = st->op;
	char line[ACL_MAX_LINE];
	int lineno = 0, rc = 0;

	if (!f) {
		snprintf(err, errlen, "cannot read pattern file '%s': %s", path, strerror(errno));
		return -1;
	}
	st->op = NULL;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		char *p = trim(line);
		lineno++;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long (max %d)", path, lineno,
			         ACL_MAX_LINE - 2);
			rc = -1;
		} else if (*p != '\0' && *p != '#' && (rc = add_pattern(st, p, err, errlen)) < 0) {
			file_err(st, path, lineno, p, rc, err, errlen);
		}
	}
	fclose(f);
	st->op = op;
	return rc < 0 ? -1 : 0;
}

/* A word that is not a flag: an operator or a pattern. */
static int add_word(struct pat_state *st, const char *w, char *err, size_t errlen)
{
	const struct acl_int_op *op = st->e->match->pat == ACL_PAT_INT ? int_op_find(w) : NULL;
	char kind[64];
	int rc;

	if (op) {
		if (st->op_waits) {
			snprintf(err, errlen, "'%s' needs a value after it", st->op->name);
			return -1;
		}
		st->op = op;
		st->op_waits = 1;
		return 0;
	}
	st->op_waits = 0;
	rc = add_pattern(st, w, err, errlen);
	if (rc == -1)
		snprintf(err, errlen, "invalid %s '%s' for '%s'", pat_kind(st, kind, sizeof(kind)),
		         w, st->what);
	return rc < 0 ? -1 : 0;
}

/* HAProxy's flags: `-i` (subsequent patterns without case), `-m <method>`
 * (read before, see find_method), `-f <file>`, `--` (the rest are
 * patterns). ppbridge takes them anywhere among the patterns. */
static int read_words(struct pat_state *st, const char *const *words, int nwords, char *err,
                      size_t errlen)
{
	int literal = 0;

	for (int i = 1; i < nwords; i++) {
		const char *w = words[i];
		if (literal || w[0] != '-' || w[1] == '\0') {
			if (add_word(st, w, err, errlen) < 0)
				return -1;
		} else if (strcmp(w, "--") == 0) {
			literal = 1;
		} else if (strcmp(w, "-i") == 0) {
			st->icase = 1;
		} else if (strcmp(w, "-m") == 0) {
			i++;
		} else if (strcmp(w, "-f") == 0) {
			if (i + 1 >= nwords) {
				snprintf(err, errlen, "'-f' needs a file name");
				return -1;
			}
			if (load_file(st, words[++i], err, errlen) < 0)
				return -1;
		} else {
			snprintf(
			    err, errlen,
			    "unsupported flag '%s' (supported: -i, -m <method>, -f <file>, --)", w);
			return -1;
		}
	}
	if (st->op_waits) {
		snprintf(err, errlen, "'%s' needs a value after it", st->op->name);
		return -1;
	}
	return 0;
}

/* The `-m <method>` among the flags, if any. */
static int find_method(const char *const *words, int nwords, const char **method, char *err,
                       size_t errlen)
{
	char list[128];

	*method = NULL;
	for (int i = 1; i < nwords && strcmp(words[i], "--") != 0; i++) {
		if (strcmp(words[i], "-f") == 0) {
			i++;
		} else if (strcmp(words[i], "-m") == 0) {
			if (i + 1 >= nwords || !match_find(words[i + 1])) {
				match_list(list, sizeof(list));
				snprintf(err, errlen, "'-m' expects one of %s%s%.40s%s", list,
				         i + 1 < nwords ? " (not '" : "",
				         i + 1 < nwords ? words[i + 1] : "",
				         i + 1 < nwords ? "')" : "");
				return -1;
			}
			if (*method && strcmp(*method, words[i + 1]) != 0) {
				snprintf(err, errlen, "'-m' given twice ('%s' and '%.40s')",
				         *method, words[i + 1]);
				return -1;
			}
			*method = words[++i];
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Expressions */

/* "path_beg,conv" becomes "path,conv" with the method "beg". */
static char *resolve_keyword(const char *word, const char **method)
{
	size_t n = smp_name_len(word);
	char *text;

	*method = NULL;
	for (size_t i = 0; i < NKW; i++) {
		if (strlen(acl_kws[i].name) != n || strncmp(acl_kws[i].name, word, n) != 0)
			continue;
		text = malloc(strlen(acl_kws[i].fetch) + strlen(word + n) + 1);
		if (text)
			sprintf(text, "%s%s", acl_kws[i].fetch, word + n);
		*method = acl_kws[i].match;
		return text;
	}
	return strdup(word);
}

static int check_fetch(const char *text, char *err, size_t errlen)
{
	size_t n = smp_name_len(text), used;
	const struct smp_fetch_kw *kw = smp_fetch_find(text, n);
	char list[512];

	if (kw && (kw->where & SMP_IN_COND))
		return 0;
	smp_fetch_list(SMP_IN_COND, list, sizeof(list));
	used = strlen(list);
	for (size_t i = 0; i < NKW && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, ", %s", acl_kws[i].name);
	snprintf(err, errlen, "unsupported fetch '%.*s' (supported: %s)", (int)(n > 64 ? 64 : n),
	         text, list);
	return -1;
}

/* The method: `-m`, the derived keyword's, or the sample type's. */
static int set_method(struct acl_expr *e, const char *const *words, int nwords,
                      const char *kw_method, char *err, size_t errlen)
{
	const char *name;
	enum smp_type t = smp_expr_type(e->smp);

	if (find_method(words, nwords, &name, err, errlen) < 0)
		return -1;
	if (name && kw_method) {
		snprintf(err, errlen, "'%s' already means '-m %s': '-m' cannot be added", words[0],
		         kw_method);
		return -1;
	}
	e->match = name ? match_find(name) : kw_method ? match_find(kw_method) : match_default(t);
	if (!(e->match->types & (1u << t))) {
		snprintf(err, errlen, "'-m %s' cannot be used with '%s' (it gives %s)",
		         e->match->name, words[0], smp_type_name(t));
		return -1;
	}
	return 0;
}

static struct acl_expr *expr_parse(const char *const *words, int nwords, char *err, size_t errlen)
{
	struct acl_expr *e;
	struct pat_state st = {0};
	const char *kw_method;
	char *text;

	if (nwords < 1) {
		snprintf(err, errlen, "missing fetch method (e.g. 'src')");
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	text = resolve_keyword(words[0], &kw_method);
	if (!e || !text) {
		snprintf(err, errlen, "out of memory");
		goto bad;
	}
	if (check_fetch(text, err, errlen) < 0 ||
	    !(e->smp = smp_expr_parse(text, SMP_IN_COND, err, errlen)) ||
	    set_method(e, words, nwords, kw_method, err, errlen) < 0)
		goto bad;
	e->host = e->smp->nconvs == 0 && (e->smp->fetch->flags & SMP_F_HOST);
	e->list = e->smp->nconvs == 0 && (e->smp->fetch->flags & SMP_F_LIST);
	st.e = e;
	st.what = words[0];
	if (e->smp->nconvs == 0) {
		st.vmin = e->smp->fetch->vmin;
		st.vmax = e->smp->fetch->vmax;
	}
	if (read_words(&st, words, nwords, err, errlen) < 0)
		goto bad;
	if (e->npats == 0 && e->match->pat != ACL_PAT_NONE) {
		snprintf(err, errlen, "'%s' needs at least one pattern", words[0]);
		goto bad;
	}
	free(text);
	return e;
bad:
	free(text);
	acl_expr_free(e);
	return NULL;
}

struct acl_expr *acl_expr_parse(char *const *words, int nwords, char *err, size_t errlen)
{
	return expr_parse((const char *const *)words, nwords, err, errlen);
}

void acl_expr_free(struct acl_expr *expr)
{
	while (expr) {
		struct acl_expr *next = expr->next;
		for (int i = 0; i < expr->npats; i++)
			free(expr->pats[i].str);
		free(expr->pats);
		smp_expr_free(expr->smp);
		free(expr);
		expr = next;
	}
}

/* ------------------------------------------------------------------ */
/* Named ACLs */

int acl_declare(struct acl **list, const char *name, char *const *words, int nwords, char *err,
                size_t errlen)
{
	struct acl *acl = (struct acl *)acl_find(*list, name);
	struct acl_expr *e, **tail;

	for (const char *p = name; *p; p++) {
		if (!(*p == '-' || *p == '_' || *p == '.' || *p == ':' ||
		      (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z'))) {
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

/* ------------------------------------------------------------------ */
/* Conditions */

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

/* A declared ACL first (HAProxy lets one shadow a predefined name), then a
 * predefined one, which the term owns. */
static int name_term(const char *w, const struct acl *named, struct acl_term *t, char *err,
                     size_t errlen)
{
	if ((t->named = acl_find(named, w)))
		return 0;
	for (size_t i = 0; i < NPREDEF; i++) {
		if (strcmp(acl_predefs[i].name, w) != 0)
			continue;
		t->anonymous = expr_parse(acl_predefs[i].words, acl_predefs[i].nwords, err, errlen);
		return t->anonymous ? 0 : -1;
	}
	snprintf(err, errlen, "unknown ACL '%s' (declare it with 'acl' before use)", w);
	return -1;
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
	if (name_term(w, named, t, err, errlen) < 0)
		return -1;
	++*i;
	return 0;
}

struct acl_cond *acl_cond_parse(char *const *words, int nwords, const struct acl *named, char *err,
                                size_t errlen)
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
				snprintf(err, errlen, "'%s' needs a condition on both sides",
				         words[i]);
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

/* ------------------------------------------------------------------ */
/* Evaluation */

static int pats_match(const struct acl_expr *e, const struct smp *v)
{
	for (int i = 0; i < e->npats; i++)
		if (e->match->match(e, &e->pats[i], v))
			return 1;
	return 0;
}

/* A list ("admin,ops"): the patterns against each element alone; an
 * empty list has no element. */
static int list_match(const struct acl_expr *e, const struct smp *v)
{
	struct smp elem = *v;
	const char *p = v->str, *end = v->str + v->len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		elem.str = p;
		elem.len = (size_t)((comma ? comma : end) - p);
		if (pats_match(e, &elem))
			return 1;
		p = comma ? comma + 1 : end;
	}
	return 0;
}

/* No value: no match, whatever the method (HAProxy). */
static int one_match(const struct acl_expr *e, const struct smp_env *env)
{
	struct smp v;

	if (!smp_expr_eval(e->smp, env, &v))
		return 0;
	if (e->match->pat == ACL_PAT_NONE)
		return e->match->match(e, NULL, &v);
	return e->list ? list_match(e, &v) : pats_match(e, &v);
}

static int expr_match(const struct acl_expr *e, const struct smp_env *env)
{
	for (; e; e = e->next)
		if (one_match(e, env))
			return 1;
	return 0;
}

static const struct acl_expr *term_exprs(const struct acl_term *t)
{
	return t->anonymous ? t->anonymous : t->named->exprs;
}

static int term_holds(const struct acl_term *t, const struct smp_env *env)
{
	int m = expr_match(term_exprs(t), env);

	return t->negate ? !m : m;
}

static void ctx_env(const struct acl_ctx *ctx, struct smp_env *env)
{
	memset(env, 0, sizeof(*env));
	if (!ctx)
		return;
	env->src = ctx->src;
	env->hello_sni = ctx->sni;
	env->hello_type = ctx->hello_type;
	env->uri = ctx->uri;
	env->uri_len = ctx->uri_len;
	env->nbsrv = ctx->nbsrv;
	env->nbsrv_arg = ctx->nbsrv_arg;
	env->auth = ctx->authorization;
	env->auth_len = ctx->authorization_len;
	env->userlists = ctx->userlists;
	env->stk = ctx->stk;
	env->stk_arg = ctx->stk_arg;
}

int acl_cond_eval(const struct acl_cond *cond, const struct acl_ctx *ctx)
{
	struct smp_env env;
	int result = 0;

	if (!cond)
		return 1;
	ctx_env(ctx, &env);
	for (int g = 0; g < cond->ngroups && !result; g++) {
		int all = 1;
		for (int t = 0; t < cond->groups[g].nterms && all; t++)
			all = term_holds(&cond->groups[g].terms[t], &env);
		result = all;
	}
	return cond->unless ? !result : result;
}

unsigned acl_cond_fetches(const struct acl_cond *cond)
{
	unsigned mask = 0;

	for (int g = 0; cond && g < cond->ngroups; g++)
		for (int t = 0; t < cond->groups[g].nterms; t++)
			for (const struct acl_expr *e = term_exprs(&cond->groups[g].terms[t]); e;
			     e = e->next)
				mask |= smp_expr_uses(e->smp);
	return mask;
}

/* The names of one kind (backends, tables) the expressions refer to. */
static int exprs_names(const struct acl_expr *e, enum smp_arg_type type,
                       int (*fn)(void *arg, const char *name), void *arg)
{
	int rc = 0;

	for (; e && !rc; e = e->next)
		rc = smp_expr_names(e->smp, type, fn, arg);
	return rc;
}

static int cond_names(const struct acl_cond *cond, enum smp_arg_type type,
                      int (*fn)(void *arg, const char *name), void *arg)
{
	int rc = 0;

	for (int g = 0; cond && g < cond->ngroups && !rc; g++)
		for (int t = 0; t < cond->groups[g].nterms && !rc; t++)
			rc = exprs_names(term_exprs(&cond->groups[g].terms[t]), type, fn, arg);
	return rc;
}

static int list_names(const struct acl *list, enum smp_arg_type type,
                      int (*fn)(void *arg, const char *name), void *arg)
{
	int rc = 0;

	for (; list && !rc; list = list->next)
		rc = exprs_names(list->exprs, type, fn, arg);
	return rc;
}

int acl_cond_backends(const struct acl_cond *cond, int (*fn)(void *arg, const char *backend),
                      void *arg)
{
	return cond_names(cond, SMP_ARG_BACKEND, fn, arg);
}

int acl_list_backends(const struct acl *list, int (*fn)(void *arg, const char *backend), void *arg)
{
	return list_names(list, SMP_ARG_BACKEND, fn, arg);
}

int acl_cond_tables(const struct acl_cond *cond, int (*fn)(void *arg, const char *table), void *arg)
{
	return cond_names(cond, SMP_ARG_TABLE, fn, arg);
}

int acl_list_tables(const struct acl *list, int (*fn)(void *arg, const char *table), void *arg)
{
	return list_names(list, SMP_ARG_TABLE, fn, arg);
}

/* The walk of acl_cond_userlists(): the callback and its argument, and
 * the expression being walked. */
struct ul_walk {
	int (*fn)(void *arg, const char *userlist, const char *group);
	void *arg;
	const struct acl_expr *e;
};

/* One userlist argument of w->e: the name, then each group pattern. Group
 * names are checked only where a pattern is a whole name (`-m str`,
 * without `-i`). */
static int walk_userlist(void *arg, const char *userlist)
{
	const struct ul_walk *w = arg;
	const struct acl_expr *e = w->e;
	int rc = w->fn(w->arg, userlist, NULL);

	for (int i = 0; !rc && e->list && e->match->match == m_str && i < e->npats; i++)
		if (!e->pats[i].icase)
			rc = w->fn(w->arg, userlist, e->pats[i].str);
	return rc;
}

static int exprs_userlists(const struct acl_expr *e,
                           int (*fn)(void *arg, const char *userlist, const char *group), void *arg)
{
	struct ul_walk w = {fn, arg, NULL};
	int rc = 0;

	for (; e && !rc; e = e->next) {
		w.e = e;
		rc = smp_expr_userlists(e->smp, walk_userlist, &w);
	}
	return rc;
}

int acl_cond_userlists(const struct acl_cond *cond,
                       int (*fn)(void *arg, const char *userlist, const char *group), void *arg)
{
	int rc = 0;

	for (int g = 0; cond && g < cond->ngroups && !rc; g++)
		for (int t = 0; t < cond->groups[g].nterms && !rc; t++)
			rc = exprs_userlists(term_exprs(&cond->groups[g].terms[t]), fn, arg);
	return rc;
}

int acl_list_userlists(const struct acl *list,
                       int (*fn)(void *arg, const char *userlist, const char *group), void *arg)
{
	int rc = 0;

	for (; list && !rc; list = list->next)
		rc = exprs_userlists(list->exprs, fn, arg);
	return rc;
}

const char *acl_word_at(size_t i)
{
	const size_t nops = sizeof(acl_int_ops) / sizeof(acl_int_ops[0]);

	if (i < NMATCH)
		return acl_match_kws[i].name;
	i -= NMATCH;
	if (i < nops)
		return acl_int_ops[i].name;
	i -= nops;
	if (i < NKW)
		return acl_kws[i].name;
	i -= NKW;
	return i < NPREDEF ? acl_predefs[i].name : NULL;
}
