/* gen.c - reference-counted configuration generations. */
#include <config.h>

#include "gen.h"

#include "backend.h"
#include "cfg.h"
#include "log.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void gen_free(struct gen *gen)
{
	for (int i = 0; i < gen->nbe + gen->nbe_own; i++) {
		for (int k = 0; k < gen->bes[i].nsrv; k++)
			tls_client_free(gen->bes[i].srvs[k].tls);
		be_destroy(&gen->bes[i]);
	}
	for (int i = 0; i < gen->nfe; i++) {
		for (int k = 0; k < gen->fes[i].nbinds; k++)
			tls_bind_free(gen->fes[i].binds[k].tls);
		free(gen->fes[i].binds);
		free(gen->fes[i].use_bes);
	}
	free(gen->bes);
	free(gen->fes);
	gen_tables_free(gen);
	cfg_free(gen->cfg);
	free(gen);
}

static struct be *find_be(struct gen *gen, const struct cfg_proxy *conf)
{
	for (int i = 0; i < gen->nbe + gen->nbe_own; i++)
		if (gen->bes[i].conf == conf)
			return &gen->bes[i];
	return NULL;
}

static void warn_to_log(void *arg, const char *msg)
{
	log_msg(LOG_WARNING, "%s", msg);
}

/* Every `bind ... ssl` of a frontend gets its certificates loaded. */
static int build_binds(struct fe *fe, const struct cfg *cfg, char *err, size_t errlen)
{
	int n = 0;

	for (const struct cfg_bind *b = fe->conf->binds; b; b = b->next)
		n++;
	fe->binds = calloc((size_t)n + 1, sizeof(*fe->binds));
	if (!fe->binds) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (const struct cfg_bind *b = fe->conf->binds; b; b = b->next) {
		struct fe_bind *fb = &fe->binds[fe->nbinds++];
		char why[512];
		fb->conf = b;
		if (!b->ssl)
			continue;
		fb->tls = tls_bind_new(b, &cfg->global, warn_to_log, NULL, why, sizeof(why));
		if (!fb->tls) {
			snprintf(err, errlen, "%s:%d: bind %s: %s", b->where.file, b->where.line,
				 b->text, why);
			return -1;
		}
	}
	return 0;
}

/* The runtime backends `use_backend` rules name (resolved by the parser). */
static int build_use_bes(struct gen *gen, struct fe *fe, char *err, size_t errlen)
{
	int n = 0, i = 0;

	for (const struct cfg_use_backend *u = fe->conf->use_backends; u; u = u->next)
		n++;
	if (!n)
		return 0;
	fe->use_bes = calloc((size_t)n, sizeof(*fe->use_bes));
	if (!fe->use_bes) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (const struct cfg_use_backend *u = fe->conf->use_backends; u; u = u->next, i++)
		if (!(fe->use_bes[i] = find_be(gen, u->be))) {
			snprintf(err, errlen, "use_backend '%s' not found", u->name);
			return -1;
		}
	return 0;
}

/* Every `server ... ssl` gets its client context (CA, client certificate). */
static int build_servers(struct be *be, const struct cfg *cfg, char *err, size_t errlen)
{
	for (int i = 0; i < be->nsrv; i++) {
		const struct cfg_server *sv = be->srvs[i].conf;
		char why[512];
		if (!sv->ssl)
			continue;
		be->srvs[i].tls = tls_client_new(sv, &cfg->global, why, sizeof(why));
		if (!be->srvs[i].tls) {
			snprintf(err, errlen, "%s:%d: server '%s/%s': %s", sv->where.file,
				 sv->where.line, be->conf->name, sv->name, why);
			return -1;
		}
	}
	return 0;
}

/* A frontend without a backend that answers its requests itself. */
static int own_backend(const struct cfg_proxy *px)
{
	return !(px->caps & CFG_CAP_BE) && px->backend == px;
}

struct gen *gen_new(struct cfg *cfg, char *err, size_t errlen)
{
	struct gen *gen = calloc(1, sizeof(*gen));
	int nbe = 0, nfe = 0;

