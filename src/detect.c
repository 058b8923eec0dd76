/* detect.c - `client-ip auto`'s per-server probes (see detect.h). */
#include <config.h>

#include "detect.h"

#include "backend.h"
#include "cfg.h"
#include "probe.h"
#include "tls.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/ssl.h>

struct det {
	struct event_base *base;
	struct srv *srv;
	struct event *timer;
	SSL_CTX *ctx;                 /* TLS probes: acceptance only, no verification */
	struct probe *plain, *proxied; /* in flight */
	enum probe_result r_plain, r_proxied;
	char why_plain[160], why_proxied[160];
	int pending;                  /* probes still to report */
	int votes;                    /* votes in a row for the other mode */
	char last[400];
};

static unsigned det_inter(const struct det *d)
{
	unsigned inter = d->srv->conf->inter_ms;

	return inter ? inter : CFG_DEFAULT_INTER;
}

static void arm(struct det *d, unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	evtimer_add(d->timer, &tv);
}

/* What the data port speaks: TLS when the servers are TLS to us (`ssl`)
 * or when the backend relays TCP (the VIPs this is for - API, OAuth,
 * routers' 443 - carry TLS); HTTP for a plain HTTP backend. */
static enum probe_kind probe_kind_of(const struct srv *srv)
{
	if (srv->conf->ssl || srv->be->conf->mode != CFG_MODE_HTTP)
		return PROBE_TLS;
	return PROBE_HTTP;
}

static void apply_vote(struct det *d, enum probe_vote vote)
{
	struct srv *srv = d->srv;
	enum srv_pp_mode now = srv_pp_mode(srv);
	enum srv_pp_mode want = vote == PROBE_VOTE_PROXY ? SRV_PP_PROXY : SRV_PP_PLAIN;
	int rise = srv->conf->rise > 0 ? srv->conf->rise : 1;
	char why[360];

	if (vote == PROBE_VOTE_NONE || now == want) {
		d->votes = 0;
		return;
	}
	if (now != SRV_PP_UNKNOWN && ++d->votes < rise)
		return;
	d->votes = 0;
	snprintf(why, sizeof(why), "probes: with PROXY %s, plain %s",
		 want == SRV_PP_PROXY ? d->why_proxied : probe_result_name(d->r_proxied),
		 want == SRV_PP_PLAIN ? d->why_plain : probe_result_name(d->r_plain));
	srv_set_pp_mode(srv, want, why);
}

static void probe_done(struct det *d)
{
	enum probe_vote vote = probe_vote(d->r_plain, d->r_proxied);

	snprintf(d->last, sizeof(d->last), "PROXY v2 %s (%s); plain %s (%s)",
		 probe_result_name(d->r_proxied), d->why_proxied, probe_result_name(d->r_plain),
		 d->why_plain);
	apply_vote(d, vote);
	arm(d, det_inter(d));
}

static void plain_done(void *arg, enum probe_result r, const char *why)
{
	struct det *d = arg;

	d->plain = NULL;
	d->r_plain = r;
	snprintf(d->why_plain, sizeof(d->why_plain), "%s", why);
	if (--d->pending == 0)
		probe_done(d);
}

static void proxied_done(void *arg, enum probe_result r, const char *why)
{
	struct det *d = arg;

	d->proxied = NULL;
	d->r_proxied = r;
	snprintf(d->why_proxied, sizeof(d->why_proxied), "%s", why);
	if (--d->pending == 0)
		probe_done(d);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct det *d = arg;
	struct probe_spec spec = {.kind = probe_kind_of(d->srv), .sni = d->srv->conf->check_sni};
	unsigned inter = det_inter(d);

	if (atomic_load(&d->srv->be->check_pp) != BE_CHECK_PP_AUTO || d->pending) {
		arm(d, inter);
		return;
	}
	memcpy(&spec.addr, &d->srv->conf->addr.ss, sizeof(spec.addr));
	spec.addrlen = d->srv->conf->addr.len;
	spec.timeout_ms = inter < 5000 ? inter : 5000;
	d->pending = 2;
	d->plain = probe_start(d->base, d->ctx, &spec, plain_done, d);
	spec.pp_version = 2;
	d->proxied = probe_start(d->base, d->ctx, &spec, proxied_done, d);
	if (!d->plain || !d->proxied) {
		probe_cancel(d->plain);
		probe_cancel(d->proxied);
		d->plain = d->proxied = NULL;
		d->pending = 0;
		snprintf(d->last, sizeof(d->last), "cannot start the probes");
		arm(d, inter);
	}
}

struct det *det_start(struct event_base *base, struct srv *srv, char *err, size_t errlen)
{
	struct det *d = calloc(1, sizeof(*d));
	char why[256];

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->base = base;
	d->srv = srv;
	snprintf(d->last, sizeof(d->last), "not probed yet");
	d->timer = evtimer_new(base, timer_cb, d);
	d->ctx = tls_client_ctx_new(NULL, 1, why, sizeof(why));
	if (!d->timer || !d->ctx) {
		snprintf(err, errlen, "%s", d->ctx ? "cannot create a timer" : why);
		det_stop(d);
		return NULL;
	}
	/* Soon after start or reload: the path choice waits on it. */
	arm(d, 50u * (unsigned)(srv - srv->be->srvs));
	srv->det = d;
	return d;
}

void det_stop(struct det *d)
{
	if (!d)
		return;
	if (d->srv->det == d)
		d->srv->det = NULL;
	probe_cancel(d->plain);
	probe_cancel(d->proxied);
	if (d->timer)
		event_free(d->timer);
	SSL_CTX_free(d->ctx);
	free(d);
}

const char *det_last(const struct det *d)
{
	return d ? d->last : "not probing";
}
