/* app.c - command line, start-up, signals and shutdown.
 *
 * The main thread owns the control plane: configuration, health checks
 * and signals, all on its own event base. Worker threads only move bytes.
 */
#include <config.h>

#include "app.h"

#include "admin.h"
#include "backend.h"
#include "cfg.h"
#include "check.h"
#include "gen.h"
#include "leaving.h"
#include "log.h"
#include "net.h"
#include "ppdump.h"
#include "detect.h"
#include "probe.h"
#include "proxy_proto.h"
#include "state.h"
#include "tls.h"
#include "web.h"
#include "worker.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define APP_MAX_FILES 64
/* Descriptors beyond two per connection: listeners, checks, logs, slack. */
#define APP_FD_RESERVE 256

struct app_opts {
	char *files[APP_MAX_FILES];
	int nfiles;
	int check_only;
	int debug;
	int verbose;
	int quiet;
	const char *pidfile;
};

static struct {
	struct app_opts opts; /* kept for reloads: the same -f files */
	time_t started;
	struct event_base *base;
	struct gen *gen;
	struct event *sig_term, *sig_int, *sig_usr1, *sig_hup, *stop_poll, *hard_stop;
	struct event *state_timer; /* writes the server state file after changes */
	int soft_stopping;
} app;

static int app_reload(char *msg, size_t len);

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ppbridge -f <cfgfile|cfgdir> [-f ...] [-c] [-d] [-V] [-q] [-p <pidfile>]\n"
		"       ppbridge -v\n"
		"       ppbridge pp-dump [-n COUNT] ADDR:PORT   (print received PROXY headers)\n"
		"       ppbridge ctl <socket> <command...>      (admin socket command)\n"
		"       ppbridge probe IP:PORT [ssl] [sni NAME] (plain / PROXY v1 / v2 accepted?)\n"
		"  -f  configuration file or directory (repeatable; read in order)\n"
		"  -c  check the configuration and exit (0 valid, 1 invalid)\n"
		"  -d  debug: foreground with debug messages and access logs on stderr\n"
		"  -V  verbose: also print notices\n"
		"  -q  quiet: print only errors\n"
		"  -p  write the process id to this file\n"
		"  -v  print the version and exit\n");
}

