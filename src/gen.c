/* gen.c - reference-counted configuration generations. */
#include <config.h>

#include "gen.h"

#include "backend.h"
#include "cfg.h"

#include <stdio.h>
#include <stdlib.h>

static void gen_free(struct gen *gen)
{
	for (int i = 0; i < gen->nbe; i++)
		be_destroy(&gen->bes[i]);
	free(gen->bes);
	free(gen->fes);
	cfg_free(gen->cfg);
	free(gen);
}

static struct be *find_be(struct gen *gen, const struct cfg_proxy *conf)
{
	for (int i = 0; i < gen->nbe; i++)
		if (gen->bes[i].conf == conf)
			return &gen->bes[i];
	return NULL;
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
		nbe += (px->caps & CFG_CAP_BE) != 0;
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
	}
	return gen;
oom:
	snprintf(err, errlen, "out of memory");
	gen_free(gen);
	return NULL;
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
