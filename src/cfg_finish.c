/* cfg_finish.c - after the last file: cross-references, defaults, limits
 * and warnings (cfg_finish()), then host names (cfg_resolve(), the only
 * part besides file loading that touches the outside world).
 */
#include <config.h>

#include "cfg_int.h"

#include "acl.h"
#include "net.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Final checks */

unsigned cfg_timeout_connect(const struct cfg_proxy *be)
{
	return be->timeout.connect ? be->timeout.connect : CFG_DEFAULT_TIMEOUT_CONNECT;
}

unsigned cfg_timeout_client(const struct cfg_proxy *fe)
{
	return fe->timeout.client ? fe->timeout.client : CFG_DEFAULT_TIMEOUT_CLIENT;
}

unsigned cfg_timeout_server(const struct cfg_proxy *be)
{
	return be->timeout.server ? be->timeout.server : CFG_DEFAULT_TIMEOUT_SERVER;
}

/* "5s", "1500ms": how a filled-in default is shown. */
static void fmt_ms(char *buf, size_t len, unsigned ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%us", ms / 1000);
	else
		snprintf(buf, len, "%ums", ms);
}

static void add_missing(char *buf, size_t len, const char *name, unsigned ms)
{
	char t[32];
	size_t used = strlen(buf);

	fmt_ms(t, sizeof(t), ms);
	snprintf(buf + used, len - used, "%s'timeout %s %s'", used ? ", " : "", name, t);
}

/* Fill the timeouts the proxy needs and does not have; warn like HAProxy. */
static void finish_timeouts(struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	char list[256] = "";

	if ((p->caps & CFG_CAP_BE) && !p->timeout.connect) {
		p->timeout.connect = CFG_DEFAULT_TIMEOUT_CONNECT;
		add_missing(list, sizeof(list), "connect", p->timeout.connect);
	}
	if ((p->caps & CFG_CAP_FE) && !p->timeout.client) {
		p->timeout.client = CFG_DEFAULT_TIMEOUT_CLIENT;
		add_missing(list, sizeof(list), "client", p->timeout.client);
	}
	if ((p->caps & CFG_CAP_BE) && !p->timeout.server) {
		p->timeout.server = CFG_DEFAULT_TIMEOUT_SERVER;
		add_missing(list, sizeof(list), "server", p->timeout.server);
	}
	if ((p->caps & CFG_CAP_FE) && !p->timeout.client_hs)
		p->timeout.client_hs = CFG_DEFAULT_TIMEOUT_CLIENT_HS;
	if (list[0])
		cfg_msg_add(msgs, CFG_SEV_WARNING, NULL,
		            "proxy '%s' (%s:%d): missing timeouts for %s; ppbridge uses %s",
		            p->name, p->where.file, p->where.line, cfg_sec_name(p->caps), list);
}

/* use_backend targets are chosen before termination from the ClientHello,
 * so they take the connection at L4: mode tcp, whatever the frontend's. */
static void finish_use_backends(struct cfg *cfg, struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	for (struct cfg_use_backend *u = p->use_backends; u; u = u->next) {
		u->be = cfg_find_proxy(cfg, u->name, CFG_CAP_BE);
		if (!u->be) {
			cfg_msg_add(msgs, CFG_SEV_ERROR, &u->where, "use_backend '%s' not found",
			            u->name);
			continue;
		}
		if (u->be->mode != CFG_MODE_TCP)
			cfg_msg_add(
			    msgs, CFG_SEV_ERROR, &u->where,
			    "use_backend '%s': the backend must be 'mode tcp' (ppbridge routes "
			    "by the ClientHello, before termination, and passes the TLS through)",
			    u->name);
		if (u->cond && (acl_cond_fetches(u->cond) &
				~(ACL_NEEDS_CONTENT | ACL_NEEDS_SRC | ACL_NEEDS_STATE)) != 0)
			cfg_msg_add(
			    msgs, CFG_SEV_ERROR, &u->where,
			    "use_backend '%s': only src, req.ssl_sni, req_ssl_hello_type and nbsrv "
			    "can be used",
			    u->name);
	}
	p->content_needs_hello = 0;
	for (const struct cfg_tcp_rule *r = p->tcp_content_rules; r; r = r->next)
		if (acl_cond_fetches(r->cond) & ACL_NEEDS_CONTENT)
			p->content_needs_hello = 1;
	if ((p->use_backends || p->content_needs_hello) && !p->timeout.inspect_delay)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
		            "%s '%s': use_backend/tcp-request content without 'tcp-request "
		            "inspect-delay': ppbridge waits at most %u ms for the ClientHello",
		            cfg_sec_name(p->caps), p->name, CFG_DEFAULT_INSPECT_DELAY);
}

