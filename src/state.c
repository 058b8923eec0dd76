/* state.c - runtime state carried across reloads and kept across restarts. */
#include <config.h>

#include "state.h"

#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "log.h"
#include "net.h"
#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- lookups ---- */

static struct fe *find_fe(const struct gen *gen, const char *name)
{
	for (int i = 0; i < gen->nfe; i++)
		if (strcmp(gen->fes[i].conf->name, name) == 0)
			return &gen->fes[i];
	return NULL;
}

static struct be *find_be(const struct gen *gen, const char *name)
{
	for (int i = 0; i < gen->nbe; i++)
		if (strcmp(gen->bes[i].conf->name, name) == 0)
			return &gen->bes[i];
	return NULL;
}

static struct srv *find_srv(const struct be *be, const char *name)
{
	for (int i = 0; i < be->nsrv; i++)
		if (strcmp(be->srvs[i].conf->name, name) == 0)
			return &be->srvs[i];
	return NULL;
}

/* ---- one server's previous state, from memory or from the file ---- */

struct srv_prev {
	int up;
	int maint;
	int conf_disabled; /* the configuration's `disabled` when it was kept */
	int drain;
	int weight;
	int conf_weight;   /* the configuration's weight when it was kept */
	int pp_mode;       /* enum srv_pp_mode, or SF_PP_ABSENT */
};

/* HAProxy's rules (server_state.c): a setting the configuration changed
 * takes the configuration's value; any other keeps its runtime value. */
static void srv_apply_prev(struct srv *now, const struct srv_prev *p)
{
	const struct cfg_server *c = now->conf;

	if (c->check) { /* a server without checks is always UP */
		int top = now->health.rise + now->health.fall - 1;
		atomic_store(&now->up, p->up);
		now->health.up = p->up;
		now->health.health = p->up ? top : 0;
	}
	if (p->conf_disabled == c->disabled)
		atomic_store(&now->maint, p->maint);
	atomic_store(&now->drain, p->drain && !atomic_load(&now->maint));
	if (p->conf_weight == c->weight)
		atomic_store(&now->weight, p->weight);
	if (p->pp_mode != SF_PP_ABSENT)
		atomic_store(&now->pp_mode, p->pp_mode);
}

/* ---- reload: in memory ---- */

static void carry_server(const struct srv *old, struct srv *now)
{
	struct srv_prev p = {
	    .up = atomic_load(&old->up),
	    .maint = atomic_load(&old->maint),
	    .conf_disabled = old->conf->disabled,
	    .drain = atomic_load(&old->drain),
	    .weight = atomic_load(&old->weight),
	    .conf_weight = old->conf->weight,
	    .pp_mode = atomic_load(&old->pp_mode),
	};

	/* A server that moved is a new server: nothing it was told applies. */
	if (!net_addr_equal((const struct sockaddr *)&old->conf->addr.ss,
			    (const struct sockaddr *)&now->conf->addr.ss))
		return;
	if (!old->conf->check) /* its UP said nothing about the server */
		p.up = 1;
	srv_apply_prev(now, &p);
	atomic_store(&now->last_change, atomic_load(&old->last_change));
}

static void carry_client_ip(const struct fe *old, struct gen *gen, struct fe *now)
{
	int st = atomic_load(&old->client_ip);
	int was_conf = gen_config_client_ip(old->conf);
	int conf = gen_config_client_ip(now->conf);

	if (old->cip_from == FE_CIP_CONFIG)
		return;
	if (was_conf != conf) {
		log_msg(LOG_NOTICE,
			"frontend %s: the configuration now says client-ip %s; the runtime choice "
			"%s is dropped (the configuration wins)",
			now->conf->name, cfg_client_ip_name(conf), cfg_client_ip_name(st));
		return;
	}
	if (!gen_client_ip_allowed(now, st)) {
		log_msg(LOG_WARNING,
			"frontend %s: the runtime choice client-ip %s does not fit the new "
			"configuration (mode); client-ip %s from the configuration",
			now->conf->name, cfg_client_ip_name(st), cfg_client_ip_name(conf));
		return;
	}
	gen_set_client_ip(gen, now, st);
	now->cip_from = old->cip_from;
	log_msg(LOG_NOTICE, "frontend %s: client-ip %s (runtime choice kept across the reload)",
		now->conf->name, cfg_client_ip_name(st));
}

