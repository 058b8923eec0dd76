/* test_admin.c - the admin socket's parser and answers (no socket). */
#include <config.h>

#include "gen_fixture.h"
#include "admin.h"
#include "backend.h"
#include "cfg.h"
#include "gen.h"
#include "refusals.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Captured from HAProxy 2.6.12 (`echo "show stat" | socat stdio <sock>`),
 * kept apart from admin.c's copy so that an edit there cannot pass. */
static const char haproxy26_header[] =
    "# "
    "pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,"
    "status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,"
    "tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,"
    "hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_"
    "abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,"
    "agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_"
    "health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_"
    "tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_"
    "max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_"
    "est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_"
    "sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_"
    "goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_"
    "resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_"
    "backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_"
    "streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,";

/* ------------------------------------------------------------------ */
/* Parser */

/* `usage`: the help line of the command it must parse as ("" for none). */
static struct adm_cmd parse_ok(const char *line, const char *usage)
{
	struct adm_cmd c;
	char err[256];
	int rc = adm_parse(line, &c, err, sizeof(err));

	ck_assert_msg(rc == 0, "'%s': rc %d: %s", line, rc, err);
	ck_assert_msg(!strcmp(adm_cmd_usage(&c), usage), "'%s': parsed as '%s', want '%s'", line,
	              adm_cmd_usage(&c), usage);
	return c;
}

static void parse_err(const char *line, int want_rc, const char *want)
{
	struct adm_cmd c;
	char err[256];
	int rc = adm_parse(line, &c, err, sizeof(err));

	ck_assert_msg(rc == want_rc, "'%s': rc %d, want %d (%s)", line, rc, want_rc, err);
	ck_assert_msg(strcmp(err, want) == 0, "'%s': '%s', want '%s'", line, err, want);
	ck_assert_ptr_null(strchr(err, '\n')); /* one line */
}

START_TEST(parse_simple)
{
	parse_ok("", "");
	parse_ok("   \t ", "");
	parse_ok("help", "help");
	parse_ok("help show stat", "help");
	parse_ok("prompt", "prompt");
	parse_ok("quit", "quit");
	parse_ok("reload", "reload");
	parse_ok("show info", "show info");
	parse_ok("show stat", "show stat");
	parse_ok("  show   stat  \r", "show stat");
	parse_ok("show frontends", "show frontends");
	parse_ok("show client-ip", "show client-ip");
	parse_ok("show backend", "show backend");
	parse_ok("show backends", "show backends");
	parse_ok("show errors", "show errors");
	parse_ok("show metrics", "show metrics");
	parse_ok("show version", "show version");
}
END_TEST

START_TEST(parse_servers_state)
{
	struct adm_cmd c = parse_ok("show servers state", "show servers state [<backend>]");

	ck_assert_str_eq(c.backend, "");
	c = parse_ok("show servers state be_http", "show servers state [<backend>]");
	ck_assert_str_eq(c.backend, "be_http");
	parse_err("show servers state a b", -1, "usage: show servers state [<backend>]");
}
END_TEST

START_TEST(parse_server_commands)
{
	struct adm_cmd c = parse_ok("disable server be/s1", "disable server <bk>/<srv>");

	ck_assert_str_eq(c.backend, "be");
	ck_assert_str_eq(c.server, "s1");
	c = parse_ok("enable server be:x/s-2", "enable server <bk>/<srv>");
	ck_assert_str_eq(c.backend, "be:x");
	ck_assert_str_eq(c.server, "s-2");
	c = parse_ok("set server be/s1 state ready", "set server <bk>/<srv> state <st>");
	ck_assert_int_eq(c.state, ADM_STATE_READY);
	c = parse_ok("set server be/s1 state drain", "set server <bk>/<srv> state <st>");
	ck_assert_int_eq(c.state, ADM_STATE_DRAIN);
	c = parse_ok("set server be/s1 state maint", "set server <bk>/<srv> state <st>");
	ck_assert_int_eq(c.state, ADM_STATE_MAINT);
	c = parse_ok("set server be/s1 weight 0", "set server <bk>/<srv> weight <w>");
	ck_assert_int_eq(c.weight, 0);
	ck_assert_int_eq(c.weight_pct, 0);
	c = parse_ok("set server be/s1 weight 256", "set server <bk>/<srv> weight <w>");
	ck_assert_int_eq(c.weight, 256);
	c = parse_ok("set server be/s1 weight 50%", "set server <bk>/<srv> weight <w>");
	ck_assert_int_eq(c.weight, 50);
	ck_assert_int_eq(c.weight_pct, 1);
	c = parse_ok("set severity-output number", "set severity-output <fmt>");
	ck_assert_int_eq(c.severity, 1);
	c = parse_ok("set severity-output none", "set severity-output <fmt>");
	ck_assert_int_eq(c.severity, 0);
}
END_TEST

