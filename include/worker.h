/* worker.h - worker threads: one event base each, with its own listening
 * sockets (SO_REUSEPORT) so the kernel spreads connections across them.
 * The main thread drives them only through wake-up events.
 */
#ifndef PPB_WORKER_H
#define PPB_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;
struct gen;
struct lsn;
struct stream;
struct srv_conn;

enum worker_cmd {
	WORKER_CMD_NONE = 0,
	WORKER_CMD_SOFT_STOP, /* stop accepting, exit when idle */
	WORKER_CMD_HARD_STOP, /* exit now */
	WORKER_CMD_RELOAD,    /* adopt next_gen and next_lsns */
};

struct worker {
	int id;
	pthread_t thread;
	struct event_base *base;
	struct gen *gen;      /* new streams start on this generation */
	struct gen *next_gen; /* a reload in flight (main thread -> worker) */
	struct lsn *next_lsns;
	atomic_int next_gen_pending;
	struct lsn *lsns;
	struct stream *streams; /* live streams, owned by stream.c */
	struct srv_conn *pool;  /* idle server connections (srv_conn.c) */
	unsigned npool;
	uint8_t *scratch;       /* one read's worth: bytes pass through it, */
	size_t scratch_len;     /* copied only if the peer cannot take them */
	uint8_t *hbuf;          /* room to rewrite one HTTP head */
	size_t hbuf_len;
	struct event *wake;   /* activated by the main thread */
	atomic_int cmd;
	atomic_uint nconns;   /* live streams (written by this thread) */
	unsigned maxconn;     /* this thread's share of global maxconn */
	int paused;           /* listeners disabled: maxconn reached */
	int fd_starved;       /* listeners disabled: accept() ran out of descriptors */
	struct event *accept_retry; /* tries blocked listeners again (listener.c) */
	int stopping;
	unsigned long long next_stream_id;
};

/* Open every bind of `gen` for `n` workers and start their threads.
 * Returns -1 with `err` filled when a socket cannot be opened; then no
 * thread was started. */
int workers_start(struct gen *gen, int n, char *err, size_t errlen);
void workers_command(enum worker_cmd cmd);
/* Wait for every worker thread to end and free them. */
void workers_join(void);
unsigned workers_conns(void);
/* Prepare every worker's sockets for `gen` (reusing unchanged ones), then
 * hand it over; the workers switch at their next turn. Returns -1 with
 * `err` filled and nothing changed when a socket cannot be opened or a
 * previous reload is still being applied. Main thread only. */
int workers_reload(struct gen *gen, char *err, size_t errlen);

/* Called by streams of worker `w` when one ends. */
void worker_stream_done(struct worker *w);
/* May `w` accept one more connection? Pauses its listeners when not. */
void worker_stream_started(struct worker *w);

#endif