	if (!gen) {
		cfg_free(cfg);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&gen->refs, 1);
	gen->cfg = cfg;
	for (const struct cfg_proxy *px = cfg->proxies; px; px = px->next) {
		nbe += (px->caps & CFG_CAP_BE) != 0 || own_backend(px);
		nfe += (px->caps & CFG_CAP_FE) != 0;
	}
	gen->bes = calloc((size_t)nbe + 1, sizeof(*gen->bes));
	gen->fes = calloc((size_t)nfe + 1, sizeof(*gen->fes));
	if (!gen->bes || !gen->fes)
		goto oom;
	for (const struct cfg_proxy *px = cfg->proxies; px; px = px->next) {
		if (!(px->caps & CFG_CAP_BE))
			continue;
		if (be_init(&gen->bes[gen->nbe], px) < 0)
			goto oom;
		gen->nbe++;
		if (build_servers(&gen->bes[gen->nbe - 1], cfg, err, errlen) < 0) {
			gen_free(gen);
			return NULL;
		}
	}
	for (const struct cfg_proxy *px = cfg->proxies; px; px = px->next) {
		if (!own_backend(px))
			continue;
		if (be_init(&gen->bes[gen->nbe + gen->nbe_own], px) < 0)
			goto oom;
		gen->nbe_own++;
	}
	for (const struct cfg_proxy *px = cfg->proxies; px; px = px->next) {
		if (!(px->caps & CFG_CAP_FE))
			continue;
		struct fe *fe = &gen->fes[gen->nfe++];
		fe->conf = px;
		fe->be = px->backend ? find_be(gen, px->backend) : NULL;
		if (!fe->be) {
			snprintf(err, errlen, "frontend '%s' has no backend", px->name);
			gen_free(gen);
			return NULL;
		}
		if (build_binds(fe, cfg, err, errlen) < 0 || build_use_bes(gen, fe, err, errlen) < 0) {
			gen_free(gen);
			return NULL;
		}
		atomic_init(&fe->client_ip, CFG_CLIENT_IP_UNSET);
		if (px->client_ip != CFG_CLIENT_IP_UNSET)
			gen_set_client_ip(gen, fe, px->client_ip);
		else
			atomic_store(&fe->client_ip, gen_config_client_ip(px));
	}
	if (gen_tables_build(gen) < 0)
		goto oom;
	return gen;
oom:
	snprintf(err, errlen, "out of memory");
	gen_free(gen);
	return NULL;
}

enum cfg_client_ip gen_config_client_ip(const struct cfg_proxy *fe)
{
	const struct cfg_proxy *be = fe->backend;
	int n = 0, v1 = 0, v2 = 0;

	if (fe->client_ip != CFG_CLIENT_IP_UNSET)
		return fe->client_ip;
	if (fe->mode == CFG_MODE_HTTP)
		return CFG_CLIENT_IP_XFF;
	for (const struct cfg_server *s = be ? be->servers : NULL; s; s = s->next, n++) {
		v1 += s->send_proxy == CFG_SEND_PROXY_V1;
		v2 += s->send_proxy == CFG_SEND_PROXY_V2;
	}
	if (n > 0 && v1 == n)
		return CFG_CLIENT_IP_PROXY_V1;
	if (n > 0 && v2 == n)
		return CFG_CLIENT_IP_PROXY_V2;
	return CFG_CLIENT_IP_NONE;
}

/* What a strategy asks of the data-port checks: with PROXY on the data
 * path the routers refuse checks without it; in auto each server's checks
 * follow what its probes found. Ranked: a backend several frontends share
 * gets the most demanding (auto keeps its probes running). */
static int check_pp_of(enum cfg_client_ip st)
{
	return st == CFG_CLIENT_IP_AUTO ? BE_CHECK_PP_AUTO
	       : st == CFG_CLIENT_IP_PROXY_V2 ? 2
	       : st == CFG_CLIENT_IP_PROXY_V1 ? 1
					      : -1;
}

static void raise_check_pp(int *want, const struct gen *gen, const struct be *be, int pp)
{
	int i = (int)(be - gen->bes);

	if (pp == BE_CHECK_PP_AUTO || (want[i] != BE_CHECK_PP_AUTO && pp > want[i]))
		want[i] = pp;
}

/* Every backend's checks follow the frontends that send to it: their
 * default backend and their use_backend targets. */
static void update_check_pp(struct gen *gen)
{
	int nbe = gen->nbe + gen->nbe_own;
	int want[nbe > 0 ? nbe : 1];

	for (int b = 0; b < nbe; b++)
		want[b] = -1;
	for (int f = 0; f < gen->nfe; f++) {
		const struct fe *fe = &gen->fes[f];
		int pp = check_pp_of(atomic_load(&fe->client_ip));
		int i = 0;
		raise_check_pp(want, gen, fe->be, pp);
		for (const struct cfg_use_backend *u = fe->conf->use_backends; u && fe->use_bes;
		     u = u->next, i++)
			raise_check_pp(want, gen, fe->use_bes[i], pp);
	}
	for (int b = 0; b < nbe; b++)
		atomic_store(&gen->bes[b].check_pp, want[b]);
}

void gen_set_client_ip(struct gen *gen, struct fe *fe, enum cfg_client_ip st)
{
	atomic_store(&fe->client_ip, st);
	update_check_pp(gen);
}

int gen_client_ip_allowed(const struct fe *fe, enum cfg_client_ip st)
{
	return st != CFG_CLIENT_IP_XFF || fe->conf->mode == CFG_MODE_HTTP;
}

const char *gen_cip_from_name(enum fe_cip_from from)
{
	static const char *const names[] = {"config", "runtime", "state-file"};

	return from <= FE_CIP_STATE_FILE ? names[from] : "?";
}

int gen_nbsrv(void *arg, const char *backend)
{
	const struct gen *gen = arg;

	for (int i = 0; i < gen->nbe; i++)
		if (strcmp(gen->bes[i].conf->name, backend) == 0)
			return be_nbsrv(&gen->bes[i]);
	return -1;
}

struct gen *gen_ref(struct gen *gen)
{
	atomic_fetch_add_explicit(&gen->refs, 1, memory_order_relaxed);
	return gen;
}

void gen_unref(struct gen *gen)
{
	if (gen && atomic_fetch_sub_explicit(&gen->refs, 1, memory_order_acq_rel) == 1)
		gen_free(gen);
}
