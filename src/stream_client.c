/* stream_client.c - a stream's client side before its path runs: the
 * `tcp-request connection` rules on the socket's addresses, the inbound
 * PROXY header read on the raw socket before anything else (its source
 * becomes the client everywhere after), and TLS termination with the
 * client. strm_client_begin() hands the connection to its path.
 */
#include <config.h>

#include "stream_int.h"

#include "acl.h"
#include "cfg.h"
#include "gen.h"
#include "log.h"
#include "net.h"
#include "proxy_proto.h"
#include "refusals.h"
#include "tls.h"
#include "tls_bio.h"
#include "worker.h"

#include <errno.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* As HAProxy: a refused or broken client connection is reset, not closed
 * gracefully, so the sender sees at once that nothing was accepted. */
void strm_reset_on_close(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void log_refused(struct stream *s, const char *what, const char *why)
{
	char peer[NET_ADDRSTRLEN];

	net_format_addr((const struct sockaddr *)&s->cli_addr, peer, sizeof(peer));
	log_msg(LOG_NOTICE, "frontend %s: %s from %s: %s", s->fe->conf->name, what, peer, why);
	refusals_note(s->fe->conf->name, peer, why); /* for `show errors` */
}

void strm_log_refusal(struct stream *s, const char *why)
{
	log_refused(s, "closing connection", why);
}

/* A client past a request limit is refused on every request of its
 * kept connection: one line a second says so (with how many were not
 * logged), the access log line has each; `show errors` keeps them all. */
void strm_log_refused_request(struct stream *s, const char *why)
{
	static atomic_llong last_ms;
	static atomic_ullong quiet;
	struct timespec ts;
	char peer[NET_ADDRSTRLEN];
	long long now, last;
	unsigned long long n;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	last = atomic_load(&last_ms);
	net_format_addr((const struct sockaddr *)&s->cli_addr, peer, sizeof(peer));
	refusals_note(s->fe->conf->name, peer, why);
	if ((last && now - last < 1000) || !atomic_compare_exchange_strong(&last_ms, &last, now)) {
		atomic_fetch_add(&quiet, 1);
		return;
	}
	n = atomic_exchange(&quiet, 0);
	if (n)
		log_msg(LOG_NOTICE, "frontend %s: refusing a request from %s: %s (and %llu more "
		                    "requests refused in the last second, not logged)",
		        s->fe->conf->name, peer, why, n);
	else
		log_msg(LOG_NOTICE, "frontend %s: refusing a request from %s: %s", s->fe->conf->name,
		        peer, why);
}

static void proxy_refuse(struct stream *s, enum pp_error err)
{
	char why[96];

	atomic_fetch_add(&s->fe->ctr.pp_errors[err], 1);
	snprintf(why, sizeof(why), "invalid PROXY header (%s)", pp_strerror(err));
	strm_log_refusal(s, why);
	strm_reset_on_close(s->cli_side.fd);
	strm_set_term(s, 'P', 'R');
	strm_close(s);
}

#define OPTIONAL_UNDECIDED "no byte yet said whether a PROXY header comes (accept-proxy optional)"

static void proxy_failed(struct stream *s, short what)
{
	/* accept-proxy optional, before the first bytes said whether a header comes */
	int undecided = s->pp_in != STRM_PP_IN_REQUIRED &&
	                pp_sig_classify(s->pp_buf, s->pp_len) == PP_SIG_NEED_MORE;

	if (what & EV_TIMEOUT) {
		atomic_fetch_add(&s->fe->ctr.pp_timeout, 1);
		strm_log_refusal(s, undecided
		                        ? OPTIONAL_UNDECIDED " (timeout client-hs)"
		                        : "timeout while waiting for the PROXY header (timeout "
		                          "client-hs)");
		strm_reset_on_close(s->cli_side.fd);
		strm_set_term(s, 'c', 'R');
	} else {
		atomic_fetch_add(&s->fe->ctr.pp_closed, 1);
		strm_log_refusal(s, undecided
		                        ? OPTIONAL_UNDECIDED " (closed)"
		                        : "closed before a complete PROXY header (truncated)");
		strm_set_term(s, 'C', 'R');
	}
	strm_close(s);
}

static struct pp_bytes dup_bytes(struct pp_bytes b)
{
	struct pp_bytes copy = {NULL, 0};
	uint8_t *p;

	if (!b.ptr || !(p = malloc(b.len ? b.len : 1)))
		return copy;
	memcpy(p, b.ptr, b.len);
	copy.ptr = p;
	copy.len = b.len;
	return copy;
}

/* The header's addresses replace the socket's, unless it carries none
 * (LOCAL, UNKNOWN, UNSPEC); the TLVs we forward are copied out of the
 * input buffer before it is drained. */
static void proxy_adopt(struct stream *s, const struct pp_header *h)
{
	if (!h->use_real_addrs) {
		memcpy(&s->cli_addr, &h->src, sizeof(s->cli_addr));
		s->cli_addrlen = net_sockaddr_len((const struct sockaddr *)&h->src);
		net_unmap_v4(&s->cli_addr);
		memcpy(&s->dst_addr, &h->dst, sizeof(s->dst_addr));
		s->have_dst = 1;
	}
	s->up_unique_id = dup_bytes(h->tlv.unique_id);
	s->up_authority = dup_bytes(h->tlv.authority);
}

/* Bytes that came with the PROXY header: the HTTP loop parses them, the
 * relay sends them on. */
static int proxy_leftover(struct stream *s, const uint8_t *data, size_t len)
{
	if (strm_cli_tls(s))
		return 0; /* the start of a ClientHello: strm_begin_client_tls() takes it */
	if (s->http)
		return strm_http_take_bytes(s, data, len);
	if (s->auto_watch)
		strm_auto_keep(s, data, len);
	return strm_queue(&s->srv_side, data, len);
}

/* The client is ready for the request path: TLS done (or none). */
static void after_client_ready(struct stream *s)
{
	if (s->http)
		strm_http_begin(s);
	else
		strm_connect_next(s);
}

void strm_client_handshake(struct stream *s)
{
	int r = strm_run_handshake(&s->cli_side);
	const char *sni;

	if (r == 0) {
		strm_update_interest(s);
		return;
	}
	if (r < 0) {
		char why[256], msg[300];
		tls_errors(why, sizeof(why));
		snprintf(msg, sizeof(msg), "TLS handshake failed: %s", why[0] ? why : "closed");
		strm_log_refusal(s, msg);
		strm_set_term(s, 'C', 'R');
		strm_close(s);
		return;
	}
	atomic_fetch_add(&s->fe->ctr.tls_handshakes, 1);
	if (SSL_session_reused(s->cli_side.ssl))
		atomic_fetch_add(&s->fe->ctr.tls_resumed, 1);
	sni = SSL_get_servername(s->cli_side.ssl, TLSEXT_NAMETYPE_host_name);
	if (sni && !(s->sni = strdup(sni))) {
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	after_client_ready(s);
}

/* `bind ... ssl`: terminate TLS, starting from `prefix` (bytes that came
 * with a PROXY header) before the socket's own. */
void strm_begin_client_tls(struct stream *s, const uint8_t *prefix, size_t len)
{
	SSL *ssl = tls_bind_ssl_new(s->bind_tls);
	BIO *bio = ssl ? tls_bio_new(s->cli_side.fd, prefix, len) : NULL;

	if (!ssl || !bio) {
		SSL_free(ssl);
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	SSL_set_bio(ssl, bio, bio);
	SSL_set_mode(ssl, STRM_SSL_MODES);
	s->cli_side.ssl = ssl;
	s->cli_side.hs = 1;
	clock_gettime(CLOCK_MONOTONIC, &s->hs_start);
	strm_set_state(s, STRM_ST_TLS_HS);
	strm_client_handshake(s);
}

static size_t pp_limit(const struct stream *s)
{
	unsigned max = s->gen->cfg->global.pp_max_header;

	return max ? max : PP_DEFAULT_MAX_HEADER;
}

static unsigned client_hs_ms(const struct stream *s)
{
	unsigned ms = s->fe->conf->timeout.client_hs;

	return ms ? ms : CFG_DEFAULT_TIMEOUT_CLIENT_HS;
}

/* `timeout client-hs` bounds the whole header, from accept: a persistent
 * event's timeout would start again at every byte, and a client sending
 * one byte a second would never time out. Returns 0 when it is over. */
static int proxy_rearm(struct stream *s)
{
	return strm_read_until(s, client_hs_ms(s), &s->mono_accept);
}

/* Before the rules: what the bind says. An optional bind's source is
 * untrusted until a rule trusts it. */
static enum strm_pp_in pp_in_of_bind(const struct cfg_bind *bind)
{
	switch (bind->accept_proxy) {
	case CFG_ACCEPT_PROXY_ON:
		return STRM_PP_IN_REQUIRED;
	case CFG_ACCEPT_PROXY_OPTIONAL:
		return STRM_PP_IN_FORBIDDEN;
	case CFG_ACCEPT_PROXY_OFF:
		break;
	}
	return STRM_PP_IN_NONE;
}

/* A matched accept or expect-proxy layer4 rule: on an optional bind the
 * source is trusted (a header or not); elsewhere expect-proxy makes one due. */
static void pp_in_rule(struct stream *s, enum cfg_tcp_action action)
{
	if (s->pp_in == STRM_PP_IN_FORBIDDEN || s->pp_in == STRM_PP_IN_OPTIONAL)
		s->pp_in = STRM_PP_IN_OPTIONAL;
	else if (action == CFG_TCP_EXPECT_PROXY)
		s->pp_in = STRM_PP_IN_REQUIRED;
}

/* HAProxy's `tcp-request connection` rules, in order, on the real socket
 * addresses. Returns the rule that rejected the connection, or NULL. */
const struct cfg_tcp_rule *strm_conn_rules(struct stream *s, const struct cfg_bind *bind)
{
	struct acl_ctx ctx;

	strm_acl_ctx(s, &ctx);
	s->pp_in = pp_in_of_bind(bind);
	for (const struct cfg_tcp_rule *r = s->fe->conf->tcp_conn_rules; r; r = r->next) {
		if (!acl_cond_eval(r->cond, &ctx))
			continue;
		if (r->action == CFG_TCP_ACCEPT) {
			pp_in_rule(s, r->action);
			return NULL;
		}
		if (r->action == CFG_TCP_REJECT || r->action == CFG_TCP_SILENT_DROP)
			return r;
		if (r->action == CFG_TCP_TRACK_SC)
			strm_stk_track(s, &r->track, STRM_TRACK_CONN); /* the socket's peer: not final */
		else
			pp_in_rule(s, r->action); /* expect-proxy layer4: not final */
	}
	return NULL;
}

/* The client is accepted (its PROXY header read, if one was due): read
 * the ClientHello when rules route by it, else choose the path and start
 * on it with `prefix`, the client's bytes already read. */
void strm_client_begin(struct stream *s, const uint8_t *prefix, size_t len)
{
	if (!s->inspected && strm_needs_inspect(s)) {
		strm_inspect_start(s, prefix, len);
		return;
	}
	if (!s->inspected && s->fe->conf->tcp_content_rules && strm_content_rules_now(s) < 0)
		return;
	if (strm_auto_choose(s) < 0)
		return;
	if (strm_cli_tls(s)) {
		strm_begin_client_tls(s, prefix, len);
		return;
	}
	if (len && proxy_leftover(s, prefix, len) < 0) {
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	after_client_ready(s);
}

/* The header question is settled (a header of `consumed` bytes, or none):
 * the client's read event goes on without the client-hs timeout, and the
 * bytes after the header go on to the path. */
static void proxy_hand_over(struct stream *s, size_t consumed)
{
	uint8_t *buf = s->pp_buf;

	s->cli_side.bytes_read += s->pp_len - consumed;
	strm_stk_bytes_in(s, s->pp_len - consumed);
	/* Re-arm the client's read event without the client-hs timeout. */
	event_del(s->cli_side.rev);
	s->cli_side.rev_on = 0;
	/* The stream may end inside strm_client_begin(): let go of our buffer
	 * first (whoever keeps the bytes copies them). */
	s->pp_buf = NULL;
	strm_client_begin(s, buf + consumed, s->pp_len - consumed);
	free(buf);
}

/* accept-proxy optional: does a header come? Returns 1 when the stream
 * was dealt with here (still waiting, plain, or refused as a spoof), 0
 * when a header follows from a trusted source (the caller decodes it). */
static int proxy_optional(struct stream *s)
{
	enum pp_sig sig = pp_sig_classify(s->pp_buf, s->pp_len);
	int trusted = s->pp_in == STRM_PP_IN_OPTIONAL;

	if (sig == PP_SIG_NEED_MORE) {
		if (!proxy_rearm(s))
			proxy_failed(s, EV_TIMEOUT);
		return 1;
	}
	if (sig == PP_SIG_NONE) {
		atomic_fetch_add(
		    trusted ? &s->fe->ctr.pp_opt_without : &s->fe->ctr.pp_opt_untrusted, 1);
		if (log_debug_enabled())
			log_msg(LOG_DEBUG, "stream %llu: no PROXY header (%s source)", s->id,
			        trusted ? "trusted" : "untrusted");
		proxy_hand_over(s, 0);
		return 1;
	}
	if (trusted)
		return 0;
	atomic_fetch_add(&s->fe->ctr.pp_opt_spoof, 1);
	strm_log_refusal(s, sig == PP_SIG_V1 ? "spoof attempt: a PROXY v1 header from an untrusted "
	                                       "source (accept-proxy optional)"
	                                     : "spoof attempt: a PROXY v2 header from an untrusted "
	                                       "source (accept-proxy optional)");
	strm_reset_on_close(s->cli_side.fd);
	strm_set_term(s, 'P', 'R');
	strm_close(s);
	return 1;
}

/* Read what the header may need (never more than the limit), decode, and
 * keep the bytes after it for the server. */
static void proxy_read(struct stream *s)
{
	size_t max = pp_limit(s);
	struct pp_decode_opts opts = {.max_header = max};
	struct pp_header h;
	size_t consumed = 0;
	enum pp_error err = PP_ERR_NONE;
	ssize_t n;

	if (!s->pp_buf && !(s->pp_buf = malloc(max))) {
		strm_set_term(s, 'R', 'R');
		strm_close(s);
		return;
	}
	n = recv(s->cli_side.fd, s->pp_buf + s->pp_len, max - s->pp_len, 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		proxy_failed(s, EV_READ);
		return;
	}
	s->pp_len += (size_t)n;
	if (s->pp_in != STRM_PP_IN_REQUIRED && proxy_optional(s))
		return;
	switch (pp_decode(s->pp_buf, s->pp_len, &opts, &h, &consumed, &err)) {
	case PP_NEED_MORE:
		if (s->pp_len >= max)
			proxy_refuse(s, PP_ERR_TOO_LARGE);
		else if (!proxy_rearm(s))
			proxy_failed(s, EV_TIMEOUT);
		return;
	case PP_ERROR:
		proxy_refuse(s, err);
		return;
	case PP_OK:
		break;
	}
	proxy_adopt(s, &h);
	atomic_fetch_add(&s->fe->ctr.pp_accepted, 1);
	if (s->pp_in == STRM_PP_IN_OPTIONAL)
		atomic_fetch_add(&s->fe->ctr.pp_opt_with, 1);
	if (log_debug_enabled()) {
		char peer[NET_ADDRSTRLEN];
		net_format_addr((const struct sockaddr *)&s->cli_addr, peer, sizeof(peer));
		log_msg(LOG_DEBUG, "stream %llu: PROXY v%d %s, client %s", s->id, h.version,
			h.use_real_addrs ? "without addresses" : "accepted", peer);
	}
	proxy_hand_over(s, consumed);
}

/* PROXY_WAIT's events: bytes of the header, or its deadline. */
void strm_proxy_io(struct stream *s, short what)
{
	if (what & EV_TIMEOUT)
		proxy_failed(s, what);
	else
		proxy_read(s);
}

/* A PROXY header must come first (accept-proxy, or an expect-proxy rule),
 * or may (accept-proxy optional): its first bytes are read here. */
void strm_proxy_wait(struct stream *s)
{
	strm_set_state(s, STRM_ST_PROXY_WAIT);
	proxy_rearm(s);
}
