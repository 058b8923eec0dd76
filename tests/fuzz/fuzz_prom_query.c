/* fuzz_prom_query.c - libFuzzer target for the metrics query parser.
 *
 * For every input, taken as a query string (cut at the first NUL):
 *  - on error the options are untouched;
 *  - on success only known scope bits are set;
 *  - what follows a '#' changes nothing;
 *  - appending "&scope=" always succeeds on a good query and leaves no
 *    scope; appending "&no-maint" sets no_maint and keeps the scopes.
 * Any inconsistency aborts.
 *
 * Built from this file + src/prom_query.c only.
 */
#include <config.h>

#include "prom_query.h"

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

static int parse_with(const char *q, const char *suffix, struct prom_opts *o)
{
	size_t n = strlen(q), m = strlen(suffix);
	char *s = malloc(n + m + 1);
	int rc;

	CHECK(s);
	memcpy(s, q, n);
	memcpy(s + n, suffix, m + 1);
	rc = prom_parse_query(s, o);
	free(s);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *q = malloc(size + 1);
	struct prom_opts o = {.scopes = 0xdead, .no_maint = true}, o2;
	int rc;

	CHECK(q);
	memcpy(q, data, size);
	q[size] = '\0';
	rc = prom_parse_query(q, &o);
	CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		CHECK(o.scopes == 0xdead && o.no_maint);
		free(q);
		return 0;
	}
	CHECK((o.scopes & ~PROM_SCOPE_ALL) == 0);
	if (!strchr(q, '#')) {
		CHECK(parse_with(q, "#scope=nonsense", &o2) == 0);
		CHECK(o2.scopes == o.scopes && o2.no_maint == o.no_maint);
		CHECK(parse_with(q, "&scope=", &o2) == 0);
		CHECK(o2.scopes == 0 && o2.no_maint == o.no_maint);
		CHECK(parse_with(q, "&no-maint", &o2) == 0);
		CHECK(o2.scopes == o.scopes && o2.no_maint);
	}
	free(q);
	return 0;
}
