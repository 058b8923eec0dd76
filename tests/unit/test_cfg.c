/* test_cfg.c - the configuration tokenizer, parser and checks. */
#include <config.h>

#include "cfg.h"
#include "stktable.h"
#include "cfg_int.h" /* the keyword tables, for the row tests */
#include "acl.h"
#include "proxy_proto.h"
#include "net.h"
#include "sample.h"

#include <check.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Helpers */

static struct cfg_words W;

static int tok(const char *line, const char **err)
{
	const char *e = NULL;
	int rc = cfg_tokenize(line, strlen(line), &W, &e);

	if (err)
		*err = e;
	return rc;
}

/* Tokenize and compare with the expected words (NULL-terminated). */
static void tok_eq(const char *line, const char *const *expect)
{
	const char *err = NULL;
	int n = 0;

	ck_assert_msg(tok(line, &err) == 0, "tokenize '%s': %s", line, err);
	while (expect[n])
		n++;
	ck_assert_msg(W.n == n, "'%s': %d words, expected %d", line, W.n, n);
	for (int i = 0; i < n; i++)
		ck_assert_str_eq(W.w[i], expect[i]);
	ck_assert_ptr_null(W.w[n]);
}

#define TOK(line, ...)                                                                             \
	do {                                                                                       \
		static const char *const e_[] = {__VA_ARGS__, NULL};                               \
		tok_eq(line, e_);                                                                  \
	} while (0)

static void tok_err(const char *line, const char *substr)
{
	const char *err = NULL;

	ck_assert_msg(tok(line, &err) < 0, "'%s' should fail", line);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, substr), "'%s': error '%s' lacks '%s'", line, err, substr);
	ck_assert_int_eq(W.n, 0);
}

static void tok_teardown(void)
{
	cfg_words_free(&W);
}

static struct cfg_msgs M;

static void msgs_setup(void)
{
	cfg_msgs_init(&M);
}

static void msgs_teardown(void)
{
	cfg_msgs_free(&M);
}

static void dump(void)
{
	for (struct cfg_msg *m = M.head; m; m = m->next)
		fprintf(stderr, "  [%d] %s\n", m->severity, m->text);
}

/* Parse `text` as "t.cfg" (no finish). */
static struct cfg *parse(const char *text)
{
	struct cfg *cfg = cfg_new();

	cfg_parse_text(cfg, "t.cfg", text, strlen(text), &M);
	return cfg;
}

static struct cfg *parse_ok(const char *text)
{
	struct cfg *cfg = parse(text);

	if (M.errors)
		dump();
	ck_assert_int_eq(M.errors, 0);
	return cfg;
}

static struct cfg *parse_finish(const char *text)
{
	struct cfg *cfg = parse(text);

	cfg_finish(cfg, &M);
	return cfg;
}

static const struct cfg_msg *nth_msg(enum cfg_severity sev, int n)
{
	for (struct cfg_msg *m = M.head; m; m = m->next)
		if (m->severity == sev && n-- == 0)
			return m;
	return NULL;
}

static int has_msg(enum cfg_severity sev, const char *substr)
{
	for (struct cfg_msg *m = M.head; m; m = m->next)
		if (m->severity == sev && strstr(m->text, substr))
			return 1;
	return 0;
}

/* Exactly one error, at t.cfg:<line>, containing `substr`. */
static void expect_one_error(int line, const char *substr)
{
	char prefix[32];
	const struct cfg_msg *m = nth_msg(CFG_SEV_ERROR, 0);

	if (M.errors != 1)
		dump();
	ck_assert_int_eq(M.errors, 1);
	ck_assert_ptr_nonnull(m);
	snprintf(prefix, sizeof(prefix), "t.cfg:%d: ", line);
	ck_assert_msg(strncmp(m->text, prefix, strlen(prefix)) == 0, "'%s' should start with '%s'",
	              m->text, prefix);
	ck_assert_msg(strstr(m->text, substr), "'%s' lacks '%s'", m->text, substr);
}

/* Parse only; one error on `line` mentioning `substr`. */
static void parse_err(const char *text, int line, const char *substr)
{
	struct cfg *cfg;

	cfg_msgs_free(&M);
	cfg = parse(text);
	expect_one_error(line, substr);
	cfg_free(cfg);
	cfg_msgs_free(&M);
}

/* Parse + finish; one error on `line` mentioning `substr`. */
static void finish_err(const char *text, int line, const char *substr)
{
	struct cfg *cfg;

	cfg_msgs_free(&M);
	cfg = parse_finish(text);
	expect_one_error(line, substr);
	cfg_free(cfg);
	cfg_msgs_free(&M);
}

#define FE "frontend fe\n bind 127.0.0.1:8080\n default_backend be\n"
#define BE "backend be\n server s1 127.0.0.1:80\n"

/* ------------------------------------------------------------------ */
/* Tokenizer */

START_TEST(tok_words)
{
	TOK("  bind   *:80\tv4v6  ", "bind", "*:80", "v4v6");
	TOK("a\rb\fc\vd", "a", "b", "c", "d");
	ck_assert_int_eq(tok("", NULL), 0);
	ck_assert_int_eq(W.n, 0);
	ck_assert_int_eq(tok("   \t ", NULL), 0);
	ck_assert_int_eq(W.n, 0);
}
END_TEST

START_TEST(tok_comments)
{
	TOK("foo # bar baz", "foo");
	TOK("foo#bar", "foo");
	ck_assert_int_eq(tok("# only a comment", NULL), 0);
	ck_assert_int_eq(W.n, 0);
	TOK("a \\#b", "a", "#b");
	TOK("\"a#b\" 'c#d'", "a#b", "c#d");
}
END_TEST

START_TEST(tok_escapes)
{
	TOK("a\\ b", "a b");
	TOK("\\\\", "\\");
	TOK("\\'x\\'", "'x'");
	TOK("\\\"x\\\"", "\"x\"");
	TOK("\\r\\n\\t", "\r\n\t");
	TOK("\\x41\\x7a", "Az");
	TOK("\\x4A", "J");
	/* Not an escape: the backslash stays, as HAProxy (regexes). */
	TOK("^X-Forwarded-For:.*\\.", "^X-Forwarded-For:.*\\.");
	TOK("\\$HOME", "\\$HOME");
	TOK("end\\", "end\\");
	tok_err("\\x4", "hexadecimal");
	tok_err("\\xZZ", "hexadecimal");
	tok_err("\\x00", "\\x00");
}
END_TEST

START_TEST(tok_quotes)
{
	TOK("\"a b\"", "a b");
	TOK("x\"a b\"'c d'e", "xa bc de");
	TOK("\"it's\"", "it's");
	TOK("\"a\\\"b\"", "a\"b");
	TOK("\"tab\\there\"", "tab\there");
	TOK("'a\\nb $X ${Y} \"'", "a\\nb $X ${Y} \"");
	TOK("\"\" ''", "", "");
	TOK("a \"\" b", "a", "", "b");
	TOK("\"\\$x\"", "$x");
}
END_TEST

START_TEST(tok_env)
{
	setenv("PPB_T", "val", 1);
	setenv("PPB_SP", "a b", 1);
	unsetenv("PPB_UNSET");
	TOK("\"${PPB_T}\"", "val");
	TOK("\"$PPB_T:80\"", "val:80");
	TOK("\"${PPB_T}:${PPB_T}\"", "val:val");
	TOK("x\"${PPB_SP}\"y", "xa by");
	TOK("\"${PPB_UNSET}\"", "");
	TOK("a \"$PPB_UNSET\" b", "a", "", "b");
	/* Only inside double quotes. */
	TOK("${PPB_T}", "${PPB_T}");
	TOK("'${PPB_T}'", "${PPB_T}");
	tok_err("\"${1A}\"", "variable name");
	tok_err("\"$\"", "variable name");
	tok_err("\"${PPB_T\"", "missing '}'");
	tok_err("\"${PPB_T-def}\"", "missing '}'");
}
END_TEST

START_TEST(tok_errors)
{
	tok_err("bind \"abc", "unterminated double quote");
	tok_err("bind 'abc", "unterminated single quote");
	tok_err("a \"b' c", "unterminated double quote");
	{
		const char *err = NULL;
		ck_assert_int_eq(cfg_tokenize("a\0b", 3, &W, &err), -1);
		ck_assert_str_eq(err, "NUL character in line");
	}
}
END_TEST

START_TEST(tok_limits)
{
	char *line = malloc(CFG_MAX_LINE + 2);
	const char *err = NULL;
	char buf[64 * 3 + 8] = "";

	memset(line, 'a', CFG_MAX_LINE + 1);
	ck_assert_int_eq(cfg_tokenize(line, CFG_MAX_LINE, &W, &err), 0);
	ck_assert_int_eq(W.n, 1);
	ck_assert_uint_eq(strlen(W.w[0]), CFG_MAX_LINE);
	ck_assert_int_eq(cfg_tokenize(line, CFG_MAX_LINE + 1, &W, &err), -1);
	ck_assert_str_eq(err, "line too long (max 64 KiB)");
	free(line);

	for (int i = 0; i < 64; i++)
		strcat(buf, "w ");
	ck_assert_int_eq(tok(buf, NULL), 0);
	ck_assert_int_eq(W.n, 64);
	strcat(buf, "x");
	tok_err(buf, "too many words");
	/* A 65th word that is a comment is fine. */
	buf[strlen(buf) - 1] = '#';
	ck_assert_int_eq(tok(buf, NULL), 0);
}
END_TEST

START_TEST(tok_expansion_limit)
{
	size_t big = 40000;
	char *val = malloc(big + 1);

	memset(val, 'v', big);
	val[big] = '\0';
	setenv("PPB_BIG", val, 1);
	free(val);
	ck_assert_int_eq(tok("\"$PPB_BIG\"", NULL), 0);
	ck_assert_uint_eq(strlen(W.w[0]), big);
	tok_err("\"$PPB_BIG$PPB_BIG\"", "too long after expansion");
	unsetenv("PPB_BIG");
}
END_TEST

START_TEST(tok_in_parser)
{
	struct cfg *cfg;

	parse_err("global\n maxconn \"10\n", 2, "unterminated double quote");
	cfg = parse_ok("global\r\n maxconn 10\r\n  pidfile \"/run/a b.pid\"  # c\r\n");
	ck_assert_uint_eq(cfg->global.maxconn, 10);
	ck_assert_str_eq(cfg->global.pidfile, "/run/a b.pid");
	cfg_free(cfg);
	setenv("PPB_PID", "/run/x.pid", 1);
	cfg = parse_ok("global\n pidfile \"${PPB_PID}\"");
	ck_assert_str_eq(cfg->global.pidfile, "/run/x.pid");
	cfg_free(cfg);
	/* A line over 64 KiB is an error; the next line is still read. */
	{
		size_t n = CFG_MAX_LINE + 100;
		char *text = malloc(n + 64);
		memcpy(text, "global\n", 7);
		memset(text + 7, 'a', n);
		strcpy(text + 7 + n, "\n maxconn x\n");
		cfg = parse(text);
		ck_assert_int_eq(M.errors, 2);
		ck_assert_str_eq(nth_msg(CFG_SEV_ERROR, 0)->text,
		                 "t.cfg:2: line too long (max 64 KiB)");
		ck_assert(!strncmp(nth_msg(CFG_SEV_ERROR, 1)->text, "t.cfg:3: ", 9));
		cfg_free(cfg);
		free(text);
		cfg_msgs_free(&M);
	}
	/* No trailing newline, blank and comment lines counted. */
	parse_err("\n# c\n\nglobal\n\n nbthread 0", 6, "'nbthread'");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Time */

START_TEST(time_units)
{
	static const struct {
		const char *text;
		unsigned ms;
	} ok[] = {
	    {"0", 0},      {"250", 250},    {"250ms", 250},       {"5s", 5000},
	    {"1m", 60000}, {"2h", 7200000}, {"1d", 86400000},     {"1500us", 2},
	    {"1us", 1},    {"1000us", 1},   {"24d", 2073600000u}, {"2147483647", 2147483647u},
	};
	static const char *const bad[] = {
	    "",     "s",    "-1",   "+1",  "1x",         "1 s",
	    "1S",   "1sec", "1.5s", "25d", "2147483648", "99999999999999999999999",
	    "1msx", "0x10",
	};
	const char *err;
	unsigned v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(cfg_parse_time(ok[i].text, &v, &err) == 0, "%s", ok[i].text);
		ck_assert_uint_eq(v, ok[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = NULL;
		ck_assert_msg(cfg_parse_time(bad[i], &v, &err) < 0, "'%s' should fail", bad[i]);
		ck_assert_ptr_nonnull(err);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Messages */

START_TEST(msg_format)
{
	struct cfg_where w = {"f.cfg", 12};

	cfg_msg_add(&M, CFG_SEV_ERROR, &w, "bad %s %d", "thing", 3);
	cfg_msg_add(&M, CFG_SEV_WARNING, NULL, "plain");
	cfg_msg_add(&M, CFG_SEV_NOTICE, &w, "note");
	ck_assert_int_eq(M.errors, 1);
	ck_assert_int_eq(M.warnings, 1);
	ck_assert_str_eq(M.head->text, "f.cfg:12: bad thing 3");
	ck_assert_str_eq(M.head->next->text, "plain");
	ck_assert_int_eq(M.head->next->severity, CFG_SEV_WARNING);
	ck_assert_str_eq(M.head->next->next->text, "f.cfg:12: note");
	ck_assert_ptr_eq(*M.tail, NULL);
	cfg_msgs_free(&M);
	ck_assert_ptr_null(M.head);
	ck_assert_int_eq(M.errors, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Global */

START_TEST(global_keywords)
{
	struct cfg *cfg = parse_ok("global\n"
	                           " maxconn 4000\n"
	                           " nbthread 4\n"
	                           " daemon\n"
	                           " pidfile /var/run/haproxy.pid\n"
	                           " hard-stop-after 30s\n"
	                           " log-send-hostname\n"
	                           " tune.bufsize 32768\n"
	                           " log 127.0.0.1 local2\n"
	                           " log stdout format raw daemon info\n"
	                           " log stderr len 4096 local0 warning err\n"
	                           " log /dev/log user\n"
	                           " log udp@[::1]:1514 local7 debug\n"
	                           " log 10.0.0.1:515 kern\n"
	                           " log ::1 local1\n"
	                           " log \"127.0.0.2:\" local3\n");
	struct cfg_log *l = cfg->global.logs;
	struct sockaddr_in *sin;
	char buf[NET_ADDRSTRLEN];

	ck_assert_uint_eq(cfg->global.maxconn, 4000);
	ck_assert_int_eq(cfg->global.nbthread, 4);
	ck_assert_int_eq(cfg->global.daemon, 1);
	ck_assert_str_eq(cfg->global.pidfile, "/var/run/haproxy.pid");
	ck_assert_uint_eq(cfg->global.hard_stop_after_ms, 30000);
	ck_assert_int_eq(cfg->global.log_send_hostname, 1);
	ck_assert_uint_eq(cfg->global.tune_bufsize, 32768);
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:4: daemon: ignored, ppbridge always runs in the "
	                                  "foreground (use systemd or &)"));

	ck_assert_int_eq(l->kind, CFG_LOG_UDP);
	sin = (struct sockaddr_in *)&l->addr.ss;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_int_eq(ntohs(sin->sin_port), 514);
	ck_assert_int_eq(l->facility, 18); /* local2 */
	ck_assert_int_eq(l->max_level, 7);
	ck_assert_int_eq(l->maxlen, CFG_DEFAULT_LOG_LEN);
	ck_assert_int_eq(l->format, CFG_LOG_FMT_RFC3164);
	ck_assert_int_eq(l->where.line, 9);
	l = l->next;
	ck_assert_int_eq(l->kind, CFG_LOG_STDOUT);
	ck_assert_int_eq(l->format, CFG_LOG_FMT_RAW);
	ck_assert_int_eq(l->facility, 3);
	ck_assert_int_eq(l->max_level, 6);
	l = l->next;
	ck_assert_int_eq(l->kind, CFG_LOG_STDERR);
	ck_assert_int_eq(l->maxlen, 4096);
	ck_assert_int_eq(l->facility, 16);
	ck_assert_int_eq(l->max_level, 4);
	ck_assert_int_eq(l->min_level, 3);
	l = l->next;
	ck_assert_int_eq(l->kind, CFG_LOG_UNIX);
	ck_assert_str_eq(l->path, "/dev/log");
	ck_assert_int_eq(l->facility, 1);
	l = l->next;
	ck_assert_int_eq(l->kind, CFG_LOG_UDP);
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&l->addr.ss, buf, sizeof(buf)),
	                 "[::1]:1514");
	ck_assert_int_eq(l->facility, 23);
	l = l->next;
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&l->addr.ss, buf, sizeof(buf)),
	                 "10.0.0.1:515");
	ck_assert_int_eq(l->facility, 0);
	l = l->next;
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&l->addr.ss, buf, sizeof(buf)),
	                 "[::1]:514");
	l = l->next;
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&l->addr.ss, buf, sizeof(buf)),
	                 "127.0.0.2:514");
	ck_assert_ptr_null(l->next);
	cfg_free(cfg);
}
END_TEST

START_TEST(global_stats_socket)
{
	struct cfg *cfg = parse_ok("global\n stats socket /run/ppbridge/admin.sock\n");

	ck_assert_str_eq(cfg->global.stats_socket, "/run/ppbridge/admin.sock");
	ck_assert_uint_eq(cfg->global.stats_mode, 0600);
	ck_assert_int_eq(cfg->global.stats_level, 1); /* operator, HAProxy 2.6's default */
	ck_assert_ptr_null(cfg->global.stats_user);
	ck_assert_uint_eq(cfg->global.stats_timeout_ms, 0);
	cfg_free(cfg);
	cfg = parse_ok("global\n stats socket /run/a.sock mode 660 level admin user haproxy "
	               "group wheel\n stats timeout 30s\n");
	ck_assert_str_eq(cfg->global.stats_socket, "/run/a.sock");
	ck_assert_uint_eq(cfg->global.stats_mode, 0660);
	ck_assert_int_eq(cfg->global.stats_level, 2);
	ck_assert_str_eq(cfg->global.stats_user, "haproxy");
	ck_assert_str_eq(cfg->global.stats_group, "wheel");
	ck_assert_uint_eq(cfg->global.stats_timeout_ms, 30000);
	cfg_free(cfg);
	cfg = parse_ok("global\n stats socket /run/a.sock level user\n");
	ck_assert_int_eq(cfg->global.stats_level, 0);
	cfg_free(cfg);
	/* a second socket replaces the first, with a warning */
	cfg = parse_ok("global\n stats socket /run/a.sock\n stats socket /run/b.sock\n");
	ck_assert_str_eq(cfg->global.stats_socket, "/run/b.sock");
	ck_assert(has_msg(CFG_SEV_WARNING, "only one admin socket"));
	cfg_free(cfg);
}
END_TEST

START_TEST(global_errors)
{
	parse_err("global\n maxconn\n", 2, "'maxconn' expects an integer");
	parse_err("global\n maxconn 0\n", 2, "'maxconn'");
	parse_err("global\n maxconn 12x\n", 2, "got '12x'");
	parse_err("global\n nbthread 65\n", 2, "between 1 and 64");
	parse_err("global\n nbthread -1\n", 2, "'nbthread'");
	parse_err("global\n pidfile\n", 2, "'pidfile' expects a path");
	parse_err("global\n\n hard-stop-after 5x\n", 3, "'hard-stop-after'");
	parse_err("global\n user\n", 2, "'user' expects a name");
	parse_err("global\n uid ppbridge\n", 2, "'uid' expects a number, got 'ppbridge'");
	parse_err("global\n group a b\n", 2, "'group' expects a name");
	parse_err("global\n chroot\n", 2, "'chroot' expects a directory");
	{
		struct cfg *cfg = parse_ok("global\n user nobody\n group 65534\n");
		ck_assert_str_eq(cfg->global.user, "nobody");
		ck_assert_str_eq(cfg->global.group, "65534");
		cfg_free(cfg);
	}
	parse_err("global\n stats socket relative.sock\n", 2, "only a unix socket path");
	parse_err("global\n stats socket /run/a.sock mode 0999\n", 2, "'mode' expects octal");
	parse_err("global\n stats socket /run/a.sock mode\n", 2, "'mode' expects a value");
	parse_err("global\n stats socket /run/a.sock level root\n", 2,
	          "'level' expects user, operator or admin, got 'root'");
	parse_err("global\n stats socket /run/a.sock expose-fd listeners\n", 2,
	          "'expose-fd' is not supported");
	parse_err("global\n stats socket\n", 2, "'stats' expects 'socket <path>");
	parse_err("global\n stats enable\n", 2, "'stats' expects 'socket <path>");
	parse_err("global\n stats timeout 5x\n", 2, "'stats timeout'");
	parse_err("global\n stats timeout 0\n", 2, "greater than 0");
	parse_err("global\n stats timeout 10s 5\n", 2, "unexpected word '5'");
	parse_err("global\n tune.bufsize 10\n", 2, "'tune.bufsize'");
	parse_err("global\n nbproc 2\n", 2, "unknown keyword 'nbproc' in 'global' section");
	parse_err("global foo\n", 1, "'global' takes no name");
	parse_err("global\n log\n", 2, "'log' expects");
	parse_err("global\n log global\n", 2, "only valid in a proxy");
	parse_err("global\n log 127.0.0.1\n", 2, "missing <facility>");
	parse_err("global\n log 127.0.0.1 local9\n", 2, "unknown facility 'local9'");
	parse_err("global\n log 127.0.0.1 local0 loud\n", 2, "unknown level 'loud'");
	parse_err("global\n log 127.0.0.1 local0 info err x\n", 2, "unexpected word 'x'");
	parse_err("global\n log 127.0.0.1 len 10 local0\n", 2, "'len' expects 80..65535");
	parse_err("global\n log 127.0.0.1 format rfc5424 local0\n", 2,
	          "format 'rfc5424' is not supported");
	parse_err("global\n log syslog.example.com:514 local0\n", 2, "literal IP address");
	parse_err("global\n log tcp@127.0.0.1:514 local0\n", 2, "unsupported log target");
	parse_err("global\n log 127.0.0.1:99999 local0\n", 2, "invalid port");
	parse_err("global\n log 127.0.0.1 sample 1:2 local0\n", 2, "'sample' is not supported");
}
END_TEST

