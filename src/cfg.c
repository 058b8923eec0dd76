/* cfg.c - HAProxy-syntax configuration: messages, sections, files.
 *
 * The driver of the parser: cfg_parse_text() cuts the text into lines,
 * cfg_tokenize() (cfg_token.c) into words, and each line either opens a
 * section or goes to the keyword tables of the section it is in
 * (cfg_global.c, cfg_proxy.c, cfg_userlist.c). Also the configuration's lifecycle and
 * cfg_load_files(), which reads files and directories.
 *
 * Every keyword is found in a table saying in which sections it is valid,
 * so "wrong section" and "unknown keyword" come out the same way for all.
 * Keywords we know but do not implement yet are in the tables too, with the
 * issue that will bring them: a config is never half-understood silently.
 */
#include <config.h>

#include "cfg_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ */
/* Messages */

void cfg_msgs_init(struct cfg_msgs *msgs)
{
	msgs->head = NULL;
	msgs->tail = &msgs->head;
	msgs->errors = 0;
	msgs->warnings = 0;
}

void cfg_msgs_free(struct cfg_msgs *msgs)
{
	struct cfg_msg *m = msgs->head;

	while (m) {
		struct cfg_msg *next = m->next;
		free(m->text);
		free(m);
		m = next;
	}
	cfg_msgs_init(msgs);
}

void cfg_msg_vadd(struct cfg_msgs *msgs, enum cfg_severity sev, const struct cfg_where *where,
                  const char *what, const char *fmt, va_list ap)
{
	char prefix[512] = "";
	struct cfg_msg *m;
	va_list ap2;
	int blen;
	size_t plen, wlen = what ? strlen(what) + 2 : 0;

	if (where && where->file)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", where->file, where->line);
	plen = strlen(prefix);
	va_copy(ap2, ap);
	blen = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (blen < 0)
		blen = 0;
	m = cfg_xcalloc(1, sizeof(*m));
	m->severity = sev;
	m->text = cfg_xcalloc(1, plen + wlen + (size_t)blen + 1);
	memcpy(m->text, prefix, plen);
	if (what) {
		memcpy(m->text + plen, what, wlen - 2);
		memcpy(m->text + plen + wlen - 2, ": ", 2);
	}
	vsnprintf(m->text + plen + wlen, (size_t)blen + 1, fmt, ap);
	*msgs->tail = m;
	msgs->tail = &m->next;
	if (sev == CFG_SEV_ERROR)
		msgs->errors++;
	else if (sev == CFG_SEV_WARNING)
		msgs->warnings++;
}

void cfg_msg_add(struct cfg_msgs *msgs, enum cfg_severity sev, const struct cfg_where *where,
                 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_msg_vadd(msgs, sev, where, NULL, fmt, ap);
	va_end(ap);
}

const char *cfg_sec_name(unsigned caps)
{
	if (caps & CFG_CAP_DEF)
		return "defaults";
	if ((caps & (CFG_CAP_FE | CFG_CAP_BE)) == (CFG_CAP_FE | CFG_CAP_BE))
		return "listen";
	return caps & CFG_CAP_FE ? "frontend" : "backend";
}

/* ------------------------------------------------------------------ */
/* Sections */

static void end_section(struct cfg_pstate *ps)
{
	cfg_userlist_end(ps);
	if (ps->cur && ps->cur_orphan)
		cfg_proxy_free(ps->cur);
	ps->cur = NULL;
	ps->cur_orphan = 0;
	ps->cur_hc_own = 0;
}

static void link_proxy(struct cfg_proxy **list, struct cfg_proxy *p)
{
	while (*list)
		list = &(*list)->next;
	*list = p;
}

/* Same name and a shared capability: HAProxy refuses it. */
static int check_duplicate(struct cfg_pstate *ps, const char *name, unsigned caps)
{
	struct cfg_proxy *other;

	if (caps & CFG_CAP_DEF) {
		other = cfg_find_defaults(ps->cfg, name);
		if (other)
			WARN(ps,
			     "defaults section '%s' has the same name as another one (%s:%d); "
			     "'from %s' now means this one",
			     name, other->where.file, other->where.line, name);
		return 0;
	}
	other = cfg_find_proxy(ps->cfg, name, caps);
	if (!other)
		return 0;
	ERR(ps, "%s '%s' has the same name as %s '%s' declared at %s:%d", cfg_sec_name(caps), name,
	    cfg_sec_name(other->caps), other->name, other->where.file, other->where.line);
	return -1;
}

/* `frontend|backend|listen <name> [from <defaults>]`, `defaults [<name>]
 * [from <defaults>]`. On a bad header the section is still parsed (into
 * an orphan proxy) so that its lines get checked too. */
