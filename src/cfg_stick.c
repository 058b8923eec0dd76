/* cfg_stick.c - per-source limits in HAProxy's syntax: `stick-table` and
 * the `track-sc<N>` action the rules share, and their checks once every
 * section is read (a table named by a rule or a fetch must exist).
 *
 * The subset: keys are addresses (type ip|ipv6), the data are the
 * counters and rates that limit clients (stktable.h). What HAProxy has
 * beyond it (peers, gpc/gpt, other key types) is refused with the line,
 * never half-understood.
 */
#include <config.h>

#include "cfg_int.h"

#include "acl.h"
#include "smp.h"
#include "stktable.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `size`: a count with HAProxy's k/m/g suffixes (x1024). */
static int parse_size(const char *text, unsigned *out)
{
	unsigned long long v = 0;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (unsigned)(*p - '0')) > UINT_MAX)
			return -1;
	if (*p == 'k' || *p == 'K')
		v <<= 10, p++;
	else if (*p == 'm' || *p == 'M')
		v <<= 20, p++;
	else if (*p == 'g' || *p == 'G')
		v <<= 30, p++;
	if (*p || v == 0 || v > (1u << 26)) /* 64 Mi entries is far beyond one host's clients */
		return -1;
	*out = (unsigned)v;
	return 0;
}

static const char store_list[] =
    "conn_cnt, conn_cur, conn_rate(<period>), sess_cnt, sess_rate(<period>), http_req_cnt, "
    "http_req_rate(<period>), http_err_cnt, http_err_rate(<period>), bytes_in_cnt, "
    "bytes_in_rate(<period>)";

/* One element of `store`: `conn_cur` or `http_req_rate(10s)`. */
static int store_one(struct cfg_pstate *ps, struct cfg_stick_table *st, const char *el, size_t len)
{
	size_t nlen = strcspn(el, "(");
	int d;
	char period[32];
	const char *err;

	if (nlen > len)
		nlen = len;
	d = stk_data_find(el, nlen);
	if (d < 0) {
		ERR(ps, "'stick-table store %.*s': not supported (supported: %s)", (int)len, el,
		    store_list);
		return -1;
	}
	if (!stk_data_kw(d)->is_rate) {
		if (nlen != len) {
			ERR(ps, "'stick-table store %.*s': '%s' takes no period", (int)len, el,
			    stk_data_kw(d)->name);
			return -1;
		}
	} else {
		if (nlen == len || el[len - 1] != ')' || len - nlen - 2 >= sizeof(period) ||
		    len - nlen - 2 == 0) {
			ERR(ps, "'stick-table store %.*s': '%s' expects a period: %s(<period>)",
			    (int)len, el, stk_data_kw(d)->name, stk_data_kw(d)->name);
			return -1;
		}
		memcpy(period, el + nlen + 1, len - nlen - 2);
		period[len - nlen - 2] = '\0';
		if (cfg_parse_time(period, &st->period_ms[d], &err) < 0 || st->period_ms[d] == 0 ||
		    st->period_ms[d] > 24u * 3600 * 1000) {
			ERR(ps, "'stick-table store %.*s': the period %s", (int)len, el,
			    st->period_ms[d] == 0 ? "must be above 0" : "is not a time up to 1d");
			return -1;
		}
	}
	st->store |= 1u << d;
	return 0;
}

static int store_list_parse(struct cfg_pstate *ps, struct cfg_stick_table *st, const char *text)
{
	while (*text) {
		size_t len = 0;
		int depth = 0;
		for (; text[len] && (depth || text[len] != ','); len++)
			depth += text[len] == '(' ? 1 : text[len] == ')' ? -1 : 0;
		if (len == 0 || store_one(ps, st, text, len) < 0) {
			if (len == 0)
				ERR(ps, "'stick-table store': empty element in '%s'", text);
			return -1;
		}
		text += len + (text[len] == ',');
	}
	return 0;
}

static const char *const table_types[] = {"ip", "ipv6"};

