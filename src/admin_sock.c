/* admin_sock.c - the admin socket: a unix stream socket, its clients.
 *
 * Lines in and answers out on the main thread's event base with
 * bufferevents, so a slow or dead client costs a buffer, never a block.
 * Each command goes through adm_parse() and adm_exec(); what a command
 * does to its connection (prompt, quit, severity) is its row's `conn`.
 */
#include <config.h>

#include "admin.h"
#include "admin_int.h"

#include "cfg.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ADM_DEFAULT_TIMEOUT_MS 10000u /* HAProxy's `stats timeout` default */

struct adm_client {
	struct adm_client *next;
	struct bufferevent *bev;
	bool interactive;           /* `prompt` */
	enum adm_severity severity; /* `set severity-output` */
	bool closing;               /* answer queued; close once it is written */
};

static struct {
	struct event_base *base;
	struct evconnlistener *lsn;
	char *path;
	enum adm_level level;
	unsigned timeout_ms;
	struct adm_hooks app; /* the application, as given to adm_start() */
	struct adm_client *clients;
} adm;

static void client_free(struct adm_client *c)
{
	for (struct adm_client **p = &adm.clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	bufferevent_free(c->bev);
	free(c);
}

/* What a command does to its connection; -1 asks to close it. */
static int client_conn_op(struct adm_client *c, const struct adm_cmd *cmd)
{
	switch (cmd->kw->conn) {
	case ADM_CONN_KEEP:
		break;
	case ADM_CONN_PROMPT:
		c->interactive = !c->interactive;
		break;
	case ADM_CONN_QUIT:
		return -1;
	case ADM_CONN_SEVERITY:
		c->severity = cmd->severity;
		break;
	}
	return 0;
}

/* One command of a line: answer it; -1 asks to close the connection. */
static int client_command(struct adm_client *c, const char *text, struct evbuffer *wr)
{
	struct adm_cmd cmd;
	struct adm_out out = {0};
	char err[256];
	int rc = adm_parse(text, &cmd, err, sizeof(err));

	if (rc == 0 && !cmd.kw)
		return 0; /* the empty command has no answer */
	if (rc == 0 && client_conn_op(c, &cmd) < 0)
		return -1;
	if (rc == -2) {
		adm_printf(&out,
		           "Unknown command. Please enter one of the following commands only :\n");
		adm_help(&out);
	} else if (rc < 0) {
		adm_printf(&out, "%s\n", err);
	} else {
		rc = adm_exec(adm.app.current_gen(), &adm.app, &cmd, adm.level, &out);
	}
	if (rc < 0 && c->severity == ADM_SEVERITY_NUMBER)
		evbuffer_add_printf(wr, "[3]: ");
	if (out.len)
		evbuffer_add(wr, out.buf, out.len);
	if (out.truncated)
		evbuffer_add_printf(wr, "[answer truncated at %u bytes]\n", ADM_OUT_MAX);
	evbuffer_add(wr, "\n", 1); /* the empty line that ends an answer */
	adm_out_free(&out);
	return 0;
}

/* A whole line: its commands in order. Returns -1 to close after writing. */
static int client_line(struct adm_client *c, const char *line)
{
	struct evbuffer *wr = bufferevent_get_output(c->bev);
	/* Room for the longest accepted line: a command is never cut short
	 * (a cut `weight 100` would run as `weight 10`). */
	char cmd[ADM_LINE_MAX + 1];

	if (strlen(line) > ADM_LINE_MAX) {
		evbuffer_add_printf(wr, "Command line too long.\n\n");
		return -1;
	}
	while (adm_next_cmd(&line, cmd, sizeof(cmd)) == 0)
		if (client_command(c, cmd, wr) < 0)
			return -1;
	if (!c->interactive)
		return -1;
	evbuffer_add(wr, "> ", 2);
	return 0;
}

static void client_close_after_write(struct adm_client *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		client_free(c);
}

static void on_client_read(struct bufferevent *bev, void *arg)
{
	struct adm_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;

	while (!c->closing && (line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF))) {
		int rc = client_line(c, line);
		free(line);
		if (rc < 0) {
			client_close_after_write(c);
			return;
		}
	}
	if (!c->closing && evbuffer_get_length(in) > ADM_LINE_MAX) {
		evbuffer_add_printf(bufferevent_get_output(bev), "Command line too long.\n\n");
		client_close_after_write(c);
	}
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
	struct adm_client *c = arg;

	if (c->closing)
		client_free(c);
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct adm_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	/* `printf 'show stat' | socat`: a last line without '\n' still counts */
	if ((what & BEV_EVENT_EOF) && !c->closing && evbuffer_get_length(in) > 0) {
		size_t n = evbuffer_get_length(in);
		char *line = malloc(n + 1);
		if (line) {
			evbuffer_remove(in, line, n);
			line[n] = '\0';
			client_line(c, line);
			free(line);
		}
		client_close_after_write(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && c->closing)
		return; /* the client half-closed; our answer still goes out */
	client_free(c);
}

static void on_accept(struct evconnlistener *lsn, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
	struct adm_client *c = calloc(1, sizeof(*c));
	struct timeval tv = {adm.timeout_ms / 1000, (adm.timeout_ms % 1000) * 1000};

	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->bev = bufferevent_socket_new(adm.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->next = adm.clients;
	adm.clients = c;
	/* an idle or stuck client is dropped after `stats timeout` */
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	/* input is bounded too: reading pauses at two lines' worth */
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * ADM_LINE_MAX);
	bufferevent_setcb(c->bev, on_client_read, on_client_write, on_client_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static int socket_owner(const struct cfg_global *g, char *err, size_t errlen)
{
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;

	if (g->stats_user) {
		struct passwd *pw = getpwnam(g->stats_user);
		if (!pw) {
			snprintf(err, errlen, "stats socket: unknown user '%s'", g->stats_user);
			return -1;
		}
		uid = pw->pw_uid;
	}
	if (g->stats_group) {
		struct group *gr = getgrnam(g->stats_group);
		if (!gr) {
			snprintf(err, errlen, "stats socket: unknown group '%s'", g->stats_group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if ((g->stats_user || g->stats_group) && chown(g->stats_socket, uid, gid) != 0) {
		snprintf(err, errlen, "stats socket %s: chown: %s", g->stats_socket,
		         strerror(errno));
		return -1;
	}
	return 0;
}

/* A stale socket file from a previous run is replaced; any other file is
 * left alone (a typo in the path must not delete someone's data). */
static int bind_unix(const char *path, unsigned mode, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "stats socket %s: path too long", path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "stats socket %s: exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, mode) != 0 || listen(fd, 16) != 0) {
		snprintf(err, errlen, "stats socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int adm_start(struct event_base *base, const struct cfg_global *g, const struct adm_hooks *app,
              char *err, size_t errlen)
{
	int fd;

	if (!g->stats_socket)
		return 0;
	fd = bind_unix(g->stats_socket, g->stats_mode ? g->stats_mode : 0600, err, errlen);
	if (fd < 0)
		return -1;
	adm.base = base;
	adm.app = *app;
	adm.level = g->stats_level;
	adm.timeout_ms = g->stats_timeout_ms ? g->stats_timeout_ms : ADM_DEFAULT_TIMEOUT_MS;
	adm.path = strdup(g->stats_socket);
	adm.lsn = evconnlistener_new(base, on_accept, NULL, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!adm.path || !adm.lsn || socket_owner(g, err, errlen) < 0) {
		if (!adm.lsn) {
			close(fd);
			snprintf(err, errlen, "stats socket %s: cannot listen", g->stats_socket);
		}
		adm_stop();
		return -1;
	}
	return 0;
}

void adm_stop(void)
{
	while (adm.clients)
		client_free(adm.clients);
	if (adm.lsn)
		evconnlistener_free(adm.lsn);
	if (adm.path)
		unlink(adm.path);
	free(adm.path);
	memset(&adm, 0, sizeof(adm));
}