/* nbsrv(<backend>) in a condition names a backend that must exist. */
struct backend_check {
	const struct cfg *cfg;
	struct cfg_msgs *msgs;
	const struct cfg_where *where;
};

static int check_backend_name(void *arg, const char *name)
{
	struct backend_check *c = arg;

	if (!cfg_find_proxy(c->cfg, name, CFG_CAP_BE))
		cfg_msg_add(c->msgs, CFG_SEV_ERROR, c->where,
			    "nbsrv(%s): no backend '%s' in the configuration", name, name);
	return 0;
}

static void check_cond_backends(struct cfg *cfg, const struct acl_cond *cond,
				const struct cfg_where *where, struct cfg_msgs *msgs)
{
	struct backend_check c = {cfg, msgs, where};

	if (cond)
		acl_cond_backends(cond, check_backend_name, &c);
}

static void finish_cond_backends(struct cfg *cfg, struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	struct backend_check c = {cfg, msgs, &p->where};

	acl_list_backends(p->acls, check_backend_name, &c);
	for (const struct cfg_tcp_rule *r = p->tcp_conn_rules; r; r = r->next)
		check_cond_backends(cfg, r->cond, &r->where, msgs);
	for (const struct cfg_tcp_rule *r = p->tcp_content_rules; r; r = r->next)
		check_cond_backends(cfg, r->cond, &r->where, msgs);
	for (const struct cfg_use_backend *u = p->use_backends; u; u = u->next)
		check_cond_backends(cfg, u->cond, &u->where, msgs);
	for (const struct cfg_http_rule *r = p->http_rules; r; r = r->next)
		check_cond_backends(cfg, r->cond, &r->where, msgs);
	for (const struct cfg_monitor_fail *m = p->monitor_fails; m; m = m->next)
		check_cond_backends(cfg, m->cond, &p->where, msgs);
	check_cond_backends(cfg, p->stats.admin, &p->stats.admin_where, msgs);
	for (const struct cfg_stats_rule *r = p->stats.rules; r; r = r->next)
		check_cond_backends(cfg, r->cond, &r->where, msgs);
}

/* http_auth(<userlist>) and http_auth_group(<userlist>) name a userlist
 * that must exist; as in HAProxy it may be declared after the proxy. Rules
 * other than `stats` ones refuse these fetches when they are read; the
 * declared ACLs may still have them (for the stats rules). */
static void finish_cond_userlists(struct cfg *cfg, struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	cfg_userlist_check_acls(cfg, p->acls, &p->where, msgs);
	for (const struct cfg_tcp_rule *r = p->tcp_conn_rules; r; r = r->next)
		cfg_userlist_check_cond(cfg, r->cond, &r->where, msgs);
	for (const struct cfg_tcp_rule *r = p->tcp_content_rules; r; r = r->next)
		cfg_userlist_check_cond(cfg, r->cond, &r->where, msgs);
	for (const struct cfg_use_backend *u = p->use_backends; u; u = u->next)
		cfg_userlist_check_cond(cfg, u->cond, &u->where, msgs);
	for (const struct cfg_http_rule *r = p->http_rules; r; r = r->next)
		cfg_userlist_check_cond(cfg, r->cond, &r->where, msgs);
	cfg_userlist_check_cond(cfg, p->stats.admin, &p->stats.admin_where, msgs);
	for (const struct cfg_stats_rule *r = p->stats.rules; r; r = r->next)
		cfg_userlist_check_cond(cfg, r->cond, &r->where, msgs);
}

/* `accept-proxy optional` believes a header only from the sources a
 * `tcp-request connection accept` or `expect-proxy layer4` rule trusts:
 * without a condition naming them it would believe anyone, the spoofing
 * hole for which HAProxy has no such mode (haproxy#2450). Every such bind
 * is said to be on: a migration mode, not a steady state. */
/* A trust condition must name the trusted sources: `if` and terms that
 * read the client's address only, none negated (`if TRUE`, `unless
 * { src ... }` or a stick counter would trust nearly anyone). */
static int names_sources(const struct acl_cond *c)
{
	if (c->unless || acl_cond_fetches(c) != ACL_NEEDS_SRC)
		return 0;
	for (int g = 0; g < c->ngroups; g++)
		for (int t = 0; t < c->groups[g].nterms; t++)
			if (c->groups[g].terms[t].negate)
				return 0;
	return 1;
}

