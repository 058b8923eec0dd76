/* probe.c - one probe of a server's data port, with or without a PROXY
 * header in front (see probe.h). Plain sockets and libevent events; TLS
 * with an SSL object on the descriptor, as the data path does. */
#include <config.h>

#include "probe.h"

#include "cfg.h"
#include "check.h"
#include "proxy_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define PROBE_HTTP_REQUEST "HEAD / HTTP/1.0\r\nUser-Agent: ppbridge-probe\r\n\r\n"
/* A status line longer than this is not an answer. */
#define PROBE_LINE_MAX 512

enum probe_phase {
	PROBE_CONNECTING = 0,
	PROBE_HANDSHAKE,
	PROBE_SENDING,
	PROBE_READING,
};

struct probe {
	struct event_base *base;
	struct event *ev;       /* the socket: read or write, as the phase asks */
	struct event *deadline; /* the whole probe's time limit */
	struct event *report;   /* `done` runs from the loop, never inline */
	int fd;
	SSL *ssl;
	SSL_CTX *ctx;
	struct probe_spec spec;
	char *sni;
	enum probe_phase phase;
	size_t sent;            /* HTTP request bytes written */
	char line[PROBE_LINE_MAX];
	size_t line_len;
	int concluded;
	enum probe_result result;
	char why[160];
	probe_done_fn done;
	void *arg;
};

const char *probe_result_name(enum probe_result r)
{
	switch (r) {
	case PROBE_OK:
		return "accepted";
	case PROBE_REFUSED:
		return "refused";
	case PROBE_UNREACHABLE:
		return "unreachable";
	}
	return "?";
}

enum probe_vote probe_vote(enum probe_result plain, enum probe_result proxied)
{
	if (proxied == PROBE_OK)
		return PROBE_VOTE_PROXY;
	if (plain == PROBE_OK && proxied == PROBE_REFUSED)
		return PROBE_VOTE_PLAIN;
	/* Plain completed but PROXY never reached the server (or timed out
	 * before connecting): nothing proves it refuses PROXY. */
	return PROBE_VOTE_NONE;
}

int probe_http_answer(const char *buf, size_t len)
{
	int status = chk_parse_status(buf, len);

	if (status == 0)
		return len >= PROBE_LINE_MAX ? -1 : 0;
	if (status < 0 || status == 400)
		return -1;
	return 1;
}

static void probe_free(struct probe *p)
{
	if (p->ev)
		event_free(p->ev);
	if (p->deadline)
		event_free(p->deadline);
	if (p->report)
		event_free(p->report);
	SSL_free(p->ssl);
	if (p->fd >= 0)
		close(p->fd);
	free(p->sni);
	free(p);
}

static void report_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	probe_done_fn done = p->done;
	void *done_arg = p->arg;
	enum probe_result r = p->result;
	char why[sizeof(p->why)];

	memcpy(why, p->why, sizeof(why));
	probe_free(p);
	done(done_arg, r, why);
}

/* The outcome is known: stop all I/O now, tell the caller on the next
 * loop turn (so that `done` may start or cancel other probes freely). */