START_TEST(global_tls)
{
	struct cfg *cfg = parse_ok("global\n"
	                           " ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:"
	                           "ECDHE-RSA-AES128-GCM-SHA256\n"
	                           " ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256\n"
	                           " ssl-default-bind-options ssl-min-ver TLSv1.3 no-sslv3\n"
	                           " ssl-default-server-ciphers ECDHE-RSA-AES256-GCM-SHA384\n"
	                           " ssl-default-server-ciphersuites TLS_AES_256_GCM_SHA384\n"
	                           " ssl-default-server-options no-tlsv10 no-tlsv11 ssl-min-ver "
	                           "TLSv1.2\n"
	                           " ssl-server-verify none\n"
	                           " tune.ssl.default-dh-param 2048\n"
	                           " ca-base /etc/ssl/ca\n"
	                           " crt-base /etc/ssl/private/\n");
	struct cfg_global *g = &cfg->global;

	ck_assert_str_eq(g->ssl_default_bind_ciphers,
	                 "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256");
	ck_assert_str_eq(g->ssl_default_bind_ciphersuites, "TLS_AES_128_GCM_SHA256");
	ck_assert_int_eq(g->ssl_default_bind_min_ver, 0x0304);
	ck_assert_str_eq(g->ssl_default_server_ciphers, "ECDHE-RSA-AES256-GCM-SHA384");
	ck_assert_str_eq(g->ssl_default_server_ciphersuites, "TLS_AES_256_GCM_SHA384");
	ck_assert_int_eq(g->ssl_default_server_min_ver, 0x0303);
	ck_assert_int_eq(g->ssl_server_verify_none, 1);
	ck_assert_str_eq(g->ca_base, "/etc/ssl/ca");
	ck_assert_str_eq(g->crt_base, "/etc/ssl/private/");
	ck_assert_int_eq(M.warnings, 0);
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:4: ssl-default-bind-options: 'no-sslv3' has no "
	                                  "effect: ppbridge never offers TLS versions below 1.2"));
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:7: ssl-default-server-options: 'no-tlsv10'"));
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:7: ssl-default-server-options: 'no-tlsv11'"));
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:9: tune.ssl.default-dh-param: accepted, no "
	                                  "effect"));
	cfg_free(cfg);

	/* Defaults: nothing set; `required` written explicitly clears `none`. */
	cfg = parse_ok("global\n ssl-server-verify none\n ssl-server-verify required\n");
	ck_assert_int_eq(cfg->global.ssl_server_verify_none, 0);
	ck_assert_int_eq(cfg->global.ssl_default_bind_min_ver, 0);
	ck_assert_ptr_null(cfg->global.ca_base);
	cfg_free(cfg);
}
END_TEST

START_TEST(global_tls_errors)
{
	parse_err("global\n ssl-default-bind-ciphers\n", 2,
	          "'ssl-default-bind-ciphers' expects a cipher list");
	parse_err("global\n ssl-default-bind-ciphers a b\n", 2,
	          "'ssl-default-bind-ciphers' expects a cipher list");
	parse_err("global\n ssl-default-bind-ciphersuites\n", 2,
	          "'ssl-default-bind-ciphersuites' expects a TLS 1.3 cipher suite list");
	parse_err("global\n ssl-default-server-ciphers \"\"\n", 2,
	          "'ssl-default-server-ciphers' expects a cipher list");
	parse_err("global\n\n ssl-default-server-ciphersuites\n", 3,
	          "'ssl-default-server-ciphersuites' expects");
	parse_err("global\n ssl-default-bind-options\n", 2,
	          "'ssl-default-bind-options' expects options");
	parse_err("global\n ssl-default-bind-options ssl-min-ver\n", 2,
	          "'ssl-default-bind-options': 'ssl-min-ver' expects a value");
	parse_err("global\n ssl-default-bind-options ssl-min-ver TLSv1.0\n", 2,
	          "'ssl-default-bind-options': 'ssl-min-ver TLSv1.0': not supported: ppbridge "
	          "requires TLS 1.2 or later");
	parse_err("global\n ssl-default-server-options ssl-min-ver SSLv3\n", 2,
	          "'ssl-min-ver SSLv3': not supported: ppbridge requires TLS 1.2 or later");
	parse_err("global\n ssl-default-server-options ssl-min-ver TLSv1.1\n", 2,
	          "requires TLS 1.2 or later");
	parse_err("global\n ssl-default-server-options ssl-min-ver tls13\n", 2,
	          "'ssl-min-ver tls13': expects TLSv1.2 or TLSv1.3");
	parse_err("global\n ssl-default-bind-options no-tls-tickets\n", 2,
	          "'ssl-default-bind-options': 'no-tls-tickets' is not supported");
	parse_err("global\n ssl-default-server-options prefer-client-ciphers\n", 2,
	          "'ssl-default-server-options': 'prefer-client-ciphers' is not supported");
	parse_err("global\n ssl-server-verify\n", 2,
	          "'ssl-server-verify' expects 'none' or 'required'");
	parse_err("global\n ssl-server-verify optional\n", 2,
	          "'ssl-server-verify' expects 'none' or 'required'");
	parse_err("global\n tune.ssl.default-dh-param 512\n", 2,
	          "'tune.ssl.default-dh-param' expects an integer between 1024 and 16384");
	parse_err("global\n ca-base\n", 2, "'ca-base' expects a directory");
	parse_err("global\n crt-base a b\n", 2, "'crt-base' expects a directory");
	parse_err("frontend fe\n ssl-server-verify none\n", 2,
	          "unknown keyword 'ssl-server-verify' in 'frontend' section");
}
END_TEST

/* A bad ssl-default-*-options line changes nothing. */
START_TEST(global_tls_error_keeps_previous)
{
	struct cfg *cfg = parse("global\n ssl-default-bind-options ssl-min-ver TLSv1.3\n"
	                        " ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets\n");

	expect_one_error(3, "'no-tls-tickets' is not supported");
	ck_assert_int_eq(cfg->global.ssl_default_bind_min_ver, 0x0304);
	cfg_free(cfg);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Sections */

START_TEST(section_errors)
{
	parse_err("maxconn 10\nglobal\n", 1, "'maxconn' found before any section");
	parse_err("frontend\n", 1, "'frontend' expects a name");
	parse_err("backend a/b\n", 1, "backend name 'a/b' is invalid");
	parse_err("frontend a b\n", 1, "unexpected word 'b'");
	parse_err("frontend a from\n", 1, "'from' expects a defaults section name");
	parse_err("frontend a from nope\n", 1, "defaults section 'nope' not found");
	parse_err("frontend a\nbackend b\nfrontend a\n", 3,
	          "frontend 'a' has the same name as frontend 'a' declared at t.cfg:1");
	parse_err("listen a\nbackend a\n", 2, "backend 'a' has the same name as listen 'a'");
	parse_err("backend a\nlisten a\n", 2, "listen 'a' has the same name as backend 'a'");
	parse_err("resolvers dns\n nameserver x 1.1.1.1:53\n", 1,
	          "'resolvers' sections are not supported");
	parse_err("frontend fe\n foo bar\n", 2, "unknown keyword 'foo' in 'frontend' section");
	parse_err("backend be\n foo bar\n", 2, "unknown keyword 'foo' in 'backend' section");
	parse_err("listen li\n foo\n", 2, "unknown keyword 'foo' in 'listen' section");
	parse_err("defaults\n foo\n", 2, "unknown keyword 'foo' in 'defaults' section");
}
END_TEST

START_TEST(section_names)
{
	struct cfg *cfg = parse_ok("frontend a\nbackend a\nlisten b.c:d_e-f\ndefaults x\n"
	                           "defaults x\n");

	ck_assert_ptr_nonnull(cfg_find_proxy(cfg, "a", CFG_CAP_FE));
	ck_assert_ptr_nonnull(cfg_find_proxy(cfg, "a", CFG_CAP_BE));
	ck_assert_ptr_ne(cfg_find_proxy(cfg, "a", CFG_CAP_FE),
	                 cfg_find_proxy(cfg, "a", CFG_CAP_BE));
	ck_assert_int_eq(cfg_find_proxy(cfg, "b.c:d_e-f", CFG_CAP_BE)->caps,
	                 CFG_CAP_FE | CFG_CAP_BE);
	ck_assert_ptr_null(cfg_find_proxy(cfg, "x", CFG_CAP_FE | CFG_CAP_BE));
	ck_assert_ptr_null(cfg_find_proxy(cfg, "zz", CFG_CAP_FE | CFG_CAP_BE));
	ck_assert(has_msg(CFG_SEV_WARNING, "t.cfg:5: defaults section 'x' has the same name"));
	cfg_free(cfg);
}
END_TEST

START_TEST(bad_header_still_checks_body)
{
	/* The section with a bad header is not kept, but its lines are read. */
	struct cfg *cfg = parse("frontend bad/name\n bind 1.2.3.4:80\n foo\n");

	ck_assert_int_eq(M.errors, 2);
	ck_assert(has_msg(CFG_SEV_ERROR, "t.cfg:3: unknown keyword 'foo'"));
	ck_assert_ptr_null(cfg->proxies);
	cfg_free(cfg);
}
END_TEST

START_TEST(keeps_going)
{
	struct cfg *cfg = parse("global\n nbthread 0\n maxconn x\n bogus\nfrontend f\n mode udp\n");

	ck_assert_int_eq(M.errors, 4);
	ck_assert_str_eq(nth_msg(CFG_SEV_ERROR, 0)->text,
	                 "t.cfg:2: 'nbthread' expects an integer between 1 and 64, got '0'");
	ck_assert(!strncmp(nth_msg(CFG_SEV_ERROR, 1)->text, "t.cfg:3: ", 9));
	ck_assert(!strncmp(nth_msg(CFG_SEV_ERROR, 2)->text, "t.cfg:4: ", 9));
	ck_assert(!strncmp(nth_msg(CFG_SEV_ERROR, 3)->text, "t.cfg:6: ", 9));
	cfg_free(cfg);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Proxy keywords */

START_TEST(bind_ok)
{
	struct cfg *cfg = parse_ok("frontend fe\n"
	                           " bind *:80\n"
	                           " bind :81 name plain\n"
	                           " bind [::]:443 v4v6\n"
	                           " bind ::1:444 v6only\n"
	                           " bind 10.1.2.3:8443\n");
	struct cfg_bind *b = cfg->proxies->binds;
	char buf[NET_ADDRSTRLEN];

	ck_assert_str_eq(b->text, "*:80");
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&b->addr.ss, buf, sizeof(buf)),
	                 "0.0.0.0:80");
	ck_assert_int_eq(b->where.line, 2);
	b = b->next;
	ck_assert_str_eq(b->name, "plain");
	ck_assert_int_eq(net_get_port((struct sockaddr *)&b->addr.ss), 81);
	b = b->next;
	ck_assert_int_eq(b->v4v6, 1);
	ck_assert_int_eq(b->addr.ss.ss_family, AF_INET6);
	b = b->next;
	ck_assert_int_eq(b->v6only, 1);
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&b->addr.ss, buf, sizeof(buf)),
	                 "[::1]:444");
	b = b->next;
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&b->addr.ss, buf, sizeof(buf)),
	                 "10.1.2.3:8443");
	ck_assert_ptr_null(b->next);
	cfg_free(cfg);
}
END_TEST

START_TEST(bind_errors)
{
	parse_err("frontend fe\n bind\n", 2, "'bind' expects");
	parse_err("frontend fe\n bind 1.2.3.4\n", 2, "'bind 1.2.3.4'");
	parse_err("frontend fe\n bind host.example:80\n", 2, "literal");
	parse_err("frontend fe\n bind *:0\n", 2, "port");
	parse_err("frontend fe\n bind *:80,*:81\n", 2, "address lists are not supported");
	parse_err("frontend fe\n bind *:443 transparent\n", 2, "unknown option 'transparent'");
	parse_err("frontend fe\n bind *:443 name\n", 2, "'name' expects a value");
	parse_err("backend be\n bind *:443\n", 2,
	          "'bind' is not allowed in 'backend' section (only in frontend, listen)");
	parse_err("defaults\n bind *:443\n", 2, "'bind' is not allowed in 'defaults' section");
}
END_TEST

/* `accept-proxy optional`: the word is taken only right after
 * accept-proxy, and only when it is not another option. */
START_TEST(bind_accept_proxy_optional)
{
	struct cfg *cfg = parse_ok("frontend fe\n"
	                           " bind :80 accept-proxy optional ssl crt /a.pem\n"
	                           " bind :81 accept-proxy ssl crt /a.pem\n"
	                           " bind :82 ssl crt /a.pem accept-proxy optional\n"
	                           " bind :83 accept-proxy\n"
	                           " bind :84\n");
	const struct cfg_bind *b = cfg->proxies->binds;

	ck_assert_int_eq(b->accept_proxy, CFG_ACCEPT_PROXY_OPTIONAL);
	ck_assert_int_eq(b->ssl, 1);
	ck_assert_str_eq(b->crts->s, "/a.pem");
	b = b->next;
	ck_assert_int_eq(b->accept_proxy, CFG_ACCEPT_PROXY_ON);
	ck_assert_int_eq(b->ssl, 1);
	b = b->next;
	ck_assert_int_eq(b->accept_proxy, CFG_ACCEPT_PROXY_OPTIONAL);
	b = b->next;
	ck_assert_int_eq(b->accept_proxy, CFG_ACCEPT_PROXY_ON);
	b = b->next;
	ck_assert_int_eq(b->accept_proxy, CFG_ACCEPT_PROXY_OFF);
	ck_assert(cfg_pp_optional(cfg->proxies));
	cfg_free(cfg);

	parse_err("frontend fe\n bind :80 accept-proxy optinal\n", 2,
	          "'bind :80': unknown option 'optinal' ('accept-proxy' may only be followed by "
	          "'optional')");
	parse_err("frontend fe\n bind :80 optional\n", 2, "unknown option 'optional'");
	parse_err("frontend fe\n bind :80 accept-proxy optional optional\n", 2,
	          "unknown option 'optional'");
}
END_TEST

START_TEST(bind_tls)
{
	struct cfg *cfg =
	    parse_ok("frontend fe\n"
	             " bind *:443 ssl crt /etc/ssl/apps.pem crt /etc/ssl/more/ crt rel.pem "
	             "alpn h2,http/1.1 ssl-min-ver TLSv1.3 ssl-max-ver TLSv1.3 "
	             "ciphers ECDHE-RSA-AES128-GCM-SHA256 ciphersuites TLS_AES_128_GCM_SHA256 "
	             "no-sslv3 no-tlsv10 no-tlsv11 accept-proxy\n"
	             " bind :80\n"
	             " bind :8443 crt a.pem ssl ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.2\n"
	             "global\n crt-base /etc/ppb\n"
	             "frontend fe2\n"
	             " bind :9443 ssl crt b.pem crt /abs/c.pem crt sub/d\n");
	struct cfg_bind *b = cfg->proxies->binds;
	struct cfg_str *c = b->crts;

	ck_assert_int_eq(b->ssl, 1);
	ck_assert_str_eq(c->s, "/etc/ssl/apps.pem");
	c = c->next;
	ck_assert_str_eq(c->s, "/etc/ssl/more/");
	c = c->next;
	ck_assert_str_eq(c->s, "rel.pem"); /* no crt-base yet */
	ck_assert_ptr_null(c->next);
	ck_assert_str_eq(b->alpn, "h2,http/1.1");
	ck_assert_int_eq(b->ssl_min_ver, 0x0304);
	ck_assert_int_eq(b->ssl_max_ver, 0x0304);
	ck_assert_str_eq(b->ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
	ck_assert_str_eq(b->ciphersuites, "TLS_AES_128_GCM_SHA256");
	ck_assert_int_eq(b->accept_proxy, 1);
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:2: 'bind *:443': 'no-sslv3' has no effect: "
	                                  "ppbridge never offers TLS versions below 1.2"));
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:2: 'bind *:443': 'no-tlsv10' has no effect"));
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:2: 'bind *:443': 'no-tlsv11' has no effect"));
	b = b->next;
	ck_assert_int_eq(b->ssl, 0);
	ck_assert_ptr_null(b->crts);
	ck_assert_ptr_null(b->alpn);
	ck_assert_int_eq(b->ssl_min_ver, 0);
	ck_assert_int_eq(b->ssl_max_ver, 0);
	ck_assert_ptr_null(b->ciphers);
	ck_assert_ptr_null(b->ciphersuites);
	b = b->next;
	ck_assert_int_eq(b->ssl, 1); /* order of the options does not matter */
	ck_assert_str_eq(b->crts->s, "a.pem");
	ck_assert_int_eq(b->ssl_min_ver, 0x0303);
	ck_assert_int_eq(b->ssl_max_ver, 0x0303);
	/* crt-base applies to relative paths written after it. */
	c = cfg->proxies->next->binds->crts;
	ck_assert_str_eq(c->s, "/etc/ppb/b.pem");
	ck_assert_str_eq(c->next->s, "/abs/c.pem");
	ck_assert_str_eq(c->next->next->s, "/etc/ppb/sub/d");
	ck_assert_int_eq(M.warnings, 0);
	cfg_free(cfg);

	/* TLS-terminated TCP: an ssl bind in mode tcp is a valid frontend. */
	cfg = parse_finish("frontend fe\n mode tcp\n bind :443 ssl crt /a.pem\n"
	                   " default_backend be\n timeout client 1s\n"
	                   "backend be\n timeout connect 1s\n timeout server 1s\n"
	                   " server a 10.0.0.1:443 ssl verify none\n");
	if (M.errors || M.warnings)
		dump();
	ck_assert_int_eq(M.errors, 0);
	ck_assert_int_eq(M.warnings, 0);
	ck_assert_int_eq(cfg->proxies->binds->ssl, 1);
	cfg_free(cfg);

	/* "/" as crt-base does not double the slash. */
	cfg_msgs_free(&M);
	cfg = parse_ok("global\n crt-base /\nfrontend fe\n bind :443 ssl crt x.pem\n");
	ck_assert_str_eq(cfg->proxies->binds->crts->s, "/x.pem");
	cfg_free(cfg);
}
END_TEST

START_TEST(bind_tls_errors)
{
	parse_err("frontend fe\n bind *:443 crt /a.pem\n", 2,
	          "'bind *:443': 'crt' needs 'ssl' on the same bind");
	parse_err("frontend fe\n\n bind *:443 ssl\n", 3,
	          "'bind *:443': 'ssl' needs at least one 'crt'");
	parse_err("frontend fe\n bind *:443 ssl alpn h2\n", 2, "'ssl' needs at least one 'crt'");
	parse_err("frontend fe\n bind *:443 ssl crt\n", 2, "'bind *:443': 'crt' expects a value");
	parse_err("frontend fe\n bind *:443 ssl crt \"\"\n", 2, "'crt' expects a value");
	parse_err("frontend fe\n bind *:443 ssl crt /a alpn\n", 2, "'alpn' expects a value");
	parse_err("frontend fe\n bind *:443 ssl crt /a alpn h2,,http/1.1\n", 2,
	          "'alpn' expects protocol names separated by commas (e.g. h2,http/1.1), "
	          "got 'h2,,http/1.1'");
	parse_err("frontend fe\n bind *:443 ssl crt /a alpn h2,\n", 2, "got 'h2,'");
	parse_err("frontend fe\n bind *:443 ssl crt /a alpn ,h2\n", 2, "got ',h2'");
	parse_err("frontend fe\n bind *:443 ssl crt /a ssl-min-ver\n", 2,
	          "'ssl-min-ver' expects a value");
	parse_err("frontend fe\n bind *:443 ssl crt /a ssl-min-ver TLSv1.1\n", 2,
	          "'bind *:443': 'ssl-min-ver TLSv1.1': not supported: ppbridge requires TLS "
	          "1.2 or later");
	parse_err("frontend fe\n bind *:443 ssl crt /a ssl-min-ver SSLv3\n", 2,
	          "'ssl-min-ver SSLv3': not supported: ppbridge requires TLS 1.2 or later");
	parse_err("frontend fe\n bind *:443 ssl crt /a ssl-min-ver TLSv1.0\n", 2,
	          "'ssl-min-ver TLSv1.0': not supported");
	parse_err("frontend fe\n bind *:443 ssl crt /a ssl-max-ver TLSv1.1\n", 2,
	          "'ssl-max-ver TLSv1.1': not supported: ppbridge requires TLS 1.2 or later");
	parse_err("frontend fe\n bind *:443 ssl crt /a ssl-max-ver TLSv2\n", 2,
	          "'ssl-max-ver TLSv2': expects TLSv1.2 or TLSv1.3");
	parse_err("frontend fe\n bind *:443 ssl crt /a ssl-min-ver TLSv1.3 ssl-max-ver "
	          "TLSv1.2\n",
	          2, "'bind *:443': 'ssl-min-ver' is above 'ssl-max-ver'");
	parse_err("frontend fe\n bind *:443 ssl crt /a ciphers\n", 2, "'ciphers' expects a value");
	parse_err("frontend fe\n bind *:443 ssl crt /a ciphersuites\n", 2,
	          "'ciphersuites' expects a value");
	parse_err("frontend fe\n bind *:443 ssl crt /a no-tls-tickets\n", 2,
	          "'bind *:443': 'no-tls-tickets' is not supported (session tickets stay on so "
	          "that returning clients resume)");
	parse_err("frontend fe\n bind *:443 ssl crt-list /l.txt\n", 2,
	          "'bind *:443': 'crt-list' is not supported (list the certificates with several "
	          "'crt', or name a directory)");
	parse_err("frontend fe\n bind *:443 ssl crt /a ca-file /ca.pem\n", 2,
	          "'bind *:443': 'ca-file' is not supported (client certificates are not "
	          "supported)");
	parse_err("frontend fe\n bind *:443 ssl crt /a verify required\n", 2,
	          "'bind *:443': 'verify' is not supported (client certificates");
	parse_err("frontend fe\n bind *:443 ssl crt /a curves X25519\n", 2,
	          "'bind *:443': 'curves' is not supported (OpenSSL's default groups apply)");
	parse_err("frontend fe\n bind *:443 ssl crt /a force-tlsv12\n", 2,
	          "'force-tlsv12' is not supported (use 'ssl-min-ver' and 'ssl-max-ver')");
	parse_err("frontend fe\n bind *:443 ssl crt /a npn http/1.1\n", 2,
	          "'npn' is not supported (use 'alpn')");
	parse_err("frontend fe\n bind *:443 ssl crt /a strict-sni\n", 2,
	          "'strict-sni' is not supported");
	/* A refused bind is not kept: no echo from cfg_finish about it. */
	cfg_msgs_free(&M);
	{
		struct cfg *cfg = parse("frontend fe\n bind *:443 crt /a\n");
		ck_assert_ptr_null(cfg->proxies->binds);
		cfg_free(cfg);
	}
}
END_TEST