static void finish_pp_optional(const struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	const struct cfg_tcp_rule *trust = NULL;
	int open_rule = 0;

	if (!cfg_pp_optional(p))
		return;
	for (const struct cfg_tcp_rule *r = p->tcp_conn_rules; r; r = r->next) {
		if (r->action != CFG_TCP_ACCEPT && r->action != CFG_TCP_EXPECT_PROXY)
			continue;
		if (r->cond && names_sources(r->cond)) {
			trust = trust ? trust : r;
			continue;
		}
		open_rule = 1;
		if (r->cond) {
			cfg_msg_add(msgs, CFG_SEV_ERROR, &r->where,
			            "'tcp-request connection %s': with 'accept-proxy optional' on a bind "
			            "of %s '%s', a trust rule must name the trusted sources: 'if' and "
			            "conditions on 'src' only, none negated (e.g. 'if { src "
			            "10.0.0.0/8 }')",
			            r->action == CFG_TCP_ACCEPT ? "accept" : "expect-proxy layer4",
			            cfg_sec_name(p->caps), p->name);
			continue;
		}
		cfg_msg_add(msgs, CFG_SEV_ERROR, &r->where,
		            "'tcp-request connection %s' without a condition trusts every source "
		            "that reaches it: with 'accept-proxy optional' on a bind of %s '%s', "
		            "anyone's PROXY header would be believed (write the trusted sources: "
		            "'%s if { src <networks> }')",
		            r->action == CFG_TCP_ACCEPT ? "accept" : "expect-proxy layer4",
		            cfg_sec_name(p->caps), p->name,
		            r->action == CFG_TCP_ACCEPT ? "accept" : "expect-proxy layer4");
	}
	for (const struct cfg_bind *b = p->binds; b; b = b->next) {
		if (b->accept_proxy != CFG_ACCEPT_PROXY_OPTIONAL)
			continue;
		if (!trust && !open_rule)
			cfg_msg_add(
			    msgs, CFG_SEV_ERROR, &b->where,
			    "bind '%s': 'accept-proxy optional' needs a 'tcp-request "
			    "connection accept|expect-proxy layer4 if|unless <condition>' rule "
			    "naming the trusted sources (a header believed from anyone is a "
			    "spoofing hole)",
			    b->text);
		cfg_msg_add(msgs, CFG_SEV_WARNING, &b->where,
		            "bind '%s': 'accept-proxy optional' is on, a migration mode: trusted "
		            "sources may send a PROXY header or not, so a client behind a "
		            "byte-transparent forwarder in their range could forge one; switch to "
		            "'accept-proxy' once 'show frontends' says 'without header' stopped "
		            "growing (ppbridge.cfg(5), accept-proxy)",
		            b->text);
	}
}

static void finish_frontend(struct cfg *cfg, struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	struct cfg_proxy *be;

	/* After errors a rejected bind or server line would make these two
	 * warnings fire as echoes of the error: say them only on clean input. */
	if (!p->binds && msgs->errors == 0)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
		            "%s '%s' has no 'bind' line: it will not accept connections",
		            cfg_sec_name(p->caps), p->name);
	finish_pp_optional(p, msgs);
	if (p->default_backend) {
		be = cfg_find_proxy(cfg, p->default_backend, CFG_CAP_BE);
		if (!be) {
			cfg_msg_add(msgs, CFG_SEV_ERROR, &p->default_backend_where,
			            "%s '%s': default_backend '%s' not found",
			            cfg_sec_name(p->caps), p->name, p->default_backend);
			return;
		}
	} else if (p->caps & CFG_CAP_BE) {
		be = p; /* a listen is its own backend */
	} else if (cfg_serves_itself(p)) {
		/* `frontend stats` with no backend: what it does not answer
		 * itself gets 503, as in HAProxy. It is its own empty backend,
		 * which no list shows (gen.c). */
		be = p;
	} else {
		cfg_msg_add(msgs, CFG_SEV_ERROR, &p->where,
		            "frontend '%s' has no default_backend (use_backend alone would leave "
		            "other connections nowhere to go)",
		            p->name);
		return;
	}
	p->backend = be;
	finish_use_backends(cfg, p, msgs);
	if (p->client_ip == CFG_CLIENT_IP_XFF && p->mode != CFG_MODE_HTTP)
		cfg_msg_add(msgs, CFG_SEV_ERROR, &p->where,
		            "%s '%s': 'client-ip xff' needs 'mode http' (headers are rewritten)",
		            cfg_sec_name(p->caps), p->name);
	if (be->mode != p->mode)
		cfg_msg_add(msgs, CFG_SEV_ERROR, &p->where,
		            "%s '%s' in mode %s cannot use backend '%s' in mode %s",
		            cfg_sec_name(p->caps), p->name,
		            p->mode == CFG_MODE_HTTP ? "http" : "tcp", be->name,
		            be->mode == CFG_MODE_HTTP ? "http" : "tcp");
}

