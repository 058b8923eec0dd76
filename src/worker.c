/* worker.c - worker threads, each running its own event base. */
#include <config.h>

#include "worker.h"

#include "cfg.h"
#include "gen.h"
#include "listener.h"
#include "log.h"
#include "srv_conn.h"
#include "stream.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* HAProxy's default buffer size: one read moves at most this much. */
#define WORKER_SCRATCH 16384

static struct worker *workers;
static int nworkers;

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	int cmd = atomic_exchange(&w->cmd, WORKER_CMD_NONE);

	if (cmd == WORKER_CMD_HARD_STOP) {
		w->stopping = 1;
		lsn_close_all(w);
		strm_kill_all(w);
		event_base_loopbreak(w->base);
		return;
	}
	if (cmd == WORKER_CMD_RELOAD && w->next_gen) {
		struct gen *old = w->gen;
		lsn_swap(w, w->next_lsns);
		w->next_lsns = NULL;
		w->gen = w->next_gen; /* new streams start here; live ones keep theirs */
		atomic_store(&w->next_gen_pending, 0);
		w->next_gen = NULL;
		conn_pool_flush(w); /* idle server connections of the old servers */
		gen_unref(old);
		return;
	}
	if (cmd == WORKER_CMD_SOFT_STOP && !w->stopping) {
		w->stopping = 1;
		lsn_close_all(w);
		if (atomic_load(&w->nconns) == 0)
			event_base_loopbreak(w->base);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

/* The epoll changelist merges the interest changes a callback makes on
 * one descriptor (connect done: stop writing, start reading) into one
 * epoll_ctl at the next wait. */
static struct event_base *new_base(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base;

	if (!ec)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

static int worker_init(struct worker *w, int id, struct gen *gen, unsigned maxconn, char *err,
		       size_t errlen)
{
	w->id = id;
	w->gen = gen_ref(gen);
	w->maxconn = maxconn;
	w->scratch_len = WORKER_SCRATCH;
	w->scratch = malloc(w->scratch_len);
	w->hbuf_len = 2 * WORKER_SCRATCH + 4096;
	w->hbuf = malloc(w->hbuf_len);
	if (!w->scratch || !w->hbuf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->base = new_base();
	if (!w->base) {
		snprintf(err, errlen, "cannot create an event base");
		return -1;
	}
	w->wake = event_new(w->base, -1, 0, on_wake, w);
	w->accept_retry = evtimer_new(w->base, lsn_on_retry, w);
	if (!w->wake || !w->accept_retry) {
		snprintf(err, errlen, "cannot create an event");
		return -1;
	}
	if (lsn_open_all(w, err, errlen) < 0)
		return -1;
	if (lsn_enable_all(w) < 0) {
		snprintf(err, errlen, "cannot attach listeners");
		return -1;
	}
	return 0;
}

static void worker_free(struct worker *w)
{
	if (w->next_gen) { /* a reload overtaken by a stop */
		lsn_discard(w->next_lsns);
		gen_unref(w->next_gen);
	}
	lsn_close_all(w);
	conn_pool_flush(w);
	if (w->wake)
		event_free(w->wake);
	if (w->accept_retry)
		event_free(w->accept_retry);
	if (w->base)
		event_base_free(w->base);
	gen_unref(w->gen);
	free(w->scratch);
	free(w->hbuf);
}

int workers_start(struct gen *gen, int n, char *err, size_t errlen)
{
	unsigned maxconn = gen->cfg->global.maxconn ? gen->cfg->global.maxconn : CFG_DEFAULT_MAXCONN;
	unsigned share = (maxconn + (unsigned)n - 1) / (unsigned)n;

	workers = calloc((size_t)n, sizeof(*workers));
	if (!workers) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	nworkers = n;
	for (int i = 0; i < n; i++) {
		if (worker_init(&workers[i], i, gen, share, err, errlen) < 0) {
			for (int j = 0; j <= i; j++)
				worker_free(&workers[j]);
			free(workers);
			workers = NULL;
			nworkers = 0;
			return -1;
		}
	}
	for (int i = 0; i < n; i++) {
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
			snprintf(err, errlen, "cannot start worker thread %d", i);
			/* Threads already running are stopped by the caller's hard stop. */
			nworkers = i;
			return -1;
		}
	}
	return 0;
}

void workers_command(enum worker_cmd cmd)
{
	for (int i = 0; i < nworkers; i++) {
		atomic_store(&workers[i].cmd, cmd);
		event_active(workers[i].wake, EV_READ, 0);
	}
}

void workers_join(void)
{
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i].thread, NULL);
	for (int i = 0; i < nworkers; i++)
		worker_free(&workers[i]);
	free(workers);
	workers = NULL;
	nworkers = 0;
}

int workers_reload(struct gen *gen, char *err, size_t errlen)
{
	struct lsn **lists = calloc((size_t)nworkers + 1, sizeof(*lists));

	if (!lists) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < nworkers; i++) {
		if (atomic_load(&workers[i].next_gen_pending) || workers[i].stopping) {
			snprintf(err, errlen, "a previous reload or a stop is still being applied");
			goto fail;
		}
	}
	for (int i = 0; i < nworkers; i++)
		if (lsn_prepare(&workers[i], gen, &lists[i], err, errlen) < 0)
			goto fail;
	for (int i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];
		w->next_lsns = lists[i];
		w->next_gen = gen_ref(gen);
		atomic_store(&w->next_gen_pending, 1);
		atomic_store(&w->cmd, WORKER_CMD_RELOAD);
		event_active(w->wake, EV_READ, 0);
	}
	free(lists);
	return 0;
fail:
	for (int i = 0; i < nworkers; i++)
		lsn_discard(lists[i]);
	free(lists);
	return -1;
}

unsigned workers_conns(void)
{
	unsigned total = 0;

	for (int i = 0; i < nworkers; i++)
		total += atomic_load(&workers[i].nconns);
	return total;
}

void worker_stream_started(struct worker *w)
{
	unsigned now = atomic_fetch_add(&w->nconns, 1) + 1;

	if (!w->paused && now >= w->maxconn) {
		w->paused = 1;
		lsn_update(w);
		log_msg(LOG_WARNING, "thread %d: maxconn share %u reached, pausing accepts", w->id,
			w->maxconn);
	}
}

void worker_stream_done(struct worker *w)
{
	unsigned now = atomic_fetch_sub(&w->nconns, 1) - 1;

	if (w->paused && now < w->maxconn) {
		w->paused = 0;
		lsn_update(w);
	}
	lsn_stream_done(w);
	if (w->stopping && now == 0)
		event_base_loopbreak(w->base);
}