START_TEST(proxy_keywords)
{
	struct cfg *cfg = parse_ok("frontend fe\n"
	                           " mode tcp\n"
	                           " maxconn 1000\n"
	                           " default_backend be\n"
	                           " timeout client 30s\n"
	                           " timeout client-fin 1s\n"
	                           " timeout client-hs 2s\n"
	                           " timeout http-request 3s\n"
	                           " timeout http-keep-alive 4s\n"
	                           " option tcplog\n"
	                           " option dontlognull\n"
	                           " option clitcpka\n"
	                           " log global\n"
	                           " log 127.0.0.1:514 local0\n"
	                           "backend be\n"
	                           " balance source\n"
	                           " hash-type consistent djb2 avalanche\n"
	                           " retries 5\n"
	                           " option redispatch 2\n"
	                           " option srvtcpka\n"
	                           " option tcpka\n"
	                           " option http-server-close\n"
	                           " option log-health-checks\n"
	                           " timeout connect 1s\n"
	                           " timeout server 2m\n"
	                           " timeout check 500\n"
	                           " timeout queue 10s\n"
	                           " timeout tunnel 1h\n"
	                           " timeout server-fin 3s\n"
	                           " server s1 10.0.0.1:80\n"
	                           "backend lc\n"
	                           " balance leastconn\n"
	                           " hash-type map-based\n"
	                           "backend rr\n"
	                           " balance roundrobin\n"
	                           " option redispatch\n");
	struct cfg_proxy *fe = cfg_find_proxy(cfg, "fe", CFG_CAP_FE);
	struct cfg_proxy *be = cfg_find_proxy(cfg, "be", CFG_CAP_BE);
	struct cfg_proxy *lc = cfg_find_proxy(cfg, "lc", CFG_CAP_BE);
	struct cfg_proxy *rr = cfg_find_proxy(cfg, "rr", CFG_CAP_BE);

	ck_assert_int_eq(fe->caps, CFG_CAP_FE);
	ck_assert_int_eq(fe->where.line, 1);
	ck_assert_int_eq(fe->mode, CFG_MODE_TCP);
	ck_assert_int_eq(fe->mode_where.line, 2);
	ck_assert_uint_eq(fe->maxconn, 1000);
	ck_assert_str_eq(fe->default_backend, "be");
	ck_assert_int_eq(fe->default_backend_where.line, 4);
	ck_assert_uint_eq(fe->timeout.client, 30000);
	ck_assert_uint_eq(fe->timeout.client_fin, 1000);
	ck_assert_uint_eq(fe->timeout.client_hs, 2000);
	ck_assert_uint_eq(fe->timeout.http_request, 3000);
	ck_assert_uint_eq(fe->timeout.http_keep_alive, 4000);
	ck_assert_uint_eq(fe->options, CFG_OPT_TCPLOG | CFG_OPT_DONTLOGNULL | CFG_OPT_CLITCPKA);
	ck_assert_int_eq(fe->log_global, 1);
	ck_assert_ptr_nonnull(fe->logs);
	ck_assert_int_eq(fe->logs->facility, 16);

	ck_assert_int_eq(be->balance, CFG_BALANCE_SOURCE);
	ck_assert_int_eq(be->hash_type, CFG_HASH_CONSISTENT);
	ck_assert_int_eq(be->hash_fn, CFG_HASH_FN_DJB2);
	ck_assert_int_eq(be->hash_avalanche, 1);
	ck_assert_int_eq(be->retries, 5);
	ck_assert_int_eq(be->redispatch_interval, 2);
	ck_assert_uint_eq(be->options, CFG_OPT_REDISPATCH | CFG_OPT_SRVTCPKA | CFG_OPT_TCPKA |
	                                   CFG_OPT_HTTP_SERVER_CLOSE | CFG_OPT_LOG_HEALTH_CHECKS);
	ck_assert_uint_eq(be->timeout.connect, 1000);
	ck_assert_uint_eq(be->timeout.server, 120000);
	ck_assert_uint_eq(be->timeout.check, 500);
	ck_assert_uint_eq(be->timeout.queue, 10000);
	ck_assert_uint_eq(be->timeout.tunnel, 3600000);
	ck_assert_uint_eq(be->timeout.server_fin, 3000);
	ck_assert_int_eq(be->log_global, 0);

	ck_assert_int_eq(lc->balance, CFG_BALANCE_LEASTCONN);
	ck_assert_int_eq(lc->hash_type, CFG_HASH_MAP_BASED);
	ck_assert_int_eq(lc->retries, CFG_DEFAULT_RETRIES);
	ck_assert_int_eq(lc->redispatch_interval, -1);
	ck_assert_int_eq(rr->balance, CFG_BALANCE_ROUNDROBIN);
	ck_assert_int_eq(rr->redispatch_interval, -1);
	ck_assert_uint_eq(rr->options, CFG_OPT_REDISPATCH);
	cfg_free(cfg);
}
END_TEST

START_TEST(builtin_values)
{
	struct cfg *cfg = parse_ok("backend be\n server s 1.2.3.4:80\n");
	struct cfg_proxy *be = cfg->proxies;
	struct cfg_server *s = be->servers;

	ck_assert_int_eq(be->mode, CFG_MODE_TCP);
	ck_assert_int_eq(be->mode_where.line, 0);
	ck_assert_int_eq(be->balance, CFG_BALANCE_ROUNDROBIN);
	ck_assert_int_eq(be->retries, CFG_DEFAULT_RETRIES);
	ck_assert_uint_eq(be->options, 0);
	ck_assert_int_eq(s->check, 0);
	ck_assert_uint_eq(s->inter_ms, CFG_DEFAULT_INTER);
	ck_assert_int_eq(s->rise, CFG_DEFAULT_RISE);
	ck_assert_int_eq(s->fall, CFG_DEFAULT_FALL);
	ck_assert_int_eq(s->weight, CFG_DEFAULT_WEIGHT);
	ck_assert_int_eq(s->verify, CFG_VERIFY_DEFAULT);
	ck_assert_int_eq(s->maxconn, 0);
	ck_assert_ptr_null(s->ca_file);
	cfg_free(cfg);
}
END_TEST

START_TEST(log_options)
{
	struct cfg *cfg = parse_ok("defaults\n log global\n log 127.0.0.1 local0\n"
	                           "frontend a\n option httplog\n option tcplog\n"
	                           "frontend b\n no log\n"
	                           "frontend c\n log stdout local1\n");
	struct cfg_proxy *a = cfg_find_proxy(cfg, "a", CFG_CAP_FE);
	struct cfg_proxy *b = cfg_find_proxy(cfg, "b", CFG_CAP_FE);
	struct cfg_proxy *c = cfg_find_proxy(cfg, "c", CFG_CAP_FE);

	ck_assert_int_eq(a->log_global, 1);
	ck_assert_int_eq(a->logs->facility, 16);
	/* tcplog and httplog: the last one wins */
	ck_assert_uint_eq(a->options, CFG_OPT_TCPLOG);
	ck_assert_int_eq(b->log_global, 0);
	ck_assert_ptr_null(b->logs);
	ck_assert_int_eq(c->log_global, 1);
	ck_assert_int_eq(c->logs->facility, 16);
	ck_assert_int_eq(c->logs->next->kind, CFG_LOG_STDOUT);
	cfg_free(cfg);
}
END_TEST

START_TEST(proxy_errors)
{
	parse_err("frontend fe\n mode udp\n", 2, "'mode' expects 'tcp' or 'http'");
	parse_err("frontend fe\n mode health\n", 2, "'health' is not supported");
	parse_err("frontend fe\n mode\n", 2, "'mode' expects");
	parse_err("frontend fe\n default_backend\n", 2, "'default_backend' expects");
	parse_err("frontend fe\n default_backend a b\n", 2, "'default_backend' expects");
	parse_err("backend be\n default_backend x\n", 2,
	          "'default_backend' is not allowed in 'backend' section");
	parse_err("frontend fe\n use_backend be if x\n", 2, "unknown ACL 'x'");
	parse_err("backend be\n balance uri\n", 2, "'balance' 'uri': supported algorithms are");
	parse_err("backend be\n balance static-rr\n", 2, "supported algorithms");
	parse_err("backend be\n balance\n", 2, "'balance': supported algorithms");
	parse_err("frontend fe\n balance source\n", 2,
	          "'balance' is not allowed in 'frontend' section (only in defaults, backend, "
	          "listen)");
	parse_err("backend be\n hash-type foo\n", 2, "unknown method 'foo'");
	parse_err("backend be\n hash-type consistent md5\n", 2, "unknown hash function 'md5'");
	parse_err("backend be\n hash-type consistent sdbm xyz\n", 2, "unknown modifier 'xyz'");
	parse_err("backend be\n hash-type\n", 2, "'hash-type' expects");
	parse_err("backend be\n maxconn 10\n", 2, "'maxconn' is not allowed in 'backend'");
	parse_err("frontend fe\n maxconn -1\n", 2, "'maxconn' expects an integer");
	parse_err("backend be\n retries many\n", 2, "'retries' expects an integer");
	parse_err("frontend fe\n retries 3\n", 2, "'retries' is not allowed in 'frontend'");
	parse_err("backend be\n option redispatch x\n", 2, "'option redispatch' expects");
	parse_err("backend be\n option tcpka 1\n", 2, "'option tcpka' takes no value");
	parse_err("backend be\n option bogus\n", 2, "unknown option 'bogus' in 'backend' section");
	parse_err("backend be\n option\n", 2, "'option' expects");
	parse_err("frontend fe\n option redispatch\n", 2,
	          "'option redispatch' is not allowed in 'frontend' section");
	parse_err("backend be\n option clitcpka\n", 2, "'option clitcpka' is not allowed");
	parse_err("frontend fe\n option srvtcpka\n", 2, "'option srvtcpka' is not allowed");
	parse_err("backend be\n option dontlognull\n", 2, "'option dontlognull' is not allowed");
	parse_err("frontend fe\n option httpchk\n", 2, "'option httpchk' is not allowed");
	parse_err("frontend fe\n option originalto\n", 2,
	          "'option originalto' is not supported (outside the L7 HTTP subset)");
	parse_err("frontend fe\n http-response del-header Server\n", 2,
	          "'http-response' is not supported (outside the L7 HTTP subset)");
	parse_err("frontend fe\n tcp-request content drop\n", 2,
	          "'tcp-request content' expects accept, reject or track-sc<N>");
	parse_err("frontend fe\n tcp-request inspect-delay soon\n", 2,
	          "'tcp-request inspect-delay'");
	parse_err("frontend fe\n use_backend\n", 2, "'use_backend' expects a backend name");
	parse_err("frontend fe\n use_backend be when x\n", 2, "'use_backend' expects");
	{
		struct cfg *cfg = parse_finish("frontend fe\n mode tcp\n bind :1\n"
					   " tcp-request inspect-delay 3s\n"
					   " tcp-request content accept if { req_ssl_hello_type 1 }\n"
					   " use_backend pass if { req.ssl_sni -i a.test *.b.test }\n"
					   " default_backend be\n"
					   "backend be\n mode tcp\n server s 127.0.0.1:1\n"
					   "backend pass\n mode tcp\n server s 127.0.0.1:2\n");
		const struct cfg_proxy *fe = cfg->proxies;
		ck_assert_int_eq(M.errors, 0);
		ck_assert_uint_eq(fe->timeout.inspect_delay, 3000);
		ck_assert_ptr_nonnull(fe->tcp_content_rules);
		ck_assert_int_eq(fe->tcp_content_rules->action, CFG_TCP_ACCEPT);
		ck_assert_ptr_nonnull(fe->use_backends);
		ck_assert_str_eq(fe->use_backends->be->name, "pass");
		cfg_free(cfg);
	}
	parse_err("frontend fe\n client-ip proxy-v3\n", 2,
	          "'client-ip' expects none, xff, proxy-v1, proxy-v2 or auto");
	parse_err("backend be\n client-ip none\n", 2, "'client-ip' is not allowed in 'backend'");
	{
		struct cfg *cfg = parse_ok("frontend fe\n client-ip proxy-v2\n");
		ck_assert_int_eq(cfg->proxies->client_ip, CFG_CLIENT_IP_PROXY_V2);
		cfg_free(cfg);
		cfg = parse_ok("frontend fe\n client-ip auto\n");
		ck_assert_int_eq(cfg->proxies->client_ip, CFG_CLIENT_IP_AUTO);
		cfg_free(cfg);
	}
	parse_err("listen st\n stats show-node\n", 2, "'stats show-node' is not supported");
	parse_err("frontend fe\n no option\n", 2, "'no' expects");
	parse_err("frontend fe\n no foo\n", 2, "'no' expects");
	parse_err("backend be\n no option httpchk\n", 2, "only boolean options can be negated");
	parse_err("backend be\n no option bogus\n", 2, "unknown option 'bogus'");
	parse_err("frontend fe\n log global x\n", 2, "'log global' takes no value");
	parse_err("frontend fe\n log 127.0.0.1\n", 2, "missing <facility>");
}
END_TEST

START_TEST(timeout_errors)
{
	parse_err("frontend fe\n timeout\n", 2, "'timeout' expects");
	parse_err("frontend fe\n timeout client\n", 2, "'timeout client' expects a time");
	parse_err("frontend fe\n timeout client 5x\n", 2, "'timeout client': unknown time unit");
	parse_err("frontend fe\n timeout client 99999d\n", 2, "too large");
	parse_err("frontend fe\n timeout client 5s 6s\n", 2, "unexpected word '6s'");
	parse_err("frontend fe\n timeout bogus 5s\n", 2,
	          "unknown keyword 'timeout bogus' in 'frontend' section");
	parse_err("frontend fe\n timeout server 5s\n", 2,
	          "'timeout server' is not allowed in 'frontend' section");
	parse_err("frontend fe\n timeout connect 5s\n", 2, "'timeout connect' is not allowed");
	parse_err("backend be\n timeout client 5s\n", 2, "'timeout client' is not allowed");
	parse_err("backend be\n timeout client-fin 5s\n", 2, "'timeout client-fin' is not allowed");
	parse_err("frontend fe\n timeout tunnel 5s\n", 2, "'timeout tunnel' is not allowed");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Servers */

START_TEST(server_options)
{
	struct cfg *cfg = parse_ok("backend be\n"
	                           " server a 10.0.0.1:6443 check inter 10s fastinter 1s "
	                           "downinter 5s rise 3 fall 2 port 1936 addr 10.0.0.9 weight 256 "
	                           "backup disabled check-ssl check-sni api.example verify none "
	                           "ca-file /etc/ca.pem maxconn 100\n"
	                           " server b node-b.example:443 verify required weight 0\n"
	                           " server c [fd00::1]:80\n");
	struct cfg_server *s = cfg->proxies->servers;

	ck_assert_str_eq(s->name, "a");
	ck_assert_str_eq(s->host, "10.0.0.1");
	ck_assert_uint_eq(s->port, 6443);
	ck_assert_int_eq(s->where.line, 2);
	ck_assert_int_eq(s->check, 1);
	ck_assert_uint_eq(s->inter_ms, 10000);
	ck_assert_uint_eq(s->fastinter_ms, 1000);
	ck_assert_uint_eq(s->downinter_ms, 5000);
	ck_assert_int_eq(s->rise, 3);
	ck_assert_int_eq(s->fall, 2);
	ck_assert_uint_eq(s->check_port, 1936);
	ck_assert_str_eq(s->check_addr, "10.0.0.9");
	ck_assert_int_eq(s->weight, 256);
	ck_assert_int_eq(s->backup, 1);
	ck_assert_int_eq(s->disabled, 1);
	ck_assert_int_eq(s->check_ssl, 1);
	ck_assert_str_eq(s->check_sni, "api.example");
	ck_assert_int_eq(s->verify, CFG_VERIFY_NONE);
	ck_assert_str_eq(s->ca_file, "/etc/ca.pem");
	ck_assert_int_eq(s->maxconn, 100);
	ck_assert_uint_eq(s->addr.len, 0); /* not resolved yet */
	s = s->next;
	ck_assert_str_eq(s->host, "node-b.example");
	ck_assert_uint_eq(s->port, 443);
	ck_assert_int_eq(s->verify, CFG_VERIFY_REQUIRED);
	ck_assert_int_eq(s->weight, 0);
	ck_assert_int_eq(s->check, 0);
	s = s->next;
	ck_assert_str_eq(s->host, "fd00::1");
	ck_assert_uint_eq(s->port, 80);
	cfg_free(cfg);
}
END_TEST

START_TEST(server_errors)
{
	parse_err("backend be\n server\n", 2, "'server' expects");
	parse_err("backend be\n server a\n", 2, "'server' expects");
	parse_err("backend be\n server a/b 1.2.3.4:80\n", 2, "invalid name 'a/b'");
	parse_err("backend be\n server a 1.2.3.4\n", 2,
	          "server 'a': address '1.2.3.4' has no port: ppbridge requires");
	parse_err("backend be\n server a host.example\n", 2, "has no port");
	parse_err("backend be\n server a 1.2.3.4:0\n", 2, "port 0 is not supported");
	parse_err("backend be\n server a 1.2.3.4:+1\n", 2, "invalid port");
	parse_err("backend be\n server a :80\n", 2, "has no host");
	parse_err("backend be\n server a [::1\n", 2, "missing ']'");
	parse_err("backend be\n server a 1.2.3.4:80 bogus\n", 2,
	          "server 'a': unknown option 'bogus'");
	parse_err("backend be\n server a 1.2.3.4:80 inter\n", 2, "'inter' expects a value");
	parse_err("backend be\n server a 1.2.3.4:80 inter 0\n", 2,
	          "'inter' must be greater than 0");
	parse_err("backend be\n server a 1.2.3.4:80 inter 2x\n", 2, "'inter': unknown time unit");
	parse_err("backend be\n server a 1.2.3.4:80 fastinter x\n", 2, "'fastinter'");
	parse_err("backend be\n server a 1.2.3.4:80 downinter x\n", 2, "'downinter'");
	parse_err("backend be\n server a 1.2.3.4:80 rise 0\n", 2, "'rise' expects an integer");
	parse_err("backend be\n server a 1.2.3.4:80 fall x\n", 2, "'fall' expects an integer");
	parse_err("backend be\n server a 1.2.3.4:80 weight 257\n", 2,
	          "'weight' expects an integer between 0 and 256, got '257'");
	parse_err("backend be\n server a 1.2.3.4:80 port 0\n", 2, "'port' expects 1..65535");
	parse_err("backend be\n server a 1.2.3.4:80 addr host.example\n", 2,
	          "'addr' expects a literal IP address");
	parse_err("backend be\n server a 1.2.3.4:80 verify maybe\n", 2,
	          "'verify' expects 'none' or 'required'");
	parse_err("backend be\n server a 1.2.3.4:80 maxconn -1\n", 2, "'maxconn' expects");
	parse_err("backend be\n server a 1.2.3.4:80\n server a 1.2.3.5:80\n", 3,
	          "server 'a': name already used in backend 'be' (t.cfg:2)");
	parse_err("frontend fe\n server a 1.2.3.4:80\n", 2,
	          "'server' is not allowed in 'frontend' section");
	parse_err("defaults\n server a 1.2.3.4:80\n", 2, "'server' is not allowed in 'defaults'");
}
END_TEST

START_TEST(server_tls)
{
	struct cfg *cfg =
	    parse_ok("backend be\n"
	             " server a 10.0.0.1:443 check ssl sni ssl_fc_sni verifyhost router.apps "
	             "ca-file /etc/ca.pem crt /etc/client.pem ssl-min-ver TLSv1.3 verify required "
	             "no-ssl-reuse no-sslv3\n"
	             " server b 10.0.0.2:443 ssl sni req.hdr(host) ca-file ca.pem crt c.pem\n"
	             " server c 10.0.0.3:443 ssl sni str(fixed.example) verify none\n"
	             " server d 10.0.0.4:80\n");
	struct cfg_server *s = cfg->proxies->servers;

	ck_assert_int_eq(s->ssl, 1);
	ck_assert_int_eq(s->check, 1);
	ck_assert_int_eq(s->check_ssl, 0); /* the check module derives it from `ssl` */
	ck_assert_str_eq(s->sni_text, "ssl_fc_sni");
	ck_assert_ptr_nonnull(s->sni);
	ck_assert_int_eq(s->sni->nsegs, 1);
	ck_assert_int_eq(s->sni->segs[0].fetch, SAMPLE_SSL_FC_SNI);
	ck_assert_str_eq(s->verifyhost, "router.apps");
	ck_assert_str_eq(s->ca_file, "/etc/ca.pem");
	ck_assert_str_eq(s->crt, "/etc/client.pem");
	ck_assert_int_eq(s->ssl_min_ver, 0x0304);
	ck_assert_int_eq(s->verify, CFG_VERIFY_REQUIRED);
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:2: server 'a': 'no-ssl-reuse' has no effect: "
	                                  "ppbridge always resumes TLS sessions to servers"));
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:2: server 'a': 'no-sslv3' has no effect: "
	                                  "ppbridge never offers TLS versions below 1.2"));
	s = s->next;
	ck_assert_str_eq(s->sni_text, "req.hdr(host)");
	ck_assert_int_eq(s->sni->nsegs, 1);
	ck_assert_int_eq(s->sni->segs[0].fetch, SAMPLE_REQ_HDR);
	ck_assert_str_eq(s->sni->segs[0].text, "host");
	ck_assert_str_eq(s->ca_file, "ca.pem"); /* no ca-base */
	ck_assert_str_eq(s->crt, "c.pem");
	ck_assert_int_eq(s->verify, CFG_VERIFY_DEFAULT);
	ck_assert_int_eq(s->ssl_min_ver, 0);
	s = s->next;
	ck_assert_str_eq(s->sni_text, "str(fixed.example)");
	ck_assert_int_eq(s->sni->nsegs, 1);
	ck_assert_int_eq(s->sni->segs[0].fetch, SAMPLE_LITERAL);
	ck_assert_str_eq(s->sni->segs[0].text, "fixed.example");
	ck_assert_int_eq(s->verify, CFG_VERIFY_NONE);
	s = s->next;
	ck_assert_int_eq(s->ssl, 0);
	ck_assert_ptr_null(s->sni);
	ck_assert_ptr_null(s->sni_text);
	ck_assert_ptr_null(s->verifyhost);
	ck_assert_ptr_null(s->crt);
	ck_assert_ptr_null(s->ca_file);
	ck_assert_int_eq(M.warnings, 0);
	cfg_free(cfg);

	/* ca-base and crt-base: relative paths only, written after them. */
	cfg = parse_ok("backend be1\n server a 10.0.0.1:443 ssl ca-file ca.pem crt c.pem\n"
	               "global\n ca-base /etc/ca/\n crt-base /etc/crt\n"
	               "backend be2\n"
	               " default-server ca-file d.pem\n"
	               " server a 10.0.0.1:443 ssl crt sub/c.pem\n"
	               " server b 10.0.0.2:443 ssl ca-file /abs/ca.pem crt /abs/c.pem\n");
	s = cfg->proxies->servers;
	ck_assert_str_eq(s->ca_file, "ca.pem");
	ck_assert_str_eq(s->crt, "c.pem");
	s = cfg->proxies->next->servers;
	ck_assert_str_eq(s->ca_file, "/etc/ca/d.pem");
	ck_assert_str_eq(s->crt, "/etc/crt/sub/c.pem");
	s = s->next;
	ck_assert_str_eq(s->ca_file, "/abs/ca.pem");
	ck_assert_str_eq(s->crt, "/abs/c.pem");
	cfg_free(cfg);
}
END_TEST