static int parse_args(int argc, char **argv, struct app_opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt(argc, argv, "f:cdVqp:vh")) != -1) {
		switch (c) {
		case 'f':
			if (o->nfiles == APP_MAX_FILES) {
				fprintf(stderr, "ppbridge: too many -f (max %d)\n", APP_MAX_FILES);
				return -1;
			}
			o->files[o->nfiles++] = optarg;
			break;
		case 'c':
			o->check_only = 1;
			break;
		case 'd':
			o->debug = 1;
			break;
		case 'V':
			o->verbose = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'p':
			o->pidfile = optarg;
			break;
		case 'v':
			printf("ppbridge version %s\n", PACKAGE_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ppbridge: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	if (o->nfiles == 0) {
		fprintf(stderr, "ppbridge: no configuration file given (-f)\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

/* Messages go to stderr, or for a reload into `sink` (errors only) so the
 * admin caller gets them too. */
static void print_msgs(const struct cfg_msgs *msgs, const struct app_opts *o, char *sink,
		       size_t sinklen)
{
	static const char *const tags[] = {"ALERT", "WARNING", "NOTICE"};

	for (const struct cfg_msg *m = msgs->head; m; m = m->next) {
		if (m->severity == CFG_SEV_NOTICE && !o->verbose)
			continue;
		if (m->severity != CFG_SEV_ERROR && o->quiet)
			continue;
		if (sink) {
			size_t used = strlen(sink);
			if (m->severity == CFG_SEV_ERROR && used < sinklen)
				snprintf(sink + used, sinklen - used, "%s\n", m->text);
			log_msg(m->severity == CFG_SEV_ERROR ? LOG_ALERT : LOG_WARNING, "%s",
				m->text);
			continue;
		}
		fprintf(stderr, "[%s] %s\n", tags[m->severity], m->text);
	}
}

/* What cfg checks cannot: that the TLS material of checks loads. */
static int validate_tls(const struct cfg *cfg)
{
	int bad = 0;

	for (const struct cfg_proxy *px = cfg->proxies; px; px = px->next) {
		for (const struct cfg_server *sv = px->servers; sv; sv = sv->next) {
			char err[512];
			if (!sv->check || !chk_uses_ssl(sv, px))
				continue;
			if (sv->verify != CFG_VERIFY_NONE && !sv->ca_file) {
				/* As HAProxy 2.6: no silent trust in the system store. */
				fprintf(stderr,
					"[ALERT] %s:%d: server '%s/%s': verify required needs a ca-file "
					"(or set verify none)\n",
					sv->where.file, sv->where.line, px->name, sv->name);
				bad = 1;
				continue;
			}
			SSL_CTX *ctx = tls_client_ctx_new(sv->ca_file, sv->verify == CFG_VERIFY_NONE,
							  err, sizeof(err));
			if (!ctx) {
				fprintf(stderr, "[ALERT] %s:%d: server '%s/%s': %s\n", sv->where.file,
					sv->where.line, px->name, sv->name, err);
				bad = 1;
				continue;
			}
			SSL_CTX_free(ctx);
		}
	}
	return bad ? -1 : 0;
}

/* A PROXY v2 header bigger than one TCP segment is randomly refused by
 * HAProxy 2.6 (it peeks once); the encoder refuses to build one. */
static void warn_pp_size(const struct cfg *cfg, const struct app_opts *o)
{
	for (const struct cfg_proxy *px = cfg->proxies; px && !o->quiet; px = px->next) {
		for (const struct cfg_server *sv = px->servers; sv; sv = sv->next) {
			size_t worst;
			if (sv->send_proxy != CFG_SEND_PROXY_V2)
				continue;
			worst = pp_v2_worst_case_size(sv->pp2_options, 0);
			if (worst <= PP_SEND_MAX)
				continue;
			fprintf(stderr,
				"[WARNING] %s:%d: server '%s/%s': proxy-v2-options can make a %zu-byte "
				"PROXY header, more than the %d bytes HAProxy 2.6 reads at once; a "
				"connection whose header would exceed it is closed\n",
				sv->where.file, sv->where.line, px->name, sv->name, worst, PP_SEND_MAX);
		}
	}
}

static struct cfg *load_config(const struct app_opts *o, char *sink, size_t sinklen)
{
	struct cfg *cfg = cfg_new();
	struct cfg_msgs msgs;
	int rc;

	if (!cfg) {
		fprintf(stderr, "[ALERT] out of memory\n");
		return NULL;
	}
	cfg_msgs_init(&msgs);
	rc = cfg_load_files(cfg, (char *const *)o->files, o->nfiles, &msgs);
	print_msgs(&msgs, o, sink, sinklen);
	cfg_msgs_free(&msgs);
	if (rc == 0)
		rc = validate_tls(cfg);
	if (rc == 0)
		warn_pp_size(cfg, o);
	if (rc < 0) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}

/* Raise the soft open-file limit to what maxconn needs (two descriptors a
 * connection plus a reserve); where the hard limit forbids it, lower
 * maxconn to what fits, with a warning, as HAProxy does: a maxconn the
 * process cannot honour would fail at EMFILE instead of queueing in the
 * kernel's backlog. */
static void fit_maxconn_to_nofile(struct cfg_global *g)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)g->maxconn * 2 + APP_FD_RESERVE;
	rlim_t reserve;
	unsigned fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	if (want > rl.rlim_max) {
		struct rlimit more = {want, want}; /* works with CAP_SYS_RESOURCE */
		if (setrlimit(RLIMIT_NOFILE, &more) == 0)
			return;
	}
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= want)
		return;
	reserve = rl.rlim_cur / 4 < APP_FD_RESERVE ? rl.rlim_cur / 4 : APP_FD_RESERVE;
	fit = (unsigned)((rl.rlim_cur - reserve) / 2);
	if (fit < 1)
		fit = 1;
	log_msg(LOG_WARNING,
		"maxconn %u needs %llu descriptors but the open-file limit is %llu: maxconn "
		"lowered to %u (raise LimitNOFILE= or ulimit -n)",
		g->maxconn, (unsigned long long)want, (unsigned long long)rl.rlim_cur, fit);
	g->maxconn = fit;
}

/* systemd's readiness protocol without libsystemd: one datagram. */
static void sd_notify_msg(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun,
		     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path)));
	close(fd);
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		log_msg(LOG_ERR, "cannot write pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	return 0;
}

/* ---- health checks ---- */