void state_carry(const struct gen *old, struct gen *now)
{
	for (int b = 0; b < now->nbe; b++) {
		struct be *nb = &now->bes[b];
		const struct be *ob = find_be(old, nb->conf->name);
		for (int i = 0; ob && i < nb->nsrv; i++) {
			const struct srv *os = find_srv(ob, nb->srvs[i].conf->name);
			if (os)
				carry_server(os, &nb->srvs[i]);
		}
	}
	for (int f = 0; f < now->nfe; f++) {
		const struct fe *of = find_fe(old, now->fes[f].conf->name);
		if (of)
			carry_client_ip(of, now, &now->fes[f]);
	}
}

/* ---- writing ---- */

struct strbuf {
	char *data;
	size_t len, cap;
	int oom;
};

static void sb_add(void *arg, const char *text)
{
	struct strbuf *sb = arg;
	size_t n = strlen(text);

	if (sb->oom)
		return;
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = (sb->len + n + 1) * 2;
		char *d = realloc(sb->data, cap);
		if (!d) {
			sb->oom = 1;
			return;
		}
		sb->data = d;
		sb->cap = cap;
	}
	memcpy(sb->data + sb->len, text, n + 1);
	sb->len += n;
}

static void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	char line[SF_LINE_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sb_add(sb, line);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The directory entry of the rename must reach the disk too. */
static int fsync_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int state_write_file(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	char tmp[4096];
	const char *step = "open";
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	step = "write";
	if (write_all(fd, data, len) < 0)
		goto fail_fd;
	step = "fsync";
	if (fsync(fd) < 0)
		goto fail_fd;
	step = "close";
	if (close(fd) < 0) {
		fd = -1;
		goto fail_fd;
	}
	step = "rename";
	if (rename(tmp, path) < 0)
		goto fail_tmp;
	step = "fsync of the directory";
	if (fsync_dir_of(path) < 0)
		goto fail;
	return 0;
fail_fd:
	if (fd >= 0)
		close(fd);
fail_tmp:
	snprintf(err, errlen, "%s %s: %s", step, step[0] == 'r' ? path : tmp, strerror(errno));
	unlink(tmp);
	return -1;
fail:
	snprintf(err, errlen, "%s %s: %s", step, tmp, strerror(errno));
	return -1;
}

/* A file that cannot be written is logged once until it can be again:
 * a broken state directory must not flood the log at every check. */
static void save_file(const char *what, const char *path, struct strbuf *sb, int *failing)
{
	char err[512];

	if (sb->oom) {
		log_msg(LOG_ERR, "%s %s: out of memory, not written", what, path);
		return;
	}
	if (state_write_file(path, sb->data ? sb->data : "", sb->len, err, sizeof(err)) < 0) {
		if (!*failing)
			log_msg(LOG_WARNING, "%s: cannot write %s (%s); runtime state is kept in "
				"memory and will not survive a restart", what, path, err);
		*failing = 1;
		return;
	}
	if (*failing)
		log_msg(LOG_NOTICE, "%s: %s written again", what, path);
	*failing = 0;
}

void state_save_client_ip(const struct gen *gen)
{
	static int failing;
	const char *path = gen->cfg->global.client_ip_state;
	struct strbuf sb = {0};

	if (!path)
		return;
	sb_add(&sb, "# ppbridge runtime client-IP strategies: frontend runtime configured\n");
	for (int i = 0; i < gen->nfe; i++) {
		const struct fe *fe = &gen->fes[i];
		int now = atomic_load(&fe->client_ip);
		int conf = gen_config_client_ip(fe->conf);
		if (fe->cip_from != FE_CIP_CONFIG && now != conf)
			sb_printf(&sb, "%s %s %s\n", fe->conf->name, cfg_client_ip_name(now),
				  cfg_client_ip_name(conf));
	}
	save_file("client-ip-state", path, &sb, &failing);
	free(sb.data);
}

static int proxy_id(const struct gen *gen, const struct cfg_proxy *px)
{
	int id = 1;

	for (const struct cfg_proxy *p = gen->cfg->proxies; p && p != px; p = p->next)
		id++;
	return id;
}

static void server_line(const struct gen *gen, const struct srv *s, char *line, size_t len)
{
	const struct cfg_server *c = s->conf;
	int up = atomic_load(&s->up);
	/* CMAINT records what the configuration said, FMAINT what is in
	 * force: a later start compares the first with its own config. */
	int admin = (atomic_load(&s->maint) ? SF_ADMIN_FMAINT : 0) |
		    (c->disabled ? SF_ADMIN_CMAINT : 0) |
		    (atomic_load(&s->drain) ? SF_ADMIN_FDRAIN : 0);
	int chk_status = !c->check ? 1 : up ? 6 : 8; /* INI, L4OK, L4CON */
	int chk_result = !c->check ? 0 : up ? 3 : 2; /* UNKNOWN, PASSED, FAILED */
	char ip[64] = "-";
	struct sockaddr_storage tmp;
	socklen_t tmplen;

	if (c->addr.len)
		net_format_ip((const struct sockaddr *)&c->addr.ss, ip, sizeof(ip));
	snprintf(line, len, "%d %s %d %s %s %d %d %d %d %d %d %d %d %d 0 0 0 %s %u - %d %u %s - 0 %s\n",
		 proxy_id(gen, s->be->conf), s->be->conf->name, c->id, c->name, ip,
		 up ? SF_OP_RUNNING : SF_OP_STOPPED, admin, srv_weight(s), c->weight, 0, chk_status,
		 chk_result, s->health.health, c->check ? 6 : 0,
		 net_parse_ip(c->host, &tmp, &tmplen) == 0 ? "-" : c->host, c->port, c->ssl,
		 c->check_port, c->check_addr ? c->check_addr : "-",
		 srv_pp_mode_name(srv_pp_mode(s)));
}

void state_servers_dump(const struct gen *gen, const char *backend,
			void (*emit)(void *arg, const char *line), void *arg)
{
	char line[SF_LINE_MAX + 64];

	emit(arg, "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state "
		  "srv_admin_state srv_uweight srv_iweight srv_time_since_last_change "
		  "srv_check_status srv_check_result srv_check_health srv_check_state "
		  "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord "
		  "srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port "
		  "ppb_pp_mode\n");
	for (int b = 0; b < gen->nbe; b++) {
		const struct be *be = &gen->bes[b];
		if (backend && strcmp(backend, be->conf->name) != 0)
			continue;
		for (int i = 0; i < be->nsrv; i++) {
			server_line(gen, &be->srvs[i], line, sizeof(line));
			emit(arg, line);
		}
	}
}

static unsigned changes_of(const struct gen *gen)
{
	unsigned sum = 0;

	for (int b = 0; b < gen->nbe; b++)
		sum += atomic_load_explicit(&gen->bes[b].state_changes, memory_order_relaxed);
	return sum;
}

static struct {
	const struct gen *gen; /* the generation last written */
	unsigned changes;      /* its change count then */
} saved;

void state_save_servers(const struct gen *gen)
{
	static int failing;
	const char *path = gen->cfg->global.server_state_file;
	struct strbuf sb = {0};

	saved.gen = gen;
	saved.changes = changes_of(gen);
	if (!path)
		return;
	state_servers_dump(gen, NULL, sb_add, &sb);
	save_file("server-state-file", path, &sb, &failing);
	free(sb.data);
}

void state_tick(const struct gen *gen)
{
	if (gen != saved.gen || changes_of(gen) != saved.changes)
		state_save_servers(gen);
}

/* ---- start-up: reading the files ---- */

/* One line of a file into `buf`; returns 1 with a whole line, 0 at the
 * end, -1 for a line cut short by the end of the file (a truncated
 * write) and -2 for a line longer than `len` (consumed and skipped). */
static int read_line(FILE *f, char *buf, size_t len)
{
	size_t n;
	int c;

	if (!fgets(buf, (int)len, f))
		return 0;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		return 1;
	if (feof(f))
		return -1;
	while ((c = fgetc(f)) != EOF && c != '\n')
		;
	return -2;
}

static FILE *open_state(const char *what, const char *path)
{
	FILE *f = fopen(path, "r");
	struct stat st;

	if (!f && errno == ENOENT) {
		log_msg(LOG_NOTICE, "%s %s: not there yet, nothing to restore", what, path);
		return NULL;
	}
	if (f && fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
		fclose(f);
		f = NULL;
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	}
	if (!f)
		log_msg(LOG_WARNING, "%s %s: cannot read it (%s); starting from the configuration",
			what, path, strerror(errno));
	return f;
}

/* A line that read_line() refused, reported; returns 1 when it was one. */
static int bad_read(int rc, const char *what, const char *path, int lineno)
{
	if (rc == -1)
		log_msg(LOG_WARNING, "%s %s:%d: truncated line ignored", what, path, lineno);
	else if (rc == -2)
		log_msg(LOG_WARNING, "%s %s:%d: line too long, ignored", what, path, lineno);
	return rc < 0;
}

static void load_client_ip_line(struct gen *gen, const struct sf_client_ip *r, const char *path,
				int lineno)
{
	struct fe *fe = find_fe(gen, r->frontend);
	int conf;

	if (!fe) {
		log_msg(LOG_WARNING, "client-ip-state %s:%d: no frontend '%s' in the configuration, "
			"ignored", path, lineno, r->frontend);
		return;
	}
	conf = gen_config_client_ip(fe->conf);
	if (conf != r->configured) {
		log_msg(LOG_NOTICE,
			"frontend %s: the configuration now says client-ip %s; the runtime choice "
			"%s is dropped (the configuration wins)",
			fe->conf->name, cfg_client_ip_name(conf), cfg_client_ip_name(r->runtime));
		return;
	}
	if (!gen_client_ip_allowed(fe, r->runtime)) {
		log_msg(LOG_WARNING, "client-ip-state %s:%d: frontend %s cannot take client-ip %s "
			"(mode), ignored", path, lineno, fe->conf->name, cfg_client_ip_name(r->runtime));
		return;
	}
	gen_set_client_ip(gen, fe, r->runtime);
	fe->cip_from = FE_CIP_STATE_FILE;
	log_msg(LOG_NOTICE, "frontend %s: client-ip %s (runtime choice kept in %s)", fe->conf->name,
		cfg_client_ip_name(r->runtime), path);
}

static void load_client_ip(struct gen *gen)
{
	const char *path = gen->cfg->global.client_ip_state;
	char line[SF_LINE_MAX + 2];
	FILE *f;
	int rc;

	if (!path || !(f = open_state("client-ip-state", path)))
		return;
	for (int lineno = 1; (rc = read_line(f, line, sizeof(line))) != 0; lineno++) {
		struct sf_client_ip r;
		const char *why = NULL;
		if (bad_read(rc, "client-ip-state", path, lineno))
			continue;
		switch (sf_parse_client_ip(line, cfg_client_ip_parse, &r, &why)) {
		case SF_OK:
			load_client_ip_line(gen, &r, path, lineno);
			break;
		case SF_ERROR:
			log_msg(LOG_WARNING, "client-ip-state %s:%d: %s, ignored", path, lineno, why);
			break;
		case SF_SKIP:
			break;
		}
	}
	if (ferror(f))
		log_msg(LOG_WARNING, "client-ip-state %s: read error: %s", path, strerror(errno));
	fclose(f);
}

/* The address a line names must be the server's own (HAProxy would move
 * the server to it - an old file then sends traffic to a retired address). */
static int same_address(const struct srv *s, const struct sf_server *r)
{
	char ip[64] = "-";

	if (s->conf->addr.len)
		net_format_ip((const struct sockaddr *)&s->conf->addr.ss, ip, sizeof(ip));
	return strcmp(ip, r->addr) == 0 && (unsigned)r->port == s->conf->port;
}

static void load_server_line(struct gen *gen, const struct sf_server *r, const char *path,
			     int lineno)
{
	const struct be *be = find_be(gen, r->backend);
	struct srv *s = be ? find_srv(be, r->server) : NULL;
	struct srv_prev p;

	if (!be || !s) {
		log_msg(LOG_WARNING, "server-state-file %s:%d: no %s '%s%s%s' in the configuration, "
			"ignored", path, lineno, be ? "server" : "backend", r->backend,
			be ? "/" : "", be ? r->server : "");
		return;
	}
	if (be->conf->srv_state_load != CFG_SRV_STATE_GLOBAL)
		return; /* load-server-state-from-file none (or not written) */
	if (!same_address(s, r)) {
		log_msg(LOG_WARNING, "server-state-file %s:%d: server %s/%s: the configuration "
			"moved it to another address; its kept state is ignored", path, lineno,
			r->backend, r->server);
		return;
	}
	p.up = r->op_state == SF_OP_RUNNING || r->op_state == SF_OP_STOPPING;
	p.maint = (r->admin & SF_ADMIN_FMAINT) != 0;
	p.conf_disabled = (r->admin & SF_ADMIN_CMAINT) != 0;
	p.drain = (r->admin & SF_ADMIN_FDRAIN) != 0;
	p.weight = r->uweight;
	p.conf_weight = r->iweight;
	p.pp_mode = r->pp_mode;
	if (!s->conf->check)
		p.up = 1;
	srv_apply_prev(s, &p);
	log_msg(LOG_INFO, "server %s/%s: state restored from %s (%s%s%s, weight %d)",
		r->backend, r->server, path, atomic_load(&s->up) ? "UP" : "DOWN",
		atomic_load(&s->maint) ? ", maintenance" : "",
		atomic_load(&s->drain) ? ", drain" : "", srv_weight(s));
}

static int wants_server_state(const struct gen *gen)
{
	for (int b = 0; b < gen->nbe; b++)
		if (gen->bes[b].conf->srv_state_load == CFG_SRV_STATE_GLOBAL)
			return 1;
	return 0;
}

static void load_server_text(struct gen *gen, const char *line, const char *path, int lineno)
{
	struct sf_server r;
	const char *why = NULL;

	switch (sf_parse_server(line, &r, &why)) {
	case SF_OK:
		load_server_line(gen, &r, path, lineno);
		break;
	case SF_ERROR:
		log_msg(LOG_WARNING, "server-state-file %s:%d: %s, ignored", path, lineno, why);
		break;
	case SF_SKIP:
		break;
	}
}

static void load_servers(struct gen *gen)
{
	const char *path = gen->cfg->global.server_state_file;
	char line[SF_LINE_MAX + 2];
	FILE *f;
	int rc;

	if (!path || !wants_server_state(gen) || !(f = open_state("server-state-file", path)))
		return;
	rc = read_line(f, line, sizeof(line));
	if (rc == 0)
		log_msg(LOG_NOTICE, "server-state-file %s: empty, nothing to restore", path);
	else if (rc < 0 || !sf_server_version_ok(line))
		log_msg(LOG_WARNING, "server-state-file %s:1: not a version 1 server state file, "
			"ignored", path);
	else
		for (int lineno = 2; (rc = read_line(f, line, sizeof(line))) != 0; lineno++)
			if (!bad_read(rc, "server-state-file", path, lineno))
				load_server_text(gen, line, path, lineno);
	fclose(f);
}

void state_load(struct gen *gen)
{
	load_servers(gen);
	load_client_ip(gen);
}