/* `stick-table type ip|ipv6 size <n> [expire <time>] [store <list>]...` */
int cfg_kw_stick_table(struct cfg_ctx *c, const struct cfg_kw *k, int argc, char **argv)
{
	struct cfg_pstate *ps = c->ps;
	struct cfg_stick_table st = {.declared = 1, .where = ps->where, .type = -1};
	const char *err;

	if (ps->cur->stick.declared) {
		ERR(ps, "a second 'stick-table' in %s '%s' (one per proxy, as HAProxy)",
		    cfg_sec_name(ps->cur->caps), ps->cur->name);
		return -1;
	}
	unsigned seen = 0; /* type, size, expire: once each (store may repeat, as HAProxy) */

	for (int i = 1; i < argc; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned bit = !strcmp(kw, "type") ? 1u : !strcmp(kw, "size") ? 2u
		               : !strcmp(kw, "expire")                    ? 4u
		                                                          : 0u;
		if (bit & seen) {
			ERR(ps, "'stick-table %s' written twice", kw);
			return -1;
		}
		seen |= bit;
		if (!strcmp(kw, "nopurge") || !strcmp(kw, "peers") || !strcmp(kw, "srvkey") ||
		    !strcmp(kw, "write-to") || !strcmp(kw, "recv-only")) {
			ERR(ps, "'stick-table %s' is not supported (ppbridge keeps its tables per "
			        "host and shares nothing: see the runbook on several hosts)",
			    kw);
			return -1;
		}
		if (!val) {
			ERR(ps, "'stick-table %s' expects a value", kw);
			return -1;
		}
		if (!strcmp(kw, "type")) {
			st.type = cfg_name_index(table_types, 2, val);
			if (st.type < 0) {
				ERR(ps, "'stick-table type %s' is not supported (ip or ipv6: ppbridge "
				        "limits clients by address)",
				    val);
				return -1;
			}
		} else if (!strcmp(kw, "size")) {
			if (parse_size(val, &st.size) < 0) {
				ERR(ps, "'stick-table size %s': expects a count from 1 to 64m (k, m "
				        "and g multiply by 1024)",
				    val);
				return -1;
			}
		} else if (!strcmp(kw, "expire")) {
			if (cfg_parse_time(val, &st.expire_ms, &err) < 0 || st.expire_ms > INT_MAX) {
				ERR(ps, "'stick-table expire %s': %s", val, err ? err : "too long");
				return -1;
			}
		} else if (!strcmp(kw, "store")) {
			if (store_list_parse(ps, &st, val) < 0)
				return -1;
		} else {
			ERR(ps, "'stick-table %s': unknown argument (type, size, expire, store)", kw);
			return -1;
		}
	}
	if (st.type < 0 || !st.size) {
		ERR(ps, "'stick-table' expects 'type ip|ipv6' and 'size <n>'");
		return -1;
	}
	ps->cur->stick = st;
	return 0;
}

/* `track-sc<N> <key> [table <name>]` at argv[*next]; moves *next past it. */
int cfg_track_parse(struct cfg_pstate *ps, const char *what, int argc, char **argv, int *next,
                    struct cfg_track *t)
{
	const char *kw = argv[*next];
	char err[512];

	if (strncmp(kw, "track-sc", 8) != 0 || kw[8] < '0' || kw[8] > '2' || kw[9]) {
		ERR(ps, "%s: '%s': stick counters are track-sc0, track-sc1 and track-sc2", what, kw);
		return -1;
	}
	t->sc = kw[8] - '0';
	if (*next + 1 >= argc) {
		ERR(ps, "%s: '%s' expects a key (src, or src,ipmask(<mask4>[,<mask6>]))", what, kw);
		return -1;
	}
	t->key = smp_expr_parse(argv[*next + 1], SMP_IN_COND, err, sizeof(err));
	if (!t->key) {
		ERR(ps, "%s: '%s %s': %s", what, kw, argv[*next + 1], err);
		return -1;
	}
	if (smp_expr_type(t->key) != SMP_T_IP ||
	    (smp_expr_uses(t->key) & ~(1u << SMP_USE_SRC))) {
		ERR(ps, "%s: '%s %s': ppbridge's tables are keyed by the client's address (src, "
		        "or src,ipmask(...))",
		    what, kw, argv[*next + 1]);
		return -1;
	}
	*next += 2;
	if (*next < argc && !strcmp(argv[*next], "table")) {
		if (*next + 1 >= argc) {
			ERR(ps, "%s: 'table' expects a proxy name", what);
			return -1;
		}
		t->table = cfg_xstrdup(argv[*next + 1]);
		*next += 2;
	}
	return 0;
}