/* The Kubernetes API port: a TCP connect succeeds on a master whose API
 * server still starts or drains, so OpenShift's user-managed load balancer
 * documentation checks it with an HTTPS GET /readyz. */
#define CFG_OCP_API_PORT 6443

/* A backend whose servers listen on 6443 and are checked by a TCP connect
 * only: the balancer would send clients to a master that is not ready. */
static void warn_api_tcp_check(const struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	const struct cfg_server *first = NULL;
	int n = 0;

	if (p->httpchk.enabled)
		return;
	for (const struct cfg_server *s = p->servers; s; s = s->next)
		if (s->check && s->port == CFG_OCP_API_PORT && !n++)
			first = s;
	if (!first)
		return;
	cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
	            "%s '%s': servers on %d checked by TCP only (%d, first '%s' at %s:%d): "
	            "OpenShift requires an HTTPS GET /readyz check (option httpchk GET /readyz + "
	            "check-ssl)",
	            cfg_sec_name(p->caps), p->name, CFG_OCP_API_PORT, n, first->name,
	            first->where.file, first->where.line);
}

static void finish_backend(struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	int id = 0;

	for (struct cfg_server *s = p->servers; s; s = s->next)
		s->id = ++id;
	p->nservers = id;
	/* a backend that only holds a stick-table is HAProxy's idiom: it
	 * serves nothing, it is not missing servers */
	if (!id && msgs->errors == 0 && !cfg_serves_itself(p) &&
	    !(p->stick.declared && p->caps == CFG_CAP_BE))
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where, "%s '%s' has no server",
		            cfg_sec_name(p->caps), p->name);
	warn_api_tcp_check(p, msgs);
}

/* `ssl-server-verify none` is the default of every server that does not
 * say `verify`: written into the servers here, whatever the order of the
 * lines, so that TLS checks (check.c reads the server only) follow it as
 * the data path does (HAProxy applies it to both). */
static void finish_server_verify(struct cfg *cfg)
{
	if (!cfg->global.ssl_server_verify_none)
		return;
	for (struct cfg_proxy *p = cfg->proxies; p; p = p->next)
		for (struct cfg_server *s = p->servers; s; s = s->next)
			if (s->verify == CFG_VERIFY_DEFAULT)
				s->verify = CFG_VERIFY_NONE;
}

static void finish_binds(struct cfg *cfg, struct cfg_msgs *msgs)
{
	for (struct cfg_proxy *p = cfg->proxies; p; p = p->next) {
		for (struct cfg_bind *b = p->binds; b; b = b->next) {
			/* Compare with every earlier bind; configs are small. */
			for (struct cfg_proxy *q = cfg->proxies; q; q = q->next) {
				for (struct cfg_bind *c = q->binds; c && c != b; c = c->next) {
					if (!net_addr_equal((struct sockaddr *)&b->addr.ss,
					                    (struct sockaddr *)&c->addr.ss))
						continue;
					cfg_msg_add(msgs, CFG_SEV_ERROR, &b->where,
					            "bind '%s' uses the same address as bind '%s' "
					            "of %s '%s' (%s:%d)",
					            b->text, c->text, cfg_sec_name(q->caps),
					            q->name, c->where.file, c->where.line);
					goto next_bind;
				}
				if (q == p)
					break;
			}
		next_bind:;
		}
	}
}