static int start_checks(struct gen *gen)
{
	for (int b = 0; b < gen->nbe; b++) {
		struct be *be = &gen->bes[b];
		for (int i = 0; i < be->nsrv; i++) {
			struct srv *srv = &be->srvs[i];
			char err[512];
			/* Every server can be probed: `client-ip auto` may come at run time. */
			if (!det_start(app.base, srv, err, sizeof(err))) {
				log_msg(LOG_ALERT, "server '%s/%s': cannot start PROXY detection: %s",
					be->conf->name, srv->conf->name, err);
				return -1;
			}
			if (!srv->conf->check)
				continue;
			srv->chk = chk_start(app.base, srv, err, sizeof(err));
			if (!srv->chk) {
				log_msg(LOG_ALERT, "%s:%d: server '%s/%s': cannot start checks: %s",
					srv->conf->where.file, srv->conf->where.line, be->conf->name,
					srv->conf->name, err);
				return -1;
			}
		}
	}
	return 0;
}

static void stop_checks(struct gen *gen)
{
	for (int b = 0; b < gen->nbe; b++)
		for (int i = 0; i < gen->bes[b].nsrv; i++) {
			struct srv *srv = &gen->bes[b].srvs[i];
			if (srv->chk)
				chk_stop(srv->chk);
			srv->chk = NULL;
			det_stop(srv->det);
		}
}

/* ---- signals ---- */

static void hard_stop(const char *why)
{
	log_msg(LOG_NOTICE, "%s: stopping now (%u live connections closed)", why, workers_conns());
	app.soft_stopping = 1; /* a reload arriving now is refused */
	sd_notify_msg("STOPPING=1");
	workers_command(WORKER_CMD_HARD_STOP);
	event_base_loopexit(app.base, NULL);
}

static void on_stop_poll(evutil_socket_t fd, short what, void *arg)
{
	if (workers_conns() == 0) {
		log_msg(LOG_NOTICE, "soft-stop: all connections finished, exiting");
		event_base_loopexit(app.base, NULL);
	}
}

static void on_hard_stop_timer(evutil_socket_t fd, short what, void *arg)
{
	hard_stop("hard-stop-after expired");
}

