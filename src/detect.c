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

/* One of the two probes of a round. */
struct det_slot {
	struct det *det;
	struct probe *probe; /* in flight, or NULL */
	enum probe_result result;
	char why[160];
};

enum { SLOT_PLAIN = 0, SLOT_PROXIED = 1 };

struct det {
	struct event_base *base;
	struct srv *srv;
	struct event *timer;
	SSL_CTX *ctx;                 /* TLS probes: acceptance only, no verification */
	struct det_slot slot[2];      /* SLOT_PLAIN, SLOT_PROXIED */
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
		 want == SRV_PP_PROXY ? d->slot[SLOT_PROXIED].why
				      : probe_result_name(d->slot[SLOT_PROXIED].result),
		 want == SRV_PP_PLAIN ? d->slot[SLOT_PLAIN].why
				      : probe_result_name(d->slot[SLOT_PLAIN].result));
	srv_set_pp_mode(srv, want, why);
}

static void round_done(struct det *d)
{
	const struct det_slot *plain = &d->slot[SLOT_PLAIN], *proxied = &d->slot[SLOT_PROXIED];

	snprintf(d->last, sizeof(d->last), "PROXY v2 %s (%s); plain %s (%s)",
		 probe_result_name(proxied->result), proxied->why, probe_result_name(plain->result),
		 plain->why);
	apply_vote(d, probe_vote(plain->result, proxied->result));
	arm(d, det_inter(d));
}

static void slot_done(void *arg, enum probe_result r, const char *why)
{
	struct det_slot *slot = arg;

	slot->probe = NULL;
	slot->result = r;
	snprintf(slot->why, sizeof(slot->why), "%s", why);
	if (--slot->det->pending == 0)
		round_done(slot->det);
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
	for (int i = 0; i < 2; i++) {
		spec.pp_version = i == SLOT_PROXIED ? 2 : 0;
		d->slot[i].det = d;
		d->slot[i].probe = probe_start(d->base, d->ctx, &spec, slot_done, &d->slot[i]);
	}
	if (!d->slot[0].probe || !d->slot[1].probe) {
		for (int i = 0; i < 2; i++) {
			probe_cancel(d->slot[i].probe);
			d->slot[i].probe = NULL;
		}
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
	probe_cancel(d->slot[SLOT_PLAIN].probe);
	probe_cancel(d->slot[SLOT_PROXIED].probe);
	if (d->timer)
		event_free(d->timer);
	SSL_CTX_free(d->ctx);
	free(d);
}

const char *det_last(const struct det *d)
{
	return d ? d->last : "not probing";
}