START_TEST(parse_client_ip)
{
	const char *usage = "usage: set frontend <frontend> client-ip "
	                    "none|xff|proxy-v1|proxy-v2|auto";
	struct adm_cmd c =
	    parse_ok("set frontend fe_http client-ip proxy-v2", "set frontend <f> client-ip <strategy>");

	ck_assert_str_eq(c.frontend, "fe_http");
	ck_assert_int_eq(c.client_ip, CFG_CLIENT_IP_PROXY_V2);
	c = parse_ok("set frontend f client-ip none", "set frontend <f> client-ip <strategy>");
	ck_assert_int_eq(c.client_ip, CFG_CLIENT_IP_NONE);
	parse_err("set frontend", -1, usage);
	parse_err("set frontend fe", -1, usage);
	parse_err("set frontend fe maxconn 3", -1, usage);
	parse_err("set frontend fe client-ip", -1, usage);
	parse_err("set frontend fe client-ip auto now", -1, usage);
	parse_err("set frontend fe client-ip bogus", -1,
	          "'client-ip' expects none, xff, proxy-v1, proxy-v2 or auto.");
}
END_TEST

START_TEST(parse_errors)
{
	const char *unknown[] = {"foo",
	                         "show",
	                         "show foo",
	                         "show servers",
	                         "enable",
	                         "disable foo",
	                         "set",
	                         "set foo bar",
	                         "SHOW STAT",
	                         "shows stat",
	                         "enable frontend fe",
	                         NULL};
	char longword[300];

	for (int i = 0; unknown[i]; i++)
		parse_err(unknown[i], -2, "Unknown command.");
	parse_err("disable server", -1, "Require 'backend/server'.");
	parse_err("enable server be", -1, "Require 'backend/server'.");
	parse_err("enable server /s1", -1, "Require 'backend/server'.");
	parse_err("enable server be/", -1, "Require 'backend/server'.");
	parse_err("enable server be/s1 now", -1, "Require 'backend/server'.");
	parse_err("set server", -1, "Require 'backend/server'.");
	parse_err("set server be/s1", -1, "usage: set server <backend>/<server> state | weight");
	parse_err("set server be state ready", -1, "Require 'backend/server'.");
	parse_err("set server be/s1 addr 1.2.3.4", -1,
	          "usage: set server <backend>/<server> state | weight");
	parse_err("set server be/s1 state", -1,
	          "'set server <srv> state' expects 'ready', 'drain' and 'maint'.");
	parse_err("set server be/s1 state up", -1,
	          "'set server <srv> state' expects 'ready', 'drain' and 'maint'.");
	parse_err("set server be/s1 state ready now", -1,
	          "'set server <srv> state' expects 'ready', 'drain' and 'maint'.");
	parse_err("set server be/s1 weight", -1, "'set server <srv> weight' expects an integer.");
	parse_err("set server be/s1 weight 257", -1,
	          "Absolute weight can only be between 0 and 256 inclusive.");
	parse_err("set server be/s1 weight 99999999999999999999", -1,
	          "Absolute weight can only be between 0 and 256 inclusive.");
	parse_err("set server be/s1 weight -1", -1,
	          "Empty weight string empty or preceded by garbage");
	parse_err("set server be/s1 weight abc", -1,
	          "Empty weight string empty or preceded by garbage");
	parse_err("set server be/s1 weight 12x", -1, "Trailing garbage in weight string");
	parse_err("set server be/s1 weight 101%", -1,
	          "Relative weight can only be between 0 and 100% inclusive.");
	parse_err("set severity-output string", -1,
	          "one of 'none' or 'number' is expected (\"string\" is not supported).");
	parse_err("show stat typed", -1, "'show stat' takes no argument.");
	parse_err("show info json", -1, "'show info' takes no argument.");
	parse_err("quit now", -1, "'quit' takes no argument.");
	parse_err("reload now", -1, "'reload' takes no argument.");
	parse_err("a b c d e f g h i", -1, "Command too long (too many or too long words).");
	memset(longword, 'x', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = '\0';
	parse_err(longword, -1, "Command too long (too many or too long words).");
}
END_TEST

START_TEST(parse_small_err_buffer)
{
	struct adm_cmd c;
	char err[8];

	ck_assert_int_eq(adm_parse("set server be/s1 weight 300", &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Absolut");
}
END_TEST

/* The level of a command line's row. */
static enum adm_level level_of(const char *line)
{
	struct adm_cmd c;
	char err[256];

	ck_assert_msg(adm_parse(line, &c, err, sizeof(err)) == 0, "%s: %s", line, err);
	return adm_cmd_level(&c);
}

START_TEST(levels)
{
	ck_assert_int_eq(level_of("show stat"), ADM_LEVEL_USER);
	ck_assert_int_eq(level_of("show errors"), ADM_LEVEL_USER);
	ck_assert_int_eq(level_of("help"), ADM_LEVEL_USER);
	ck_assert_int_eq(level_of("disable server b/s"), ADM_LEVEL_OPERATOR);
	ck_assert_int_eq(level_of("enable server b/s"), ADM_LEVEL_OPERATOR);
	ck_assert_int_eq(level_of("set server b/s state ready"), ADM_LEVEL_OPERATOR);
	ck_assert_int_eq(level_of("set server b/s weight 1"), ADM_LEVEL_OPERATOR);
	ck_assert_int_eq(level_of("reload"), ADM_LEVEL_ADMIN);
}
END_TEST

START_TEST(split_commands)
{
	const char *line = "show info; show stat;;set server a\\;b/c state ready";
	char buf[64];

	ck_assert_int_eq(adm_next_cmd(&line, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "show info");
	ck_assert_int_eq(adm_next_cmd(&line, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, " show stat");
	ck_assert_int_eq(adm_next_cmd(&line, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(adm_next_cmd(&line, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "set server a;b/c state ready");
	ck_assert_int_eq(adm_next_cmd(&line, buf, sizeof(buf)), -1);
	/* a command longer than the buffer is cut, never overrun */
	line = "show stat";
	ck_assert_int_eq(adm_next_cmd(&line, buf, 5), 0);
	ck_assert_str_eq(buf, "show");
	ck_assert_int_eq(adm_next_cmd(&line, buf, 5), -1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Answers from a generation built from a small config */

static const char *const CFG_TEXT =
    "global\n"
    " maxconn 1000\n"
    "defaults\n"
    " mode tcp\n"
    " timeout connect 1s\n timeout client 10s\n timeout server 10s\n"
    "frontend fe_tcp\n"
    " bind 127.0.0.1:8443\n"
    " default_backend be_pp\n"
    "frontend fe_http\n"
    " mode http\n"
    " option forwardfor\n"
    " bind 127.0.0.1:8080\n"
    " bind 127.0.0.1:8081\n"
    " default_backend be_http\n"
    "backend be_pp\n"
    " server r1 10.0.0.1:443 send-proxy-v2 check\n"
    " server r2 10.0.0.2:443 send-proxy-v2 weight 3\n"
    "backend be_http\n"
    " mode http\n"
    " balance leastconn\n"
    " server w1 10.0.1.1:80 maxconn 50\n"
    " server w2 10.0.1.2:80 backup\n";

static struct gen *G;

/* The application, as the admin module sees it: its hooks. */
static struct gen *test_gen(void)
{
	return G;
}

static int reload_rc; /* what the next reload returns */

static int test_reload(char *msg, size_t len)
{
	snprintf(msg, len, "%s", reload_rc == 0 ? "reloaded by the test" : "t.cfg:1: bad\n");
	return reload_rc;
}

static int test_set_client_ip(const char *frontend, enum cfg_client_ip st, char *msg, size_t len)
{
	snprintf(msg, len, "%s -> %s", frontend, cfg_client_ip_name(st));
	return strcmp(frontend, "fe_tcp") == 0 ? 0 : -1;
}

static long test_uptime(void)
{
	return 93784; /* 1d 2h 3m 4s */
}

static const struct adm_hooks test_app = {
	.current_gen = test_gen,
	.reload = test_reload,
	.set_client_ip = test_set_client_ip,
	.uptime_seconds = test_uptime,
};

static void gen_setup(void)
{
	G = fixture_gen(CFG_TEXT);
}

static void gen_teardown(void)
{
	gen_unref(G);
	G = NULL;
}

static struct srv *srv_named(const char *be, const char *sv)
{
	return fixture_srv(G, be, sv);
}

/* Run one command line at `level`; the answer is returned (caller frees). */
static char *run(const char *line, enum adm_level level, int want_rc)
{
	struct adm_cmd cmd;
	struct adm_out out = {0};
	char err[256];
	int rc;

	ck_assert_msg(adm_parse(line, &cmd, err, sizeof(err)) == 0, "%s: %s", line, err);
	rc = adm_exec(G, &test_app, &cmd, level, &out);
	ck_assert_msg(rc == want_rc, "'%s': rc %d, want %d: %s", line, rc, want_rc,
	              out.buf ? out.buf : "");
	adm_printf(&out, "%s", ""); /* never NULL */
	return out.buf;
}

/* Column `col` (0-based) of CSV `row`, copied into buf. */
static const char *csv_col(const char *row, int col, char *buf, size_t len)
{
	for (int i = 0; i < col; i++) {
		row = strchr(row, ',');
		ck_assert_ptr_nonnull(row);
		row++;
	}
	snprintf(buf, len, "%.*s", (int)strcspn(row, ",\n"), row);
	return buf;
}

static int count_char(const char *s, size_t n, char c)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

START_TEST(stat_header_golden)
{
	ck_assert_str_eq(adm_stat_header, haproxy26_header);
	ck_assert_int_eq(count_char(haproxy26_header, strlen(haproxy26_header), ','), 128);
}
END_TEST

/* Index of a header column, from the golden header. */
static int col(const char *name)
{
	char buf[64];

	for (int i = 0; i < 128; i++)
		if (!strcmp(csv_col(haproxy26_header + 2, i, buf, sizeof(buf)), name))
			return i;
	ck_abort_msg("no column %s", name);
	return -1;
}

START_TEST(stat_rows)
{
	char *ans = run("show stat", ADM_LEVEL_USER, 0);
	const char *want[] = {"fe_tcp,FRONTEND,", "fe_http,FRONTEND,", "be_pp,r1,",
	                      "be_pp,r2,",        "be_pp,BACKEND,",    "be_http,w1,",
	                      "be_http,w2,",      "be_http,BACKEND,"};
	const char *p = strchr(ans, '\n') + 1;
	char buf[64];
	int n = 0;

	ck_assert_int_eq(strncmp(ans, haproxy26_header, strlen(haproxy26_header)), 0);
	for (; *p; n++) {
		const char *eol = strchr(p, '\n');
		ck_assert_ptr_nonnull(eol);
		ck_assert_msg(n < 8, "extra row %.*s", (int)(eol - p), p);
		ck_assert_msg(!strncmp(p, want[n], strlen(want[n])), "row %d: %.40s", n, p);
		ck_assert_int_eq(count_char(p, (size_t)(eol - p), ','),
		                 128); /* column for column */
		ck_assert_str_eq(csv_col(p, col("-"), buf, sizeof(buf)), "-");
		p = eol + 1;
	}
	ck_assert_int_eq(n, 8);
	p = strstr(ans, "be_pp,r2,");
	ck_assert_str_eq(csv_col(p, col("status"), buf, sizeof(buf)), "no check");
	ck_assert_str_eq(csv_col(p, col("weight"), buf, sizeof(buf)), "3");
	ck_assert_str_eq(csv_col(p, col("type"), buf, sizeof(buf)), "2");
	ck_assert_str_eq(csv_col(p, col("sid"), buf, sizeof(buf)), "2");
	ck_assert_str_eq(csv_col(p, col("iid"), buf, sizeof(buf)), "3");
	ck_assert_str_eq(csv_col(p, col("addr"), buf, sizeof(buf)), "10.0.0.2:443");
	ck_assert_str_eq(csv_col(p, col("mode"), buf, sizeof(buf)), "tcp");
	ck_assert_str_eq(csv_col(p, col("qmax"), buf, sizeof(buf)), ""); /* no value: empty */
	p = strstr(ans, "be_pp,r1,");
	ck_assert_str_eq(csv_col(p, col("status"), buf, sizeof(buf)), "UP");
	ck_assert_str_eq(csv_col(p, col("check_rise"), buf, sizeof(buf)), "2");
	p = strstr(ans, "be_http,w1,");
	ck_assert_str_eq(csv_col(p, col("slim"), buf, sizeof(buf)), "50");
	ck_assert_str_eq(csv_col(p, col("act"), buf, sizeof(buf)), "1");
	p = strstr(ans, "be_http,w2,");
	ck_assert_str_eq(csv_col(p, col("bck"), buf, sizeof(buf)), "1");
	p = strstr(ans, "be_http,BACKEND,");
	ck_assert_str_eq(csv_col(p, col("algo"), buf, sizeof(buf)), "leastconn");
	ck_assert_str_eq(csv_col(p, col("act"), buf, sizeof(buf)), "1");
	ck_assert_str_eq(csv_col(p, col("bck"), buf, sizeof(buf)), "1");
	ck_assert_str_eq(csv_col(p, col("type"), buf, sizeof(buf)), "1");
	p = strstr(ans, "fe_http,FRONTEND,");
	ck_assert_str_eq(csv_col(p, col("slim"), buf, sizeof(buf)), "1000");
	ck_assert_str_eq(csv_col(p, col("status"), buf, sizeof(buf)), "OPEN");
	ck_assert_str_eq(csv_col(p, col("mode"), buf, sizeof(buf)), "http");
	free(ans);
}
END_TEST

START_TEST(stat_counters_and_states)
{
	struct srv *r2 = srv_named("be_pp", "r2");
	char *ans, buf[64];
	const char *p;

	atomic_store(&r2->total_conns, 7);
	atomic_store(&r2->cur_conns, 2);
	atomic_store(&r2->bytes_out, 100); /* client -> server: HAProxy's bin */
	atomic_store(&r2->bytes_in, 900);
	atomic_store(&G->fes[0].ctr.conns, 11);
	free(run("set server be_pp/r2 state drain", ADM_LEVEL_OPERATOR, 0));
	ans = run("show stat", ADM_LEVEL_USER, 0);
	p = strstr(ans, "be_pp,r2,");
	ck_assert_str_eq(csv_col(p, col("status"), buf, sizeof(buf)), "DRAIN");
	ck_assert_str_eq(csv_col(p, col("stot"), buf, sizeof(buf)), "7");
	ck_assert_str_eq(csv_col(p, col("scur"), buf, sizeof(buf)), "2");
	ck_assert_str_eq(csv_col(p, col("bin"), buf, sizeof(buf)), "100");
	ck_assert_str_eq(csv_col(p, col("bout"), buf, sizeof(buf)), "900");
	p = strstr(ans, "be_pp,BACKEND,");
	ck_assert_str_eq(csv_col(p, col("stot"), buf, sizeof(buf)), "7");
	ck_assert_str_eq(csv_col(p, col("act"), buf, sizeof(buf)), "1"); /* r2 drains */
	p = strstr(ans, "fe_tcp,FRONTEND,");
	ck_assert_str_eq(csv_col(p, col("stot"), buf, sizeof(buf)), "11");
	free(ans);
	free(run("disable server be_pp/r2", ADM_LEVEL_OPERATOR, 0));
	ans = run("show stat", ADM_LEVEL_USER, 0);
	ck_assert_str_eq(csv_col(strstr(ans, "be_pp,r2,"), col("status"), buf, sizeof(buf)),
	                 "MAINT");
	free(ans);
	atomic_store(&srv_named("be_pp", "r1")->up, 0);
	ans = run("show stat", ADM_LEVEL_USER, 0);
	ck_assert_str_eq(csv_col(strstr(ans, "be_pp,r1,"), col("status"), buf, sizeof(buf)),
	                 "DOWN");
	ck_assert_str_eq(csv_col(strstr(ans, "be_pp,BACKEND,"), col("status"), buf, sizeof(buf)),
	                 "DOWN");
	free(ans);
}
END_TEST

START_TEST(set_server_state)
{
	struct srv *r1 = srv_named("be_pp", "r1");

	free(run("set server be_pp/r1 state drain", ADM_LEVEL_OPERATOR, 0));
	ck_assert_int_eq(atomic_load(&r1->drain), 1);
	ck_assert_int_eq(srv_usable(r1), 0);
	free(run("set server be_pp/r1 state maint", ADM_LEVEL_ADMIN, 0));
	ck_assert_int_eq(atomic_load(&r1->maint), 1);
	free(run("set server be_pp/r1 state ready", ADM_LEVEL_OPERATOR, 0));
	ck_assert_int_eq(atomic_load(&r1->maint), 0);
	ck_assert_int_eq(atomic_load(&r1->drain), 0);
	ck_assert_int_eq(srv_usable(r1), 1);
	free(run("disable server be_pp/r1", ADM_LEVEL_OPERATOR, 0));
	ck_assert_int_eq(atomic_load(&r1->maint), 1);
	free(run("enable server be_pp/r1", ADM_LEVEL_OPERATOR, 0));
	ck_assert_int_eq(atomic_load(&r1->maint), 0);
}
END_TEST

START_TEST(set_server_weight)
{
	struct srv *r2 = srv_named("be_pp", "r2");

	free(run("set server be_pp/r2 weight 0", ADM_LEVEL_OPERATOR, 0));
	ck_assert_int_eq(srv_weight(r2), 0);
	ck_assert_int_eq(srv_usable(r2), 0);
	free(run("set server be_pp/r2 weight 256", ADM_LEVEL_OPERATOR, 0));
	ck_assert_int_eq(srv_weight(r2), 256);
}
END_TEST

START_TEST(set_weight_percent)
{
	struct srv *r2 = srv_named("be_pp", "r2"); /* configured weight 3 */

	free(run("set server be_pp/r2 weight 100%", ADM_LEVEL_OPERATOR, 0));
	ck_assert_int_eq(srv_weight(r2), 3);
	free(run("set server be_pp/r2 weight 34%", ADM_LEVEL_OPERATOR, 0));
	ck_assert_int_eq(srv_weight(r2), 1);
	free(run("set server be_pp/r2 weight 0%", ADM_LEVEL_OPERATOR, 0));
	ck_assert_int_eq(srv_weight(r2), 0);
}
END_TEST

START_TEST(exec_errors)
{
	char *ans = run("set server nope/r1 state drain", ADM_LEVEL_ADMIN, -1);

	ck_assert_str_eq(ans, "No such backend.\n");
	free(ans);
	ans = run("disable server be_pp/nope", ADM_LEVEL_ADMIN, -1);
	ck_assert_str_eq(ans, "No such server.\n");
	free(ans);
	ans = run("show servers state nope", ADM_LEVEL_ADMIN, -1);
	ck_assert_str_eq(ans, "Can't find backend.\n");
	free(ans);
	/* levels: user may only look; operator may not reload */
	ans = run("set server be_pp/r1 state drain", ADM_LEVEL_USER, -1);
	ck_assert_str_eq(ans, "Permission denied\n");
	free(ans);
	ck_assert_int_eq(atomic_load(&srv_named("be_pp", "r1")->drain), 0);
	ans = run("reload", ADM_LEVEL_OPERATOR, -1);
	ck_assert_str_eq(ans, "Permission denied\n");
	free(ans);
}
END_TEST

START_TEST(servers_state_format)
{
	char *ans;
	const char *head =
	    "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state "
	    "srv_uweight srv_iweight srv_time_since_last_change srv_check_status "
	    "srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id "
	    "srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
	    "srv_check_addr srv_agent_addr srv_agent_port ppb_pp_mode\n";

	free(run("set server be_pp/r2 state drain", ADM_LEVEL_OPERATOR, 0));
	free(run("disable server be_http/w2", ADM_LEVEL_OPERATOR, 0));
	ans = run("show servers state", ADM_LEVEL_USER, 0);
	ck_assert_int_eq(strncmp(ans, head, strlen(head)), 0);
	ck_assert_str_eq(ans + strlen(head),
	                 "3 be_pp 1 r1 10.0.0.1 2 0 1 1 0 6 3 2 6 0 0 0 - 443 - 0 0 - - 0 unknown\n"
	                 "3 be_pp 2 r2 10.0.0.2 2 8 3 3 0 1 0 2 0 0 0 0 - 443 - 0 0 - - 0 unknown\n"
	                 "4 be_http 1 w1 10.0.1.1 2 0 1 1 0 1 0 2 0 0 0 0 - 80 - 0 0 - - 0 unknown\n"
	                 "4 be_http 2 w2 10.0.1.2 2 1 1 1 0 1 0 2 0 0 0 0 - 80 - 0 0 - - 0 unknown\n");
	free(ans);
	ans = run("show servers state be_http", ADM_LEVEL_USER, 0);
	ck_assert_ptr_null(strstr(ans, "be_pp"));
	ck_assert_ptr_nonnull(strstr(ans, "4 be_http 2 w2 "));
	free(ans);
}
END_TEST

START_TEST(frontends_backends)
{
	char *ans = run("show frontends", ADM_LEVEL_USER, 0);

	ck_assert_str_eq(ans, "# name mode backend binds client_ip client_ip_from\n"
	                      "fe_tcp tcp be_pp 127.0.0.1:8443 proxy-v2 config\n"
	                      "fe_http http be_http 127.0.0.1:8080,127.0.0.1:8081 xff config\n");
	free(ans);
	ans = run("show backend", ADM_LEVEL_USER, 0);
	ck_assert_str_eq(ans, "# name\nbe_pp\nbe_http\n");
	free(ans);
	atomic_store(&G->fes[0].ctr.path_proxy, 7);
	atomic_store(&G->fes[1].ctr.path_xff, 3);
	atomic_store(&G->fes[1].ctr.auto_retries, 1);
	atomic_store(&srv_named("be_pp", "r2")->pp_mode, SRV_PP_PROXY);
	ans = run("show client-ip", ADM_LEVEL_USER, 0);
	ck_assert_ptr_nonnull(strstr(ans, "\nfe_tcp proxy-v2 0 0 7 0 0 0\n"));
	ck_assert_ptr_nonnull(strstr(ans, "\nfe_http xff 0 3 0 0 1 0\n"));
	ck_assert_ptr_nonnull(strstr(ans, "\nbe_pp/r1 unknown 0 not probing\n"));
	ck_assert_ptr_nonnull(strstr(ans, "\nbe_pp/r2 proxy 0 not probing\n"));
	free(ans);
	ans = run("show backends", ADM_LEVEL_USER, 0);
	ck_assert_str_eq(ans, "# name mode algo servers active backup\n"
	                      "be_pp tcp roundrobin 2 2 0\n"
	                      "be_http http leastconn 2 1 1\n");
	free(ans);
}
END_TEST

/* prom.c renders it (test_prom has the golden lines); here: the admin
 * socket answers with it, HAProxy's names and labels, every scope. */
START_TEST(metrics)
{
	char *ans;

	atomic_store(&srv_named("be_pp", "r1")->total_conns, 5);
	atomic_store(&G->fes[1].ctr.http_errors, 4);
	atomic_store(&G->fes[0].ctr.pp_timeout, 2);
	free(run("set server be_pp/r2 state maint", ADM_LEVEL_OPERATOR, 0));
	ans = run("show metrics", ADM_LEVEL_USER, 0);
	ck_assert_ptr_nonnull(strstr(ans, "# TYPE haproxy_process_uptime_seconds gauge\n"));
	ck_assert_ptr_nonnull(strstr(ans, "# TYPE haproxy_frontend_connections_total counter\n"));
	ck_assert_ptr_nonnull(
	    strstr(ans, "\nhaproxy_frontend_connections_total{proxy=\"fe_tcp\"} 0\n"));
	ck_assert_ptr_nonnull(
	    strstr(ans, "\nhaproxy_frontend_request_errors_total{proxy=\"fe_http\"} 4\n"));
	ck_assert_ptr_nonnull(strstr(
	    ans,
	    "\nppbridge_frontend_proxy_refusals_total{proxy=\"fe_tcp\",cause=\"timeout\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(
	    ans, "\nhaproxy_server_status{proxy=\"be_pp\",server=\"r2\",state=\"MAINT\"} 1\n"));
	ck_assert_ptr_nonnull(
	    strstr(ans, "\nhaproxy_server_sessions_total{proxy=\"be_pp\",server=\"r1\"} 5\n"));
	ck_assert_ptr_nonnull(strstr(ans, "# TYPE haproxy_backend_status gauge\n"));
	ck_assert_ptr_nonnull(strstr(ans, "# TYPE ppbridge_server_proxy_mode gauge\n"));
	/* the old families are gone (NEWS says which became which) */
	ck_assert_ptr_null(strstr(ans, "ppbridge_server_up"));
	ck_assert_ptr_null(strstr(ans, "{frontend="));
	ck_assert_ptr_null(strstr(ans, "{backend="));
	/* every line is a comment or "name{labels} value" / "name value" */
	for (const char *p = ans; *p;) {
		const char *eol = strchr(p, '\n');
		ck_assert_ptr_nonnull(eol);
		ck_assert_msg(*p == '#' || !strncmp(p, "ppbridge_", 9) ||
		                  !strncmp(p, "haproxy_", 8),
		              "line: %.60s", p);
		p = eol + 1;
	}
	free(ans);
}
END_TEST

START_TEST(errors_ring)
{
	char *ans;
	char want[128];

	refusals_note("fe_http", "192.0.2.1:4000", "400 Bad Request: invalid header name");
	ans = run("show errors", ADM_LEVEL_USER, 0);
	ck_assert_int_eq(strncmp(ans, "Total events captured on [", 26), 0);
	ck_assert_ptr_nonnull(strstr(
	    ans,
	    "] frontend fe_http, client 192.0.2.1:4000: 400 Bad Request: invalid header name\n"));
	free(ans);
	/* the ring keeps the last 64, oldest first */
	for (int i = 0; i < 100; i++) {
		snprintf(want, sizeof(want), "reason %d", i);
		refusals_note("fe", NULL, want);
	}
	ans = run("show errors", ADM_LEVEL_USER, 0);
	ck_assert_ptr_null(strstr(ans, "reason 35\n"));
	ck_assert_ptr_nonnull(strstr(ans, "client -: reason 36\n"));
	ck_assert_ptr_nonnull(strstr(ans, "reason 99\n"));
	ck_assert(strstr(ans, "reason 36\n") < strstr(ans, "reason 99\n"));
	ck_assert_int_eq(count_char(ans, strlen(ans), '\n'), 65);
	free(ans);
}
END_TEST

/* The help as HAProxy lays it out; the rows of admin.c must give exactly this. */
static const char help_golden[] =
    "The following commands are valid at this level:\n"
    "  help                                  : list the commands\n"
    "  prompt                                : toggle interactive mode with prompt\n"
    "  quit                                  : disconnect\n"
    "  show info                             : report information about the running process\n"
    "  show stat                             : report counters for each proxy and server (CSV)\n"
    "  show servers state [<backend>]        : dump volatile server information\n"
    "  show frontends                        : list frontends with their binds and client-IP strategy\n"
    "  show client-ip                        : paths taken per frontend; servers' detected PROXY mode (auto)\n"
    "  show backend                          : list backends (names only, as HAProxy)\n"
    "  show backends                         : list backends with their servers' states\n"
    "  show errors                           : report the last refused connections and requests\n"
    "  show metrics                          : report counters in Prometheus text format\n"
    "  show table [<t> [key <k>]]            : list stick tables, or the entries of one (HAProxy's format)\n"
    "  clear table <t> [key <k>]             : remove the unused entries of a stick table, or one (operator)\n"
    "  show version                          : show the version of the current process\n"
    "  disable server <bk>/<srv>             : put a server in maintenance (operator)\n"
    "  enable server <bk>/<srv>              : take a server out of maintenance (operator)\n"
    "  set server <bk>/<srv> state <st>      : ready, drain or maint (operator)\n"
    "  set server <bk>/<srv> weight <w>      : 0..256, or N% of the configured weight (operator)\n"
    "  set frontend <f> client-ip <strategy> : none, xff, proxy-v1, proxy-v2 or auto for new connections (operator)\n"
    "  set severity-output <fmt>             : none or number: prefix errors with [3]:\n"
    "  reload                                : reload the configuration; Success=1 or Success=0 (admin)\n";

/* An example value for each placeholder of the usages. */
static const char *example_arg(const char *placeholder)
{
	static const char *const ex[][2] = {
	    {"<bk>/<srv>", "be_pp/r1"}, {"<st>", "ready"},       {"<w>", "1"},
	    {"<f>", "fe_tcp"},          {"<strategy>", "auto"}, {"<fmt>", "number"},
	    {"<t>", "fe_tcp"},          {"<k>", "10.0.0.1"},
	};

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++)
		if (!strcmp(ex[i][0], placeholder))
			return ex[i][1];
	ck_abort_msg("no example value for %s", placeholder);
	return NULL;
}

/* Each usage of the help, its placeholders filled in, parses as itself:
 * a row's keywords agree with the usage it prints. */
static void usage_parses_as_itself(const char *usage)
{
	char line[256] = "", word[64];
	struct adm_cmd c;
	char err[256];
	int depth = 0; /* inside [...]: optional, maybe nested */

	for (const char *p = usage; *p;) {
		size_t len = strcspn(p, " ");
		snprintf(word, sizeof(word), "%.*s", (int)len, p);
		p += len + (p[len] == ' ');
		for (const char *ch = word; *ch; ch++)
			depth += *ch == '[' ? 1 : *ch == ']' ? -1 : 0;
		if (depth > 0 || strchr(word, ']'))
			continue; /* optional */
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s", line[0] ? " " : "",
		         word[0] == '<' ? example_arg(word) : word);
	}
	ck_assert_msg(adm_parse(line, &c, err, sizeof(err)) == 0, "'%s': %s", line, err);
	ck_assert_str_eq(adm_cmd_usage(&c), usage);
}

START_TEST(help_and_version)
{
	char *ans = run("help", ADM_LEVEL_USER, 0);
	char usage[64];
	int n = 0;

	ck_assert_ptr_nonnull(strstr(ans, "  set server <bk>/<srv> state <st>"));
	ck_assert_ptr_nonnull(strstr(ans, "  show servers state [<backend>]"));
	ck_assert_str_eq(ans, help_golden);
	/* "  %-38s: %s\n": the usage is in columns 2..39 */
	for (const char *p = strchr(help_golden, '\n') + 1; *p; p = strchr(p, '\n') + 1, n++) {
		snprintf(usage, sizeof(usage), "%.38s", p + 2);
		for (size_t k = strlen(usage); k > 0 && usage[k - 1] == ' '; k--)
			usage[k - 1] = '\0';
		usage_parses_as_itself(usage);
	}
	ck_assert_int_eq(n, 22);
	free(ans);
	ans = run("show version", ADM_LEVEL_USER, 0);
	ck_assert_str_eq(ans, PACKAGE_VERSION "\n");
	free(ans);
	ans = run("show info", ADM_LEVEL_USER, 0);
	ck_assert_int_eq(strncmp(ans, "Name: ppbridge\nVersion: " PACKAGE_VERSION "\n", 24), 0);
	ck_assert_ptr_nonnull(strstr(ans, "\nMaxconn: 1000\n"));
	free(ans);
}
END_TEST

/* What the application does is its business; the answers are ours. */
START_TEST(app_hooks)
{
	char *ans = run("reload", ADM_LEVEL_ADMIN, 0);

	ck_assert_str_eq(ans, "Success=1\n--\nreloaded by the test\n");
	free(ans);
	reload_rc = -1;
	ans = run("reload", ADM_LEVEL_ADMIN, -1);
	reload_rc = 0;
	ck_assert_str_eq(ans, "Success=0\n--\nt.cfg:1: bad\n");
	free(ans);
	ans = run("set frontend fe_tcp client-ip proxy-v1", ADM_LEVEL_OPERATOR, 0);
	ck_assert_str_eq(ans, "fe_tcp -> proxy-v1\n");
	free(ans);
	ans = run("set frontend nope client-ip none", ADM_LEVEL_OPERATOR, -1);
	ck_assert_str_eq(ans, "nope -> none\n");
	free(ans);
	ans = run("set frontend fe_tcp client-ip auto", ADM_LEVEL_USER, -1);
	ck_assert_str_eq(ans, "Permission denied\n");
	free(ans);
	ans = run("show info", ADM_LEVEL_USER, 0);
	ck_assert_ptr_nonnull(strstr(ans, "\nUptime: 1d 2h03m04s\nUptime_sec: 93784\n"));
	free(ans);
	ans = run("show metrics", ADM_LEVEL_USER, 0);
	ck_assert_ptr_nonnull(strstr(ans, "\nhaproxy_process_uptime_seconds 93784\n"));
	free(ans);
}
END_TEST

START_TEST(out_bounded)
{
	struct adm_out out = {0};
	char chunk[4096];

	memset(chunk, 'a', sizeof(chunk) - 1);
	chunk[sizeof(chunk) - 1] = '\0';
	for (unsigned i = 0; i < ADM_OUT_MAX / 4000 + 10; i++)
		adm_printf(&out, "%s", chunk);
	ck_assert_int_eq(out.truncated, 1);
	ck_assert_uint_le(out.len, ADM_OUT_MAX);
	adm_out_free(&out);
	/* adm_write: bytes as they are (a '%' too, and a NUL), NUL-terminated */
	adm_write(&out, "a%s\0b", 5);
	adm_write(&out, "", 0);
	ck_assert_uint_eq(out.len, 5);
	ck_assert_mem_eq(out.buf, "a%s\0b", 6);
	for (unsigned i = 0; i < ADM_OUT_MAX / 4000 + 10; i++)
		adm_write(&out, chunk, sizeof(chunk) - 1);
	ck_assert_int_eq(out.truncated, 1);
	ck_assert_uint_le(out.len, ADM_OUT_MAX);
	adm_out_free(&out);
}
END_TEST

static Suite *admin_suite(void)
{
	Suite *s = suite_create("admin");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, parse_simple);
	tcase_add_test(tc, parse_servers_state);
	tcase_add_test(tc, parse_server_commands);
	tcase_add_test(tc, parse_client_ip);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, parse_small_err_buffer);
	tcase_add_test(tc, levels);
	tcase_add_test(tc, split_commands);
	tcase_add_test(tc, out_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("exec");
	tcase_add_checked_fixture(tc, gen_setup, gen_teardown);
	tcase_add_test(tc, stat_header_golden);
	tcase_add_test(tc, stat_rows);
	tcase_add_test(tc, stat_counters_and_states);
	tcase_add_test(tc, set_server_state);
	tcase_add_test(tc, set_server_weight);
	tcase_add_test(tc, set_weight_percent);
	tcase_add_test(tc, exec_errors);
	tcase_add_test(tc, servers_state_format);
	tcase_add_test(tc, frontends_backends);
	tcase_add_test(tc, metrics);
	tcase_add_test(tc, errors_ring);
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, app_hooks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(admin_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