void cfg_track_free(struct cfg_track *t)
{
	smp_expr_free(t->key);
	free(t->table);
	memset(t, 0, sizeof(*t));
}

/* ---- after the last section ---- */

static const struct cfg_proxy *table_proxy(const struct cfg *cfg, const char *name)
{
	for (const struct cfg_proxy *p = cfg->proxies; p; p = p->next)
		if (!(p->caps & CFG_CAP_DEF) && p->name && !strcmp(p->name, name))
			return p;
	return NULL;
}

/* A track rule's table: named, or the proxy's own; it must have one. */
static void resolve_track(const struct cfg *cfg, const struct cfg_proxy *p, struct cfg_track *t,
                          const struct cfg_where *where, struct cfg_msgs *msgs)
{
	const struct cfg_proxy *px = t->table ? table_proxy(cfg, t->table) : p;

	if (!px) {
		cfg_msg_add(msgs, CFG_SEV_ERROR, where, "track-sc%d: no proxy '%s' (table)", t->sc,
		            t->table);
		return;
	}
	if (!px->stick.declared) {
		cfg_msg_add(msgs, CFG_SEV_ERROR, where,
		            "track-sc%d: %s '%s' has no stick-table%s", t->sc,
		            cfg_sec_name(px->caps), px->name,
		            t->table ? "" : " (add one, or name another with 'table <name>')");
		return;
	}
	t->px = px;
}

struct table_check {
	const struct cfg *cfg;
	struct cfg_msgs *msgs;
	const struct cfg_where *where;
};

static int check_table_name(void *arg, const char *name)
{
	struct table_check *c = arg;
	const struct cfg_proxy *px = table_proxy(c->cfg, name);

	if (!px || !px->stick.declared)
		cfg_msg_add(c->msgs, CFG_SEV_ERROR, c->where, "stick table '%s': %s", name,
		            px ? "that proxy has no stick-table" : "no such proxy");
	return 0;
}

static void check_cond_tables(const struct cfg *cfg, const struct acl_cond *cond,
                              const struct cfg_where *where, struct cfg_msgs *msgs)
{
	struct table_check c = {cfg, msgs, where};

	if (cond)
		acl_cond_tables(cond, check_table_name, &c);
}

void cfg_stick_finish(struct cfg *cfg, struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	struct table_check c = {cfg, msgs, &p->where};

	acl_list_tables(p->acls, check_table_name, &c);
	for (struct cfg_tcp_rule *r = p->tcp_conn_rules; r; r = r->next) {
		check_cond_tables(cfg, r->cond, &r->where, msgs);
		if (r->action == CFG_TCP_TRACK_SC)
			resolve_track(cfg, p, &r->track, &r->where, msgs);
	}
	for (struct cfg_tcp_rule *r = p->tcp_content_rules; r; r = r->next) {
		check_cond_tables(cfg, r->cond, &r->where, msgs);
		if (r->action == CFG_TCP_TRACK_SC)
			resolve_track(cfg, p, &r->track, &r->where, msgs);
	}
	p->http_edge = 0;
	for (struct cfg_http_rule *r = p->http_rules; r; r = r->next) {
		check_cond_tables(cfg, r->cond, &r->where, msgs);
		if (r->action == CFG_HTTP_TRACK_SC)
			resolve_track(cfg, p, &r->track, &r->where, msgs);
		if (r->action == CFG_HTTP_TRACK_SC || r->action == CFG_HTTP_DENY ||
		    r->action == CFG_HTTP_TARPIT)
			p->http_edge = 1;
	}
	for (const struct cfg_use_backend *u = p->use_backends; u; u = u->next)
		check_cond_tables(cfg, u->cond, &u->where, msgs);
	for (const struct cfg_monitor_fail *m = p->monitor_fails; m; m = m->next)
		check_cond_tables(cfg, m->cond, &p->where, msgs);
}