START_TEST(server_tls_errors)
{
	parse_err("backend be\n server a 1.2.3.4:443 ssl sni\n", 2,
	          "server 'a': 'sni' expects a value");
	parse_err("backend be\n\n server a 1.2.3.4:443 ssl sni ssl_fc_snx\n", 3,
	          "server 'a': 'sni ssl_fc_snx': unknown sample fetch 'ssl_fc_snx'");
	parse_err("backend be\n server a 1.2.3.4:443 ssl sni req.hdr(host),lower\n", 2,
	          "server 'a': 'sni req.hdr(host),lower': '%[req.hdr(host),lower]': converters "
	          "are not supported");
	parse_err("backend be\n server a 1.2.3.4:443 ssl sni req.hdr()\n", 2,
	          "req.hdr() expects a header name");
	parse_err("backend be\n server a 1.2.3.4:443 ssl sni \"\"\n", 2,
	          "server 'a': 'sni' expects an expression (ssl_fc_sni, req.hdr(host), "
	          "str(<name>))");
	parse_err("backend be\n server a 1.2.3.4:443 ssl sni str(a%b)\n", 2,
	          "server 'a': 'sni str(a%b)': 'a%b' is not a host name");
	parse_err("backend be\n server a 1.2.3.4:443 ssl sni \"str(a b)\"\n", 2,
	          "'sni str(a b)': 'a b' is not a host name");
	parse_err("backend be\n server a 1.2.3.4:443 ssl verifyhost\n", 2,
	          "'verifyhost' expects a value");
	parse_err("backend be\n server a 1.2.3.4:443 ssl verifyhost \"\"\n", 2,
	          "server 'a': 'verifyhost' expects a host name");
	parse_err("backend be\n server a 1.2.3.4:443 ssl crt\n", 2, "'crt' expects a value");
	parse_err("backend be\n server a 1.2.3.4:443 ssl crt \"\"\n", 2,
	          "server 'a': 'crt' expects a file");
	parse_err("backend be\n server a 1.2.3.4:443 ssl ssl-min-ver TLSv1.1\n", 2,
	          "server 'a': 'ssl-min-ver TLSv1.1': not supported: ppbridge requires TLS 1.2 "
	          "or later");
	parse_err("backend be\n server a 1.2.3.4:443 ssl ssl-min-ver 1.2\n", 2,
	          "server 'a': 'ssl-min-ver 1.2': expects TLSv1.2 or TLSv1.3");
	parse_err("backend be\n default-server ssl sni nope\n", 2,
	          "default-server: 'sni nope': unknown sample fetch 'nope'");
	parse_err("backend be\n server a 1.2.3.4:443 ssl no-tls-tickets\n", 2,
	          "server 'a': unknown option 'no-tls-tickets'");
}
END_TEST

/* default-server and defaults sections carry the TLS settings to every
 * server, each with its own copy (ASan checks the frees). */
START_TEST(server_tls_inherit)
{
	struct cfg *cfg =
	    parse_ok("defaults\n"
	             " default-server ssl sni ssl_fc_sni verifyhost d.example crt /d.pem "
	             "ssl-min-ver TLSv1.3 ca-file /dca.pem\n"
	             "backend be\n"
	             " server a 1.2.3.4:443\n"
	             " default-server sni req.hdr(host) verifyhost b.example\n"
	             " server b 1.2.3.5:443 crt /b.pem\n"
	             " server c 1.2.3.6:443 sni str(c.example)\n"
	             "backend be2\n"
	             " server x 1.2.3.7:443\n");
	struct cfg_server *a = cfg->proxies->servers, *b = a->next, *c = b->next;
	struct cfg_server *x = cfg->proxies->next->servers;

	ck_assert_int_eq(a->ssl, 1);
	ck_assert_str_eq(a->sni_text, "ssl_fc_sni");
	ck_assert_ptr_nonnull(a->sni);
	ck_assert_int_eq(a->sni->segs[0].fetch, SAMPLE_SSL_FC_SNI);
	ck_assert_str_eq(a->verifyhost, "d.example");
	ck_assert_str_eq(a->crt, "/d.pem");
	ck_assert_str_eq(a->ca_file, "/dca.pem");
	ck_assert_int_eq(a->ssl_min_ver, 0x0304);
	ck_assert_int_eq(b->ssl, 1);
	ck_assert_str_eq(b->sni_text, "req.hdr(host)");
	ck_assert_int_eq(b->sni->segs[0].fetch, SAMPLE_REQ_HDR);
	ck_assert_str_eq(b->verifyhost, "b.example");
	ck_assert_str_eq(b->crt, "/b.pem");
	ck_assert_str_eq(c->sni_text, "str(c.example)");
	ck_assert_int_eq(c->sni->segs[0].fetch, SAMPLE_LITERAL);
	ck_assert_str_eq(c->crt, "/d.pem");
	ck_assert_ptr_ne(a->sni, x->sni); /* own copies */
	ck_assert_ptr_ne(a->crt, x->crt);
	ck_assert_str_eq(x->sni_text, "ssl_fc_sni");
	ck_assert_int_eq(x->ssl_min_ver, 0x0304);
	cfg_free(cfg);

	/* A bad default-server line leaves the TLS template as it was. */
	cfg_msgs_free(&M);
	cfg = parse("backend be\n default-server ssl sni ssl_fc_sni\n"
	            " default-server sni req.hdr(host) ssl-min-ver TLSv1.0\n"
	            " server a 1.2.3.4:443\n");
	expect_one_error(3, "default-server: 'ssl-min-ver TLSv1.0'");
	ck_assert_str_eq(cfg->proxies->servers->sni_text, "ssl_fc_sni");
	ck_assert_int_eq(cfg->proxies->servers->sni->segs[0].fetch, SAMPLE_SSL_FC_SNI);
	cfg_free(cfg);
}
END_TEST

START_TEST(proxy_protocol_keywords)
{
	struct cfg *cfg = parse_ok("frontend fe\n"
	                           " bind 127.0.0.1:80 accept-proxy\n"
	                           " bind 127.0.0.1:81\n"
	                           " acl lb src 10.0.0.0/8\n"
	                           " acl lb src ::1\n"
	                           " tcp-request connection reject if !lb !{ src 127.0.0.1 }\n"
	                           " tcp-request connection expect-proxy layer4 if { src 127.0.0.1 }\n"
	                           " tcp-request connection accept unless lb\n"
	                           " default_backend be\n"
	                           "backend be\n"
	                           " default-server send-proxy-v2\n"
	                           " server a 1.2.3.4:80 send-proxy check-send-proxy\n"
	                           " server b 1.2.3.4:81 proxy-v2-options crc32c,unique-id,authority\n"
	                           " server c 1.2.3.4:82 send-proxy-v2-ssl-cn\n"
	                           " server d 1.2.3.4:83 send-proxy-v2-ssl proxy-v2-options cert-key\n");
	const struct cfg_proxy *fe = cfg->proxies, *be = fe->next;
	const struct cfg_tcp_rule *r = fe->tcp_conn_rules;
	const struct cfg_server *sv = be->servers;

	ck_assert_int_eq(fe->binds->accept_proxy, 1);
	ck_assert_int_eq(fe->binds->next->accept_proxy, 0);
	ck_assert_ptr_nonnull(fe->acls);
	ck_assert_int_eq(r->action, CFG_TCP_REJECT);
	ck_assert_ptr_nonnull(r->cond);
	ck_assert_int_eq(r->where.line, 6);
	r = r->next;
	ck_assert_int_eq(r->action, CFG_TCP_EXPECT_PROXY);
	r = r->next;
	ck_assert_int_eq(r->action, CFG_TCP_ACCEPT);
	ck_assert_int_eq(r->cond->unless, 1);
	ck_assert_ptr_null(r->next);
	ck_assert_int_eq(sv->send_proxy, CFG_SEND_PROXY_V1);
	ck_assert_int_eq(sv->check_send_proxy, 1);
	sv = sv->next;
	ck_assert_int_eq(sv->send_proxy, CFG_SEND_PROXY_V2); /* from default-server */
	ck_assert_uint_eq(sv->pp2_options, PP_V2_F_CRC32C | PP_V2_F_UNIQUE_ID | PP_V2_F_AUTHORITY);
	sv = sv->next;
	ck_assert_uint_eq(sv->pp2_options, PP_V2_F_SSL | PP_V2_F_SSL_CN);
	sv = sv->next;
	ck_assert_uint_eq(sv->pp2_options, PP_V2_F_SSL | PP_V2_F_SSL_KEY_ALG);
	cfg_free(cfg);

	cfg = parse_ok("global\n tune.pp-max-header 16384\n");
	ck_assert_uint_eq(cfg->global.pp_max_header, 16384);
	cfg_free(cfg);
}
END_TEST

START_TEST(proxy_protocol_errors)
{
	parse_err("backend be\n server a 1.2.3.4:80 proxy-v2-options crc32c,bogus\n", 2,
	          "unknown option 'bogus'");
	parse_err("backend be\n server a 1.2.3.4:80 proxy-v2-options\n", 2, "expects");
	parse_err("frontend fe\n tcp-request connection reject if { src 10.0.0.0/33 }\n", 2,
	          "invalid address or network '10.0.0.0/33'");
	parse_err("frontend fe\n tcp-request connection reject if { src 10.0.0.0/8\n", 2,
	          "missing '}'");
	parse_err("frontend fe\n tcp-request connection reject if nope\n", 2, "unknown ACL 'nope'");
	parse_err("frontend fe\n tcp-request connection reject if\n", 2, "missing condition");
	parse_err("frontend fe\n tcp-request connection reject when x\n", 2,
	          "expected 'if' or 'unless'");
	parse_err("frontend fe\n tcp-request connection expect-proxy\n", 2, "expects 'layer4'");
	parse_err("frontend fe\n tcp-request connection set-src src\n", 2,
	          "unsupported action 'set-src'");
	parse_err("frontend fe\n tcp-request connection reject if { req.ssl_sni -i a }\n", 2,
	          "the ClientHello is not read yet at connection time");
	parse_err("frontend fe\n acl x src\n", 2, "'src' needs at least one pattern");
	parse_err("frontend fe\n acl x\n", 2, "'acl' expects");
	parse_err("frontend fe\n acl x src -f /nonexistent/ppb.lst\n", 2,
	          "cannot read pattern file '/nonexistent/ppb.lst'");
	parse_err("frontend fe\n acl x$ src 1.2.3.4\n", 2, "invalid character '$'");
	parse_err("backend be\n tcp-request connection reject\n", 2,
	          "'tcp-request' is not allowed in 'backend' section");
	parse_err("global\n tune.pp-max-header 10\n", 2, "tune.pp-max-header");
}
END_TEST

START_TEST(default_server)
{
	struct cfg *cfg =
	    parse_ok("defaults\n"
	             " default-server inter 3s rise 5 check-sni d.example ca-file /d\n"
	             "backend be\n"
	             " server a 1.2.3.4:80\n"
	             " default-server fall 7 check ca-file /b\n"
	             " server b 1.2.3.5:80 inter 1s\n");
	struct cfg_server *a = cfg->proxies->servers, *b = a->next;

	ck_assert_uint_eq(a->inter_ms, 3000);
	ck_assert_int_eq(a->rise, 5);
	ck_assert_int_eq(a->fall, CFG_DEFAULT_FALL);
	ck_assert_int_eq(a->check, 0);
	ck_assert_str_eq(a->check_sni, "d.example");
	ck_assert_str_eq(a->ca_file, "/d");
	ck_assert_uint_eq(b->inter_ms, 1000);
	ck_assert_int_eq(b->rise, 5);
	ck_assert_int_eq(b->fall, 7);
	ck_assert_int_eq(b->check, 1);
	ck_assert_str_eq(b->ca_file, "/b");
	ck_assert_str_eq(b->check_sni, "d.example");
	cfg_free(cfg);
	/* A bad default-server line leaves the template as it was. */
	cfg_msgs_free(&M);
	cfg = parse("backend be\n default-server rise 4 fall 0\n server a 1.2.3.4:80\n");
	expect_one_error(2, "default-server: 'fall'");
	ck_assert_int_eq(cfg->proxies->servers->rise, CFG_DEFAULT_RISE);
	cfg_free(cfg);
	parse_err("frontend fe\n default-server check\n", 2,
	          "'default-server' is not allowed in 'frontend' section");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Health checks */

START_TEST(httpchk_forms)
{
	struct cfg *cfg =
	    parse_ok("backend a\n option httpchk\n"
	             "backend b\n option httpchk /health\n"
	             "backend c\n option httpchk GET /readyz\n"
	             "backend d\n option httpchk GET /readyz HTTP/1.1\n"
	             "backend e\n option httpchk\n http-check connect port 1936 ssl "
	             "sni h.example\n http-check send meth HEAD uri /ok ver HTTP/1.1 hdr "
	             "Host h.example hdr X-A \"b c\"\n http-check expect status 204\n");
	struct cfg_httpchk *c;

	c = &cfg_find_proxy(cfg, "a", CFG_CAP_BE)->httpchk;
	ck_assert_int_eq(c->enabled, 1);
	ck_assert_ptr_null(c->method);
	ck_assert_ptr_null(c->uri);
	ck_assert_ptr_null(c->version);
	ck_assert_int_eq(c->expect_status, 0);
	c = &cfg_find_proxy(cfg, "b", CFG_CAP_BE)->httpchk;
	ck_assert_ptr_null(c->method);
	ck_assert_str_eq(c->uri, "/health");
	c = &cfg_find_proxy(cfg, "c", CFG_CAP_BE)->httpchk;
	ck_assert_str_eq(c->method, "GET");
	ck_assert_str_eq(c->uri, "/readyz");
	ck_assert_ptr_null(c->version);
	c = &cfg_find_proxy(cfg, "d", CFG_CAP_BE)->httpchk;
	ck_assert_str_eq(c->version, "HTTP/1.1");
	c = &cfg_find_proxy(cfg, "e", CFG_CAP_BE)->httpchk;
	ck_assert_int_eq(c->enabled, 1);
	ck_assert_uint_eq(c->connect_port, 1936);
	ck_assert_int_eq(c->connect_ssl, 1);
	ck_assert_str_eq(c->connect_sni, "h.example");
	ck_assert_str_eq(c->method, "HEAD");
	ck_assert_str_eq(c->uri, "/ok");
	ck_assert_str_eq(c->version, "HTTP/1.1");
	ck_assert_str_eq(c->hdrs->name, "Host");
	ck_assert_str_eq(c->hdrs->value, "h.example");
	ck_assert_str_eq(c->hdrs->next->name, "X-A");
	ck_assert_str_eq(c->hdrs->next->value, "b c");
	ck_assert_ptr_null(c->hdrs->next->next);
	ck_assert_int_eq(c->expect_status, 204);
	cfg_free(cfg);
}
END_TEST

START_TEST(httpchk_errors)
{
	parse_err("backend be\n option httpchk A B C D\n", 2, "'option httpchk' expects");
	parse_err("backend be\n http-check\n", 2, "'http-check' expects");
	parse_err("backend be\n http-check disable-on-404\n", 2,
	          "'http-check disable-on-404' is not supported");
	parse_err("backend be\n http-check connect port\n", 2, "'port' expects a value");
	parse_err("backend be\n http-check connect port 0\n", 2, "'port' expects 1..65535");
	parse_err("backend be\n http-check connect sni\n", 2, "'sni' expects a value");
	parse_err("backend be\n http-check connect send-proxy\n", 2,
	          "'send-proxy' is not supported: use 'check-send-proxy'");
	parse_err("backend be\n http-check connect alpn h2\n", 2, "'alpn' is not supported");
	parse_err("backend be\n http-check send body x\n", 2, "'body' is not supported");
	parse_err("backend be\n http-check send meth\n", 2, "'meth' expects a value");
	parse_err("backend be\n http-check send hdr X\n", 2, "'hdr' expects <name> <value>");
	parse_err("backend be\n http-check expect string ok\n", 2,
	          "only 'status <code>' is supported");
	parse_err("backend be\n http-check expect ! status 500\n", 2, "only 'status <code>'");
	parse_err("backend be\n http-check expect rstatus ^2\n", 2, "only 'status <code>'");
	parse_err("backend be\n http-check expect status 99\n", 2, "code 100..599");
	parse_err("frontend fe\n http-check expect status 200\n", 2,
	          "'http-check' is not allowed in 'frontend' section");
}
END_TEST

/* ------------------------------------------------------------------ */
/* defaults inheritance */

START_TEST(defaults_inherit)
{
	struct cfg *cfg = parse_ok("defaults\n"
	                           " mode http\n"
	                           " balance source\n"
	                           " hash-type consistent\n"
	                           " retries 7\n"
	                           " maxconn 500\n"
	                           " option redispatch 3\n"
	                           " option dontlognull\n"
	                           " option tcpka\n"
	                           " option httpchk GET /h\n"
	                           " http-check expect status 200\n"
	                           " log global\n"
	                           " timeout connect 1s\n"
	                           " timeout client 2s\n"
	                           " timeout server 3s\n"
	                           " default_backend be\n"
	                           "frontend fe\n"
	                           " mode tcp\n"
	                           " no option dontlognull\n"
	                           "backend be\n"
	                           " timeout server 9s\n"
	                           " no option tcpka\n"
	                           " option httpchk\n");
	struct cfg_proxy *fe = cfg_find_proxy(cfg, "fe", CFG_CAP_FE);
	struct cfg_proxy *be = cfg_find_proxy(cfg, "be", CFG_CAP_BE);

	ck_assert_int_eq(fe->mode, CFG_MODE_TCP);
	ck_assert_int_eq(fe->mode_where.line, 18);
	ck_assert_int_eq(be->mode, CFG_MODE_HTTP);
	ck_assert_int_eq(be->mode_where.line, 2);
	ck_assert_str_eq(fe->default_backend, "be");
	ck_assert_int_eq(fe->default_backend_where.line, 16);
	ck_assert_ptr_null(be->default_backend);
	ck_assert_uint_eq(fe->maxconn, 500);
	ck_assert_uint_eq(fe->options, CFG_OPT_REDISPATCH | CFG_OPT_TCPKA);
	ck_assert_uint_eq(be->options, CFG_OPT_REDISPATCH | CFG_OPT_DONTLOGNULL);
	ck_assert_int_eq(be->balance, CFG_BALANCE_SOURCE);
	ck_assert_int_eq(be->hash_type, CFG_HASH_CONSISTENT);
	ck_assert_int_eq(be->retries, 7);
	ck_assert_int_eq(be->redispatch_interval, 3);
	ck_assert_int_eq(fe->log_global, 1);
	ck_assert_int_eq(be->log_global, 1);
	ck_assert_uint_eq(fe->timeout.client, 2000);
	ck_assert_uint_eq(be->timeout.connect, 1000);
	ck_assert_uint_eq(be->timeout.server, 9000);
	/* The backend's own `option httpchk` replaces the inherited rules. */
	ck_assert_int_eq(be->httpchk.enabled, 1);
	ck_assert_ptr_null(be->httpchk.uri);
	ck_assert_int_eq(be->httpchk.expect_status, 0);
	/* ... while a frontend keeps a (meaningless) copy of them. */
	ck_assert_str_eq(fe->httpchk.uri, "/h");
	ck_assert_int_eq(fe->httpchk.expect_status, 200);
	cfg_free(cfg);
}
END_TEST

START_TEST(defaults_httpchk_kept)
{
	struct cfg *cfg = parse_ok("defaults\n option httpchk GET /h\n http-check send hdr A b\n"
	                           "backend a\n"
	                           "backend b\n http-check expect status 200\n");
	struct cfg_proxy *a = cfg_find_proxy(cfg, "a", CFG_CAP_BE);
	struct cfg_proxy *b = cfg_find_proxy(cfg, "b", CFG_CAP_BE);

	ck_assert_int_eq(a->httpchk.enabled, 1);
	ck_assert_str_eq(a->httpchk.method, "GET");
	ck_assert_str_eq(a->httpchk.hdrs->value, "b");
	ck_assert_int_eq(b->httpchk.enabled, 1);
	ck_assert_ptr_null(b->httpchk.method);
	ck_assert_ptr_null(b->httpchk.hdrs);
	ck_assert_int_eq(b->httpchk.expect_status, 200);
	cfg_free(cfg);
}
END_TEST

START_TEST(defaults_reset)
{
	struct cfg *cfg = parse_ok("defaults\n mode http\n option redispatch\n timeout client 5s\n"
	                           " log global\n"
	                           "frontend a\n"
	                           "defaults\n retries 1\n"
	                           "frontend b\n"
	                           "backend c\n");
	struct cfg_proxy *a = cfg_find_proxy(cfg, "a", CFG_CAP_FE);
	struct cfg_proxy *b = cfg_find_proxy(cfg, "b", CFG_CAP_FE);
	struct cfg_proxy *c = cfg_find_proxy(cfg, "c", CFG_CAP_BE);

	ck_assert_int_eq(a->mode, CFG_MODE_HTTP);
	ck_assert_uint_eq(a->timeout.client, 5000);
	ck_assert_int_eq(b->mode, CFG_MODE_TCP);
	ck_assert_uint_eq(b->options, 0);
	ck_assert_uint_eq(b->timeout.client, 0);
	ck_assert_int_eq(b->log_global, 0);
	ck_assert_int_eq(c->retries, 1);
	cfg_free(cfg);
}
END_TEST

START_TEST(defaults_named_from)
{
	struct cfg *cfg = parse_ok("defaults web\n mode http\n timeout client 7s\n"
	                           "defaults tcp\n mode tcp\n timeout client 8s\n"
	                           "defaults tcp2 from tcp\n retries 9\n"
	                           "frontend a from web\n"
	                           "frontend b\n"
	                           "backend c from tcp2\n"
	                           "defaults from web\n"
	                           "frontend d\n");
	struct cfg_proxy *a = cfg_find_proxy(cfg, "a", CFG_CAP_FE);
	struct cfg_proxy *b = cfg_find_proxy(cfg, "b", CFG_CAP_FE);
	struct cfg_proxy *c = cfg_find_proxy(cfg, "c", CFG_CAP_BE);
	struct cfg_proxy *d = cfg_find_proxy(cfg, "d", CFG_CAP_FE);

	ck_assert_int_eq(a->mode, CFG_MODE_HTTP);
	ck_assert_uint_eq(a->timeout.client, 7000);
	/* Without `from`: the most recent defaults section. */
	ck_assert_int_eq(b->mode, CFG_MODE_TCP);
	ck_assert_uint_eq(b->timeout.client, 8000);
	ck_assert_int_eq(c->retries, 9);
	ck_assert_int_eq(c->mode, CFG_MODE_TCP);
	ck_assert_int_eq(d->mode, CFG_MODE_HTTP);
	cfg_free(cfg);
}
END_TEST

START_TEST(defaults_per_file)
{
	struct cfg *cfg = cfg_new();
	const char *one = "defaults\n mode http\n timeout client 3s\nfrontend a\n";
	const char *two = "frontend b\n bind *:9\n default_backend be\n" BE;

	ck_assert_int_eq(cfg_parse_text(cfg, "one.cfg", one, strlen(one), &M), 0);
	ck_assert_int_eq(cfg_parse_text(cfg, "two.cfg", two, strlen(two), &M), 0);
	ck_assert_int_eq(cfg_find_proxy(cfg, "a", CFG_CAP_FE)->mode, CFG_MODE_HTTP);
	ck_assert_int_eq(cfg_find_proxy(cfg, "b", CFG_CAP_FE)->mode, CFG_MODE_TCP);
	ck_assert_uint_eq(cfg_find_proxy(cfg, "b", CFG_CAP_FE)->timeout.client, 0);
	ck_assert_str_eq(cfg_find_proxy(cfg, "b", CFG_CAP_FE)->where.file, "two.cfg");
	ck_assert_int_eq(cfg->nfiles, 2);
	cfg_free(cfg);
}
END_TEST

/* ------------------------------------------------------------------ */
/* cfg_finish */

START_TEST(finish_ok)
{
	struct cfg *cfg = parse_finish("global\n maxconn 100\n"
	                               "defaults\n timeout connect 1s\n timeout client 2s\n"
	                               " timeout server 3s\n" FE BE
	                               "listen li\n bind 127.0.0.1:9000\n server x 1.2.3.4:1\n"
	                               " server y 1.2.3.4:2\n server z 1.2.3.4:3\n");
	struct cfg_proxy *fe = cfg_find_proxy(cfg, "fe", CFG_CAP_FE);
	struct cfg_proxy *be = cfg_find_proxy(cfg, "be", CFG_CAP_BE);
	struct cfg_proxy *li = cfg_find_proxy(cfg, "li", CFG_CAP_FE);

	if (M.errors || M.warnings)
		dump();
	ck_assert_int_eq(M.errors, 0);
	ck_assert_int_eq(M.warnings, 0);
	ck_assert_ptr_eq(fe->backend, be);
	ck_assert_ptr_eq(li->backend, li);
	ck_assert_ptr_null(be->backend);
	ck_assert_int_eq(be->nservers, 1);
	ck_assert_int_eq(be->servers->id, 1);
	ck_assert_int_eq(li->nservers, 3);
	ck_assert_int_eq(li->servers->next->next->id, 3);
	ck_assert_uint_eq(cfg->global.maxconn, 100);
	ck_assert_uint_eq(fe->timeout.client_hs, CFG_DEFAULT_TIMEOUT_CLIENT_HS);
	ck_assert_uint_eq(cfg_timeout_connect(be), 1000);
	ck_assert_uint_eq(cfg_timeout_server(be), 3000);
	ck_assert_uint_eq(cfg_timeout_client(fe), 2000);
	cfg_free(cfg);
}
END_TEST

START_TEST(finish_missing_timeouts)
{
	struct cfg *cfg = parse_finish(FE BE "listen li\n bind :9\n timeout client 1s\n"
	                                     " server s 1.2.3.4:5\n");
	struct cfg_proxy *fe = cfg_find_proxy(cfg, "fe", CFG_CAP_FE);
	struct cfg_proxy *be = cfg_find_proxy(cfg, "be", CFG_CAP_BE);

	ck_assert_int_eq(M.errors, 0);
	ck_assert_int_eq(M.warnings, 3);
	ck_assert_str_eq(nth_msg(CFG_SEV_WARNING, 0)->text,
	                 "proxy 'fe' (t.cfg:1): missing timeouts for frontend; ppbridge uses "
	                 "'timeout client 60s'");
	ck_assert_str_eq(nth_msg(CFG_SEV_WARNING, 1)->text,
	                 "proxy 'be' (t.cfg:4): missing timeouts for backend; ppbridge uses "
	                 "'timeout connect 5s', 'timeout server 60s'");
	ck_assert_str_eq(nth_msg(CFG_SEV_WARNING, 2)->text,
	                 "proxy 'li' (t.cfg:6): missing timeouts for listen; ppbridge uses "
	                 "'timeout connect 5s', 'timeout server 60s'");
	ck_assert_uint_eq(fe->timeout.client, CFG_DEFAULT_TIMEOUT_CLIENT);
	ck_assert_uint_eq(be->timeout.connect, CFG_DEFAULT_TIMEOUT_CONNECT);
	ck_assert_uint_eq(be->timeout.server, CFG_DEFAULT_TIMEOUT_SERVER);
	ck_assert_uint_eq(cfg->global.maxconn, CFG_DEFAULT_MAXCONN);
	cfg_free(cfg);
}
END_TEST

START_TEST(finish_errors)
{
	finish_err(FE "backend other\n", 3, "frontend 'fe': default_backend 'be' not found");
	finish_err("frontend fe\n bind :1\n" BE, 1,
	           "frontend 'fe' has no default_backend (use_backend alone");
	finish_err(FE BE "frontend f2\n bind 127.0.0.1:8080\n default_backend be\n", 7,
	           "bind '127.0.0.1:8080' uses the same address as bind '127.0.0.1:8080' of "
	           "frontend 'fe' (t.cfg:2)");
	finish_err("listen a\n bind :80\n bind *:80\n server s 1.2.3.4:80\n", 3,
	           "uses the same address");
}
END_TEST

START_TEST(finish_no_frontend)
{
	struct cfg *cfg = parse_finish(BE);

	ck_assert_int_eq(M.errors, 1);
	ck_assert_str_eq(nth_msg(CFG_SEV_ERROR, 0)->text, "no frontend/listen defined");
	cfg_free(cfg);
}
END_TEST

START_TEST(finish_mode_mismatch)
{
	struct cfg *cfg =
	    parse_finish("frontend fe\n bind :1\n mode http\n default_backend be\n" BE);

	ck_assert_int_eq(M.errors, 1);
	ck_assert(has_msg(CFG_SEV_ERROR, "t.cfg:1: frontend 'fe' in mode http cannot use backend "
	                                 "'be' in mode tcp"));
	cfg_free(cfg);
}
END_TEST

START_TEST(finish_warnings)
{
	struct cfg *cfg = parse_finish("defaults\n timeout client 1s\n timeout connect 1s\n"
	                               " timeout server 1s\n"
	                               "frontend fe\n default_backend be\nbackend be\n");

	ck_assert_int_eq(M.errors, 0);
	ck_assert(has_msg(CFG_SEV_WARNING, "t.cfg:5: frontend 'fe' has no 'bind' line"));
	ck_assert(has_msg(CFG_SEV_WARNING, "t.cfg:7: backend 'be' has no server"));
	ck_assert_int_eq(cfg_find_proxy(cfg, "be", CFG_CAP_BE)->nservers, 0);
	cfg_free(cfg);
}
END_TEST

/* `accept-proxy optional` needs a conditional accept or expect-proxy
 * layer4 rule (the trusted sources), refuses an unconditional one (it
 * would trust anyone), and is said to be on at every such bind. */
START_TEST(finish_pp_optional)
{
#define OPT_FE "frontend fe\n bind :80 accept-proxy optional\n bind :81\n default_backend be\n"
	static const struct {
		const char *rules;
	} good[] = {
	    {" tcp-request connection accept if { src 10.0.0.0/8 }\n"},
	    {" acl nlb src 10.0.0.0/8\n tcp-request connection expect-proxy layer4 if nlb\n"},
	    {" tcp-request connection reject if { src 10.9.9.9 }\n"
	     " tcp-request connection accept if { src 192.168.0.0/16 } { src_port 1024:65535 }\n"},
	};
	char text[512];
	struct cfg *cfg;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cfg_msgs_free(&M);
		snprintf(text, sizeof(text), "%s%s%s", OPT_FE, good[i].rules, BE);
		cfg = parse_finish(text);
		if (M.errors)
			dump();
		ck_assert_int_eq(M.errors, 0);
		ck_assert(has_msg(
		    CFG_SEV_WARNING,
		    "t.cfg:2: bind ':80': 'accept-proxy optional' is on, a migration mode"));
		ck_assert(!has_msg(CFG_SEV_WARNING, "bind ':81'"));
		cfg_free(cfg);
	}
	finish_err(OPT_FE BE, 2,
	           "bind ':80': 'accept-proxy optional' needs a 'tcp-request connection "
	           "accept|expect-proxy layer4 if|unless <condition>' rule");
	finish_err(OPT_FE " tcp-request connection reject if !{ src 10.0.0.0/8 }\n" BE, 2,
	           "needs a 'tcp-request connection accept|expect-proxy layer4");
	finish_err(OPT_FE " tcp-request connection reject if !{ src 10.0.0.0/8 }\n"
	                  " tcp-request connection accept\n" BE,
	           6, "'tcp-request connection accept' without a condition trusts every source");
	finish_err(OPT_FE " tcp-request connection accept if { src 10.0.0.0/8 }\n"
	                  " tcp-request connection expect-proxy layer4\n" BE,
	           6, "'expect-proxy layer4 if { src <networks> }'");
	/* A trust rule names sources: `if`, on src only, nothing negated. */
	finish_err(OPT_FE " tcp-request connection accept if TRUE\n" BE, 5,
	           "a trust rule must name the trusted sources");
	finish_err(OPT_FE " tcp-request connection accept unless { src 10.0.0.0/8 }\n" BE, 5,
	           "a trust rule must name the trusted sources");
	finish_err(OPT_FE " tcp-request connection expect-proxy layer4 if !{ src 10.0.0.0/8 }\n" BE,
	           5, "a trust rule must name the trusted sources");
	finish_err(OPT_FE " tcp-request connection accept if { src_conn_cur lt 5 }\n" BE, 5,
	           "a trust rule must name the trusted sources");
	/* Without an optional bind, the same rules are HAProxy's, unjudged. */
	cfg_msgs_free(&M);
	cfg = parse_finish(FE " tcp-request connection accept\n" BE);
	ck_assert_int_eq(M.errors, 0);
	ck_assert(!has_msg(CFG_SEV_WARNING, "accept-proxy optional"));
	ck_assert(!cfg_pp_optional(cfg->proxies));
	cfg_free(cfg);
#undef OPT_FE
}
END_TEST