/* HTTP settings of a proxy in mode tcp do nothing: say so, as HAProxy. */
static void warn_http_only(const struct cfg_proxy *p, struct cfg_msgs *msgs)
{
	if (p->forwardfor.enabled)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
		            "%s '%s': 'option forwardfor' ignored, it requires mode http",
		            cfg_sec_name(p->caps), p->name);
	if (p->options & CFG_OPT_FORWARDED)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
		            "%s '%s': 'option forwarded' ignored, it requires mode http",
		            cfg_sec_name(p->caps), p->name);
	if (p->stats.enabled)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->stats.where,
		            "%s '%s': 'stats' ignored, it requires mode http",
		            cfg_sec_name(p->caps), p->name);
	if (p->monitor_uri)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
		            "%s '%s': 'monitor-uri' ignored, it requires mode http",
		            cfg_sec_name(p->caps), p->name);
	if (p->http_rules)
		cfg_msg_add(msgs, CFG_SEV_WARNING, &p->http_rules->where,
		            "%s '%s': 'http-request' rules ignored, they require mode http",
		            cfg_sec_name(p->caps), p->name);
}

/* HAProxy's rule: a relative `server-state-file` lives in
 * `server-state-base` when one is written, else where ppbridge runs. */
static void finish_state_paths(struct cfg *cfg, struct cfg_msgs *msgs)
{
	struct cfg_global *g = &cfg->global;
	const char *base = g->server_state_base;
	char *joined;
	size_t len;

	for (const struct cfg_proxy *p = cfg->proxies; p && !g->server_state_file; p = p->next)
		if (p->srv_state_load == CFG_SRV_STATE_GLOBAL) {
			cfg_msg_add(msgs, CFG_SEV_WARNING, &p->where,
			            "backend '%s': 'load-server-state-from-file global' without a "
			            "'server-state-file' in the global section: no state is kept",
			            p->name);
			break;
		}
	if (!g->server_state_file || g->server_state_file[0] == '/' || !base)
		return;
	len = strlen(base) + strlen(g->server_state_file) + 2;
	joined = cfg_xcalloc(1, len);
	snprintf(joined, len, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/",
	         g->server_state_file);
	free(g->server_state_file);
	g->server_state_file = joined;
}

int cfg_finish(struct cfg *cfg, struct cfg_msgs *msgs)
{
	int errors = msgs->errors, nfe = 0;

	cfg_userlist_finish(cfg, msgs);
	for (struct cfg_proxy *p = cfg->proxies; p; p = p->next) {
		if (p->mode != CFG_MODE_HTTP)
			warn_http_only(p, msgs);
		if (p->caps & CFG_CAP_BE)
			finish_backend(p, msgs);
	}
	for (struct cfg_proxy *p = cfg->proxies; p; p = p->next) {
		if (p->caps & CFG_CAP_FE) {
			nfe++;
			finish_frontend(cfg, p, msgs);
		}
		finish_cond_backends(cfg, p, msgs);
		cfg_stick_finish(cfg, p, msgs);
		cfg_stats_finish(p, msgs);
		p->serves_itself = cfg_serves_itself(p);
		finish_cond_userlists(cfg, p, msgs);
		finish_timeouts(p, msgs);
	}
	if (!nfe)
		cfg_msg_add(msgs, CFG_SEV_ERROR, NULL, "no frontend/listen defined");
	finish_binds(cfg, msgs);
	finish_state_paths(cfg, msgs);
	finish_server_verify(cfg);
	if (!cfg->global.maxconn)
		cfg->global.maxconn = CFG_DEFAULT_MAXCONN;
	return msgs->errors > errors ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The part that touches the world: DNS */

static int resolve_server(struct cfg_server *s, struct cfg_msgs *msgs)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	if (net_parse_ip(s->host, &s->addr.ss, &s->addr.len) == 0) {
		net_set_port((struct sockaddr *)&s->addr.ss, s->port);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(s->host, NULL, &hints, &res);
	if (rc != 0 || !res) {
		cfg_msg_add(msgs, CFG_SEV_ERROR, &s->where,
		            "server '%s': cannot resolve host '%s': %s", s->name, s->host,
		            rc ? gai_strerror(rc) : "no address");
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	/* The first answer, in the resolver's preferred order (RFC 6724). */
	memset(&s->addr.ss, 0, sizeof(s->addr.ss));
	memcpy(&s->addr.ss, res->ai_addr, res->ai_addrlen);
	s->addr.len = (socklen_t)res->ai_addrlen;
	net_set_port((struct sockaddr *)&s->addr.ss, s->port);
	freeaddrinfo(res);
	return 0;
}

int cfg_resolve(struct cfg *cfg, struct cfg_msgs *msgs)
{
	int rc = 0;

	for (struct cfg_proxy *p = cfg->proxies; p; p = p->next)
		for (struct cfg_server *s = p->servers; s; s = s->next)
			if (resolve_server(s, msgs) < 0)
				rc = -1;
	return rc;
}
