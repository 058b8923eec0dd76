/* cfg_userlist.c - `userlist` sections: users, their passwords and groups,
 * for HTTP Basic authentication (auth.h, the http_auth fetches).
 *
 *     userlist <name>
 *         group <name> [users <user>,<user>...]
 *         user <name> password <crypt-hash> | insecure-password <password>
 *                     [groups <group>,<group>...]
 *
 * As in HAProxy, a user may name a group declared after it and a group a
 * user declared after it: names are checked when the configuration ends
 * (cfg_userlist_finish()), and so are the userlists conditions name, since
 * a userlist may come after the proxy that uses it. A hash is tried with
 * crypt_r(3) while the line is read: a scheme this system's libcrypt does
 * not know is an error here, not a user who can never log in.
 */
#include <config.h>

#include "cfg_int.h"

#include "acl.h"
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Lifecycle */

static void str_list_free(struct cfg_str *l)
{
	while (l) {
		struct cfg_str *next = l->next;
		free(l->s);
		free(l);
		l = next;
	}
}

static void user_free(struct cfg_ul_user *u)
{
	if (u->plain)
		memset(u->plain, 0, strlen(u->plain));
	free(u->name);
	free(u->hash);
	free(u->plain);
	free(u->groups);
	str_list_free(u->group_refs);
	free(u);
}

void cfg_userlist_free(struct cfg_userlist *ul)
{
	while (ul) {
		struct cfg_userlist *next = ul->next;
		while (ul->users) {
			struct cfg_ul_user *u = ul->users;
			ul->users = u->next;
			user_free(u);
		}
		while (ul->groups) {
			struct cfg_ul_group *g = ul->groups;
			ul->groups = g->next;
			free(g->name);
			str_list_free(g->user_refs);
			free(g);
		}
		free(ul->name);
		free(ul);
		ul = next;
	}
}

const struct cfg_userlist *cfg_find_userlist(const struct cfg_userlist *ul, const char *name)
{
	return auth_userlist_find(ul, name);
}

/* ------------------------------------------------------------------ */
/* The section header */

/* `userlist <name>`. A bad header still opens the section, into a userlist
 * linked nowhere (freed at its end), so that its lines get checked. */
int cfg_sec_userlist(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_userlist *ul = cfg_xcalloc(1, sizeof(*ul)), **tail;
	const struct cfg_userlist *other;
	int bad = 1;

	ps->sec = CFG_SEC_USERLIST;
	ps->cur_ul = ul;
	ul->where = ps->where;
	ul->name = cfg_xstrdup(argc > 1 ? argv[1] : "");
	if (argc != 2)
		ERR(ps, "'userlist' expects a name");
	else if (!cfg_valid_name(argv[1]))
		ERR(ps, "userlist name '%s' is invalid (letters, digits, '-', '_', '.', ':')",
		    argv[1]);
	else if ((other = cfg_find_userlist(ps->cfg->userlists, argv[1])))
		ERR(ps, "userlist '%s' has the same name as the userlist declared at %s:%d",
		    argv[1], other->where.file, other->where.line);
	else
		bad = 0;
	if (bad) {
		ps->cur_ul_orphan = 1;
		return -1;
	}
	for (tail = &ps->cfg->userlists; *tail; tail = &(*tail)->next)
		;
	*tail = ul;
	return 0;
}

void cfg_userlist_end(struct cfg_pstate *ps)
{
	if (ps->cur_ul && ps->cur_ul_orphan)
		cfg_userlist_free(ps->cur_ul);
	ps->cur_ul = NULL;
	ps->cur_ul_orphan = 0;
}

/* ------------------------------------------------------------------ */
/* Names and lists */

/* A user name goes into `user:pass` (Basic credentials, `stats auth`): it
 * cannot hold a ':'. A group name goes into comma-separated lists. */
static int check_name(struct cfg_pstate *ps, const char *kind, const char *name,
                      const char *forbidden)
{
	if (!*name) {
		ERR(ps, "'%s' expects a name (empty names are not allowed)", kind);
		return -1;
	}
	for (const char *p = name; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f || strchr(forbidden, *p)) {
			ERR(ps, "%s name '%s': '%c' is not allowed in it", kind, name,
			    (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p);
			return -1;
		}
	}
	return 0;
}

/* "a,b,c" into a list of names, each checked; a name listed twice is kept
 * once. */
static int parse_list(struct cfg_pstate *ps, const char *kind, const char *text,
                      const char *forbidden, struct cfg_str **out)
{
	struct cfg_str **tail = out;
	const char *p = text;

	for (;;) {
		size_t n = strcspn(p, ",");
		char *name = cfg_xcalloc(1, n + 1);
		struct cfg_str *s;

		memcpy(name, p, n);
		if (n == 0) {
			ERR(ps, "%s list '%s' has an empty name", kind, text);
			free(name);
			return -1;
		}
		if (check_name(ps, kind, name, forbidden) < 0) {
			free(name);
			return -1;
		}
		for (s = *out; s && strcmp(s->s, name) != 0; s = s->next)
			;
		if (s) {
			free(name);
		} else {
			s = cfg_xcalloc(1, sizeof(*s));
			s->s = name;
			*tail = s;
			tail = &s->next;
		}
		if (p[n] != ',')
			return 0;
		p += n + 1;
	}
}

