/* probe_cli.c - `ppbridge probe`: which of plain, PROXY v1 and PROXY v2
 * does an endpoint accept? The same probes as `client-ip auto` runs, so an
 * operator sees what ppbridge would decide before flipping a VIP. */
#include <config.h>

#include "probe.h"

#include "net.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#define PROBE_CLI_USAGE                                                                     \
	"usage: ppbridge probe IP:PORT [ssl] [sni NAME] [timeout MS]\n"                    \
	"  ssl   the port speaks TLS: a probe is a completed handshake (not verified)\n" \
	"        without it: one HTTP request answered with a status other than 400\n"

struct probe_run;

struct probe_row {
	struct probe_run *run;
	const char *label;
	int version;
	enum probe_result result;
	char why[160];
	int done;
};

struct probe_run {
	struct event_base *base;
	struct probe_row rows[3];
	int pending;
};

static void row_done(void *arg, enum probe_result r, const char *why)
{
	struct probe_row *row = arg;

	row->result = r;
	snprintf(row->why, sizeof(row->why), "%s", why);
	row->done = 1;
	if (--row->run->pending == 0)
		event_base_loopbreak(row->run->base);
}

static int parse_args(int argc, char **argv, struct probe_spec *spec)
{
	char host[256];
	uint16_t port;
	const char *err = NULL;

	if (argc < 2 || net_split_host_port(argv[1], host, sizeof(host), &port, &err) < 0 ||
	    net_parse_ip(host, &spec->addr, &spec->addrlen) < 0 || port == 0) {
		fprintf(stderr, "ppbridge probe: %s: %s\n%s", argc < 2 ? "missing" : argv[1],
			err ? err : "expected a literal IP address and a port", PROBE_CLI_USAGE);
		return -1;
	}
	net_set_port((struct sockaddr *)&spec->addr, port);
	spec->kind = PROBE_HTTP;
	spec->timeout_ms = 3000;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "ssl")) {
			spec->kind = PROBE_TLS;
		} else if (!strcmp(argv[i], "sni") && i + 1 < argc) {
			spec->sni = argv[++i];
		} else if (!strcmp(argv[i], "timeout") && i + 1 < argc) {
			char *end;
			unsigned long ms = strtoul(argv[++i], &end, 10);
			if (*end || ms == 0 || ms > 60000) {
				fprintf(stderr, "ppbridge probe: timeout: 1..60000 ms\n");
				return -1;
			}
			spec->timeout_ms = (unsigned)ms;
		} else {
			fprintf(stderr, "ppbridge probe: unexpected '%s'\n%s", argv[i],
				PROBE_CLI_USAGE);
			return -1;
		}
	}
	return 0;
}

static const char *summary(const struct probe_run *run)
{
	enum probe_result plain = run->rows[0].result;
	int v1 = run->rows[1].result == PROBE_OK, v2 = run->rows[2].result == PROBE_OK;

	if (plain == PROBE_UNREACHABLE && run->rows[2].result == PROBE_UNREACHABLE)
		return "unreachable";
	if (plain == PROBE_OK && (v1 || v2))
		return "takes both plain and PROXY (auto: PROXY)";
	if (plain == PROBE_OK)
		return "plain only: keep client-ip xff/none (auto: plain)";
	if (v1 || v2)
		return "needs PROXY: ready for client-ip proxy-v1/v2 (auto: PROXY)";
	return "accepts nothing we tried";
}

int probe_main(int argc, char **argv)
{
	struct probe_spec spec = {0};
	struct probe_run run = {.rows = {{.label = "plain", .version = 0},
					 {.label = "PROXY v1", .version = 1},
					 {.label = "PROXY v2", .version = 2}}};
	char why[256], addr[NET_ADDRSTRLEN];
	SSL_CTX *ctx;
	int rc;

	if (parse_args(argc, argv, &spec) < 0)
		return 1;
	ctx = tls_client_ctx_new(NULL, 1, why, sizeof(why));
	run.base = event_base_new();
	if (!ctx || !run.base) {
		fprintf(stderr, "ppbridge probe: %s\n", ctx ? "cannot create an event base" : why);
		SSL_CTX_free(ctx);
		if (run.base)
			event_base_free(run.base);
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		run.rows[i].run = &run;
		spec.pp_version = run.rows[i].version;
		if (probe_start(run.base, ctx, &spec, row_done, &run.rows[i]))
			run.pending++;
		else
			snprintf(run.rows[i].why, sizeof(run.rows[i].why), "cannot start");
	}
	if (run.pending)
		event_base_dispatch(run.base);
	printf("%s (%s):\n", net_format_addr((struct sockaddr *)&spec.addr, addr, sizeof(addr)),
	       spec.kind == PROBE_TLS ? "TLS handshake" : "HTTP request");
	for (int i = 0; i < 3; i++)
		printf("  %-9s %-11s %s\n", run.rows[i].label,
		       run.rows[i].done ? probe_result_name(run.rows[i].result) : "error",
		       run.rows[i].why);
	printf("verdict: %s\n", summary(&run));
	rc = run.rows[0].result == PROBE_UNREACHABLE && run.rows[2].result == PROBE_UNREACHABLE ? 2 : 0;
	event_base_free(run.base);
	SSL_CTX_free(ctx);
	return rc;
}
