/* stream_stick.c - a stream's stick counters and the actions that refuse
 * a client at the edge (silent-drop, deny, tarpit).
 *
 * What is counted when, as HAProxy 2.6 does it: tracking an entry counts
 * a connection on it (conn_cnt, conn_cur, conn_rate), whatever the rule;
 * a tracked entry then counts every HTTP request at its start
 * (http_req_*), a request tracked by an http-request rule being counted
 * when it is tracked (malformed requests count too); a request that ends
 * in a 4xx, or is answered by deny or tarpit whatever the status, counts
 * an error (http_err_*); bytes from the client count as they arrive
 * (bytes_in_*); sessions (sess_*) only on tcp-request connection trackers.
 * A stream that tracks nothing pays one test of `nsc` per hook.
 */
#include <config.h>

#include "stream_int.h"

#include "acl.h"
#include "backend.h"
#include "gen.h"
#include "log.h"
#include "net.h"
#include "smp.h"
#include "stktable.h"
#include "worker.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

/* "table X is full" at most once a second per process: a flood must not
 * turn into a log flood. */
static atomic_uint full_logged_at;

static void log_full(const struct stream *s, const struct stktable *t, uint32_t now)
{
	uint32_t last = atomic_load(&full_logged_at);

	if (last && now - last < 1000)
		return;
	if (!atomic_compare_exchange_strong(&full_logged_at, &last, now ? now : 1))
		return;
	log_msg(LOG_WARNING,
	        "frontend %s: stick table '%s' is full of entries in use (size %u): new sources "
	        "are not tracked (%llu so far)",
	        s->fe->conf->name, t->name, t->size, (unsigned long long)atomic_load(&t->untracked));
}

void strm_stk_track(struct stream *s, const struct cfg_track *t, enum strm_track_at at)
{
	struct strm_sc *sc = &s->sc[t->sc];
	struct smp_env env = {0};
	struct smp key;
	struct stktable *tbl;
	uint8_t k[STK_KEY_LEN];
	uint32_t now;

	if (sc->e || !t->px || !(tbl = gen_table_of(s->gen, t->px)))
		return; /* the first rule to track a counter keeps it (HAProxy) */
	env.src = (const struct sockaddr *)&s->cli_addr;
	if (!smp_expr_eval(t->key, &env, &key) || key.type != SMP_T_IP ||
	    !stk_key(tbl, (const struct sockaddr *)&key.ip, k))
		return;
	now = gen_tables_now();
	sc->e = stk_track(tbl, k, now);
	if (!sc->e) {
		log_full(s, tbl, now);
		return;
	}
	sc->t = tbl;
	sc->per_request = at == STRM_TRACK_HTTP;
	s->nsc++;
	if (at == STRM_TRACK_CONN) /* HAProxy counts the session on what it tracks already */
		stk_count(tbl, sc->e, STK_EV_SESS, 1, now);
	else if (at == STRM_TRACK_HTTP)
		stk_count(tbl, sc->e, STK_EV_HTTP_REQ, 1, now); /* this request */
}

void strm_stk_release(struct stream *s, int per_request_only)
{
	uint32_t now;

	if (!s->nsc)
		return;
	now = gen_tables_now();
	for (int i = 0; i < 3; i++) {
		struct strm_sc *sc = &s->sc[i];
		if (!sc->e || (per_request_only && !sc->per_request))
			continue;
		stk_release(sc->t, sc->e, now);
		memset(sc, 0, sizeof(*sc));
		s->nsc--;
	}
}

static void count_all(struct stream *s, enum stk_event ev, uint64_t n)
{
	uint32_t now = gen_tables_now();

	for (int i = 0; i < 3; i++)
		if (s->sc[i].e)
			stk_count(s->sc[i].t, s->sc[i].e, ev, n, now);
}

void strm_stk_request(struct stream *s)
{
	if (!s->nsc)
		return;
	strm_stk_release(s, 1);
	count_all(s, STK_EV_HTTP_REQ, 1);
}

void strm_stk_request_end(struct stream *s, int error)
{
	if (!s->nsc)
		return;
	if (error)
		count_all(s, STK_EV_HTTP_ERR, 1);
	strm_stk_release(s, 1);
}

void strm_stk_bytes_in(struct stream *s, size_t n)
{
	if (s->nsc && n)
		count_all(s, STK_EV_BYTES_IN, n);
}

/* The table src_*() reads by default: the one of the proxy whose rule
 * is evaluated (HAProxy's "current proxy"); the frontend's outside rules. */
static struct stktable *default_table(const struct stream *s)
{
	return gen_table_of(s->gen, s->rule_px ? s->rule_px : s->fe->conf);
}

