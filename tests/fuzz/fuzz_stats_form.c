/* fuzz_stats_form.c - libFuzzer target for the stats page's request
 * parsers (src/stats_form.c).
 *
 * Every input is both a POST body and a request target. Checked:
 *  - the body's answer is one of the known codes, each with a reason and
 *    an `st` code;
 *  - an OK form holds what the dispatcher may trust: NUL-terminated names
 *    within STATS_FORM_MAX_LEN, at least one server for a server action, a
 *    known action or strategy, a frontend for set-client-ip;
 *  - no name holds a NUL byte (a %00 is refused);
 *  - the target parses when it begins with the prefix, and not otherwise.
 * Any inconsistency aborts.
 *
 * Built from this file + src/stats_form.c only.
 */
#include <config.h>

#include "stats_form.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static struct stats_form F; /* 16 KiB: not on the stack */

static void check_name(const char *s)
{
	CHECK(memchr(s, '\0', STATS_FORM_MAX_LEN + 1) != NULL);
}

static void check_form(const struct stats_form *f)
{
	check_name(f->backend);
	check_name(f->frontend);
	CHECK(f->nservers >= 0 && f->nservers <= STATS_FORM_MAX_SERVERS);
	for (int i = 0; i < f->nservers; i++)
		check_name(f->servers[i]);
	if (f->kind == STATS_FORM_SERVERS) {
		CHECK(f->nservers > 0);
		CHECK(f->action <= STATS_ACT_MAINT);
		CHECK(strcmp(stats_form_action_name(f->action), "?") != 0);
	} else {
		CHECK(f->kind == STATS_FORM_CLIENT_IP);
		CHECK(f->frontend[0]);
		CHECK(f->client_ip >= CFG_CLIENT_IP_NONE && f->client_ip <= CFG_CLIENT_IP_AUTO);
	}
}

static void check_target(const uint8_t *data, size_t size)
{
	static const char prefix[] = "/stats";
	struct stats_uri u;
	int want = size >= 6 && !memcmp(data, prefix, 6) ? 0 : -1;

	CHECK(stats_uri_parse((const char *)data, size, prefix, &u) == want);
	if (want == 0)
		CHECK(u.st < STATS_ST_COUNT && strlen(stats_st_name(u.st)) == (u.st ? 4u : 0u));
	/* an empty prefix takes every target */
	CHECK(stats_uri_parse((const char *)data, size, "", &u) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum stats_form_rc rc = stats_form_parse((const char *)data, size, &F);

	CHECK(rc < STATS_FORM_RC_COUNT);
	CHECK(strcmp(stats_form_strerror(rc), "?") != 0);
	CHECK(rc == STATS_FORM_OK ? stats_form_st(rc) == STATS_ST_INIT
	                          : stats_form_st(rc) != STATS_ST_INIT);
	if (size > STATS_FORM_MAX_BODY)
		CHECK(rc == STATS_FORM_E_TOO_BIG);
	if (rc == STATS_FORM_OK)
		check_form(&F);
	check_target(data, size);
	return 0;
}
