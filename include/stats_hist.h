/* stats_hist.h - the last minute of client-IP paths, per frontend.
 *
 * The counters of a frontend (gen.h, fe_counters) only grow, and only
 * within one generation: a reload builds new frontends whose counters
 * start at zero. The stats page wants "of the new connections of the last
 * minute, how many went each way", so the main thread samples the
 * counters every STATS_HIST_STEP_MS into a ring of STATS_HIST_SLOTS
 * slots, and the share is the difference between the newest slot and the
 * one a minute older (or the first one, when the process is younger).
 *
 * Frontends are matched by name from sample to sample, so a reload keeps
 * their history: a counter that went down (or a new generation) counts
 * from zero again, never as a negative number. A frontend that is gone
 * from the configuration is forgotten; one that appears starts from zero.
 *
 * Main thread only; no I/O. stats_hist_push() and stats_hist_share() are
 * pure and take synthetic values in the unit tests; stats_hist_sample()
 * reads a generation's counters and pushes them.
 */
#ifndef PPB_STATS_HIST_H
#define PPB_STATS_HIST_H

#include <stdbool.h>
#include <stdint.h>

struct gen;
struct stats_hist;

#define STATS_HIST_STEP_MS 5000u /* the caller's timer: one sample every 5 s */
#define STATS_HIST_SLOTS 13      /* 12 steps: one minute, and its start */
#define STATS_HIST_WINDOW_MS 60000u

/* The counters kept, in this order in every array below. */
enum stats_ctr {
	STATS_CTR_XFF = 0, /* fe_counters.path_xff */
	STATS_CTR_PROXY,   /* fe_counters.path_proxy */
	STATS_CTR_PLAIN,   /* fe_counters.path_plain */
	STATS_CTR_CONNS,   /* fe_counters.conns */
	STATS_CTR_COUNT
};
#define STATS_PATHS 3 /* the first three counters are the paths */

/* One frontend's counters at a sample. `gen_id` tells generations apart
 * (the generation's address; compared, never dereferenced). */
struct stats_obs {
	const char *name;
	const void *gen_id;
	unsigned long long ctr[STATS_CTR_COUNT];
};

/* What a frontend did over the window. */
struct stats_share {
	bool known;                            /* the frontend was in the last sample */
	uint64_t window_ms;                    /* the time the figures cover (0: no sample yet) */
	unsigned long long n[STATS_CTR_COUNT]; /* new ones in the window */
	unsigned long long paths;              /* n[XFF] + n[PROXY] + n[PLAIN] */
	/* Percent of `paths` per path, 0..100, summing to 100 when paths > 0
	 * (largest remainders), all 0 when paths == 0. */
	unsigned pct[STATS_PATHS];
	/* New connections per second over the window, times 100 (two
	 * decimals without floating point). */
	unsigned long long rate_x100;
};

/* A ring whose first slot, all zeros, is at `now_ms` (the start: every
 * counter was zero then). NULL when out of memory. */
struct stats_hist *stats_hist_new(uint64_t now_ms);
void stats_hist_free(struct stats_hist *h);

/* Record one sample: the frontends of the configuration in force and
 * their counters now. Frontends not in `obs` are dropped. Returns 0, or
 * -1 when out of memory (the sample is then lost, the ring unchanged). */
int stats_hist_push(struct stats_hist *h, uint64_t now_ms, const struct stats_obs *obs, int n);

/* stats_hist_push() with the counters of `gen`'s frontends (main thread;
 * the caller's timer every STATS_HIST_STEP_MS). Calling it once more just
 * before a reload swaps the generation catches the last seconds of the
 * old one; without it they are lost (at most one step). */
int stats_hist_sample(struct stats_hist *h, const struct gen *gen, uint64_t now_ms);

/* The share of `frontend` over the last minute, as of the newest sample.
 * Returns 0, or -1 when the frontend is unknown (out->known false, all
 * zero). */
int stats_hist_share(const struct stats_hist *h, const char *frontend, struct stats_share *out);

/* Percentages of `n` values (n <= STATS_CTR_COUNT) that sum to 100
 * (largest remainder; ties to the first). All 0 when the values sum to 0.
 * Pure; exposed for the page and the tests. */
void stats_pct(const unsigned long long *v, int n, unsigned *pct);

#endif