static void begin_proxy(struct cfg_pstate *ps, unsigned caps, int argc, char **argv)
{
	struct cfg_proxy *p = cfg_proxy_new_builtin(), *from = ps->defaults;
	const char *name = NULL, *from_name = NULL;
	int bad = 0, i = 1;

	p->caps = caps;
	p->where = ps->where;
	ps->cur = p;
	if (i < argc && strcmp(argv[i], "from") != 0)
		name = argv[i++];
	if (i < argc && !strcmp(argv[i], "from")) {
		if (i + 1 >= argc) {
			ERR(ps, "'%s': 'from' expects a defaults section name", argv[0]);
			bad = 1;
		} else {
			from_name = argv[i + 1];
		}
		i += 2;
	}
	if (!bad && i < argc) {
		ERR(ps, "'%s': unexpected word '%s'", argv[0], argv[i]);
		bad = 1;
	}
	if (!name && !(caps & CFG_CAP_DEF)) {
		ERR(ps, "'%s' expects a name", argv[0]);
		bad = 1;
	} else if (name && !cfg_valid_name(name)) {
		ERR(ps, "%s name '%s' is invalid (letters, digits, '-', '_', '.', ':')", argv[0],
		    name);
		bad = 1;
	}
	if (from_name) {
		from = cfg_find_defaults(ps->cfg, from_name);
		if (!from) {
			ERR(ps, "'%s': defaults section '%s' not found", argv[0], from_name);
			bad = 1;
		}
	} else if (caps & CFG_CAP_DEF) {
		from = NULL; /* a new defaults section starts from scratch */
	}
	if (from)
		cfg_proxy_inherit(p, from);
	p->name = cfg_xstrdup(name ? name : "");
	if (!bad && name && check_duplicate(ps, name, caps) < 0)
		bad = 1;
	if (bad) {
		ps->cur_orphan = 1;
		return;
	}
	if (caps & CFG_CAP_DEF) {
		link_proxy(&ps->cfg->defaults, p);
		ps->defaults = p;
	} else {
		link_proxy(&ps->cfg->proxies, p);
	}
}

static int sec_global(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	c->ps->sec = CFG_SEC_GLOBAL;
	if (argc > 1)
		ERR(c->ps, "'global' takes no name, got '%s'", argv[1]);
	return 0;
}

/* The row's bits are the caps of the proxy the header opens. */
static int sec_proxy(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	c->ps->sec = CFG_SEC_PROXY;
	begin_proxy(c->ps, k->bits, argc, argv);
	return 0;
}

/* Section headers. Their handlers check their words themselves: a header
 * with an error still opens its section, so that its lines get checked. The
 * sections HAProxy has and ppbridge does not are refused, and their lines
 * skipped up to the next section. */
#define NO_SECTION "sections are not supported"

const struct cfg_kw cfg_section_kws[] = {
    CFG_KW_FN("global", 0, 0, 0, sec_global, NULL),
    CFG_KW_FN_BITS("defaults", 0, 3, 0, sec_proxy, NULL, CFG_CAP_DEF),
    CFG_KW_FN_BITS("frontend", 1, 3, 0, sec_proxy, NULL, CFG_CAP_FE),
    CFG_KW_FN_BITS("backend", 1, 3, 0, sec_proxy, NULL, CFG_CAP_BE),
    CFG_KW_FN_BITS("listen", 1, 3, 0, sec_proxy, NULL, CFG_CAP_FE | CFG_CAP_BE),
    CFG_KW_REFUSE("resolvers", 0, NO_SECTION),
    CFG_KW_REFUSE("peers", 0, NO_SECTION),
    CFG_KW_FN("userlist", 0, 1, 0, cfg_sec_userlist, NULL),
    CFG_KW_REFUSE("program", 0, NO_SECTION),
    CFG_KW_REFUSE("cache", 0, NO_SECTION),
    CFG_KW_REFUSE("http-errors", 0, NO_SECTION),
    CFG_KW_REFUSE("ring", 0, NO_SECTION),
    CFG_KW_REFUSE("mailers", 0, NO_SECTION),
    CFG_KW_REFUSE("dynamic-update", 0, NO_SECTION),
    CFG_KW_REFUSE("fcgi-app", 0, NO_SECTION),
    CFG_KW_REFUSE("crt-store", 0, NO_SECTION),
    CFG_KW_REFUSE("traces", 0, NO_SECTION),
    CFG_KW_END,
};

/* Returns 1 when the line is a section header. */
static int parse_section(struct cfg_pstate *ps, int argc, char **argv)
{
	const struct cfg_kw *k = cfg_kw_find(cfg_section_kws, argv[0]);
	struct cfg_ctx c = {.ps = ps, .name = argv[0]};

	if (!k)
		return 0;
	end_section(ps);
	ps->sec = CFG_SEC_SKIP; /* until the header's handler opens the section */
	if (cfg_kw_admit(&c, k, 0) == 0)
		k->fn(&c, k, argc, argv);
	return 1;
}

static void parse_words(struct cfg_pstate *ps, int argc, char **argv)
{
	if (parse_section(ps, argc, argv))
		return;
	switch (ps->sec) {
	case CFG_SEC_NONE:
		ERR(ps,
		    "'%s' found before any section (global, defaults, frontend, backend, "
		    "listen, userlist)",
		    argv[0]);
		break;
	case CFG_SEC_GLOBAL:
		cfg_global_line(ps, argc, argv);
		break;
	case CFG_SEC_PROXY:
		cfg_proxy_line(ps, argc, argv);
		break;
	case CFG_SEC_USERLIST:
		cfg_userlist_line(ps, argc, argv);
		break;
	case CFG_SEC_SKIP:
		break;
	}
}