/* Servers on 6443 (the Kubernetes API) checked by a TCP connect only: a
 * warning naming the backend, where it starts, and its first such server.
 * An HTTP check (plain or TLS) or unchecked servers say nothing. */
START_TEST(finish_api_tcp_check_warns)
{
	static const char head[] = "defaults\n timeout client 1s\n timeout connect 1s\n"
	                           " timeout server 1s\n"
	                           "frontend fe\n bind :6443\n default_backend api\n";
	char text[1024];
	struct cfg *cfg;

	snprintf(text, sizeof(text),
	         "%sbackend api\n server m0 10.0.0.1:6443\n server m1 10.0.0.2:6443 check\n"
	         " server m2 10.0.0.3:6443 check port 6443\n",
	         head);
	cfg_msgs_free(&M);
	cfg = parse_finish(text);
	ck_assert_int_eq(M.errors, 0);
	if (M.warnings != 1)
		dump();
	ck_assert_int_eq(M.warnings, 1);
	ck_assert_str_eq(nth_msg(CFG_SEV_WARNING, 0)->text,
	                 "t.cfg:8: backend 'api': servers on 6443 checked by TCP only (2, first 'm1' "
	                 "at t.cfg:10): OpenShift requires an HTTPS GET /readyz check (option "
	                 "httpchk GET /readyz + check-ssl)");
	cfg_free(cfg);

	/* The documented check: no warning. So for a listen. */
	snprintf(text, sizeof(text),
	         "%sbackend api\n option httpchk GET /readyz HTTP/1.0\n"
	         " http-check expect status 200\n"
	         " server m1 10.0.0.2:6443 check check-ssl verify none\n"
	         "listen l\n bind :7443\n server m1 10.0.0.2:6443\n",
	         head);
	cfg_msgs_free(&M);
	cfg = parse_finish(text);
	ck_assert_int_eq(M.errors, 0);
	if (M.warnings != 0)
		dump();
	ck_assert_int_eq(M.warnings, 0);
	cfg_free(cfg);

	snprintf(text, sizeof(text), "%slisten api2\n bind :16443\n server m1 10.0.0.2:6443 check\n",
	         "defaults\n timeout client 1s\n timeout connect 1s\n timeout server 1s\n");
	cfg_msgs_free(&M);
	cfg = parse_finish(text);
	ck_assert(has_msg(CFG_SEV_WARNING, "t.cfg:5: listen 'api2': servers on 6443 checked by "
	                                   "TCP only (1, first 'm1' at t.cfg:7)"));
	cfg_free(cfg);
}
END_TEST

/* `ssl-server-verify none` reaches the servers that do not say `verify`
 * (their TLS checks read the server only), written before or after them. */
START_TEST(finish_ssl_server_verify_none)
{
	struct cfg *cfg = parse_finish("backend be\n"
	                               " server a 10.0.0.1:6443 check check-ssl\n"
	                               " server b 10.0.0.2:6443 check check-ssl verify required\n"
	                               "global\n ssl-server-verify none\n");
	struct cfg_server *s = cfg_find_proxy(cfg, "be", CFG_CAP_BE)->servers;

	ck_assert_int_eq(s->verify, CFG_VERIFY_NONE);
	ck_assert_int_eq(s->next->verify, CFG_VERIFY_REQUIRED);
	cfg_free(cfg);
	cfg_msgs_free(&M);
	cfg = parse_finish("backend be\n server a 10.0.0.1:6443 check check-ssl\n");
	ck_assert_int_eq(cfg_find_proxy(cfg, "be", CFG_CAP_BE)->servers->verify,
	                 CFG_VERIFY_DEFAULT);
	cfg_free(cfg);
}
END_TEST

START_TEST(finish_defaults_http_overridden)
{
	/* mode http in defaults is fine when every proxy says tcp */
	struct cfg *cfg = parse_finish("defaults\n mode http\nfrontend fe\n mode tcp\n"
	                               " bind :1\n default_backend be\n"
	                               "backend be\n mode tcp\n server s 1.2.3.4:5\n");

	ck_assert_int_eq(M.errors, 0);
	cfg_free(cfg);
	cfg_msgs_free(&M);
	cfg = parse_finish("defaults\n mode http\nfrontend fe\n mode tcp\n bind :1\n"
	                   " default_backend be\nbackend be\n server s 1.2.3.4:5\n");
	ck_assert_int_eq(M.errors, 1);
	ck_assert(has_msg(CFG_SEV_ERROR, "t.cfg:3: frontend 'fe' in mode tcp cannot use backend "
	                                 "'be' in mode http"));
	cfg_free(cfg);
}
END_TEST

START_TEST(finish_listen_default_backend)
{
	struct cfg *cfg = parse_finish("listen li\n bind :1\n default_backend be\n" BE);

	ck_assert_int_eq(M.errors, 0);
	ck_assert_ptr_eq(cfg->proxies->backend, cfg_find_proxy(cfg, "be", CFG_CAP_BE));
	ck_assert(has_msg(CFG_SEV_WARNING, "listen 'li' has no server"));
	cfg_free(cfg);
}
END_TEST

/* ------------------------------------------------------------------ */
/* mode http: forwardfor, http-request, reqidel, http-reuse, options */

#define HFE "frontend fe\n bind 127.0.0.1:8080\n mode http\n default_backend be\n"
#define HBE "backend be\n mode http\n server s1 127.0.0.1:80\n"

START_TEST(http_mode_ok)
{
	struct cfg *cfg = parse_finish("defaults\n mode http\n timeout connect 1s\n"
	                               " timeout client 1s\n timeout server 1s\n"
	                               "frontend fe\n bind :1\n default_backend be\n"
	                               " option forwardfor\n"
	                               "backend be\n server s 1.2.3.4:5\n"
	                               "listen li\n bind :2\n server s 1.2.3.4:5\n");

	if (M.errors || M.warnings)
		dump();
	ck_assert_int_eq(M.errors, 0);
	ck_assert_int_eq(M.warnings, 0);
	ck_assert_int_eq(cfg->proxies->mode, CFG_MODE_HTTP);
	ck_assert_int_eq(cfg->proxies->backend->mode, CFG_MODE_HTTP);
	cfg_free(cfg);
}
END_TEST

START_TEST(forwardfor_forms)
{
	struct cfg *cfg = parse_ok("frontend a\n option forwardfor\n"
	                           "frontend b\n option forwardfor except 127.0.0.0/8\n"
	                           "frontend c\n option forwardfor if-none header X-Client except "
	                           "::1\n"
	                           "backend d\n option forwardfor header X-Real-Client\n"
	                           " option forwardfor except 10.0.0.1\n"
	                           "listen e\n option forwardfor\n no option forwardfor\n"
	                           "defaults\n option forwardfor header X-Def if-none\n");
	struct cfg_proxy *a = cfg_find_proxy(cfg, "a", CFG_CAP_FE);
	struct cfg_proxy *b = cfg_find_proxy(cfg, "b", CFG_CAP_FE);
	struct cfg_proxy *c = cfg_find_proxy(cfg, "c", CFG_CAP_FE);
	struct cfg_proxy *d = cfg_find_proxy(cfg, "d", CFG_CAP_BE);
	struct cfg_proxy *e = cfg_find_proxy(cfg, "e", CFG_CAP_FE);

	ck_assert_int_eq(a->forwardfor.enabled, 1);
	ck_assert_int_eq(a->forwardfor.has_except, 0);
	ck_assert_int_eq(a->forwardfor.if_none, 0);
	ck_assert_ptr_null(a->forwardfor.header);
	ck_assert_int_eq(b->forwardfor.has_except, 1);
	ck_assert_int_eq(b->forwardfor.except.family, AF_INET);
	ck_assert_int_eq(b->forwardfor.except.prefix, 8);
	ck_assert_int_eq(b->forwardfor.except.addr[0], 127);
	ck_assert_int_eq(c->forwardfor.if_none, 1);
	ck_assert_str_eq(c->forwardfor.header, "X-Client");
	ck_assert_int_eq(c->forwardfor.except.family, AF_INET6);
	ck_assert_int_eq(c->forwardfor.except.prefix, 128);
	/* a second line replaces the first one entirely, as HAProxy */
	ck_assert_ptr_null(d->forwardfor.header);
	ck_assert_int_eq(d->forwardfor.has_except, 1);
	ck_assert_int_eq(d->forwardfor.except.prefix, 32);
	ck_assert_int_eq(e->forwardfor.enabled, 0);
	ck_assert_ptr_null(e->forwardfor.header);
	ck_assert_str_eq(cfg->defaults->forwardfor.header, "X-Def");
	cfg_free(cfg);
}
END_TEST

START_TEST(forwardfor_inherit)
{
	struct cfg *cfg = parse_ok("defaults\n option forwardfor except 10.0.0.0/8 header X-F\n"
	                           "frontend a\n"
	                           "frontend b\n no option forwardfor\n"
	                           "backend c\n option forwardfor if-none\n");
	struct cfg_proxy *a = cfg_find_proxy(cfg, "a", CFG_CAP_FE);
	struct cfg_proxy *b = cfg_find_proxy(cfg, "b", CFG_CAP_FE);
	struct cfg_proxy *c = cfg_find_proxy(cfg, "c", CFG_CAP_BE);

	ck_assert_int_eq(a->forwardfor.enabled, 1);
	ck_assert_int_eq(a->forwardfor.has_except, 1);
	ck_assert_str_eq(a->forwardfor.header, "X-F");
	/* a copy, not the defaults' string */
	ck_assert_ptr_ne(a->forwardfor.header, cfg->defaults->forwardfor.header);
	ck_assert_int_eq(b->forwardfor.enabled, 0);
	ck_assert_ptr_null(b->forwardfor.header);
	ck_assert_int_eq(c->forwardfor.enabled, 1);
	ck_assert_int_eq(c->forwardfor.if_none, 1);
	ck_assert_int_eq(c->forwardfor.has_except, 0);
	ck_assert_ptr_null(c->forwardfor.header);
	cfg_free(cfg);
}
END_TEST

START_TEST(forwardfor_errors)
{
	parse_err("frontend fe\n option forwardfor except\n", 2,
	          "'option forwardfor': 'except' expects a network (<address>[/<prefix>])");
	parse_err("frontend fe\n\n option forwardfor except 10.0.0.0/33\n", 3,
	          "'except' expects a network (<address>[/<prefix>]), got '10.0.0.0/33'");
	parse_err("frontend fe\n option forwardfor except localhost\n", 2, "got 'localhost'");
	parse_err("frontend fe\n option forwardfor header\n", 2,
	          "'option forwardfor': 'header' expects a header name");
	parse_err("frontend fe\n option forwardfor header X:Y\n", 2,
	          "'option forwardfor': 'X:Y' is not a valid header name (RFC 9110 token)");
	parse_err("frontend fe\n option forwardfor header Content-Length\n", 2,
	          "'Content-Length' frames the request body and cannot be rewritten");
	parse_err("frontend fe\n option forwardfor if-none bogus\n", 2,
	          "'option forwardfor': unknown argument 'bogus' (expected except <network>, "
	          "header <name>, if-none)");
	parse_err("frontend fe\n no option forwardfor x\n", 2, "'no' expects 'option <name>'");
}
END_TEST

/* A bad line leaves the earlier setting alone. */
START_TEST(forwardfor_error_keeps_previous)
{
	struct cfg *cfg = parse("frontend fe\n option forwardfor header X-A\n"
	                        " option forwardfor header X-B except nope\n");

	ck_assert_int_eq(M.errors, 1);
	ck_assert_str_eq(cfg->proxies->forwardfor.header, "X-A");
	cfg_free(cfg);
}
END_TEST

START_TEST(http_request_rules)
{
	struct cfg *cfg = parse_ok("frontend fe\n"
	                           " acl lan src 10.0.0.0/8\n"
	                           " http-request del-header X-Forwarded-For\n"
	                           " http-request del-header x-real-ip -m str if lan\n"
	                           " http-request set-header X-Client %[src]:%[src_port]\n"
	                           " http-request add-header X-Via \"ppbridge %[dst] 100%%\" "
	                           "unless { src 127.0.0.1 }\n"
	                           " http-request set-header X-Empty \"\"\n"
	                           "backend be\n http-request set-header Host %[req.hdr(host)]\n"
	                           "listen li\n http-request del-header Forwarded\n");
	struct cfg_proxy *fe = cfg_find_proxy(cfg, "fe", CFG_CAP_FE);
	struct cfg_proxy *be = cfg_find_proxy(cfg, "be", CFG_CAP_BE);
	struct cfg_proxy *li = cfg_find_proxy(cfg, "li", CFG_CAP_FE);
	struct cfg_http_rule *r = fe->http_rules;

	ck_assert_int_eq(r->action, CFG_HTTP_DEL_HEADER);
	ck_assert_str_eq(r->name, "X-Forwarded-For");
	ck_assert_ptr_null(r->fmt);
	ck_assert_ptr_null(r->cond);
	ck_assert_int_eq(r->where.line, 3);
	ck_assert_str_eq(r->where.file, "t.cfg");
	r = r->next;
	ck_assert_int_eq(r->action, CFG_HTTP_DEL_HEADER);
	ck_assert_str_eq(r->name, "x-real-ip");
	ck_assert_ptr_nonnull(r->cond);
	ck_assert_int_eq(r->cond->unless, 0);
	ck_assert_int_eq(r->where.line, 4);
	r = r->next;
	ck_assert_int_eq(r->action, CFG_HTTP_SET_HEADER);
	ck_assert_str_eq(r->name, "X-Client");
	ck_assert_int_eq(r->fmt->nsegs, 3);
	ck_assert_int_eq(r->fmt->segs[0].fetch, SAMPLE_SRC);
	ck_assert_int_eq(r->fmt->segs[1].fetch, SAMPLE_LITERAL);
	ck_assert_int_eq(r->fmt->segs[2].fetch, SAMPLE_SRC_PORT);
	ck_assert_ptr_null(r->cond);
	r = r->next;
	ck_assert_int_eq(r->action, CFG_HTTP_ADD_HEADER);
	ck_assert_str_eq(r->name, "X-Via");
	ck_assert_int_eq(r->fmt->nsegs, 3);
	ck_assert_str_eq(r->fmt->segs[2].text, " 100%");
	ck_assert_int_eq(r->cond->unless, 1);
	ck_assert_int_eq(r->where.line, 6);
	r = r->next;
	ck_assert_int_eq(r->action, CFG_HTTP_SET_HEADER);
	ck_assert_int_eq(r->fmt->nsegs, 0);
	ck_assert_ptr_null(r->next);
	ck_assert_int_eq(be->http_rules->fmt->segs[0].fetch, SAMPLE_REQ_HDR);
	ck_assert_str_eq(be->http_rules->fmt->segs[0].text, "host");
	ck_assert_str_eq(li->http_rules->name, "Forwarded");
	cfg_free(cfg);
}
END_TEST

