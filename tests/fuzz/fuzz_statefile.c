/* fuzz_statefile.c - libFuzzer target for the state files' line parsers.
 *
 * For every input, taken as one line (cut at the first NUL):
 *  - the answer is SKIP, OK or ERROR; ERROR always comes with a reason;
 *  - an OK record holds what a caller may trust: NUL-terminated names that
 *    fit, op state 0..3, weights 0..256, a port, a known PROXY mode;
 *  - the same line with a '\n' added gives the same answer;
 *  - a server line that is OK prints back (with its fields in HAProxy's
 *    order) into a line that parses to the same record.
 * Any inconsistency aborts.
 *
 * Built from this file + src/statefile.c only.
 */
#include <config.h>

#include "statefile.h"

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

static int strategy(const char *name)
{
	return !strcmp(name, "xff") ? 2 : !strcmp(name, "proxy-v2") ? 4 : -1;
}

static void check_server(const struct sf_server *r)
{
	CHECK(memchr(r->backend, '\0', sizeof(r->backend)) && r->backend[0]);
	CHECK(memchr(r->server, '\0', sizeof(r->server)) && r->server[0]);
	CHECK(memchr(r->addr, '\0', sizeof(r->addr)) && r->addr[0]);
	CHECK(r->op_state >= SF_OP_STOPPED && r->op_state <= SF_OP_STOPPING);
	CHECK(r->uweight >= 0 && r->uweight <= 256 && r->iweight >= 0 && r->iweight <= 256);
	CHECK(r->port >= 0 && r->port <= 65535 && r->health >= 0);
	CHECK(r->pp_mode == SF_PP_ABSENT || (r->pp_mode >= -1 && r->pp_mode <= 1));
}

static void roundtrip(const struct sf_server *r)
{
	static const char *const modes[] = {"unknown", "plain", "proxy"};
	char line[SF_LINE_MAX + 512];
	struct sf_server again;
	const char *why = NULL;
	int n = snprintf(line, sizeof(line),
			 "1 %s 1 %s %s %d %d %d %d 0 6 3 %d 6 0 0 0 - %d - 0 0 - - 0", r->backend,
			 r->server, r->addr, (int)r->op_state, r->admin, r->uweight, r->iweight,
			 r->health, r->port);

	if (r->pp_mode != SF_PP_ABSENT)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", modes[r->pp_mode + 1]);
	snprintf(line + n, sizeof(line) - (size_t)n, "\n");
	if (strlen(line) > SF_LINE_MAX)
		return;
	CHECK(sf_parse_server(line, &again, &why) == SF_OK);
	CHECK(!strcmp(again.backend, r->backend) && !strcmp(again.server, r->server));
	CHECK(!strcmp(again.addr, r->addr) && again.op_state == r->op_state);
	CHECK(again.admin == r->admin && again.uweight == r->uweight && again.iweight == r->iweight);
	CHECK(again.health == r->health && again.port == r->port && again.pp_mode == r->pp_mode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 2);
	struct sf_server r, r2;
	struct sf_client_ip c;
	const char *why = NULL;
	enum sf_result res, res2;
	size_t len;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	len = strlen(line);
	res = sf_parse_server(line, &r, &why);
	CHECK(res == SF_SKIP || res == SF_OK || res == SF_ERROR);
	if (res == SF_ERROR)
		CHECK(why && why[0]);
	if (res == SF_OK) {
		check_server(&r);
		roundtrip(&r);
	}
	if (len == 0 || line[len - 1] != '\n') {
		line[len] = '\n';
		line[len + 1] = '\0';
		res2 = sf_parse_server(line, &r2, &why);
		/* a '\n' makes the line one byte longer: only the limit may differ */
		CHECK(res2 == res || (res == SF_OK && strlen(line) > SF_LINE_MAX));
		line[len] = '\0';
	}
	(void)sf_server_version_ok(line);
	res = sf_parse_client_ip(line, strategy, &c, &why);
	CHECK(res == SF_SKIP || res == SF_OK || res == SF_ERROR);
	if (res == SF_OK)
		CHECK(c.frontend[0] && (c.runtime == 2 || c.runtime == 4) &&
		      (c.configured == 2 || c.configured == 4));
	free(line);
	return 0;
}