static void soft_stop(void)
{
	unsigned limit = app.gen->cfg->global.hard_stop_after_ms;
	struct timeval poll = {0, 100 * 1000};

	if (app.soft_stopping)
		return;
	app.soft_stopping = 1;
	log_msg(LOG_NOTICE, "SIGUSR1: soft-stop, no new connections; %u live ones finish%s",
		workers_conns(), limit ? " within hard-stop-after" : "");
	sd_notify_msg("STOPPING=1");
	workers_command(WORKER_CMD_SOFT_STOP);
	app.stop_poll = event_new(app.base, -1, EV_PERSIST, on_stop_poll, NULL);
	event_add(app.stop_poll, &poll);
	if (limit) {
		struct timeval tv = {.tv_sec = limit / 1000, .tv_usec = (limit % 1000) * 1000};
		app.hard_stop = evtimer_new(app.base, on_hard_stop_timer, NULL);
		evtimer_add(app.hard_stop, &tv);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	switch (sig) {
	case SIGTERM:
		hard_stop("SIGTERM");
		break;
	case SIGINT:
		hard_stop("SIGINT");
		break;
	case SIGUSR1:
		soft_stop();
		break;
	case SIGHUP: {
		char msg[2048];
		app_reload(msg, sizeof(msg));
		break;
	}
	default:
		break;
	}
}

static int setup_signals(void)
{
	signal(SIGPIPE, SIG_IGN);
	app.sig_term = evsignal_new(app.base, SIGTERM, on_signal, NULL);
	app.sig_int = evsignal_new(app.base, SIGINT, on_signal, NULL);
	app.sig_usr1 = evsignal_new(app.base, SIGUSR1, on_signal, NULL);
	app.sig_hup = evsignal_new(app.base, SIGHUP, on_signal, NULL);
	if (!app.sig_term || !app.sig_int || !app.sig_usr1 || !app.sig_hup)
		return -1;
	evsignal_add(app.sig_term, NULL);
	evsignal_add(app.sig_int, NULL);
	evsignal_add(app.sig_usr1, NULL);
	evsignal_add(app.sig_hup, NULL);
	return 0;
}

static void free_events(void)
{
	struct event **evs[] = {&app.sig_term,  &app.sig_int,   &app.sig_usr1,   &app.sig_hup,
				&app.stop_poll, &app.hard_stop, &app.state_timer};

	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (*evs[i])
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
}

/* ---- runtime state files ---- */

static void on_state_timer(evutil_socket_t fd, short what, void *arg)
{
	state_tick(app.gen);
	gen_tables_purge(); /* stick table entries past their expiry, once a second */
}

/* Server states change on any thread (checks, admin, the data path's
 * PROXY detection); the file follows within a second. */
static int start_state_timer(void)
{
	struct timeval tv = {1, 0};

	app.state_timer = event_new(app.base, -1, EV_PERSIST, on_state_timer, NULL);
	return app.state_timer && event_add(app.state_timer, &tv) == 0 ? 0 : -1;
}

/* ---- privileges ---- */

static int lookup_ids(const struct cfg_global *g, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	char *end;

	if (g->user) {
		struct passwd *pw = getpwnam(g->user);
		long v = strtol(g->user, &end, 10);
		if (pw) {
			*uid = pw->pw_uid;
			*gid = pw->pw_gid; /* the user's group unless `group` says otherwise */
		} else if (*end == '\0' && end != g->user) {
			*uid = (uid_t)v;
		} else {
			snprintf(err, errlen, "global 'user': no user '%s'", g->user);
			return -1;
		}
	}
	if (g->group) {
		struct group *gr = getgrnam(g->group);
		long v = strtol(g->group, &end, 10);
		if (gr)
			*gid = gr->gr_gid;
		else if (*end == '\0' && end != g->group)
			*gid = (gid_t)v;
		else {
			snprintf(err, errlen, "global 'group': no group '%s'", g->group);
			return -1;
		}
	}
	return 0;
}

/* Started by hand as root with `user`/`group`: give up root once every
 * socket is bound. A reload can then no longer bind new ports below 1024
 * or read files only root may read; under systemd use User=/Group= and
 * CAP_NET_BIND_SERVICE instead (see ppbridge(8)). */
static int drop_privileges(const struct cfg_global *g, char *err, size_t errlen)
{
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (!g->user && !g->group)
		return 0;
	if (geteuid() != 0) {
		log_msg(LOG_WARNING, "'user'/'group' ignored: not started as root");
		return 0;
	}
	if (lookup_ids(g, &uid, &gid, err, errlen) < 0)
		return -1;
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		snprintf(err, errlen, "cannot switch to uid %u gid %u: %s", (unsigned)uid,
			 (unsigned)gid, strerror(errno));
		return -1;
	}
	if (uid != 0 && setuid(0) == 0) {
		snprintf(err, errlen, "privileges could be regained after dropping them");
		return -1;
	}
	log_msg(LOG_NOTICE, "running as uid %u, gid %u", (unsigned)uid, (unsigned)gid);
	return 0;
}

/* ---- client-IP strategies chosen at run time ---- */

static struct fe *find_fe(struct gen *gen, const char *name)
{
	for (int i = 0; i < gen->nfe; i++)
		if (strcmp(gen->fes[i].conf->name, name) == 0)
			return &gen->fes[i];
	return NULL;
}

/* `set frontend <f> client-ip <st>` (admin hook): new connections of that
 * frontend take the new path at once; the choice is kept in
 * `client-ip-state`. */
static int app_set_client_ip(const char *frontend, enum cfg_client_ip st, char *msg, size_t len)
{
	struct fe *fe = app.gen ? find_fe(app.gen, frontend) : NULL;
	enum cfg_client_ip was;

	if (!fe) {
		snprintf(msg, len, "No such frontend.");
		return -1;
	}
	if (fe->be->nsrv == 0 && cfg_serves_itself(fe->conf)) {
		/* a monitoring listener: passed through, its page and monitor-uri
		 * would stop answering (keepalived would move the VIP) */
		snprintf(msg, len, "frontend %s only answers requests itself (stats, monitor-uri): "
			 "its client-ip does not change.", frontend);
		return -1;
	}
	if (st == CFG_CLIENT_IP_XFF && fe->conf->mode != CFG_MODE_HTTP) {
		snprintf(msg, len, "client-ip xff needs a 'mode http' frontend.");
		return -1;
	}
	was = (enum cfg_client_ip)atomic_load(&fe->client_ip);
	gen_set_client_ip(app.gen, fe, st);
	fe->cip_from = FE_CIP_RUNTIME;
	if (was != st)
		atomic_fetch_add(&fe->ctr.switches, 1);
	state_save_client_ip(app.gen);
	snprintf(msg, len, "frontend %s: client-ip %s -> %s (new connections; kept-alive ones "
		 "move over after their current response)", frontend, cfg_client_ip_name(was),
		 cfg_client_ip_name(st));
	log_msg(LOG_NOTICE, "%s", msg);
	return 0;
}

