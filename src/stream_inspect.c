/* stream_inspect.c - routing by the ClientHello, before any TLS is
 * terminated: `tcp-request inspect-delay`, `tcp-request content
 * accept|reject`, `use_backend ... if { req.ssl_sni ... }`. The hello is
 * read whole (several segments and records), bounded by one deadline.
 */
#include <config.h>

#include "stream_int.h"

#include "acl.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "log.h"
#include "tls_hello.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Room for a whole ClientHello and its record headers. */
#define INSPECT_MAX (TLS_HELLO_MAX + 1024)

/* The server wants the PP2 AUTHORITY TLV and the client's TLS may pass
 * through: only the ClientHello can tell the name then. */
static int wants_authority(const struct stream *s)
{
	int st = s->strategy;

	if (!s->bind_tls || (st != CFG_CLIENT_IP_PROXY_V2 && st != CFG_CLIENT_IP_AUTO))
		return 0;
	for (int i = 0; i < s->be->nsrv; i++)
		if (s->be->srvs[i].conf->pp2_options & PP_V2_F_AUTHORITY)
			return 1;
	return 0;
}

int strm_needs_inspect(const struct stream *s)
{
	const struct cfg_proxy *fc = s->fe->conf;

	return fc->use_backends || fc->content_needs_hello || wants_authority(s);
}

static unsigned inspect_delay(const struct stream *s)
{
	unsigned ms = s->fe->conf->timeout.inspect_delay;

	return ms ? ms : CFG_DEFAULT_INSPECT_DELAY;
}

/* Hand the connection to a `use_backend` target: at L4, the client's TLS
 * untouched, with the PROXY header the strategy asks for (proxy-v1/v2; in
 * auto as the target's servers take it; else the servers' send-proxy). */
static void route_passthrough(struct stream *s, struct be *be)
{
	s->be = be;
	strm_set_path(s, path_routed(s->strategy)); /* never the HTTP loop: cannot fail */
}

/* `tcp-request content` then `use_backend`, on what the ClientHello said.
 * Returns -1 when the connection was rejected (and closed). */
static int apply_content_rules(struct stream *s, const struct tls_hello *hello)
{
	struct acl_ctx ctx;
	int i = 0;

	strm_acl_ctx(s, &ctx);
	ctx.sni = hello->sni[0] ? hello->sni : NULL;
	ctx.hello_type = hello->hello_type;

	for (const struct cfg_tcp_rule *r = s->fe->conf->tcp_content_rules; r; r = r->next) {
		char why[160];
		if (!acl_cond_eval(r->cond, &ctx))
			continue;
		if (r->action == CFG_TCP_ACCEPT)
			break;
		if (r->action == CFG_TCP_TRACK_SC) {
			strm_stk_track(s, &r->track, STRM_TRACK_CONTENT); /* after PROXY */
			continue;
		}
		atomic_fetch_add(&s->fe->ctr.rejected, 1);
		snprintf(why, sizeof(why), "rejected by 'tcp-request content reject' at %s:%d",
			 r->where.file, r->where.line);
		strm_log_refusal(s, why);
		strm_reset_on_close(s->cli_side.fd);
		strm_set_term(s, 'P', 'R');
		strm_close(s);
		return -1;
	}
	for (const struct cfg_use_backend *u = s->fe->conf->use_backends; u; u = u->next, i++)
		if (acl_cond_eval(u->cond, &ctx)) {
			route_passthrough(s, s->fe->use_bes[i]);
			break;
		}
	return 0;
}

int strm_content_rules_now(struct stream *s)
{
	struct tls_hello none;

	memset(&none, 0, sizeof(none));
	s->inspected = 1;
	return apply_content_rules(s, &none);
}

/* The ClientHello is complete, or will not come (not TLS, too large,
 * inspect-delay over): decide, then go on with every byte read so far. */
static void inspect_done(struct stream *s, enum tls_hello_status st, struct tls_hello *hello,
			 int timed_out)
{
	uint8_t *buf = s->insp_buf;
	size_t len = s->insp_len;

	event_del(s->cli_side.rev);
	s->cli_side.rev_on = 0;
	s->inspected = 1;
	if (st != TLS_HELLO_OK)
		hello->sni[0] = '\0';
	if (log_debug_enabled())
		log_msg(LOG_DEBUG, "stream %llu: %s after %zu bytes%s, SNI '%s'", s->id,
			tls_hello_status_name(st), len, timed_out ? " (inspect-delay over)" : "",
			hello->sni);
	if (hello->sni[0] && !(s->hello_sni = strdup(hello->sni))) {
		log_msg(LOG_ERR, "frontend %s: out of memory (stream %llu)", s->fe->conf->name, s->id);
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	if (apply_content_rules(s, hello) < 0)
		return;
	s->insp_buf = NULL;
	s->insp_len = 0;
	strm_client_begin(s, buf, len);
	free(buf);
}

/* inspect-delay is one deadline for the whole ClientHello, as HAProxy's:
 * a client trickling bytes does not push it back. Returns 0 when over. */
static int inspect_rearm(struct stream *s)
{
	return strm_read_until(s, inspect_delay(s), &s->hs_start);
}

/* Parse what came so far (one parse per read); decide once the hello is
 * whole, is not TLS, is too large, or the inspect-delay ran out. */
static void inspect_check(struct stream *s, int timed_out)
{
	struct tls_hello hello;
	enum tls_hello_status st = tls_hello_parse(s->insp_buf, s->insp_len, &hello);

	if (st == TLS_HELLO_NEED_MORE && !timed_out && s->insp_len < INSPECT_MAX) {
		if (inspect_rearm(s))
			return;
		timed_out = 1;
	}
	inspect_done(s, st, &hello, timed_out);
}

void strm_inspect_io(struct stream *s, short what)
{
	ssize_t n;

	if (what & EV_TIMEOUT) {
		inspect_check(s, 1);
		return;
	}
	n = recv(s->cli_side.fd, s->insp_buf + s->insp_len, INSPECT_MAX - s->insp_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		strm_log_refusal(s, "closed before a complete ClientHello");
		strm_set_term(s, 'C', 'R');
		strm_close(s);
		return;
	}
	s->insp_len += (size_t)n;
	s->cli_side.bytes_read += (unsigned long long)n;
	strm_stk_bytes_in(s, (size_t)n);
	inspect_check(s, 0);
}

/* Wait for the ClientHello, bounded by `tcp-request inspect-delay`,
 * starting with the bytes that came with a PROXY header. */
void strm_inspect_start(struct stream *s, const uint8_t *prefix, size_t len)
{
	size_t cap = len > INSPECT_MAX ? len : INSPECT_MAX;

	if (!(s->insp_buf = malloc(cap))) {
		log_msg(LOG_ERR, "frontend %s: out of memory reading a ClientHello (stream %llu)",
			s->fe->conf->name, s->id);
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	if (len)
		memcpy(s->insp_buf, prefix, len);
	s->insp_len = len;
	strm_set_state(s, STRM_ST_INSPECT);
	clock_gettime(CLOCK_MONOTONIC, &s->hs_start); /* the inspect-delay runs from here */
	inspect_check(s, 0); /* bytes that came with a PROXY header may decide now */
}
