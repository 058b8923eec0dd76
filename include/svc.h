/* svc.h - requests ppbridge answers itself: the stats page and the
 * Prometheus exposition ("applets" in HAProxy's words).
 *
 * A worker's stream recognises such a request (stream_svc.c), copies what
 * the answer depends on into a struct svc_req and hands it to the main
 * thread, which renders it from the counters (web.c) and hands it back;
 * the stream then sends the answer and goes on with the connection's next
 * request. The rendering never runs on a worker: a page of a thousand
 * servers must not stall the connections the worker carries. monitor-uri
 * needs no rendering and is answered on the worker.
 *
 * Ownership: the worker allocates the request; between svc_submit() and
 * the answer coming back only the main thread touches it; a stream that
 * ends meanwhile marks it `orphan` (on the worker) and the worker frees it
 * when it comes back.
 */
#ifndef PPB_SVC_H
#define PPB_SVC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cfg_proxy;
struct gen;
struct stream;
struct worker;

enum svc_kind {
	SVC_NONE = 0,
	SVC_MONITOR,    /* monitor-uri (answered on the worker) */
	SVC_PROMETHEUS, /* http-request use-service prometheus-exporter */
	SVC_STATS,      /* stats uri */
	SVC_DENY,       /* http-request deny (stream_stick.c) */
	SVC_TARPIT,     /* http-request tarpit: held, then answered */
};

/* The request fields a service reads, NUL-terminated copies (NULL: absent). */
enum svc_hdr {
	SVC_HDR_AUTHORIZATION = 0,
	SVC_HDR_ORIGIN,
	SVC_HDR_REFERER,
	SVC_HDR_HOST,
	SVC_HDR_CONTENT_TYPE,
	SVC_HDR_COUNT,
};

#define SVC_BODY_MAX 16384 /* a stats form; larger POST bodies get 413 */

struct svc_req {
	/* Set by the worker; read-only for the main thread. */
	enum svc_kind kind;
	struct gen *gen;            /* the stream's generation (a reference) */
	const struct cfg_proxy *px; /* whose `stats` settings apply */
	struct sockaddr_storage src; /* the client (after a PROXY header) */
	int tls;                    /* the request came over TLS */
	int head;                   /* HEAD: the answer has no body */
	int post;                   /* POST (else GET or HEAD) */
	int close;                  /* the connection closes after the answer */
	char *target;               /* the request-target as received */
	char *hdr[SVC_HDR_COUNT];
	uint8_t *body;              /* POST: the body (at most SVC_BODY_MAX) */
	size_t body_len;
	/* Set by the main thread: a whole HTTP/1.1 response. */
	char *answer;
	size_t answer_len;
	int status;
	/* The worker's. */
	struct worker *w;
	struct stream *s;
	int orphan; /* the stream ended before the answer came back */
};

/* Who renders (the main thread's web.c, given by app.c at start): takes
 * the request, later calls svc_answered() with it from the main thread.
 * Without a renderer every such request gets 503. */
void svc_set_renderer(void (*render)(struct svc_req *req));

/* The main thread is done with `req` (answer set, or NULL for a 500):
 * it goes back to its worker. Main thread. */
void svc_answered(struct svc_req *req);

void svc_req_free(struct svc_req *req);

#endif