/* ---- reload ---- */

/* Admin hook: the generation new connections use now. */
static struct gen *app_current_gen(void)
{
	return app.gen;
}

/* Admin hook: a server's admin state changed; `monitor fail` may hold
 * (or stop holding) now. */
static void app_servers_changed(void)
{
	leaving_update(app.gen);
}

/* Admin hook, for `show info` and `show metrics`. */
static long app_uptime_seconds(void)
{
	return (long)(time(NULL) - app.started);
}

static void notify_reloading(void)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	sd_notify_msg(msg);
}

static int reload_fail(const char *why, char *msg, size_t len)
{
	size_t used = strlen(msg);

	if (why && used < len)
		snprintf(msg + used, len - used, "%s\n", why);
	log_msg(LOG_ALERT, "reload refused, the running configuration keeps serving: %s",
		why ? why : "configuration errors");
	sd_notify_msg("READY=1\nSTATUS=serving (last reload refused)");
	return -1;
}

/* Reload the configuration from the same -f files (SIGHUP, admin hook):
 * parse and build the new generation completely (TLS included) before
 * touching anything; on error the running one keeps serving. Returns 0
 * with a summary in `msg`, or -1 with the error(s) in `msg`. */
static int app_reload(char *msg, size_t len)
{
	char err[600];
	struct cfg *cfg;
	struct gen *gen;

	msg[0] = '\0';
	if (app.soft_stopping)
		return reload_fail("stopping", msg, len);
	notify_reloading();
	log_msg(LOG_NOTICE, "reload: reading the configuration again");
	cfg = load_config(&app.opts, msg, len);
	if (!cfg)
		return reload_fail(NULL, msg, len);
	gen = gen_new(cfg, err, sizeof(err)); /* certificates and CA files load here */
	if (!gen)
		return reload_fail(err, msg, len);
	state_carry(app.gen, gen);
	if (workers_reload(gen, err, sizeof(err)) < 0) {
		gen_unref(gen);
		return reload_fail(err, msg, len);
	}
	stop_checks(app.gen);
	if (start_checks(gen) < 0)
		log_msg(LOG_ALERT, "reload: some health checks could not start (see above)");
	log_set_targets(gen->cfg->global.logs);
	gen_unref(app.gen);
	app.gen = gen;
	state_save_client_ip(gen); /* the configuration may have dropped a runtime choice */
	state_save_servers(gen);
	leaving_update(gen); /* its monitor fail conditions may differ */
	snprintf(msg, len, "configuration reloaded: %d frontend%s, %d backend%s\n", gen->nfe,
		 gen->nfe == 1 ? "" : "s", gen->nbe, gen->nbe == 1 ? "" : "s");
	log_msg(LOG_NOTICE, "reload: %.*s; live connections finish on the previous one",
		(int)strlen(msg) - 1, msg);
	sd_notify_msg("READY=1\nSTATUS=serving");
	return 0;
}

/* ---- start and run ---- */

/* What the admin socket may ask of the application. */
static const struct adm_hooks admin_hooks = {
	.current_gen = app_current_gen,
	.reload = app_reload,
	.set_client_ip = app_set_client_ip,
	.uptime_seconds = app_uptime_seconds,
	.servers_changed = app_servers_changed,
};

