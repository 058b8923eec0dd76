/* prom-render.c - how long prom_render() takes for a large configuration.
 *
 * Builds a generation of 100 frontends and 100 backends of 10 servers
 * each (checks on, counters non-zero), renders the whole exposition
 * RUNS times and prints the median, the 90th percentile and the size.
 * The target is a median under 5 ms. Run by contrib/bench/prom-render.sh.
 *
 *   prom-render [backends [servers [runs]]]
 */
#include <config.h>

#include "admin.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "prom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *config_text(int nbe, int nsrv)
{
	size_t cap = 256 + (size_t)nbe * (160 + (size_t)nsrv * 64), len = 0;
	char *t = malloc(cap);

	if (!t)
		return NULL;
	len += (size_t)snprintf(t + len, cap - len,
	                        "global\n maxconn 20000\ndefaults\n mode tcp\n timeout connect 1s\n"
	                        " timeout client 10s\n timeout server 10s\n");
	for (int b = 0; b < nbe; b++) {
		len += (size_t)snprintf(t + len, cap - len,
		                        "frontend fe%d\n bind 127.0.0.1:%d\n default_backend be%d\n"
		                        "backend be%d\n",
		                        b, 20000 + b, b, b);
		for (int s = 0; s < nsrv; s++)
			len += (size_t)snprintf(t + len, cap - len,
			                        " server srv%d 10.%d.%d.1:443 check weight %d\n", s,
			                        b / 256, b % 256, 1 + s % 3);
	}
	return t;
}

static struct gen *build(int nbe, int nsrv)
{
	char *text = config_text(nbe, nsrv);
	struct cfg *cfg = cfg_new();
	struct cfg_msgs msgs;
	char err[256];
	struct gen *gen;

	cfg_msgs_init(&msgs);
	if (!text || cfg_parse_text(cfg, "bench.cfg", text, strlen(text), &msgs) < 0 ||
	    cfg_finish(cfg, &msgs) < 0 || cfg_resolve(cfg, &msgs) < 0) {
		fprintf(stderr, "prom-render: the generated configuration does not parse\n");
		exit(1);
	}
	cfg_msgs_free(&msgs);
	free(text);
	gen = gen_new(cfg, err, sizeof(err));
	if (!gen) {
		fprintf(stderr, "prom-render: %s\n", err);
		exit(1);
	}
	/* counters of realistic width, and a check outcome per server */
	for (int b = 0; b < gen->nbe; b++)
		for (int s = 0; s < gen->bes[b].nsrv; s++) {
			struct srv *sv = &gen->bes[b].srvs[s];
			atomic_store(&sv->total_conns, 123456789ull + (unsigned)s);
			atomic_store(&sv->bytes_in, 98765432109ull);
			atomic_store(&sv->bytes_out, 1234567890ull);
			sv->last_check = strdup("Layer4 check passed");
		}
	return gen;
}

static double now_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int nbe = argc > 1 ? atoi(argv[1]) : 100;
	int nsrv = argc > 2 ? atoi(argv[2]) : 10;
	int runs = argc > 3 ? atoi(argv[3]) : 200;
	struct gen *gen;
	double *t, *cpu;
	size_t bytes = 0, lines = 0;

	if (nbe < 1 || nsrv < 1 || runs < 1) {
		fprintf(stderr, "usage: prom-render [backends [servers [runs]]]\n");
		return 2;
	}
	gen = build(nbe, nsrv);
	/* wall time, and the thread's CPU time: on a shared 2-core machine the
	 * difference is time spent preempted by others */
	t = calloc((size_t)runs, sizeof(*t));
	cpu = calloc((size_t)runs, sizeof(*cpu));
	if (!t || !cpu)
		return 1;
	for (int i = 0; i < runs; i++) {
		struct adm_out out = {0};
		double t0 = now_us(CLOCK_MONOTONIC), c0 = now_us(CLOCK_THREAD_CPUTIME_ID);
		prom_render(gen, NULL, 1000, &out);
		t[i] = now_us(CLOCK_MONOTONIC) - t0;
		cpu[i] = now_us(CLOCK_THREAD_CPUTIME_ID) - c0;
		if (out.truncated) {
			fprintf(stderr, "prom-render: the answer was truncated\n");
			return 1;
		}
		bytes = out.len;
		lines = 0;
		for (size_t k = 0; k < out.len; k++)
			lines += out.buf[k] == '\n';
		adm_out_free(&out);
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp_double);
	qsort(cpu, (size_t)runs, sizeof(*cpu), cmp_double);
	printf("prom_render: %d backends x %d servers, %zu lines, %zu bytes; %d runs: "
	       "median %.0f us, p90 %.0f us, min %.0f us (CPU: median %.0f us, p90 %.0f us)\n",
	       nbe, nsrv, lines, bytes, runs, t[runs / 2], t[runs * 9 / 10], t[0], cpu[runs / 2],
	       cpu[runs * 9 / 10]);
	free(t);
	free(cpu);
	gen_unref(gen);
	return 0;
}