int strm_stk_fetch(void *arg, int sc, const char *table, int data, int64_t *out)
{
	struct stream *s = arg;
	struct stktable *t;
	uint8_t k[STK_KEY_LEN];
	uint32_t now = gen_tables_now();
	int64_t v;

	if (sc >= 0) {
		const struct strm_sc *c = &s->sc[sc];
		if (!c->e)
			return 0; /* nothing tracked on that counter: no value */
		if (!table || !strcmp(table, c->t->name)) {
			v = stk_value(c->t, c->e, (enum stk_data)data, now);
		} else {
			t = gen_table_named(s->gen, table);
			if (!t || t->type != c->t->type)
				return 0;
			v = stk_lookup_value(t, c->e->key, (enum stk_data)data, now);
		}
	} else {
		t = table ? gen_table_named(s->gen, table) : default_table(s);
		if (!t || !stk_key(t, (const struct sockaddr *)&s->cli_addr, k))
			return 0;
		v = stk_lookup_value(t, k, (enum stk_data)data, now);
	}
	if (v < 0)
		return 0; /* the table does not store it */
	*out = v;
	return 1;
}

/* ---- refusing ---- */

/* As HAProxy 2.6: the answer, and a keep-alive connection goes on (a
 * request with a body is answered and closed: its body is not read). */
int strm_http_deny(struct stream *s, const struct cfg_http_rule *r, size_t head_len)
{
	struct strm_http *h = s->http;
	char why[200], page[H1_ERROR_MAX];
	int n;

	atomic_fetch_add(&s->fe->ctr.denied_req, 1);
	snprintf(why, sizeof(why), "denied by 'http-request deny' at %s:%d", r->where.file,
	         r->where.line);
	if (h->close_after || h1_req_has_body(&h->req_head) ||
	    (n = h1_build_answer(r->deny_status, 1, page, sizeof(page))) < 0) {
		h->head_only = h->req_head.method == H1_METHOD_HEAD;
		return strm_http_fail(s, r->deny_status, why, 'P', 'R');
	}
	if (h->req_head.method == H1_METHOD_HEAD) /* the head alone: content-length stays */
		n = (int)(strstr(page, "\r\n\r\n") + 4 - page);
	strm_log_refused_request(s, why);
	strm_set_term(s, 'P', 'R');
	strm_buf_consume(&h->req.buf, head_len);
	h->svc_kind = SVC_DENY;
	h->svc_px = s->fe->conf;
	strm_set_state(s, STRM_ST_HTTP_SVC);
	return strm_http_answered(s, r->deny_status, (const uint8_t *)page, (size_t)n);
}

static void on_tarpit(evutil_socket_t fd, short what, void *arg);

static unsigned tarpit_ms(const struct stream *s)
{
	const struct cfg_timeouts *to = &s->fe->conf->timeout;

	if (to->tarpit)
		return to->tarpit;
	if (s->be && s->be->conf->timeout.tarpit)
		return s->be->conf->timeout.tarpit;
	return cfg_timeout_connect(s->be ? s->be->conf : s->fe->conf);
}

/* Hold the request (nothing more is read from the client), answer when
 * `timeout tarpit` is over: the client's connection is what it costs. */
int strm_http_tarpit(struct stream *s, const struct cfg_http_rule *r)
{
	struct strm_http *h = s->http;

	unsigned ms = tarpit_ms(s);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	atomic_fetch_add(&s->fe->ctr.denied_req, 1);
	if (!h->tarpit_ev && !(h->tarpit_ev = evtimer_new(s->w->base, on_tarpit, s)))
		return strm_http_fail(s, r->deny_status, "out of memory (tarpit)", 'R', 'R');
	h->tarpit = r;
	/* from now, not from the loop's cached time: never a shorter hold */
	event_base_update_cache_time(s->w->base);
	evtimer_add(h->tarpit_ev, &tv);
	h->svc_kind = SVC_TARPIT;
	h->svc_px = s->fe->conf;
	h->svc_submitted = 1; /* nothing to read or render: wait */
	strm_set_state(s, STRM_ST_HTTP_SVC);
	strm_update_interest(s);
	return 0;
}

static void tarpit_over(struct stream *s)
{
	struct strm_http *h = s->http;
	const struct cfg_http_rule *r = h->tarpit;
	char why[200];

	h->tarpit = NULL;
	snprintf(why, sizeof(why), "tarpitted by 'http-request tarpit' at %s:%d", r->where.file,
	         r->where.line);
	strm_http_fail(s, r->deny_status, why, 'P', 'T');
}

static void on_tarpit(evutil_socket_t fd, short what, void *arg)
{
	struct stream *s = arg;

	strm_enter(s);
	if (s->state != STRM_ST_CLOSED && s->http && s->http->tarpit)
		tarpit_over(s);
	strm_leave(s);
}

/* As HAProxy: with CAP_NET_ADMIN, TCP_REPAIR closes the socket without
 * a packet; without it (the shipped unit) the reset leaves with a TTL
 * (hop limit) of 1, so that it dies at the first router and the client
 * sees nothing; on the same link or host it still arrives. */
void strm_silent_drop(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &one, sizeof(one)) == 0) {
		close(fd);
		return;
	}
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &one, sizeof(one));
		(void)setsockopt(fd, IPPROTO_IP, IP_TTL, &one, sizeof(one));
	}
	strm_reset_on_close(fd);
	close(fd);
}