static int run(struct cfg *cfg, const struct app_opts *o)
{
	char err[512];
	int rc = 1;
	int nbthread = cfg->global.nbthread > 0 ? cfg->global.nbthread : 1;
	const char *pidfile = o->pidfile ? o->pidfile : cfg->global.pidfile;

	if (cfg->global.daemon && getenv("INVOCATION_ID"))
		log_msg(LOG_NOTICE, "'daemon' ignored: running under systemd in the foreground");
	if (!cfg->global.maxconn)
		cfg->global.maxconn = CFG_DEFAULT_MAXCONN;
	fit_maxconn_to_nofile(&cfg->global);
	log_set_targets(cfg->global.logs);
	app.gen = gen_new(cfg, err, sizeof(err));
	if (!app.gen) {
		log_msg(LOG_ALERT, "%s", err);
		return 1;
	}
	state_load(app.gen);
	app.base = event_base_new();
	if (!app.base || setup_signals() < 0 || start_state_timer() < 0) {
		log_msg(LOG_ALERT, "cannot set up the main event loop");
		goto out;
	}
	if (web_start(app.base, &admin_hooks, err, sizeof(err)) < 0) {
		log_msg(LOG_ALERT, "%s", err);
		goto out;
	}
	if (workers_start(app.gen, nbthread, err, sizeof(err)) < 0) {
		log_msg(LOG_ALERT, "%s", err);
		workers_command(WORKER_CMD_HARD_STOP);
		workers_join();
		goto out;
	}
	if (adm_start(app.base, &app.gen->cfg->global, &admin_hooks, err, sizeof(err)) < 0) {
		log_msg(LOG_ALERT, "%s", err);
		workers_command(WORKER_CMD_HARD_STOP);
		workers_join();
		goto out;
	}
	if (drop_privileges(&app.gen->cfg->global, err, sizeof(err)) < 0) {
		log_msg(LOG_ALERT, "%s", err);
		adm_stop();
		workers_command(WORKER_CMD_HARD_STOP);
		workers_join();
		goto out;
	}
	if (start_checks(app.gen) < 0 || leaving_start(app.base, app_current_gen) < 0) {
		adm_stop();
		workers_command(WORKER_CMD_HARD_STOP);
		workers_join();
		goto out;
	}
	if (pidfile)
		write_pidfile(pidfile);
	log_msg(LOG_NOTICE, "ppbridge %s started: pid %d, %d thread%s, %d frontend%s",
		PACKAGE_VERSION, (int)getpid(), nbthread, nbthread > 1 ? "s" : "", app.gen->nfe,
		app.gen->nfe == 1 ? "" : "s");
	sd_notify_msg("READY=1\nSTATUS=serving");
	event_base_dispatch(app.base);
	adm_stop();
	workers_command(WORKER_CMD_HARD_STOP);
	workers_join();
	web_stop();
	stop_checks(app.gen);
	state_save_servers(app.gen);
	state_save_client_ip(app.gen);
	if (pidfile)
		unlink(pidfile);
	rc = 0;
out:
	web_stop();
	leaving_stop();
	free_events();
	if (app.base)
		event_base_free(app.base);
	app.base = NULL;
	gen_unref(app.gen);
	app.gen = NULL;
	return rc;
}

int app_main(int argc, char **argv)
{
	struct app_opts o;
	struct cfg *cfg;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "probe") == 0)
		return probe_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "pp-dump") == 0)
		return ppdump_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
		return adm_ctl_main(argc - 1, argv + 1);
	if (parse_args(argc, argv, &o) < 0)
		return 1;
	log_setup(o.debug, 1, o.quiet ? LOG_ERR : LOG_INFO);
	cfg = load_config(&o, NULL, 0);
	if (o.check_only) {
		char err[600];
		struct gen *gen = cfg ? gen_new(cfg, err, sizeof(err)) : NULL;
		/* TLS material loads here, as at start-up: -c catches a bad
		 * certificate or CA file too. */
		if (cfg && !gen)
			fprintf(stderr, "[ALERT] %s\n", err);
		if (!gen) {
			fprintf(stderr, "[ALERT] Fatal errors found in configuration.\n");
			return 1;
		}
		if (gen->cfg->global.user || gen->cfg->global.group) {
			uid_t uid = 0;
			gid_t gid = 0;
			if (lookup_ids(&gen->cfg->global, &uid, &gid, err, sizeof(err)) < 0) {
				fprintf(stderr, "[ALERT] %s\n[ALERT] Fatal errors found in configuration.\n",
					err);
				gen_unref(gen);
				return 1;
			}
		}
		gen_unref(gen);
		printf("Configuration file is valid\n");
		return 0;
	}
	if (!cfg) {
		log_msg(LOG_ALERT, "Fatal errors found in configuration.");
		return 1;
	}
	app.opts = o;
	app.started = time(NULL);
	if (evthread_use_pthreads() != 0) {
		log_msg(LOG_ALERT, "libevent has no pthreads support");
		cfg_free(cfg);
		return 1;
	}
	rc = run(cfg, &o);
	log_shutdown();
	libevent_global_shutdown();
	return rc;
}
