/* stats_hist.c - the last minute of client-IP paths, per frontend.
 *
 * Each frontend keeps, per slot, running totals that never go down: a
 * sample adds what its counters grew since the previous one, or their
 * whole value when they restarted (a new generation, or a counter lower
 * than before). The share over a window is then one subtraction.
 */
#include <config.h>

#include "stats_hist.h"

#include "cfg.h"
#include "gen.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct hist_fe {
	char *name;
	const void *gen_id; /* the generation of `last` */
	unsigned long long last[STATS_CTR_COUNT];
	unsigned long long total[STATS_HIST_SLOTS][STATS_CTR_COUNT];
	bool seen; /* in the sample being pushed */
};

struct stats_hist {
	uint64_t t[STATS_HIST_SLOTS]; /* when each slot was sampled */
	int head;                     /* the newest slot */
	int count;                    /* slots in use, 1..STATS_HIST_SLOTS */
	struct hist_fe *fes;
	int nfe;
	int cap;
};

struct stats_hist *stats_hist_new(uint64_t now_ms)
{
	struct stats_hist *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->t[0] = now_ms;
	h->count = 1;
	return h;
}

void stats_hist_free(struct stats_hist *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->nfe; i++)
		free(h->fes[i].name);
	free(h->fes);
	free(h);
}

static struct hist_fe *find_fe(const struct stats_hist *h, const char *name)
{
	for (int i = 0; i < h->nfe; i++)
		if (!strcmp(h->fes[i].name, name))
			return &h->fes[i];
	return NULL;
}

/* A frontend seen for the first time: zero in every slot, as it was
 * before it existed; its first sample counts its whole value. */
static struct hist_fe *add_fe(struct stats_hist *h, const char *name)
{
	struct hist_fe *e;

	if (h->nfe == h->cap) {
		int cap = h->cap ? h->cap * 2 : 8;
		struct hist_fe *n = realloc(h->fes, (size_t)cap * sizeof(*n));
		if (!n)
			return NULL;
		h->fes = n;
		h->cap = cap;
	}
	e = &h->fes[h->nfe];
	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	if (!e->name)
		return NULL;
	h->nfe++;
	return e;
}

/* What a counter grew by since the previous sample; a restarted counter
 * (new generation, or lower than before) grew by its whole value. */
static unsigned long long grown(unsigned long long now, unsigned long long last, int restarted)
{
	return restarted || now < last ? now : now - last;
}

static void record(struct hist_fe *e, int prev, int slot, const struct stats_obs *o)
{
	int restarted = e->gen_id != o->gen_id;

	for (int i = 0; i < STATS_CTR_COUNT; i++) {
		e->total[slot][i] = e->total[prev][i] + grown(o->ctr[i], e->last[i], restarted);
		e->last[i] = o->ctr[i];
	}
	e->gen_id = o->gen_id;
	e->seen = true;
}

/* Forget the frontends the sample did not name (gone with a reload). */
static void drop_unseen(struct stats_hist *h)
{
	for (int i = 0; i < h->nfe;) {
		if (h->fes[i].seen) {
			h->fes[i++].seen = false;
			continue;
		}
		free(h->fes[i].name);
		h->fes[i] = h->fes[--h->nfe];
	}
}

int stats_hist_push(struct stats_hist *h, uint64_t now_ms, const struct stats_obs *obs, int n)
{
	int prev = h->head;
	int slot = (prev + 1) % STATS_HIST_SLOTS;
	int rc = 0;

	h->head = slot;
	h->t[slot] = now_ms;
	if (h->count < STATS_HIST_SLOTS)
		h->count++;
	for (int i = 0; i < n; i++) {
		struct hist_fe *e = find_fe(h, obs[i].name);
		if (e && e->seen)
			continue; /* a name twice: the first one counts */
		if (!e)
			e = add_fe(h, obs[i].name);
		if (!e) {
			rc = -1; /* out of memory: this frontend waits for the next sample */
			continue;
		}
		record(e, prev, slot, &obs[i]);
	}
	drop_unseen(h);
	return rc;
}

int stats_hist_sample(struct stats_hist *h, const struct gen *gen, uint64_t now_ms)
{
	struct stats_obs *obs = calloc(gen->nfe > 0 ? (size_t)gen->nfe : 1, sizeof(*obs));
	int rc;

	if (!obs)
		return -1;
	for (int i = 0; i < gen->nfe; i++) {
		const struct fe_counters *c = &gen->fes[i].ctr;
		obs[i].name = gen->fes[i].conf->name;
		obs[i].gen_id = gen;
		obs[i].ctr[STATS_CTR_XFF] =
		    atomic_load_explicit(&c->path_xff, memory_order_relaxed);
		obs[i].ctr[STATS_CTR_PROXY] =
		    atomic_load_explicit(&c->path_proxy, memory_order_relaxed);
		obs[i].ctr[STATS_CTR_PLAIN] =
		    atomic_load_explicit(&c->path_plain, memory_order_relaxed);
		obs[i].ctr[STATS_CTR_CONNS] = atomic_load_explicit(&c->conns, memory_order_relaxed);
	}
	rc = stats_hist_push(h, now_ms, obs, gen->nfe);
	free(obs);
	return rc;
}

/* The oldest slot within a minute of the newest one. Timers fire a little
 * late, so twelve steps may span slightly more than 60 s: half a step of
 * slack keeps the minute twelve steps long instead of eleven. */
static int window_start(const struct stats_hist *h)
{
	int base = h->head;

	for (int k = 1; k < h->count; k++) {
		int s = (h->head - k + STATS_HIST_SLOTS) % STATS_HIST_SLOTS;
		if (h->t[s] > h->t[h->head] ||
		    h->t[h->head] - h->t[s] > STATS_HIST_WINDOW_MS + STATS_HIST_STEP_MS / 2)
			break;
		base = s;
	}
	return base;
}

void stats_pct(const unsigned long long *v, int n, unsigned *pct)
{
	unsigned long long sum = 0, rem[STATS_CTR_COUNT] = {0};
	unsigned given = 0;

	if (n > STATS_CTR_COUNT)
		n = STATS_CTR_COUNT;
	for (int i = 0; i < n; i++)
		sum += v[i];
	for (int i = 0; i < n; i++) {
		pct[i] = sum ? (unsigned)(v[i] * 100 / sum) : 0;
		rem[i] = sum ? v[i] * 100 % sum : 0;
		given += pct[i];
	}
	/* hand the points lost to rounding down to the largest remainders */
	while (sum && given < 100) {
		int best = 0;
		for (int i = 1; i < n; i++)
			if (rem[i] > rem[best])
				best = i;
		pct[best]++;
		rem[best] = 0;
		given++;
	}
}

int stats_hist_share(const struct stats_hist *h, const char *frontend, struct stats_share *out)
{
	const struct hist_fe *e = find_fe(h, frontend);
	int base;

	memset(out, 0, sizeof(*out));
	if (!e)
		return -1;
	base = window_start(h);
	out->known = true;
	out->window_ms = h->t[h->head] - h->t[base];
	for (int i = 0; i < STATS_CTR_COUNT; i++)
		out->n[i] = e->total[h->head][i] - e->total[base][i];
	for (int i = 0; i < STATS_PATHS; i++)
		out->paths += out->n[i];
	stats_pct(out->n, STATS_PATHS, out->pct);
	if (out->window_ms)
		out->rate_x100 = out->n[STATS_CTR_CONNS] * 100000ull / out->window_ms;
	return 0;
}