static const char *remember_file(struct cfg *cfg, const char *file)
{
	char **files;

	for (int i = 0; i < cfg->nfiles; i++)
		if (!strcmp(cfg->files[i], file))
			return cfg->files[i];
	files = realloc(cfg->files, sizeof(*files) * (size_t)(cfg->nfiles + 1));
	if (!files)
		abort();
	cfg->files = files;
	files[cfg->nfiles] = cfg_xstrdup(file);
	return files[cfg->nfiles++];
}

int cfg_parse_text(struct cfg *cfg, const char *file, const char *text, size_t len,
                   struct cfg_msgs *msgs)
{
	struct cfg_pstate ps = {.cfg = cfg, .msgs = msgs};
	struct cfg_words words;
	int errors = msgs->errors;
	size_t pos = 0;

	memset(&words, 0, sizeof(words));
	ps.where.file = remember_file(cfg, file ? file : "(config)");
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		const char *err = NULL;

		pos += n + (nl ? 1 : 0);
		ps.where.line++;
		if (n > 0 && line[n - 1] == '\r')
			n--; /* CRLF */
		if (cfg_tokenize(line, n, &words, &err) < 0) {
			ERR(&ps, "%s", err);
			continue;
		}
		if (words.n > 0)
			parse_words(&ps, words.n, words.w);
	}
	end_section(&ps);
	cfg_words_free(&words);
	return msgs->errors > errors ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Lifecycle */

struct cfg *cfg_new(void)
{
	return cfg_xcalloc(1, sizeof(struct cfg));
}

static void proxy_free_list(struct cfg_proxy *p)
{
	while (p) {
		struct cfg_proxy *next = p->next;
		cfg_proxy_free(p);
		p = next;
	}
}

void cfg_free(struct cfg *cfg)
{
	if (!cfg)
		return;
	free(cfg->global.pidfile);
	cfg_log_free_list(cfg->global.logs);
	free(cfg->global.ssl_default_bind_ciphers);
	free(cfg->global.ssl_default_bind_ciphersuites);
	free(cfg->global.ssl_default_server_ciphers);
	free(cfg->global.ssl_default_server_ciphersuites);
	free(cfg->global.ca_base);
	free(cfg->global.crt_base);
	free(cfg->global.stats_socket);
	free(cfg->global.user);
	free(cfg->global.client_ip_state);
	free(cfg->global.server_state_file);
	free(cfg->global.server_state_base);
	free(cfg->global.group);
	free(cfg->global.stats_user);
	free(cfg->global.stats_group);
	proxy_free_list(cfg->proxies);
	proxy_free_list(cfg->defaults);
	cfg_userlist_free(cfg->userlists);
	for (int i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg);
}

static char *read_file(const char *path, size_t *len, struct cfg_msgs *msgs)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		cfg_msg_add(msgs, CFG_SEV_ERROR, NULL, "%s: cannot open: %s", path,
		            strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			char *p = realloc(buf, cap);
			if (!p)
				abort();
			buf = p;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		cfg_msg_add(msgs, CFG_SEV_ERROR, NULL, "%s: cannot read: %s", path,
		            strerror(errno ? errno : EIO));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

static void load_one(struct cfg *cfg, const char *path, struct cfg_msgs *msgs)
{
	size_t len = 0;
	char *text = read_file(path, &len, msgs);

	if (!text)
		return;
	cfg_parse_text(cfg, path, text, len, msgs);
	free(text);
}

static int is_cfg_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 && strcmp(d->d_name + n - 4, ".cfg") == 0;
}

/* As HAProxy: a directory given to -f contributes its *.cfg files in
 * alphabetical order. */
static void load_dir(struct cfg *cfg, const char *dir, struct cfg_msgs *msgs)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, is_cfg_name, alphasort);

	if (n < 0) {
		cfg_msg_add(msgs, CFG_SEV_ERROR, NULL, "cannot read directory '%s': %s", dir,
		            strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
		char *path = cfg_xcalloc(1, len);
		snprintf(path, len, "%s/%s", dir, names[i]->d_name);
		load_one(cfg, path, msgs);
		free(path);
		free(names[i]);
	}
	free(names);
}

int cfg_load_files(struct cfg *cfg, char *const *paths, int npaths, struct cfg_msgs *msgs)
{
	int errors = msgs->errors;

	for (int i = 0; i < npaths; i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
			load_dir(cfg, paths[i], msgs);
		else
			load_one(cfg, paths[i], msgs);
	}
	/* Cross-checks run even after parse errors, so that `-c` reports
	 * everything; DNS only for a configuration that could be used. */
	cfg_finish(cfg, msgs);
	if (msgs->errors == errors)
		cfg_resolve(cfg, msgs);
	return msgs->errors > errors ? -1 : 0;
}