/* ------------------------------------------------------------------ */
/* Keywords */

static struct cfg_ul_user *find_user(struct cfg_userlist *ul, const char *name)
{
	for (struct cfg_ul_user *u = ul->users; u; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u;
	return NULL;
}

static struct cfg_ul_group *find_group(struct cfg_userlist *ul, const char *name)
{
	for (struct cfg_ul_group *g = ul->groups; g; g = g->next)
		if (strcmp(g->name, name) == 0)
			return g;
	return NULL;
}

/* "$6$", "$2b$", or what stands for a hash without a "$id$" prefix. */
static void hash_scheme(const char *hash, char *buf, size_t len)
{
	const char *end = hash[0] == '$' ? strchr(hash + 1, '$') : NULL;

	if (end && end - hash < 16)
		snprintf(buf, len, "'%.*s'", (int)(end - hash + 1), hash);
	else if (hash[0] == '$')
		snprintf(buf, len, "'%.8s...' (no closing '$')", hash);
	else
		snprintf(buf, len, "none: traditional DES or not a hash");
}

static int user_password(struct cfg_pstate *ps, struct cfg_ul_user *u, const char *kw,
                         const char *value)
{
	char scheme[48];

	if (u->hash || u->plain) {
		ERR(ps, "user '%s': only one of 'password' and 'insecure-password'", u->name);
		return -1;
	}
	if (strcmp(kw, "insecure-password") == 0) {
		u->plain = cfg_xstrdup(value);
		WARN(ps,
		     "user '%s': 'insecure-password' is stored in clear in the configuration; "
		     "prefer 'password' with a crypt(3) hash (mkpasswd -m sha-512)",
		     u->name);
		return 0;
	}
	if (!auth_hash_cost_ok(value)) {
		ERR(ps,
		    "user '%s': this password hash is too costly to check on every request to "
		    "the stats page (at most bcrypt cost %d, %lu SHA-crypt rounds, yescrypt 8 "
		    "times its default)",
		    u->name, AUTH_MAX_BCRYPT_COST, AUTH_MAX_SHA_ROUNDS);
		return -1;
	}
	if (!auth_hash_usable(value)) {
		hash_scheme(value, scheme, sizeof(scheme));
		ERR(ps,
		    "user '%s': crypt(3) on this system cannot check this password hash "
		    "(scheme %s); use one it supports, e.g. 'mkpasswd -m sha-512' or "
		    "'openssl passwd -6'",
		    u->name, scheme);
		return -1;
	}
	u->hash = cfg_xstrdup(value);
	return 0;
}

/* The words after the user's name: pairs, in any order (as HAProxy). */
static int user_options(struct cfg_pstate *ps, struct cfg_ul_user *u, int argc, char **argv)
{
	for (int i = 2; i < argc; i += 2) {
		const char *kw = argv[i];
		int known = !strcmp(kw, "password") || !strcmp(kw, "insecure-password") ||
		            !strcmp(kw, "groups");
		if (!known) {
			ERR(ps,
			    "user '%s': unexpected word '%s' (password, insecure-password, groups)",
			    u->name, kw);
			return -1;
		}
		if (i + 1 >= argc) {
			ERR(ps, "user '%s': '%s' expects a value", u->name, kw);
			return -1;
		}
		if (!strcmp(kw, "groups")) {
			if (u->group_refs) {
				ERR(ps, "user '%s': 'groups' given twice", u->name);
				return -1;
			}
			if (parse_list(ps, "group", argv[i + 1], ",", &u->group_refs) < 0)
				return -1;
		} else if (user_password(ps, u, kw, argv[i + 1]) < 0) {
			return -1;
		}
	}
	if (!u->hash && !u->plain) {
		ERR(ps, "user '%s' has no 'password' or 'insecure-password': it could never log in",
		    u->name);
		return -1;
	}
	return 0;
}

/* `user <name> password <hash> | insecure-password <password> [groups
 * <group>,...]`. */
static int ul_user(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_ul_user *u, *other, **tail;

	if (check_name(ps, "user", argv[1], ":") < 0)
		return -1;
	if ((other = find_user(ps->cur_ul, argv[1]))) {
		ERR(ps, "user '%s' is already declared in userlist '%s' (%s:%d)", argv[1],
		    ps->cur_ul->name, other->where.file, other->where.line);
		return -1;
	}
	u = cfg_xcalloc(1, sizeof(*u));
	u->where = ps->where;
	u->name = cfg_xstrdup(argv[1]);
	if (user_options(ps, u, argc, argv) < 0) {
		user_free(u);
		return -1;
	}
	for (tail = &ps->cur_ul->users; *tail; tail = &(*tail)->next)
		;
	*tail = u;
	return 0;
}

/* `group <name> [users <user>,...]`. */
static int ul_group(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_ul_group *g, *other, **tail;
	struct cfg_str *users = NULL;

	if (check_name(ps, "group", argv[1], ",") < 0)
		return -1;
	if ((other = find_group(ps->cur_ul, argv[1]))) {
		ERR(ps, "group '%s' is already declared in userlist '%s' (%s:%d)", argv[1],
		    ps->cur_ul->name, other->where.file, other->where.line);
		return -1;
	}
	if (argc == 3 || (argc == 4 && strcmp(argv[2], "users") != 0))
		return cfg_kw_usage(c, k);
	if (argc == 4 && parse_list(ps, "user", argv[3], ":,", &users) < 0) {
		str_list_free(users);
		return -1;
	}
	g = cfg_xcalloc(1, sizeof(*g));
	g->where = ps->where;
	g->name = cfg_xstrdup(argv[1]);
	g->user_refs = users;
	for (tail = &ps->cur_ul->groups; *tail; tail = &(*tail)->next)
		;
	*tail = g;
	return 0;
}

const struct cfg_kw cfg_userlist_kws[] = {
    CFG_KW_FN("user", 3, 5, 0, ul_user,
              "<name> password <hash> | insecure-password <password> [groups <group>,...]"),
    CFG_KW_FN("group", 1, 3, 0, ul_group, "<name> [users <user>,...]"),
    CFG_KW_END,
};

void cfg_userlist_line(struct cfg_pstate *ps, int argc, char **argv)
{
	const struct cfg_kw *k = cfg_kw_find(cfg_userlist_kws, argv[0]);
	struct cfg_ctx c = {.ps = ps, .obj = ps->cur_ul, .name = argv[0]};

	if (!k) {
		ERR(ps, "unknown keyword '%s' in 'userlist' section (user, group)", argv[0]);
		return;
	}
	cfg_kw_run(&c, k, 0, argc, argv);
}

/* ------------------------------------------------------------------ */
/* After the last file */

static void append_name(char **list, const char *name)
{
	size_t old = *list ? strlen(*list) : 0, n = strlen(name);
	char *more = cfg_xcalloc(1, old + n + 2);

	if (old) {
		memcpy(more, *list, old);
		more[old++] = ',';
	}
	memcpy(more + old, name, n + 1);
	free(*list);
	*list = more;
}

static void finish_one(struct cfg_userlist *ul, struct cfg_msgs *msgs)
{
	for (struct cfg_ul_user *u = ul->users; u; u = u->next)
		for (const struct cfg_str *r = u->group_refs; r; r = r->next)
			if (!find_group(ul, r->s))
				cfg_msg_add(msgs, CFG_SEV_ERROR, &u->where,
				            "user '%s': no group '%s' in userlist '%s'", u->name,
				            r->s, ul->name);
	for (struct cfg_ul_group *g = ul->groups; g; g = g->next)
		for (const struct cfg_str *r = g->user_refs; r; r = r->next)
			if (!find_user(ul, r->s))
				cfg_msg_add(msgs, CFG_SEV_ERROR, &g->where,
				            "group '%s': no user '%s' in userlist '%s'", g->name,
				            r->s, ul->name);
	for (struct cfg_ul_user *u = ul->users; u; u = u->next) {
		free(u->groups);
		u->groups = cfg_xstrdup("");
		for (const struct cfg_ul_group *g = ul->groups; g; g = g->next)
			if (auth_userlist_in_group(ul, u->name, g->name))
				append_name(&u->groups, g->name);
	}
}

/* The userlists and groups a condition names must exist. */
struct ul_check {
	const struct cfg *cfg;
	struct cfg_msgs *msgs;
	const struct cfg_where *where;
};

static int check_ref(void *arg, const char *userlist, const char *group)
{
	struct ul_check *c = arg;
	const struct cfg_userlist *ul = cfg_find_userlist(c->cfg->userlists, userlist);

	if (!ul) {
		if (!group)
			cfg_msg_add(c->msgs, CFG_SEV_ERROR, c->where,
			            "no userlist '%s' in the configuration (named by http_auth or "
			            "http_auth_group)",
			            userlist);
		return 0;
	}
	for (const struct cfg_ul_group *g = group ? ul->groups : NULL; g; g = g->next)
		if (strcmp(g->name, group) == 0)
			return 0;
	if (group)
		cfg_msg_add(c->msgs, CFG_SEV_ERROR, c->where,
		            "http_auth_group(%s): no group '%s' in userlist '%s'", userlist, group,
		            userlist);
	return 0;
}

void cfg_userlist_check_cond(const struct cfg *cfg, const struct acl_cond *cond,
                             const struct cfg_where *where, struct cfg_msgs *msgs)
{
	struct ul_check c = {cfg, msgs, where};

	if (cond)
		acl_cond_userlists(cond, check_ref, &c);
}

void cfg_userlist_check_acls(const struct cfg *cfg, const struct acl *acls,
                             const struct cfg_where *where, struct cfg_msgs *msgs)
{
	struct ul_check c = {cfg, msgs, where};

	acl_list_userlists(acls, check_ref, &c);
}

void cfg_userlist_finish(struct cfg *cfg, struct cfg_msgs *msgs)
{
	for (struct cfg_userlist *ul = cfg->userlists; ul; ul = ul->next)
		finish_one(ul, msgs);
}