START_TEST(http_request_errors)
{
	parse_err("frontend fe\n http-request\n", 2,
	          "'http-request' expects an action (del-header, set-header, add-header, use-service, "
	          "track-sc0|1|2, deny, tarpit)");
	parse_err("frontend fe\n http-request redirect scheme https\n", 2,
	          "'http-request redirect' is not supported (supported actions: del-header, "
	          "set-header, add-header, use-service, track-sc0|1|2, deny, tarpit)");
	parse_err("frontend fe\n http-request replace-header Host a b\n", 2,
	          "'http-request replace-header' is not supported");
	parse_err("frontend fe\n http-request del-header\n", 2,
	          "'http-request del-header' expects <name> [if|unless <condition>]");
	parse_err("frontend fe\n http-request set-header X-A\n", 2,
	          "'http-request set-header' expects <name> <value> [if|unless <condition>]");
	parse_err("frontend fe\n http-request add-header\n", 2, "expects <name> <value>");
	parse_err("frontend fe\n http-request del-header X(A)\n", 2,
	          "'http-request del-header X(A)': 'X(A)' is not a valid header name (RFC 9110 "
	          "token)");
	parse_err("frontend fe\n http-request set-header \"\" v\n", 2,
	          "is not a valid header name");
	parse_err("frontend fe\n http-request set-header Transfer-Encoding chunked\n", 2,
	          "'Transfer-Encoding' frames the request body and cannot be rewritten");
	parse_err("frontend fe\n http-request del-header content-length\n", 2,
	          "'content-length' frames the request body");
	parse_err("frontend fe\n\n\n http-request set-header X-A %[src,ipmask(24)]\n", 4,
	          "'http-request set-header X-A': '%[src,ipmask(24)]': converters are not "
	          "supported");
	parse_err("frontend fe\n http-request set-header X-A %[foo]\n", 2,
	          "'http-request set-header X-A': unknown sample fetch 'foo' in '%[foo]'");
	parse_err("frontend fe\n http-request add-header X-A %[src\n", 2,
	          "'http-request add-header X-A': missing ']' after '%[src'");
	parse_err("frontend fe\n http-request set-header X-A \"a\\r\\nb\"\n", 2,
	          "control character 0x0d");
	parse_err("frontend fe\n http-request del-header X-A -m beg\n", 2,
	          "'http-request del-header X-A': '-m beg' is not supported (only '-m str', the "
	          "whole name)");
	parse_err("frontend fe\n http-request del-header X-A -m reg\n", 2, "'-m reg' is not");
	parse_err("frontend fe\n http-request del-header X-A -m\n", 2,
	          "'-m' expects a matching method");
	parse_err("frontend fe\n http-request set-header X-A hello world\n", 2,
	          "'http-request set-header X-A': unexpected word 'world' (expected 'if' or "
	          "'unless' and a condition; quote a value that has spaces)");
	parse_err("frontend fe\n http-request set-header X-A -m str\n", 2, "unexpected word 'str'");
	parse_err("frontend fe\n http-request del-header X-A if nope\n", 2,
	          "'http-request del-header X-A': ");
	parse_err("frontend fe\n http-request del-header X-A if\n", 2, "'http-request del-header");
	parse_err("defaults\n http-request del-header X-A\n", 2,
	          "'http-request' is not allowed in 'defaults' section (only in frontend, "
	          "backend, listen)");
}
END_TEST

/* A rule that refers to an ACL needs it declared before. */
/* nbsrv(<backend>) must name a backend; it may route a ClientHello, path may not. */
START_TEST(condition_backends)
{
	struct cfg *cfg;

	finish_err(FE " http-request set-header X-Few 1 if { nbsrv(nosuch) lt 1 }\n" BE, 4,
		   "nbsrv(nosuch): no backend 'nosuch' in the configuration");
	finish_err(FE " acl few nbsrv(gone) lt 2\n" BE, 1,
		   "nbsrv(gone): no backend 'gone' in the configuration");
	finish_err("frontend fe\n mode tcp\n bind :1\n use_backend pass if { path /x }\n"
		   " default_backend be\nbackend be\n mode tcp\n server s 127.0.0.1:1\n"
		   "backend pass\n mode tcp\n server s 127.0.0.1:2\n",
		   4, "use_backend 'pass': only src, req.ssl_sni, req_ssl_hello_type and nbsrv");
	cfg_msgs_free(&M);
	cfg = parse_finish("frontend fe\n mode tcp\n bind :1\n tcp-request inspect-delay 1s\n"
			   " use_backend spare if { nbsrv(be) lt 1 }\n default_backend be\n"
			   "backend be\n mode tcp\n server s 127.0.0.1:1\n"
			   "backend spare\n mode tcp\n server s 127.0.0.1:2\n");
	if (M.errors)
		dump();
	ck_assert_int_eq(M.errors, 0);
	ck_assert_str_eq(cfg->proxies->use_backends->be->name, "spare");
	cfg_free(cfg);
	cfg_msgs_free(&M);
}
END_TEST

START_TEST(http_request_acl_order)
{
	parse_err("frontend fe\n http-request del-header X-A if lan\n acl lan src 10.0.0.0/8\n", 2,
	          "lan");
}
END_TEST

START_TEST(http_rules_not_inherited)
{
	struct cfg *cfg =
	    parse_ok("defaults\n mode http\nfrontend a\n http-request del-header X-A\n"
	             "frontend b\n");

	ck_assert_ptr_nonnull(cfg_find_proxy(cfg, "a", CFG_CAP_FE)->http_rules);
	ck_assert_ptr_null(cfg_find_proxy(cfg, "b", CFG_CAP_FE)->http_rules);
	ck_assert_ptr_null(cfg->defaults->http_rules);
	cfg_free(cfg);
}
END_TEST

START_TEST(reqidel_mapping)
{
	static const struct {
		const char *line, *name;
	} ok[] = {
	    {"reqidel ^X-Forwarded-For:.*", "X-Forwarded-For"},
	    {"reqidel ^x-forwarded-for:.*", "x-forwarded-for"},
	    {"reqidel ^X-Forwarded-For:", "X-Forwarded-For"},
	    {"reqidel ^X-Forwarded-For:.*$", "X-Forwarded-For"},
	    {"reqidel ^X\\-Forwarded\\-For:.*", "X-Forwarded-For"},
	    {"reqidel '^X-Forwarded-For:.*'", "X-Forwarded-For"},
	    {"reqidel ^X-Real-IP:.*", "X-Real-IP"},
	    {"reqidel ^X\\.Dotted:", "X.Dotted"},
	    {"reqidel ^Via:.*", "Via"},
	    {"reqdel ^X-Forwarded-For:.*", "X-Forwarded-For"},
	};
	char text[256], warn[300];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct cfg *cfg;
		const char *kw = strncmp(ok[i].line, "reqdel", 6) ? "reqidel" : "reqdel";

		cfg_msgs_free(&M);
		snprintf(text, sizeof(text), "frontend fe\n %s\n", ok[i].line);
		cfg = parse(text);
		if (M.errors || M.warnings != 1)
			dump();
		ck_assert_int_eq(M.errors, 0);
		ck_assert_int_eq(M.warnings, 1);
		snprintf(warn, sizeof(warn),
		         "t.cfg:2: '%s' was removed from HAProxy in 2.1; ppbridge maps this one "
		         "to 'http-request del-header %s' (case-insensitive%s)",
		         kw, ok[i].name, strcmp(kw, "reqdel") ? "" : ", where reqdel was not");
		ck_assert_str_eq(nth_msg(CFG_SEV_WARNING, 0)->text, warn);
		ck_assert_int_eq(cfg->proxies->http_rules->action, CFG_HTTP_DEL_HEADER);
		ck_assert_str_eq(cfg->proxies->http_rules->name, ok[i].name);
		ck_assert_int_eq(cfg->proxies->http_rules->where.line, 2);
		cfg_free(cfg);
	}
}
END_TEST

/* reqidel lines keep their place among http-request rules; a condition
 * is kept too. */
START_TEST(reqidel_order_and_cond)
{
	struct cfg *cfg = parse_ok("backend be\n http-request set-header X-A a\n"
	                           " reqidel ^X-Forwarded-For:.* if { src 10.0.0.0/8 }\n"
	                           " http-request add-header X-B b\n");
	struct cfg_http_rule *r = cfg->proxies->http_rules;

	ck_assert_int_eq(r->action, CFG_HTTP_SET_HEADER);
	ck_assert_str_eq(r->next->name, "X-Forwarded-For");
	ck_assert_ptr_nonnull(r->next->cond);
	ck_assert_int_eq(r->next->next->action, CFG_HTTP_ADD_HEADER);
	ck_assert_int_eq(M.warnings, 1);
	cfg_free(cfg);
}
END_TEST

START_TEST(reqidel_errors)
{
	static const char *const bad[] = {
	    "X-Forwarded-For:.*",      /* not anchored */
	    "^X-Forwarded-For",        /* no colon: would match X-Forwarded-For-Foo */
	    "^X-Forwarded-For:.*foo",  /* more after .* */
	    "^X-Forwarded-For:$",      /* only empty values */
	    "^X-Forwarded-For: .*",    /* a space after the colon */
	    "^X-Forwarded-.*:.*",      /* a wildcard in the name */
	    "^X.Forwarded:.*",         /* an unescaped dot is any character */
	    "^(X-Forwarded-For):.*",   /* a group */
	    "^X-Forwarded-For|Via:.*", /* an alternative */
	    "^[Xx]-Forwarded-For:.*",  /* a class */
	    "^X-Forwarded-For:.+",     /* not the whole-header form */
	    "^X\\dY:.*",               /* an escape class */
	    "^:.*",                    /* no name */
	    "^",
	    "",
	};
	char text[256], msg[300];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "frontend fe\n reqidel '%s'\n", bad[i]);
		snprintf(msg, sizeof(msg),
		         "'reqidel %s': only '^<header-name>:.*' can be mapped; use 'http-request "
		         "del-header <name>'",
		         bad[i]);
		parse_err(text, 2, msg);
	}
	parse_err("frontend fe\n reqdel ^X-A:.*foo\n", 2,
	          "'reqdel ^X-A:.*foo': only '^<header-name>:.*' can be mapped");
	parse_err("frontend fe\n reqidel\n", 2, "'reqidel' expects a regex");
	parse_err("frontend fe\n reqidel ^Content-Length:.*\n", 2,
	          "'Content-Length' frames the request body");
	parse_err("frontend fe\n reqidel ^X-A:.* x\n", 2, "unexpected word 'x'");
	parse_err("defaults\n reqidel ^X-A:.*\n", 2, "'reqidel' is not allowed in 'defaults'");
	parse_err("frontend fe\n\n reqirep ^Host:\\ (.*) Host:\\ x\n", 3,
	          "'reqirep' was removed from HAProxy in 2.1 and its replacement, 'http-request "
	          "replace-header', is not supported: rewrite it as 'http-request del-header' "
	          "and 'http-request set-header'");
	parse_err("backend be\n reqrep ^X-A:.* X-B:\\ 1\n", 2, "'reqrep' was removed from HAProxy");
}
END_TEST

/* A refused reqidel emits no warning and no rule. */
START_TEST(reqidel_error_no_rule)
{
	struct cfg *cfg = parse("frontend fe\n reqidel ^X.*\n");

	ck_assert_int_eq(M.errors, 1);
	ck_assert_int_eq(M.warnings, 0);
	ck_assert_ptr_null(cfg->proxies->http_rules);
	cfg_free(cfg);
}
END_TEST

START_TEST(http_reuse)
{
	struct cfg *cfg = parse_ok("backend a\n"
	                           "backend b\n http-reuse never\n"
	                           "backend c\n http-reuse aggressive\n"
	                           "listen d\n http-reuse always\n"
	                           "backend e\n http-reuse always\n http-reuse safe\n"
	                           "defaults\n http-reuse never\n"
	                           "backend f\n"
	                           "backend g\n http-reuse aggressive\n");

	ck_assert_int_eq(cfg_find_proxy(cfg, "a", CFG_CAP_BE)->http_reuse, CFG_REUSE_SAFE);
	ck_assert_int_eq(cfg_find_proxy(cfg, "b", CFG_CAP_BE)->http_reuse, CFG_REUSE_NEVER);
	ck_assert_int_eq(cfg_find_proxy(cfg, "c", CFG_CAP_BE)->http_reuse, CFG_REUSE_AGGRESSIVE);
	ck_assert_int_eq(cfg_find_proxy(cfg, "d", CFG_CAP_BE)->http_reuse, CFG_REUSE_ALWAYS);
	ck_assert_int_eq(cfg_find_proxy(cfg, "e", CFG_CAP_BE)->http_reuse, CFG_REUSE_SAFE);
	ck_assert_int_eq(cfg_find_proxy(cfg, "f", CFG_CAP_BE)->http_reuse, CFG_REUSE_NEVER);
	ck_assert_int_eq(cfg_find_proxy(cfg, "g", CFG_CAP_BE)->http_reuse, CFG_REUSE_AGGRESSIVE);
	cfg_free(cfg);

	parse_err("backend be\n http-reuse\n", 2,
	          "'http-reuse' expects never, safe, aggressive or always");
	parse_err("backend be\n http-reuse sometimes\n", 2,
	          "'http-reuse' expects never, safe, aggressive or always, got 'sometimes'");
	parse_err("backend be\n http-reuse safe always\n", 2, "got 'safe'");
	parse_err("frontend fe\n http-reuse safe\n", 2,
	          "'http-reuse' is not allowed in 'frontend' section (only in defaults, backend, "
	          "listen)");
}
END_TEST

START_TEST(http_conn_options)
{
	struct cfg *cfg = parse_ok("defaults\n option httpclose\n"
	                           "frontend a\n"
	                           "frontend b\n option http-server-close\n"
	                           "frontend c\n option http-keep-alive\n"
	                           "frontend d\n no option httpclose\n"
	                           "frontend e\n option http-server-close\n option httpclose\n"
	                           "frontend f\n no option http-keep-alive\n"
	                           "backend g\n option forwarded\n"
	                           "backend h\n option forwarded\n no option forwarded\n"
	                           "listen i\n option forwarded\n option httplog\n");
	const unsigned close = CFG_OPT_HTTPCLOSE, sclose = CFG_OPT_HTTP_SERVER_CLOSE;

	ck_assert_uint_eq(cfg_find_proxy(cfg, "a", CFG_CAP_FE)->options, close);
	ck_assert_uint_eq(cfg_find_proxy(cfg, "b", CFG_CAP_FE)->options, sclose);
	ck_assert_uint_eq(cfg_find_proxy(cfg, "c", CFG_CAP_FE)->options, 0);
	ck_assert_uint_eq(cfg_find_proxy(cfg, "d", CFG_CAP_FE)->options, 0);
	ck_assert_uint_eq(cfg_find_proxy(cfg, "e", CFG_CAP_FE)->options, close);
	ck_assert_uint_eq(cfg_find_proxy(cfg, "f", CFG_CAP_FE)->options, close);
	ck_assert_uint_eq(cfg_find_proxy(cfg, "g", CFG_CAP_BE)->options, close | CFG_OPT_FORWARDED);
	ck_assert_uint_eq(cfg_find_proxy(cfg, "h", CFG_CAP_BE)->options, close);
	ck_assert_uint_eq(cfg_find_proxy(cfg, "i", CFG_CAP_BE)->options,
	                  close | CFG_OPT_FORWARDED | CFG_OPT_HTTPLOG);
	cfg_free(cfg);

	parse_err("backend be\n option forwarded proto\n", 2,
	          "'option forwarded': only 'option forwarded' without arguments is supported, "
	          "got 'proto'");
	parse_err("frontend fe\n option forwarded\n", 2,
	          "'option forwarded' is not allowed in 'frontend' section (only in defaults, "
	          "backend, listen)");
	parse_err("frontend fe\n option httpclose 1\n", 2, "'option httpclose' takes no value");
	parse_err("frontend fe\n option http-keep-alive x\n", 2,
	          "'option http-keep-alive' takes no value, got 'x'");
	parse_err("backend be\n option http-buffer-request\n", 2,
	          "'option http-buffer-request' is not supported (outside the L7 HTTP subset)");
}
END_TEST