static void conclude(struct probe *p, enum probe_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void conclude(struct probe *p, enum probe_result r, const char *fmt, ...)
{
	va_list ap;

	event_del(p->ev);
	event_del(p->deadline);
	p->concluded = 1;
	p->result = r;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
	event_active(p->report, 0, 0);
}

static void on_io(evutil_socket_t fd, short what, void *arg);

static void arm(struct probe *p, short what)
{
	event_del(p->ev);
	event_assign(p->ev, p->base, p->fd, what | EV_PERSIST, on_io, p);
	event_add(p->ev, NULL);
}

static int send_header(struct probe *p)
{
	uint8_t hdr[PP_SEND_MAX];
	struct cfg_server none = {0};
	int n;

	if (!p->spec.pp_version)
		return 0;
	n = chk_build_proxy_header(&none, p->spec.pp_version, p->fd, hdr, sizeof(hdr));
	return n > 0 && send(p->fd, hdr, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

static void tls_step(struct probe *p)
{
	const char *reason = NULL;
	int ret, err;

	ERR_clear_error();
	errno = 0;
	ret = SSL_do_handshake(p->ssl);
	if (ret == 1) {
		conclude(p, PROBE_OK, "TLS handshake completed");
		return;
	}
	err = SSL_get_error(p->ssl, ret);
	if (err == SSL_ERROR_WANT_READ) {
		arm(p, EV_READ);
		return;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		arm(p, EV_WRITE);
		return;
	}
	if (err == SSL_ERROR_SYSCALL && errno != 0)
		conclude(p, PROBE_REFUSED, "TLS handshake: %s", strerror(errno));
	else if (err == SSL_ERROR_SSL && (reason = ERR_reason_error_string(ERR_peek_last_error())))
		conclude(p, PROBE_REFUSED, "TLS handshake: %s",
			 reason ? reason : "protocol error");
	else
		conclude(p, PROBE_REFUSED, "closed during the TLS handshake");
}

static void http_send(struct probe *p)
{
	const char *req = PROBE_HTTP_REQUEST;
	size_t len = sizeof(PROBE_HTTP_REQUEST) - 1;
	ssize_t n = send(p->fd, req + p->sent, len - p->sent, MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conclude(p, PROBE_REFUSED, "sending the request: %s", strerror(errno));
		return;
	}
	p->sent += (size_t)n;
	if (p->sent == len) {
		p->phase = PROBE_READING;
		arm(p, EV_READ);
	}
}

static void http_read(struct probe *p)
{
	ssize_t n = recv(p->fd, p->line + p->line_len, sizeof(p->line) - p->line_len, 0);
	int answer;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conclude(p, PROBE_REFUSED, "reset before an answer (%s)", strerror(errno));
		return;
	}
	if (n == 0) {
		conclude(p, PROBE_REFUSED, "closed without an answer");
		return;
	}
	p->line_len += (size_t)n;
	answer = probe_http_answer(p->line, p->line_len);
	if (answer > 0)
		conclude(p, PROBE_OK, "HTTP answer: %.12s", p->line);
	else if (answer < 0)
		conclude(p, PROBE_REFUSED, "HTTP answer: %.12s", p->line);
}

static void connected(struct probe *p)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
		conclude(p, PROBE_UNREACHABLE, "connect: %s", strerror(err ? err : errno));
		return;
	}
	if (send_header(p) < 0) {
		conclude(p, PROBE_REFUSED, "cannot send the PROXY header: %s", strerror(errno));
		return;
	}
	if (p->spec.kind == PROBE_HTTP) {
		p->phase = PROBE_SENDING;
		http_send(p);
		if (p->phase == PROBE_SENDING && !p->concluded)
			arm(p, EV_WRITE);
		return;
	}
	p->ssl = SSL_new(p->ctx);
	if (!p->ssl || SSL_set_fd(p->ssl, p->fd) != 1 ||
	    (p->sni && SSL_set_tlsext_host_name(p->ssl, p->sni) != 1)) {
		conclude(p, PROBE_REFUSED, "cannot start TLS");
		return;
	}
	SSL_set_connect_state(p->ssl);
	p->phase = PROBE_HANDSHAKE;
	tls_step(p);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	if (p->concluded)
		return;
	switch (p->phase) {
	case PROBE_CONNECTING:
		connected(p);
		return;
	case PROBE_HANDSHAKE:
		tls_step(p);
		return;
	case PROBE_SENDING:
		http_send(p);
		return;
	case PROBE_READING:
		http_read(p);
		return;
	}
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	if (p->phase == PROBE_CONNECTING)
		conclude(p, PROBE_UNREACHABLE, "connect timeout");
	else
		conclude(p, PROBE_REFUSED, "no answer in time (%s)",
			 p->phase == PROBE_HANDSHAKE ? "TLS handshake" : "HTTP");
}

struct probe *probe_start(struct event_base *base, SSL_CTX *ctx, const struct probe_spec *spec,
			  probe_done_fn done, void *arg)
{
	struct probe *p = calloc(1, sizeof(*p));
	struct timeval tv;

	if (!p)
		return NULL;
	p->fd = -1;
	p->base = base;
	p->ctx = ctx;
	p->spec = *spec;
	p->done = done;
	p->arg = arg;
	p->sni = spec->sni ? strdup(spec->sni) : NULL;
	p->spec.sni = NULL;
	p->ev = event_new(base, -1, 0, NULL, NULL);
	p->deadline = evtimer_new(base, deadline_cb, p);
	p->report = event_new(base, -1, 0, report_cb, p);
	p->fd = socket(spec->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!p->ev || !p->deadline || !p->report || p->fd < 0 || (spec->sni && !p->sni) ||
	    (spec->kind == PROBE_TLS && !ctx)) {
		probe_free(p);
		return NULL;
	}
	tv.tv_sec = spec->timeout_ms / 1000;
	tv.tv_usec = (spec->timeout_ms % 1000) * 1000;
	evtimer_add(p->deadline, &tv);
	if (connect(p->fd, (const struct sockaddr *)&spec->addr, spec->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		conclude(p, PROBE_UNREACHABLE, "connect: %s", strerror(errno));
		return p;
	}
	arm(p, EV_WRITE);
	return p;
}

void probe_cancel(struct probe *p)
{
	if (p)
		probe_free(p);
}
