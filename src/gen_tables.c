/* gen_tables.c - the stick tables of the generations.
 *
 * A reload must not hand every client a fresh allowance: a table whose
 * definition (name, type, size, expire, store) is unchanged is shared by
 * the new generation, entries and all; a changed one starts empty. A
 * registry of the live tables, with a count of the generations using
 * each, does the matching. HAProxy keeps entries over a reload only with
 * `peers`; ppbridge does it by itself, in one process.
 */
#include <config.h>

#include "gen.h"

#include "cfg.h"
#include "stktable.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct live_table {
	struct live_table *next;
	struct stktable *t;
	int gens; /* generations holding it */
};

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct live_table *live;

static int same_definition(const struct stktable *t, const struct cfg_proxy *px)
{
	const struct cfg_stick_table *st = &px->stick;

	if (strcmp(t->name, px->name) != 0 || (int)t->type != st->type || t->size != st->size ||
	    t->expire_ms != st->expire_ms || t->store != st->store)
		return 0;
	for (int d = 0; d < STK_NDATA; d++)
		if ((st->store & (1u << d)) && t->period_ms[d] != st->period_ms[d])
			return 0;
	return 1;
}

/* A live table with px's definition, or a new one (live_lock held). */
static struct stktable *take(const struct cfg_proxy *px)
{
	struct live_table *l;

	for (l = live; l; l = l->next)
		if (same_definition(l->t, px)) {
			l->gens++;
			return l->t;
		}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->t = stk_new(px->name, (enum stk_type)px->stick.type, px->stick.size, px->stick.expire_ms,
	               px->stick.store, px->stick.period_ms);
	l->gens = 1;
	l->next = live;
	live = l;
	return l->t;
}

static void give_back(struct stktable *t)
{
	for (struct live_table **pp = &live; *pp; pp = &(*pp)->next) {
		struct live_table *l = *pp;
		if (l->t != t)
			continue;
		if (--l->gens == 0) {
			*pp = l->next;
			stk_free(l->t);
			free(l);
		}
		return;
	}
}

int gen_tables_build(struct gen *gen)
{
	int n = 0;

	for (const struct cfg_proxy *px = gen->cfg->proxies; px; px = px->next)
		n += px->stick.declared;
	if (!n)
		return 0;
	gen->tables = calloc((size_t)n, sizeof(*gen->tables));
	if (!gen->tables)
		return -1;
	pthread_mutex_lock(&live_lock);
	for (const struct cfg_proxy *px = gen->cfg->proxies; px; px = px->next) {
		if (!px->stick.declared)
			continue;
		gen->tables[gen->ntables].px = px;
		if (!(gen->tables[gen->ntables].t = take(px)))
			break;
		gen->ntables++;
	}
	pthread_mutex_unlock(&live_lock);
	return gen->ntables == n ? 0 : -1;
}

void gen_tables_free(struct gen *gen)
{
	pthread_mutex_lock(&live_lock);
	for (int i = 0; i < gen->ntables; i++)
		give_back(gen->tables[i].t);
	pthread_mutex_unlock(&live_lock);
	free(gen->tables);
	gen->tables = NULL;
	gen->ntables = 0;
}

struct stktable *gen_table_of(const struct gen *gen, const struct cfg_proxy *px)
{
	for (int i = 0; i < gen->ntables; i++)
		if (gen->tables[i].px == px)
			return gen->tables[i].t;
	return NULL;
}

struct stktable *gen_table_named(const struct gen *gen, const char *name)
{
	for (int i = 0; i < gen->ntables; i++)
		if (strcmp(gen->tables[i].t->name, name) == 0)
			return gen->tables[i].t;
	return NULL;
}

uint32_t gen_tables_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

void gen_tables_purge(void)
{
	uint32_t now = gen_tables_now();

	pthread_mutex_lock(&live_lock);
	for (struct live_table *l = live; l; l = l->next)
		stk_purge(l->t, now);
	pthread_mutex_unlock(&live_lock);
}