START_TEST(http_only_in_tcp_warns)
{
	struct cfg *cfg = parse_finish("defaults\n timeout connect 1s\n timeout client 1s\n"
	                               " timeout server 1s\n"
	                               "frontend fe\n bind :1\n default_backend be\n"
	                               " option forwardfor\n"
	                               " http-request del-header X-A\n"
	                               "backend be\n option forwarded\n server s 1.2.3.4:5\n");

	ck_assert_int_eq(M.errors, 0);
	ck_assert_int_eq(M.warnings, 3);
	ck_assert(has_msg(CFG_SEV_WARNING, "t.cfg:5: frontend 'fe': 'option forwardfor' ignored, "
	                                   "it requires mode http"));
	ck_assert(has_msg(CFG_SEV_WARNING, "t.cfg:9: frontend 'fe': 'http-request' rules ignored, "
	                                   "they require mode http"));
	ck_assert(has_msg(CFG_SEV_WARNING, "t.cfg:10: backend 'be': 'option forwarded' ignored, "
	                                   "it requires mode http"));
	cfg_free(cfg);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Real configurations */

/* /work/shared/seed/haproxy-ocp.cfg with its placeholders filled. */
static const char seed_cfg[] = "frontend fe-ocp-api-servers\n"
                               "    bind 127.0.0.1:6443\n"
                               "    default_backend be-ocp-api-servers\n"
                               "    mode tcp\n"
                               "\n"
                               "backend be-ocp-api-servers\n"
                               "    balance source\n"
                               "    mode tcp\n"
                               "    server master1 127.0.0.11:6443 check\n"
                               "    server master2 127.0.0.12:6443 check\n"
                               "    server master3 127.0.0.13:6443 check\n"
                               "\n"
                               "frontend fe-oauth-route\n"
                               "    bind 127.0.0.2:443\n"
                               "    default_backend be-oauth-route\n"
                               "    mode tcp\n"
                               "\n"
                               "backend be-oauth-route\n"
                               "    balance source\n"
                               "    mode tcp\n"
                               "    server infra1 127.0.0.21:443 check\n"
                               "    server infra2 127.0.0.22:443 check\n"
                               "    server infra3 127.0.0.23:443 check\n"
                               "\n"
                               "frontend fe-route-http\n"
                               "    bind 127.0.0.3:80\n"
                               "    default_backend be-route-http\n"
                               "    mode http\n"
                               "    option forwardfor except 127.0.0.0/8\n"
                               "    reqidel ^X-Forwarded-For:.*\n"
                               "\n"
                               "backend be-route-http\n"
                               "    balance source\n"
                               "    mode http\n"
                               "    server infra1 127.0.0.21:80 check\n"
                               "    server infra2 127.0.0.22:80 check\n"
                               "    server infra3 127.0.0.23:80 check\n"
                               "\n"
                               "frontend fe-route-https\n"
                               "    bind 127.0.0.3:443 ssl crt cert.pem\n"
                               "    default_backend be-route-https\n"
                               "    mode http\n"
                               "    option forwardfor except 127.0.0.0/8\n"
                               "    reqidel ^X-Forwarded-For:.*\n"
                               "\n"
                               "backend be-route-https\n"
                               "    balance source\n"
                               "    mode http\n"
                               "    server infra1 127.0.0.21:443 check ssl ca-file cert.pem\n"
                               "    server infra2 127.0.0.22:443 check ssl ca-file cert.pem\n"
                               "    server infra3 127.0.0.23:443 check ssl ca-file cert.pem\n";

START_TEST(seed_config)
{
	static const char *const warn[] = {
	    "t.cfg:30: 'reqidel' was removed from HAProxy in 2.1; ppbridge maps this one to "
	    "'http-request del-header X-Forwarded-For' (case-insensitive)",
	    "t.cfg:44: 'reqidel' was removed from HAProxy in 2.1; ppbridge maps this one to "
	    "'http-request del-header X-Forwarded-For' (case-insensitive)",
	    "t.cfg:6: backend 'be-ocp-api-servers': servers on 6443 checked by TCP only (3, first "
	    "'master1' at t.cfg:9): OpenShift requires an HTTPS GET /readyz check (option httpchk "
	    "GET /readyz + check-ssl)",
	};
	static const char *const http_fes[] = {"fe-route-http", "fe-route-https"};
	struct cfg *cfg = parse_finish(seed_cfg);
	struct cfg_proxy *fe, *be;
	struct cfg_bind *b;

	if (M.errors)
		dump();
	ck_assert_int_eq(M.errors, 0);
	/* The reqidel lines are the only parse warnings; then the API's TCP
	 * checks (OpenShift documents an HTTPS /readyz); the rest are timeouts:
	 * the seed writes none. */
	ck_assert_str_eq(nth_msg(CFG_SEV_WARNING, 0)->text, warn[0]);
	ck_assert_str_eq(nth_msg(CFG_SEV_WARNING, 1)->text, warn[1]);
	ck_assert_str_eq(nth_msg(CFG_SEV_WARNING, 2)->text, warn[2]);
	for (int k = 3; k < M.warnings; k++)
		ck_assert_ptr_nonnull(
		    strstr(nth_msg(CFG_SEV_WARNING, k)->text, "missing timeouts"));
	ck_assert_int_eq(M.warnings, 3 + 8);
	/* The HTTPS VIP: terminated with the one certificate, re-encrypted to
	 * the routers, verified (by default) against the same file. */
	fe = cfg_find_proxy(cfg, "fe-route-https", CFG_CAP_FE);
	b = fe->binds;
	ck_assert_int_eq(b->ssl, 1);
	ck_assert_str_eq(b->crts->s, "cert.pem");
	ck_assert_ptr_null(b->crts->next);
	ck_assert_int_eq(b->where.line, 40);
	be = fe->backend;
	ck_assert_int_eq(be->nservers, 3);
	for (struct cfg_server *s = be->servers; s; s = s->next) {
		ck_assert_int_eq(s->ssl, 1);
		ck_assert_int_eq(s->check, 1);
		ck_assert_str_eq(s->ca_file, "cert.pem");
		ck_assert_int_eq(s->verify, CFG_VERIFY_DEFAULT);
		ck_assert_ptr_null(s->sni);
		ck_assert_int_eq(s->port, 443);
	}
	ck_assert_int_eq(cfg_find_proxy(cfg, "fe-route-http", CFG_CAP_FE)->binds->ssl, 0);
	ck_assert_int_eq(cfg_find_proxy(cfg, "be-oauth-route", CFG_CAP_BE)->servers->ssl, 0);
	ck_assert(!has_msg(CFG_SEV_WARNING, "requires mode http"));
	for (size_t k = 0; k < sizeof(http_fes) / sizeof(http_fes[0]); k++) {
		fe = cfg_find_proxy(cfg, http_fes[k], CFG_CAP_FE);
		ck_assert_int_eq(fe->mode, CFG_MODE_HTTP);
		ck_assert_int_eq(fe->forwardfor.enabled, 1);
		ck_assert_int_eq(fe->forwardfor.has_except, 1);
		ck_assert_int_eq(fe->forwardfor.except.family, AF_INET);
		ck_assert_int_eq(fe->forwardfor.except.prefix, 8);
		ck_assert_ptr_null(fe->forwardfor.header);
		ck_assert_ptr_nonnull(fe->http_rules);
		ck_assert_ptr_null(fe->http_rules->next);
		ck_assert_int_eq(fe->http_rules->action, CFG_HTTP_DEL_HEADER);
		ck_assert_str_eq(fe->http_rules->name, "X-Forwarded-For");
		ck_assert_ptr_null(fe->http_rules->cond);
		ck_assert_ptr_eq(fe->backend->http_rules, NULL);
		ck_assert_int_eq(fe->backend->mode, CFG_MODE_HTTP);
	}
	ck_assert_int_eq(cfg_find_proxy(cfg, "fe-route-http", CFG_CAP_FE)->http_rules->where.line,
	                 30);
	/* The TCP part is intact. */
	ck_assert_int_eq(cfg_find_proxy(cfg, "be-ocp-api-servers", CFG_CAP_BE)->nservers, 3);
	ck_assert_int_eq(cfg_find_proxy(cfg, "be-oauth-route", CFG_CAP_BE)->balance,
	                 CFG_BALANCE_SOURCE);
	cfg_free(cfg);
}
END_TEST

/* OpenShift's documented user-managed load balancer configuration. */
static const char ocp_cfg[] =
    "global\n"
    "  log         127.0.0.1 local2\n"
    "  pidfile     /var/run/haproxy.pid\n"
    "  maxconn     4000\n"
    "  daemon\n"
    "defaults\n"
    "  mode                    http\n"
    "  log                     global\n"
    "  option                  dontlognull\n"
    "  option http-server-close\n"
    "  option                  redispatch\n"
    "  retries                 3\n"
    "  timeout http-request    10s\n"
    "  timeout queue           1m\n"
    "  timeout connect         10s\n"
    "  timeout client          1m\n"
    "  timeout server          1m\n"
    "  timeout http-keep-alive 10s\n"
    "  timeout check           10s\n"
    "  maxconn                 3000\n"
    "listen api-server-6443 \n"
    "  bind *:6443\n"
    "  mode tcp\n"
    "  option  httpchk GET /readyz HTTP/1.0\n"
    "  option  log-health-checks\n"
    "  balance roundrobin\n"
    "  server bootstrap bootstrap.ocp4.example.com:6443 verify none check check-ssl inter "
    "10s fall 2 rise 3 backup \n"
    "  server master0 master0.ocp4.example.com:6443 weight 1 verify none check check-ssl "
    "inter 10s fall 2 rise 3\n"
    "  server master1 master1.ocp4.example.com:6443 weight 1 verify none check check-ssl "
    "inter 10s fall 2 rise 3\n"
    "listen machine-config-server-22623 \n"
    "  bind *:22623\n"
    "  mode tcp\n"
    "  server bootstrap bootstrap.ocp4.example.com:22623 check inter 1s backup \n"
    "  server master0 master0.ocp4.example.com:22623 check inter 1s\n"
    "listen ingress-router-443 \n"
    "  bind *:443\n"
    "  mode tcp\n"
    "  balance source\n"
    "  server compute0 compute0.ocp4.example.com:443 check inter 1s\n"
    "  server compute1 compute1.ocp4.example.com:443 check inter 1s\n"
    "listen ingress-router-80 \n"
    "  bind *:80\n"
    "  mode tcp\n"
    "  balance source\n"
    "  server compute0 compute0.ocp4.example.com:80 check inter 1s\n"
    "  server compute1 compute1.ocp4.example.com:80 check inter 1s\n";

START_TEST(openshift_config)
{
	struct cfg *cfg = parse_finish(ocp_cfg);
	struct cfg_proxy *api = cfg_find_proxy(cfg, "api-server-6443", CFG_CAP_FE);
	struct cfg_proxy *mcs = cfg_find_proxy(cfg, "machine-config-server-22623", CFG_CAP_FE);
	struct cfg_proxy *r443 = cfg_find_proxy(cfg, "ingress-router-443", CFG_CAP_FE);
	struct cfg_server *s;

	if (M.errors || M.warnings)
		dump();
	ck_assert_int_eq(M.errors, 0);
	ck_assert_int_eq(M.warnings, 0);
	ck_assert_uint_eq(cfg->global.maxconn, 4000);
	ck_assert_str_eq(cfg->global.pidfile, "/var/run/haproxy.pid");
	ck_assert_int_eq(cfg->global.logs->facility, 18);
	ck_assert_int_eq(api->mode, CFG_MODE_TCP);
	ck_assert_int_eq(api->balance, CFG_BALANCE_ROUNDROBIN);
	ck_assert_ptr_eq(api->backend, api);
	ck_assert_int_eq(api->httpchk.enabled, 1);
	ck_assert_str_eq(api->httpchk.method, "GET");
	ck_assert_str_eq(api->httpchk.uri, "/readyz");
	ck_assert_str_eq(api->httpchk.version, "HTTP/1.0");
	ck_assert_uint_eq(api->options, CFG_OPT_DONTLOGNULL | CFG_OPT_HTTP_SERVER_CLOSE |
	                                    CFG_OPT_REDISPATCH | CFG_OPT_LOG_HEALTH_CHECKS);
	ck_assert_int_eq(api->retries, 3);
	ck_assert_uint_eq(api->maxconn, 3000);
	ck_assert_uint_eq(api->timeout.connect, 10000);
	ck_assert_uint_eq(api->timeout.queue, 60000);
	ck_assert_uint_eq(api->timeout.check, 10000);
	ck_assert_int_eq(api->log_global, 1);
	ck_assert_int_eq(api->nservers, 3);
	s = api->servers;
	ck_assert_str_eq(s->host, "bootstrap.ocp4.example.com");
	ck_assert_int_eq(s->verify, CFG_VERIFY_NONE);
	ck_assert_int_eq(s->check, 1);
	ck_assert_int_eq(s->check_ssl, 1);
	ck_assert_uint_eq(s->inter_ms, 10000);
	ck_assert_int_eq(s->fall, 2);
	ck_assert_int_eq(s->rise, 3);
	ck_assert_int_eq(s->backup, 1);
	ck_assert_int_eq(s->next->backup, 0);
	ck_assert_int_eq(s->next->weight, 1);
	ck_assert_uint_eq(mcs->servers->inter_ms, 1000);
	ck_assert_int_eq(mcs->servers->backup, 1);
	ck_assert_int_eq(mcs->httpchk.enabled, 0);
	ck_assert_int_eq(r443->balance, CFG_BALANCE_SOURCE);
	ck_assert_int_eq(r443->nservers, 2);
	ck_assert(has_msg(CFG_SEV_NOTICE, "daemon: ignored"));
	cfg_free(cfg);
}
END_TEST

START_TEST(openshift_config_new_checks)
{
	static const char text[] =
	    "defaults\n"
	    "  mode http\n"
	    "  timeout connect 10s\n timeout client 1m\n timeout server 1m\n"
	    "listen api-server-6443\n"
	    "  bind *:6443\n"
	    "  mode tcp\n"
	    "  option  httpchk\n"
	    "  http-check connect\n"
	    "  http-check send meth GET uri /readyz\n"
	    "  http-check expect status 200\n"
	    "  option  log-health-checks\n"
	    "  balance roundrobin\n"
	    "  server bootstrap bootstrap.ocp4.example.com:6443 verify none check check-ssl "
	    "inter 10s fall 2 rise 3 backup\n"
	    "  server master0 master0.ocp4.example.com:6443 weight 1 verify none check "
	    "check-ssl inter 10s fall 2 rise 3\n";
	struct cfg *cfg = parse_finish(text);
	struct cfg_httpchk *c = &cfg->proxies->httpchk;

	if (M.errors)
		dump();
	ck_assert_int_eq(M.errors, 0);
	ck_assert_int_eq(c->enabled, 1);
	ck_assert_str_eq(c->method, "GET");
	ck_assert_str_eq(c->uri, "/readyz");
	ck_assert_ptr_null(c->version);
	ck_assert_int_eq(c->expect_status, 200);
	ck_assert_uint_eq(c->connect_port, 0);
	ck_assert_int_eq(c->connect_ssl, 0);
	cfg_free(cfg);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Resolve and files */

START_TEST(resolve_literals_and_localhost)
{
	struct cfg *cfg = parse_finish("listen li\n bind :1\n server a 192.0.2.1:80\n"
	                               " server b [2001:db8::1]:443\n server c localhost:8080\n");
	struct cfg_server *s = cfg->proxies->servers;
	char buf[NET_ADDRSTRLEN];

	ck_assert_int_eq(cfg_resolve(cfg, &M), 0);
	ck_assert_int_eq(M.errors, 0);
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&s->addr.ss, buf, sizeof(buf)),
	                 "192.0.2.1:80");
	ck_assert_uint_eq(s->addr.len, sizeof(struct sockaddr_in));
	s = s->next;
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&s->addr.ss, buf, sizeof(buf)),
	                 "[2001:db8::1]:443");
	s = s->next;
	ck_assert(s->addr.len > 0);
	ck_assert_int_eq(net_get_port((struct sockaddr *)&s->addr.ss), 8080);
	net_format_ip((struct sockaddr *)&s->addr.ss, buf, sizeof(buf));
	ck_assert_msg(!strcmp(buf, "127.0.0.1") || !strcmp(buf, "::1"), "localhost is %s", buf);
	cfg_free(cfg);
}
END_TEST

START_TEST(resolve_failure)
{
	struct cfg *cfg = parse_finish("listen li\n bind :1\n server a 192.0.2.1:80\n"
	                               " server nope no-such-host.invalid:80\n");
	const char *prefix = "t.cfg:4: server 'nope': cannot resolve host 'no-such-host.invalid': ";

	ck_assert_int_eq(cfg_resolve(cfg, &M), -1);
	ck_assert_int_eq(M.errors, 1);
	ck_assert_msg(!strncmp(nth_msg(CFG_SEV_ERROR, 0)->text, prefix, strlen(prefix)), "%s",
	              nth_msg(CFG_SEV_ERROR, 0)->text);
	cfg_free(cfg);
}
END_TEST

START_TEST(load_files)
{
	char path[] = "/tmp/test_cfg_XXXXXX";
	int fd = mkstemp(path);
	const char *text = "listen li\n bind 127.0.0.1:1\n timeout client 1s\n"
	                   " timeout connect 1s\n timeout server 1s\n server a 127.0.0.1:2\n";
	char *paths[2] = {path, NULL};
	struct cfg *cfg = cfg_new();

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ck_assert_int_eq(cfg_load_files(cfg, paths, 1, &M), 0);
	ck_assert_int_eq(M.errors, 0);
	ck_assert_str_eq(cfg->proxies->where.file, path);
	ck_assert_uint_gt(cfg->proxies->servers->addr.len, 0);
	cfg_free(cfg);

	cfg = cfg_new();
	paths[1] = "/nonexistent/ppbridge.cfg";
	ck_assert_int_eq(cfg_load_files(cfg, paths, 2, &M), -1);
	ck_assert(has_msg(CFG_SEV_ERROR, "/nonexistent/ppbridge.cfg: cannot open: No such file"));
	cfg_free(cfg);
	unlink(path);
}
END_TEST

START_TEST(free_null)
{
	cfg_free(NULL);
	cfg_words_free(&W);
}
END_TEST

/* ------------------------------------------------------------------ */
/* userlist */

#define H6                                                                                         \
	"$6$abc$IdWKNKTJEb8LxY7CGg8YBXlvtfZzFw7Mp/r6niK9YB2mdvgY..TKjv1T..8RadRt2qvUHYRLr/"        \
	"TsVArtr91iR1"
#define UL_FE "frontend fe\n bind 127.0.0.1:8080\n mode http\n default_backend be\n"
#define UL_BE "backend be\n mode http\n server s1 127.0.0.1:80\n"

/* HAProxy's own example, then a second list with the same users. */
START_TEST(userlist_ok)
{
	struct cfg *cfg;
	const struct cfg_userlist *ul;
	const struct cfg_ul_user *u;

	cfg_msgs_free(&M);
	cfg = parse_finish(UL_FE " acl AUTH http_auth(stats-users)\n"
	                         " acl AUTH_ADMIN http_auth_group(stats-users) admin\n" UL_BE
	                         "userlist stats-users\n"
	                         "    group admin users alice\n"
	                         "    user alice password " H6 "\n"
	                         "    user bob insecure-password s3cret groups readonly\n"
	                         "    group readonly\n"
	                         "userlist L2\n"
	                         "    user alice insecure-password x\n");
	if (M.errors)
		dump();
	ck_assert_int_eq(M.errors, 0);
	ul = cfg_find_userlist(cfg->userlists, "stats-users");
	ck_assert_ptr_nonnull(ul);
	ck_assert_str_eq(ul->where.file, "t.cfg");
	ck_assert_int_eq(ul->where.line, 10);
	u = ul->users;
	ck_assert_str_eq(u->name, "alice");
	ck_assert_str_eq(u->hash, H6);
	ck_assert_ptr_null(u->plain);
	ck_assert_str_eq(u->groups, "admin");
	u = u->next;
	ck_assert_str_eq(u->name, "bob");
	ck_assert_ptr_null(u->hash);
	ck_assert_str_eq(u->plain, "s3cret");
	ck_assert_str_eq(u->groups, "readonly"); /* a group declared after the user */
	ck_assert_str_eq(ul->groups->name, "admin");
	ck_assert_str_eq(ul->groups->next->name, "readonly");
	ck_assert_ptr_nonnull(cfg_find_userlist(cfg->userlists, "L2"));
	ck_assert_ptr_null(cfg_find_userlist(cfg->userlists, "l2"));
	/* insecure-password: accepted, with a warning on its line */
	ck_assert(has_msg(CFG_SEV_WARNING,
	                  "t.cfg:13: user 'bob': 'insecure-password' is stored in clear"));
	cfg_free(cfg);
	cfg_msgs_free(&M);
}
END_TEST

START_TEST(userlist_errors)
{
	parse_err("userlist\n", 1, "'userlist' expects a name");
	parse_err("userlist a b\n", 1, "'userlist' expects a name");
	parse_err("userlist a/b\n user x insecure-password y\n", 1,
	          "userlist name 'a/b' is invalid");
	parse_err("userlist u\nuserlist u\n", 2,
	          "userlist 'u' has the same name as the userlist "
	          "declared at t.cfg:1");
	parse_err("userlist u\n user a password " H6 "\n user a password " H6 "\n", 3,
	          "user 'a' is already declared in userlist 'u' (t.cfg:2)");
	parse_err("userlist u\n group g\n group g\n", 3,
	          "group 'g' is already declared in userlist 'u' (t.cfg:2)");
	parse_err(
	    "userlist u\n user a password $9$abc$xyz\n", 2,
	    "user 'a': crypt(3) on this system cannot check this password hash (scheme '$9$')");
	parse_err("userlist u\n user a password secret\n", 2, "traditional DES or not a hash");
	parse_err("userlist u\n user a password $2b$20$abcdefghijklmnopqrstuuOQiyCxlgf/"
	          "oeuTqixKmWdcYUh4Hjl0a\n",
	          2, "user 'a': this password hash is too costly to check on every request");
	parse_err("userlist u\n user \"\" password " H6 "\n", 2, "empty names are not allowed");
	parse_err("userlist u\n group \"\"\n", 2, "empty names are not allowed");
	parse_err("userlist u\n user a:b password " H6 "\n", 2,
	          "user name 'a:b': ':' is not allowed");
	parse_err("userlist u\n group a,b\n", 2, "group name 'a,b': ',' is not allowed");
	parse_err("userlist u\n user a password " H6 " groups g,,h\n", 2,
	          "group list 'g,,h' has an empty name");
	parse_err("userlist u\n group g users a,\n", 2, "user list 'a,' has an empty name");
	parse_err("userlist u\n user a groups g\n", 2, "user 'a' has no 'password'");
	parse_err("userlist u\n user a password\n", 2, "'user' expects <name> password");
	parse_err("userlist u\n user a password " H6 " insecure-password x\n", 2,
	          "only one of 'password' and 'insecure-password'");
	parse_err("userlist u\n user a password " H6 " groups g groups h\n", 2,
	          "'user' expects"); /* 6 words */
	parse_err("userlist u\n user a password " H6 " group g\n", 2,
	          "user 'a': unexpected word 'group'");
	parse_err("userlist u\n group g users\n", 2, "'group' expects <name> [users <user>,...]");
	parse_err("userlist u\n group g members a\n", 2, "'group' expects");
	parse_err("userlist u\n frobnicate\n", 2, "unknown keyword 'frobnicate' in 'userlist'");
	/* a bad header still has its lines checked */
	cfg_msgs_free(&M);
	cfg_free(parse("userlist\n user a password $9$x\n"));
	ck_assert_int_eq(M.errors, 2);
	ck_assert(has_msg(CFG_SEV_ERROR, "t.cfg:1: 'userlist' expects a name"));
	ck_assert(has_msg(CFG_SEV_ERROR, "t.cfg:2: user 'a': crypt(3)"));
	cfg_msgs_free(&M);
}
END_TEST

/* Names that only the end of the configuration can check. */
START_TEST(userlist_finish_errors)
{
	struct cfg *cfg;

	finish_err(UL_FE UL_BE "userlist u\n user a password " H6 " groups nope\n", 9,
	           "user 'a': no group 'nope' in userlist 'u'");
	finish_err(UL_FE UL_BE "userlist u\n group g users bob\n", 9,
	           "group 'g': no user 'bob' in userlist 'u'");
	/* a declared ACL: at its section's line */
	finish_err(
	    UL_FE " acl A http_auth(nope)\n" UL_BE, 1,
	    "no userlist 'nope' in the configuration (named by http_auth or http_auth_group)");
	finish_err(UL_FE " acl A http_auth_group(u) admin\n" UL_BE "userlist u\n group ops\n", 1,
	           "http_auth_group(u): no group 'admin' in userlist 'u'");
	finish_err(UL_FE " acl A http_auth_group(nope) admin\n" UL_BE, 1, "no userlist 'nope'");
	/* a userlist after the proxy that names it, as in HAProxy */
	cfg_msgs_free(&M);
	cfg = parse_finish(UL_FE " acl A http_auth_group(late) ops\n" UL_BE
	                         "userlist late\n group ops\n");
	if (M.errors)
		dump();
	ck_assert_int_eq(M.errors, 0);
	cfg_free(cfg);
	cfg_msgs_free(&M);
}
END_TEST

/* The data path never sees credentials: only `stats` rules may ask for
 * them; declaring the ACL is fine. */
