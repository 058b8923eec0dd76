/* gen_fixture.h - a generation built from configuration text, for the
 * suites that test what reads one (admin answers, metrics). */
#ifndef PPB_GEN_FIXTURE_H
#define PPB_GEN_FIXTURE_H

#include <check.h>
#include <string.h>

#include "backend.h"
#include "cfg.h"
#include "gen.h"

/* Parse, finish, resolve and build `text`; every step must succeed. */
static inline struct gen *fixture_gen(const char *text)
{
	struct cfg *cfg = cfg_new();
	struct cfg_msgs msgs;
	struct gen *gen;
	char err[256];

	cfg_msgs_init(&msgs);
	ck_assert_int_eq(cfg_parse_text(cfg, "t.cfg", text, strlen(text), &msgs), 0);
	ck_assert_int_eq(cfg_finish(cfg, &msgs), 0);
	ck_assert_int_eq(cfg_resolve(cfg, &msgs), 0);
	cfg_msgs_free(&msgs);
	gen = gen_new(cfg, err, sizeof(err));
	ck_assert_msg(gen != NULL, "%s", err);
	return gen;
}

/* Server `sv` of backend `be` in `gen` (the test fails without it). */
static inline struct srv *fixture_srv(struct gen *gen, const char *be, const char *sv)
{
	for (int b = 0; b < gen->nbe; b++)
		for (int i = 0; i < gen->bes[b].nsrv; i++)
			if (!strcmp(gen->bes[b].conf->name, be) &&
			    !strcmp(gen->bes[b].srvs[i].conf->name, sv))
				return &gen->bes[b].srvs[i];
	ck_abort_msg("no server %s/%s", be, sv);
	return NULL;
}

#endif
