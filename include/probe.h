/* probe.h - does a server's data port take a PROXY header?
 *
 * One probe connects, sends an optional PROXY header (v1: a real line
 * from the socket's own addresses; v2: LOCAL), then completes one
 * exchange: a TLS handshake, or one HTTP request answered with a status
 * line. A bare TCP connect proves nothing (a router with or without
 * `accept-proxy` accepts it), so only a completed exchange counts.
 *
 * `client-ip auto` runs two probes per server and check interval (with
 * PROXY v2 and without) and turns the pair into a vote (probe_vote());
 * `ppbridge probe` runs three (plain, v1, v2) and prints them.
 */
#ifndef PPB_PROBE_H
#define PPB_PROBE_H

#include <stddef.h>
#include <sys/socket.h>

struct event_base;
typedef struct ssl_ctx_st SSL_CTX;

enum probe_kind {
	PROBE_TLS = 0, /* a TLS handshake (no certificate verification: only acceptance) */
	PROBE_HTTP,    /* HEAD / HTTP/1.0, any status line but 400 */
};

enum probe_result {
	PROBE_OK = 0,      /* the exchange completed */
	PROBE_REFUSED,     /* connected, then reset, closed, 400 or no answer */
	PROBE_UNREACHABLE, /* no TCP connection: says nothing about PROXY */
};

struct probe_spec {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int pp_version;       /* 0: no header, 1 or 2 */
	enum probe_kind kind;
	const char *sni;      /* PROBE_TLS: server name to send, or NULL */
	unsigned timeout_ms;  /* the whole probe */
};

/* What a pair of probes means for the server's mode. */
enum probe_vote {
	PROBE_VOTE_NONE = 0, /* neither completed (or nothing learnt): keep the mode */
	PROBE_VOTE_PLAIN,
	PROBE_VOTE_PROXY,    /* PROXY completed (a server that takes both: PROXY wins,
	                      * it carries the client address) */
};

typedef void (*probe_done_fn)(void *arg, enum probe_result result, const char *why);

struct probe;

/* Start a probe on `base`; `done` is called once, from the event loop
 * (never from inside probe_start). `ctx` is used for PROBE_TLS and must
 * outlive the probe. Returns NULL when it cannot even start. */
struct probe *probe_start(struct event_base *base, SSL_CTX *ctx, const struct probe_spec *spec,
			  probe_done_fn done, void *arg);
/* Abandon a probe that has not reported: `done` is not called. */
void probe_cancel(struct probe *p);

/* `ppbridge probe IP:PORT [ssl] [sni NAME] [timeout MS]`; exit status:
 * 0 reachable, 1 usage, 2 unreachable. */
int probe_main(int argc, char **argv);

/* pure */
enum probe_vote probe_vote(enum probe_result plain, enum probe_result proxied);
const char *probe_result_name(enum probe_result r);
/* An HTTP probe's answer so far: 1 a status line other than 400, 0 need
 * more, -1 refused (400, or not HTTP). */
int probe_http_answer(const char *buf, size_t len);

#endif