START_TEST(userlist_auth_only_in_stats)
{
	static const char *const rules[] = {
	    " use_backend be if AUTH\n",
	    " tcp-request connection reject unless AUTH\n",
	    " tcp-request content reject unless AUTH\n",
	    " http-request set-header X-User 1 if AUTH\n",
	    " http-request del-header X-User if { http_auth_group(u) g }\n",
	    " reqidel ^X-User:.* if AUTH\n",
	};
	char text[512];

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		snprintf(text, sizeof(text), "frontend fe\n mode http\n acl AUTH http_auth(u)\n%s",
		         rules[i]);
		parse_err(text, 4, "http_auth can only be used in 'stats' rules");
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* stick tables and the edge actions */

#define STK_FE                                                                             \
	"defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n"     \
	"frontend fe\n bind :80\n mode http\n default_backend be\n"
#define STK_BE "backend be\n mode http\n server s 127.0.0.1:1\n"

START_TEST(stick_ok)
{
	struct cfg *cfg = parse_finish(
	    STK_FE
	    " stick-table type ipv6 size 100k expire 30s store conn_cur,conn_rate(10s) store "
	    "http_req_rate(1m),bytes_in_cnt\n"
	    " tcp-request connection track-sc0 src\n"
	    " tcp-request connection reject if { sc_conn_cur(0) gt 100 }\n"
	    " tcp-request connection silent-drop if { sc_conn_rate(0) ge 1000 }\n"
	    " tcp-request content track-sc1 src,ipmask(24,64) table st\n"
	    " http-request track-sc2 src table st if { path /login }\n"
	    " http-request deny deny_status 429 if { sc_http_req_rate(0) gt 200 }\n"
	    " http-request tarpit status 503 if { src_http_err_rate(st) gt 10 }\n"
	    " http-request deny\n"
	    " timeout tarpit 2s\n" STK_BE
	    "backend st\n stick-table type ip size 10 store http_err_rate(10s)\n");
	const struct cfg_proxy *fe = cfg->proxies, *st;
	const struct cfg_tcp_rule *r;
	const struct cfg_http_rule *h;

	if (M.errors || M.warnings)
		dump();
	ck_assert_int_eq(M.errors, 0);
	ck_assert_int_eq(M.warnings, 0); /* a table-only backend is not missing servers */
	while (fe && strcmp(fe->name, "fe"))
		fe = fe->next;
	st = fe;
	while (st && strcmp(st->name, "st"))
		st = st->next;
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(fe->stick.type, STK_TYPE_IPV6);
	ck_assert_uint_eq(fe->stick.size, 100 * 1024);
	ck_assert_uint_eq(fe->stick.expire_ms, 30000);
	ck_assert_uint_eq(fe->stick.store, (1u << STK_CONN_CUR) | (1u << STK_CONN_RATE) |
	                                       (1u << STK_HTTP_REQ_RATE) | (1u << STK_BYTES_IN_CNT));
	ck_assert_uint_eq(fe->stick.period_ms[STK_CONN_RATE], 10000);
	ck_assert_uint_eq(fe->stick.period_ms[STK_HTTP_REQ_RATE], 60000);
	ck_assert_uint_eq(fe->timeout.tarpit, 2000);
	r = fe->tcp_conn_rules;
	ck_assert_int_eq(r->action, CFG_TCP_TRACK_SC);
	ck_assert_int_eq(r->track.sc, 0);
	ck_assert_ptr_eq(r->track.px, fe); /* its own table */
	ck_assert_int_eq(r->next->action, CFG_TCP_REJECT);
	ck_assert_int_eq(r->next->next->action, CFG_TCP_SILENT_DROP);
	r = fe->tcp_content_rules;
	ck_assert_int_eq(r->action, CFG_TCP_TRACK_SC);
	ck_assert_int_eq(r->track.sc, 1);
	ck_assert_ptr_eq(r->track.px, st);
	ck_assert_int_eq(fe->content_needs_hello, 0); /* track-sc reads no ClientHello */
	h = fe->http_rules;
	ck_assert_int_eq(h->action, CFG_HTTP_TRACK_SC);
	ck_assert_ptr_nonnull(h->cond);
	ck_assert_int_eq(h->next->action, CFG_HTTP_DENY);
	ck_assert_int_eq(h->next->deny_status, 429);
	ck_assert_int_eq(h->next->next->action, CFG_HTTP_TARPIT);
	ck_assert_int_eq(h->next->next->deny_status, 503);
	ck_assert_int_eq(h->next->next->next->deny_status, 403); /* HAProxy's default */
	ck_assert_int_eq(fe->http_edge, 1);
	cfg_free(cfg);
}
END_TEST

START_TEST(stick_errors)
{
	parse_err(STK_FE " stick-table type string size 10\n", 10, "type string' is not supported");
	parse_err(STK_FE " stick-table type ip expire 1s\n", 10, "expects 'type ip|ipv6' and 'size <n>'");
	parse_err(STK_FE " stick-table type ip size 0\n", 10, "from 1 to 64m");
	parse_err(STK_FE " stick-table type ip size 10x\n", 10, "from 1 to 64m");
	parse_err(STK_FE " stick-table type ip size 100 peers mypeers\n", 10,
	          "'stick-table peers' is not supported");
	parse_err(STK_FE " stick-table type ip size 100 store gpc0\n", 10,
	          "'stick-table store gpc0': not supported (supported: conn_cnt");
	parse_err(STK_FE " stick-table type ip size 100 store conn_rate\n", 10,
	          "expects a period: conn_rate(<period>)");
	parse_err(STK_FE " stick-table type ip size 100 store conn_cur(10s)\n", 10,
	          "'conn_cur' takes no period");
	parse_err(STK_FE " stick-table type ip size 100 store http_req_rate(0)\n", 10,
	          "the period must be above 0");
	parse_err(STK_FE " stick-table type ip size 100 expire 1x\n", 10, "'stick-table expire 1x'");
	parse_err(STK_FE " stick-table type ip size 100 fast 1\n", 10, "unknown argument");
	parse_err(STK_FE " stick-table type ip size 1\n stick-table type ip size 2\n", 11,
	          "a second 'stick-table'");
	parse_err(STK_FE " tcp-request connection track-sc3 src\n", 10,
	          "track-sc0, track-sc1 and track-sc2");
	parse_err(STK_FE " tcp-request connection track-sc0\n", 10, "expects a key");
	parse_err(STK_FE " tcp-request connection track-sc0 path\n", 10,
	          "keyed by the client's address");
	parse_err(STK_FE " tcp-request connection track-sc0 src_port\n", 10,
	          "keyed by the client's address");
	parse_err(STK_FE " http-request track-sc0 src table\n", 10, "'table' expects a proxy name");
	parse_err(STK_FE " http-request deny deny_status 418\n", 10, "expects one of 200, 400");
	parse_err(STK_FE " http-request deny deny_status\n", 10, "expects one of 200, 400");
	parse_err(STK_FE " http-request deny deny_status 4294967699\n", 10, "expects one of 200, 400");
	parse_err(STK_FE " stick-table type ip size 10 size 20\n", 10, "'stick-table size' written twice");
	parse_err(STK_FE " stick-table type ip size 10 type ipv6\n", 10, "'stick-table type' written twice");
	parse_err(STK_FE " http-request tarpit if { req.ssl_sni a }\n", 10,
	          "the ClientHello is not available to an HTTP rule");
	parse_err(STK_FE " tcp-request connection reject if { sc_conn_cur(3) gt 1 }\n", 10,
	          "not a stick counter (0, 1 or 2)");
}
END_TEST

START_TEST(stick_finish_errors)
{
	finish_err(STK_FE " tcp-request connection track-sc0 src\n" STK_BE, 10,
	           "track-sc0: frontend 'fe' has no stick-table (add one, or name another");
	finish_err(STK_FE " http-request track-sc1 src table nope\n" STK_BE, 10,
	           "track-sc1: no proxy 'nope' (table)");
	finish_err(STK_FE " http-request track-sc1 src table be\n" STK_BE, 10,
	           "backend 'be' has no stick-table");
	finish_err(STK_FE " http-request deny if { src_conn_cur(nope) gt 1 }\n" STK_BE, 10,
	           "stick table 'nope': no such proxy");
	finish_err(STK_FE " acl busy sc_conn_cur(0,be) gt 1\n" STK_BE, 6,
	           "stick table 'be': that proxy has no stick-table");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Keyword rows: every table in the one row shape, and the typed rows */

/* Where a table's rows run: the option-list tables (bind, server) read
 * option words after an address; the others are keywords of a line. */
enum kw_kind {
	KW_SECTION = 0, /* section headers */
	KW_GLOBAL,      /* keywords of the global section */
	KW_PROXY,       /* keywords of a proxy section, with sections (caps) */
	KW_OPTIONS,     /* option lists */
	KW_USERLIST,    /* keywords of a userlist section */
};

static const struct {
	const char *name;
	const struct cfg_kw *rows;
	enum kw_kind kind;
	const char *prefix; /* what precedes the keyword on its line */
} kw_tables[] = {
    {"sections", cfg_section_kws, KW_SECTION, ""},
    {"global", cfg_global_kws, KW_GLOBAL, ""},
    {"proxy", cfg_proxy_kws, KW_PROXY, ""},
    {"timeout", cfg_timeout_kws, KW_PROXY, "timeout "},
    {"option", cfg_option_kws, KW_PROXY, "option "},
    {"bind", cfg_bind_kws, KW_OPTIONS, "bind :80 "},
    {"server", cfg_server_kws, KW_OPTIONS, "server s 192.0.2.1:80 "},
    {"userlist", cfg_userlist_kws, KW_USERLIST, ""},
};

#define NTABLES (sizeof(kw_tables) / sizeof(kw_tables[0]))

START_TEST(kw_rows_well_formed)
{
	int nrows = 0, nrefused = 0, ntyped = 0;

	for (size_t t = 0; t < NTABLES; t++) {
		for (const struct cfg_kw *k = kw_tables[t].rows; k->kw; k++) {
			const char *tn = kw_tables[t].name;
			int typed = k->fn == cfg_kw_int || k->fn == cfg_kw_time ||
				    k->fn == cfg_kw_str || k->fn == cfg_kw_flag ||
				    k->fn == cfg_kw_tls_version || k->fn == cfg_kw_option_bits;

			nrows++;
			ntyped += typed;
			ck_assert_msg(*k->kw, "%s: empty keyword", tn);
			for (const struct cfg_kw *o = kw_tables[t].rows; o != k; o++)
				ck_assert_msg(strcmp(o->kw, k->kw) != 0, "%s: '%s' twice", tn, k->kw);
			/* A NULL handler, and only that, means refused with a hint. */
			ck_assert_msg(!k->fn == !!k->hint, "%s '%s': handler xor hint", tn, k->kw);
			nrefused += !k->fn;
			ck_assert_msg(0 <= k->min_args && k->min_args <= k->max_args &&
					  k->max_args <= CFG_MANY,
				      "%s '%s': words [%d, %d]", tn, k->kw, k->min_args, k->max_args);
			/* Sections matter in proxy tables only. */
			if (kw_tables[t].kind == KW_PROXY)
				ck_assert_msg(k->caps && !(k->caps & ~(unsigned)CAP_ALL),
					      "%s '%s': caps %#x", tn, k->kw, k->caps);
			else
				ck_assert_msg(k->caps == 0, "%s '%s': caps %#x outside a proxy table",
					      tn, k->kw, k->caps);
			/* An option takes 0 or 1 value, or a word it may go
			 * without (min 0, max 1: accept-proxy [optional]). */
			if (kw_tables[t].kind == KW_OPTIONS && k->fn)
				ck_assert_msg(k->max_args <= 1,
					      "%s '%s': options take 0 or 1 value", tn, k->kw);
			/* A typed string of a keyword line needs its usage: that
			 * is what checks its words. */
			if (kw_tables[t].kind != KW_OPTIONS && k->fn == cfg_kw_str)
				ck_assert_msg(k->usage != NULL, "%s '%s': string row without usage", tn,
					      k->kw);
			if (k->fn == cfg_kw_time)
				ck_assert_msg(k->min == 0 || k->min == 1, "%s '%s': time min", tn, k->kw);
			if (k->fn == cfg_kw_int)
				ck_assert_msg(k->min <= k->max, "%s '%s': int range", tn, k->kw);
			if (typed && k->fn != cfg_kw_option_bits && k->fn != cfg_kw_flag)
				ck_assert_msg(k->min_args == 1 && k->max_args == 1,
					      "%s '%s': a typed value is one word", tn, k->kw);
		}
	}
	/* Not a count to keep up to date: a floor that catches a table gone. */
	ck_assert_int_ge(nrows, 150);
	ck_assert_int_ge(nrefused, 40);
	ck_assert_int_ge(ntyped, 60);
}
END_TEST

/* A proxy section whose caps take row `k`, as a header line. */
static const char *section_for(const struct cfg_kw *k)
{
	if (k->caps & CAP_DEF)
		return "defaults\n";
	return "listen l\n";
}

/* Parse one line of row `k` with `nwords` words "x" after the keyword. */
static void kw_line(size_t t, const struct cfg_kw *k, int nwords, char *buf, size_t len)
{
	size_t used;

	switch (kw_tables[t].kind) {
	case KW_GLOBAL:
		snprintf(buf, len, "global\n ");
		break;
	case KW_PROXY:
		snprintf(buf, len, "%s ", section_for(k));
		break;
	case KW_USERLIST:
		snprintf(buf, len, "userlist u\n ");
		break;
	default:
		buf[0] = '\0';
		break;
	}
	used = strlen(buf);
	snprintf(buf + used, len - used, "%s%s", kw_tables[t].prefix, k->kw);
	for (int i = 0; i < nwords; i++) {
		used = strlen(buf);
		snprintf(buf + used, len - used, " x");
	}
	used = strlen(buf);
	snprintf(buf + used, len - used, "\n");
}

/* Whoever words it, a line with too few or too many words after its
 * keyword is refused, with a message naming the keyword. */
START_TEST(kw_rows_word_count)
{
	char text[512], name[80];

	for (size_t t = 0; t < NTABLES; t++) {
		if (kw_tables[t].kind != KW_GLOBAL && kw_tables[t].kind != KW_PROXY &&
		    kw_tables[t].kind != KW_USERLIST)
			continue;
		for (const struct cfg_kw *k = kw_tables[t].rows; k->kw; k++) {
			int counts[2] = {k->min_args - 1, k->max_args + 1};

			if (!k->fn)
				continue;
			snprintf(name, sizeof(name), "'%s%s'", kw_tables[t].prefix, k->kw);
			for (int i = 0; i < 2; i++) {
				struct cfg *cfg;

				if (counts[i] < 0 || counts[i] > CFG_MANY)
					continue;
				kw_line(t, k, counts[i], text, sizeof(text));
				cfg_msgs_free(&M);
				cfg = parse(text);
				if (M.errors != 1 || !has_msg(CFG_SEV_ERROR, name))
					dump();
				ck_assert_msg(M.errors == 1 && has_msg(CFG_SEV_ERROR, name),
					      "%s with %d words: refused naming %s", k->kw, counts[i],
					      name);
				cfg_free(cfg);
			}
		}
	}
}
END_TEST

/* The object a table row fills, in a configuration holding one line of it. */
static void *kw_obj(struct cfg *cfg, size_t t)
{
	if (!strcmp(kw_tables[t].name, "global"))
		return &cfg->global;
	if (!strcmp(kw_tables[t].name, "bind"))
		return cfg->proxies ? cfg->proxies->binds : NULL;
	if (!strcmp(kw_tables[t].name, "server"))
		return cfg->proxies ? cfg->proxies->servers : NULL;
	if (!strcmp(kw_tables[t].name, "timeout"))
		return cfg->proxies ? &cfg->proxies->timeout : NULL;
	return cfg->proxies;
}

/* A line of typed row `k` with `value`, in a section that takes it. */
static void typed_text(size_t t, const struct cfg_kw *k, const char *value, char *text, size_t len)
{
	const char *tail = "";

	/* A bind that is not TLS must not name a certificate, and one that is
	 * must: make every bind line a complete TLS one. */
	if (kw_tables[t].kind == KW_OPTIONS && !strcmp(kw_tables[t].name, "bind"))
		tail = strcmp(k->kw, "ssl") ? " ssl crt /c.pem" : " crt /c.pem";
	switch (kw_tables[t].kind) {
	case KW_GLOBAL:
		snprintf(text, len, "global\n %s %s\n", k->kw, value);
		break;
	case KW_PROXY:
		snprintf(text, len, "listen l\n %s%s %s\n", kw_tables[t].prefix, k->kw, value);
		break;
	default:
		snprintf(text, len, "%s\n %s%s %s%s\n",
			 strcmp(kw_tables[t].name, "bind") ? "backend b" : "frontend f",
			 kw_tables[t].prefix, k->kw, value, tail);
		break;
	}
}

/* One typed row: `value` is accepted and lands in the row's field. */
static void *typed_ok(size_t t, const struct cfg_kw *k, const char *value, struct cfg **cfgp)
{
	char text[512];
	void *obj;

	typed_text(t, k, value, text, sizeof(text));
	cfg_msgs_free(&M);
	*cfgp = parse(text);
	if (M.errors)
		dump();
	ck_assert_msg(M.errors == 0, "%s '%s %s' refused", kw_tables[t].name, k->kw, value);
	obj = kw_obj(*cfgp, t);
	ck_assert_ptr_nonnull(obj);
	return (char *)obj + k->off;
}

/* Typed rows: each stores its value where its row says, within its
 * limits, and refuses what is outside them with its type's message. */
START_TEST(kw_typed_rows)
{
	int checked = 0;

	for (size_t t = 0; t < NTABLES; t++) {
		for (const struct cfg_kw *k = kw_tables[t].rows; k->kw; k++) {
			struct cfg *cfg = NULL;
			char v[64], expect[160], text[512];
			void *field;

			if (k->fn == cfg_kw_int && k->store != CFG_STORE_NONE) {
				long ends[2] = {k->min, k->max};
				for (int i = 0; i < 2; i++) {
					snprintf(v, sizeof(v), "%ld", ends[i]);
					field = typed_ok(t, k, v, &cfg);
					if (k->store == CFG_STORE_INT)
						ck_assert_int_eq(*(int *)field, ends[i]);
					else
						ck_assert_uint_eq(*(unsigned *)field, (unsigned long)ends[i]);
					cfg_free(cfg);
				}
				snprintf(v, sizeof(v), "%ld", k->max + 1);
				snprintf(expect, sizeof(expect),
					 "'%s%s' expects an integer between %ld and %ld, got '%s'",
					 kw_tables[t].kind == KW_OPTIONS ? "" : kw_tables[t].prefix,
					 k->kw, k->min, k->max, v);
				typed_text(t, k, v, text, sizeof(text));
				parse_err(text, 2, expect);
				checked++;
			} else if (k->fn == cfg_kw_time) {
				field = typed_ok(t, k, "1500ms", &cfg);
				ck_assert_uint_eq(*(unsigned *)field, 1500);
				cfg_free(cfg);
				checked++;
			} else if (k->fn == cfg_kw_str) {
				field = typed_ok(t, k, "a.b", &cfg);
				ck_assert_str_eq(*(char **)field, "a.b");
				cfg_free(cfg);
				checked++;
			} else if (k->fn == cfg_kw_flag && k->store == CFG_STORE_INT) {
				field = typed_ok(t, k, "", &cfg);
				ck_assert_int_eq(*(int *)field, 1);
				cfg_free(cfg);
				checked++;
			} else if (k->fn == cfg_kw_tls_version) {
				field = typed_ok(t, k, "TLSv1.3", &cfg);
				ck_assert_int_eq(*(int *)field, 0x0304);
				cfg_free(cfg);
				checked++;
			}
		}
	}
	ck_assert_int_ge(checked, 50);
}
END_TEST

/* Out of their limits, typed rows say so in the words the handlers they
 * replaced used. */
START_TEST(kw_typed_limits)
{
	parse_err("global\n maxconn 0\n", 2,
		  "'maxconn' expects an integer between 1 and 2147483647, got '0'");
	parse_err("global\n maxconn\n", 2, "'maxconn' expects an integer between 1 and 2147483647");
	parse_err("global\n nbthread 65\n", 2, "'nbthread' expects an integer between 1 and 64, got '65'");
	parse_err("global\n tune.ssl.default-dh-param 512\n", 2,
		  "'tune.ssl.default-dh-param' expects an integer between 1024 and 16384, got '512'");
	parse_err("listen l\n retries 101\n", 2, "'retries' expects an integer between 0 and 100, got '101'");
	parse_err("backend b\n server s 192.0.2.1:80 weight 257\n", 2,
		  "server 's': 'weight' expects an integer between 0 and 256, got '257'");
	parse_err("backend b\n default-server rise 0\n", 2,
		  "default-server: 'rise' expects an integer between 1 and 1000000, got '0'");
	parse_err("backend b\n server s 192.0.2.1:80 inter 0\n", 2,
		  "server 's': 'inter' must be greater than 0");
	parse_err("global\n stats timeout 0\n", 2, "'stats timeout' must be greater than 0");
	parse_err("global\n hard-stop-after 1s 2s\n", 2, "'hard-stop-after': unexpected word '2s'");
	parse_err("listen l\n timeout client\n", 2, "'timeout client' expects a time");
	parse_err("listen l\n tcp-request inspect-delay 1x\n", 2,
		  "'tcp-request inspect-delay': unknown time unit");
	parse_err("global\n pidfile \"\"\n", 2, "'pidfile' expects a path");
	parse_err("global\n ca-base a b\n", 2, "'ca-base' expects a directory");
	parse_err("backend b\n server s 192.0.2.1:80 verifyhost \"\"\n", 2,
		  "server 's': 'verifyhost' expects a host name");
	parse_err("frontend f\n bind :80 name \"\"\n", 2, "'bind :80': 'name' expects a value");
	parse_err("frontend f\n bind :443 ssl crt c.pem ssl-max-ver TLSv1.1\n", 2,
		  "'bind :443': 'ssl-max-ver TLSv1.1': not supported: ppbridge requires TLS 1.2 or later");
	/* A row accepted for compatibility says so. */
	cfg_free(parse_ok("global\n tune.ssl.default-dh-param 2048\n daemon\n"));
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:2: tune.ssl.default-dh-param: accepted, no effect"));
	ck_assert(has_msg(CFG_SEV_NOTICE, "t.cfg:3: daemon: ignored, ppbridge always runs"));
	cfg_free(parse_ok("frontend f\n bind :80 no-tlsv10\n"));
	ck_assert(has_msg(CFG_SEV_NOTICE,
			  "t.cfg:2: 'bind :80': 'no-tlsv10' has no effect: ppbridge never offers"));
}
END_TEST

static Suite *cfg_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc;

	tc = tcase_create("tokenizer");
	tcase_add_checked_fixture(tc, NULL, tok_teardown);
	tcase_add_test(tc, tok_words);
	tcase_add_test(tc, tok_comments);
	tcase_add_test(tc, tok_escapes);
	tcase_add_test(tc, tok_quotes);
	tcase_add_test(tc, tok_env);
	tcase_add_test(tc, tok_errors);
	tcase_add_test(tc, tok_limits);
	tcase_add_test(tc, tok_expansion_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("time");
	tcase_add_test(tc, time_units);
	suite_add_tcase(s, tc);

	tc = tcase_create("messages");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, msg_format);
	tcase_add_test(tc, free_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("sections");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, tok_in_parser);
	tcase_add_test(tc, section_errors);
	tcase_add_test(tc, section_names);
	tcase_add_test(tc, bad_header_still_checks_body);
	tcase_add_test(tc, keeps_going);
	suite_add_tcase(s, tc);

	tc = tcase_create("global");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, global_keywords);
	tcase_add_test(tc, global_stats_socket);
	tcase_add_test(tc, global_errors);
	tcase_add_test(tc, global_tls);
	tcase_add_test(tc, global_tls_errors);
	tcase_add_test(tc, global_tls_error_keeps_previous);
	suite_add_tcase(s, tc);

	tc = tcase_create("proxy");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, bind_ok);
	tcase_add_test(tc, bind_errors);
	tcase_add_test(tc, bind_accept_proxy_optional);
	tcase_add_test(tc, bind_tls);
	tcase_add_test(tc, bind_tls_errors);
	tcase_add_test(tc, proxy_keywords);
	tcase_add_test(tc, builtin_values);
	tcase_add_test(tc, log_options);
	tcase_add_test(tc, proxy_errors);
	tcase_add_test(tc, timeout_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("server");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, server_options);
	tcase_add_test(tc, server_errors);
	tcase_add_test(tc, server_tls);
	tcase_add_test(tc, server_tls_errors);
	tcase_add_test(tc, server_tls_inherit);
	tcase_add_test(tc, proxy_protocol_keywords);
	tcase_add_test(tc, proxy_protocol_errors);
	tcase_add_test(tc, default_server);
	suite_add_tcase(s, tc);

	tc = tcase_create("httpchk");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, httpchk_forms);
	tcase_add_test(tc, httpchk_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("defaults");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, defaults_inherit);
	tcase_add_test(tc, defaults_httpchk_kept);
	tcase_add_test(tc, defaults_reset);
	tcase_add_test(tc, defaults_named_from);
	tcase_add_test(tc, defaults_per_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("finish");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, finish_ok);
	tcase_add_test(tc, finish_missing_timeouts);
	tcase_add_test(tc, finish_errors);
	tcase_add_test(tc, finish_no_frontend);
	tcase_add_test(tc, finish_mode_mismatch);
	tcase_add_test(tc, finish_warnings);
	tcase_add_test(tc, finish_api_tcp_check_warns);
	tcase_add_test(tc, finish_pp_optional);
	tcase_add_test(tc, finish_ssl_server_verify_none);
	tcase_add_test(tc, finish_defaults_http_overridden);
	tcase_add_test(tc, finish_listen_default_backend);
	suite_add_tcase(s, tc);

	tc = tcase_create("http");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, http_mode_ok);
	tcase_add_test(tc, forwardfor_forms);
	tcase_add_test(tc, forwardfor_inherit);
	tcase_add_test(tc, forwardfor_errors);
	tcase_add_test(tc, forwardfor_error_keeps_previous);
	tcase_add_test(tc, http_request_rules);
	tcase_add_test(tc, http_request_errors);
	tcase_add_test(tc, http_request_acl_order);
	tcase_add_test(tc, condition_backends);
	tcase_add_test(tc, http_rules_not_inherited);
	tcase_add_test(tc, reqidel_mapping);
	tcase_add_test(tc, reqidel_order_and_cond);
	tcase_add_test(tc, reqidel_errors);
	tcase_add_test(tc, reqidel_error_no_rule);
	tcase_add_test(tc, http_reuse);
	tcase_add_test(tc, http_conn_options);
	tcase_add_test(tc, http_only_in_tcp_warns);
	suite_add_tcase(s, tc);

	tc = tcase_create("userlist");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, userlist_ok);
	tcase_add_test(tc, userlist_errors);
	tcase_add_test(tc, userlist_finish_errors);
	tcase_add_test(tc, userlist_auth_only_in_stats);
	suite_add_tcase(s, tc);

	tc = tcase_create("stick");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, stick_ok);
	tcase_add_test(tc, stick_errors);
	tcase_add_test(tc, stick_finish_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("rows");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, kw_rows_well_formed);
	tcase_add_test(tc, kw_rows_word_count);
	tcase_add_test(tc, kw_typed_rows);
	tcase_add_test(tc, kw_typed_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("real");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_add_test(tc, seed_config);
	tcase_add_test(tc, openshift_config);
	tcase_add_test(tc, openshift_config_new_checks);
	suite_add_tcase(s, tc);

	tc = tcase_create("resolve");
	tcase_add_checked_fixture(tc, msgs_setup, msgs_teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, resolve_literals_and_localhost);
	tcase_add_test(tc, resolve_failure);
	tcase_add_test(tc, load_files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cfg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
