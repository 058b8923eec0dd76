/* test_sample.c - compiling and expanding `%[fetch]` header values. */
#include <config.h>

#include "sample.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

/* ------------------------------------------------------------------ */
/* Helpers */

static struct sockaddr_storage SRC, DST;

static const struct sockaddr *addr4(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return (const struct sockaddr *)ss;
}

static const struct sockaddr *addr6(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return (const struct sockaddr *)ss;
}

/* A request with a few headers, for req.hdr(). */
struct hdrs {
	const char *const *pairs; /* name, value, name, value, ..., NULL */
	size_t vlen_override;     /* non-zero: the value length (to embed NULs) */
	int calls;
};

static int hdr_lookup(void *arg, const char *name, size_t name_len, const uint8_t **val,
                      size_t *val_len)
{
	struct hdrs *h = arg;
	int found = 0;

	h->calls++;
	for (size_t i = 0; h->pairs[i]; i += 2) {
		if (strlen(h->pairs[i]) != name_len || strncasecmp(h->pairs[i], name, name_len))
			continue;
		/* the last occurrence, as HAProxy's req.hdr() */
		*val = (const uint8_t *)h->pairs[i + 1];
		*val_len = h->vlen_override ? h->vlen_override : strlen(h->pairs[i + 1]);
		found = 1;
	}
	return found;
}

static struct sample_fmt *compile_ok(const char *text)
{
	char err[256] = "";
	struct sample_fmt *fmt = sample_compile(text, err, sizeof(err));

	ck_assert_msg(fmt != NULL, "'%s': %s", text, err);
	return fmt;
}

static void compile_err(const char *text, const char *expect)
{
	char err[256] = "";
	struct sample_fmt *fmt = sample_compile(text, err, sizeof(err));

	ck_assert_msg(fmt == NULL, "'%s' should not compile", text);
	ck_assert_msg(strstr(err, expect), "'%s': error '%s' lacks '%s'", text, err, expect);
}

/* Compile `text`, expand it with `ctx`, compare with `expect`. */
static void expand_eq(const char *text, const struct sample_ctx *ctx, const char *expect)
{
	struct sample_fmt *fmt = compile_ok(text);
	char buf[512];
	int n;

	memset(buf, 'Z', sizeof(buf));
	n = sample_expand(fmt, ctx, buf, sizeof(buf));
	ck_assert_msg(n >= 0, "'%s' did not fit", text);
	ck_assert_msg((size_t)n == strlen(expect) && memcmp(buf, expect, (size_t)n) == 0,
	              "'%s' gave '%.*s', expected '%s'", text, n, buf, expect);
	ck_assert_int_eq(buf[n], '\0');
	sample_free(fmt);
}

/* ------------------------------------------------------------------ */
/* Compilation */

START_TEST(compile_segments)
{
	struct sample_fmt *fmt = compile_ok("for=%[src];port=%[src_port]%%x%%");

	ck_assert_int_eq(fmt->nsegs, 5);
	ck_assert_int_eq(fmt->segs[0].fetch, SAMPLE_LITERAL);
	ck_assert_str_eq(fmt->segs[0].text, "for=");
	ck_assert_uint_eq(fmt->segs[0].len, 4);
	ck_assert_int_eq(fmt->segs[1].fetch, SAMPLE_SRC);
	ck_assert_str_eq(fmt->segs[2].text, ";port=");
	ck_assert_int_eq(fmt->segs[3].fetch, SAMPLE_SRC_PORT);
	ck_assert_str_eq(fmt->segs[4].text, "%x%");
	sample_free(fmt);

	/* literal runs and %% merge into one segment */
	fmt = compile_ok("100%% sure%%");
	ck_assert_int_eq(fmt->nsegs, 1);
	ck_assert_str_eq(fmt->segs[0].text, "100% sure%");
	ck_assert_uint_eq(fmt->segs[0].len, 10);
	sample_free(fmt);

	fmt = compile_ok("");
	ck_assert_int_eq(fmt->nsegs, 0);
	sample_free(fmt);
}
END_TEST

START_TEST(compile_fetches)
{
	static const struct {
		const char *text;
		enum sample_fetch fetch;
		const char *arg;
	} cases[] = {
	    {"%[src]", SAMPLE_SRC, NULL},
	    {"%[src_port]", SAMPLE_SRC_PORT, NULL},
	    {"%[dst]", SAMPLE_DST, NULL},
	    {"%[dst_port]", SAMPLE_DST_PORT, NULL},
	    {"%[ssl_fc_sni]", SAMPLE_SSL_FC_SNI, NULL},
	    {"%[req.hdr(host)]", SAMPLE_REQ_HDR, "host"},
	    {"%[req.hdr(X-Forwarded-Proto)]", SAMPLE_REQ_HDR, "X-Forwarded-Proto"},
	    {"%[hdr(Host)]", SAMPLE_REQ_HDR, "Host"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sample_fmt *fmt = compile_ok(cases[i].text);
		ck_assert_int_eq(fmt->nsegs, 1);
		ck_assert_int_eq(fmt->segs[0].fetch, cases[i].fetch);
		if (cases[i].arg) {
			ck_assert_str_eq(fmt->segs[0].text, cases[i].arg);
			ck_assert_uint_eq(fmt->segs[0].len, strlen(cases[i].arg));
		}
		sample_free(fmt);
	}
}
END_TEST

START_TEST(compile_errors)
{
	compile_err("%[foo]", "unknown sample fetch 'foo' in '%[foo]' (supported: src, src_port, "
	                      "dst, dst_port, ssl_fc_sni, req.hdr(<name>))");
	compile_err("x%[SRC]", "unknown sample fetch 'SRC'");
	compile_err("%[src_ip]", "unknown sample fetch 'src_ip'");
	compile_err("%[req.cook(a)]", "unknown sample fetch 'req.cook' in '%[req.cook(a)]'");
	compile_err("%[src,ipmask(24)]",
	            "'%[src,ipmask(24)]': converters are not supported (only a bare fetch");
	compile_err("%[req.hdr(host),lower]", "'%[req.hdr(host),lower]': converters are not");
	compile_err("%[src", "missing ']' after '%[src'");
	compile_err("a %[src] %[dst", "missing ']' after '%[dst'");
	compile_err("%[]", "empty sample fetch '%[]'");
	compile_err("%[src(1)]", "'%[src(1)]': fetch 'src' takes no argument");
	compile_err("%[dst_port()]", "fetch 'dst_port' takes no argument");
	compile_err("%[req.hdr]", "'%[req.hdr]': req.hdr() expects a header name");
	compile_err("%[req.hdr()]", "'%[req.hdr()]': req.hdr() expects a header name");
	compile_err("%[req.hdr(host]", "'%[req.hdr(host]': missing ')'");
	compile_err("%[req.hdr(host,1)]", "req.hdr() takes one argument, a header name (the "
	                                  "occurrence argument is not supported)");
	compile_err("%[req.hdr(a:b)]", "'a:b' is not a valid header name (RFC 9110 token)");
	compile_err("%[req.hdr(a b)]", "'a b' is not a valid header name");
	compile_err("%ci", "'%ci': only '%[<fetch>]' samples and '%%' are supported");
	compile_err("%{+Q}[src]", "only '%[<fetch>]' samples");
	compile_err("50%", "lone '%' at the end of the value (write '%%' for a percent sign)");
	compile_err("a\r\nX-Evil: 1", "control character 0x0d");
	compile_err("a\nb", "control character 0x0a");
	compile_err("a\x01", "control character 0x01");
	compile_err("a\x7f", "control character 0x7f");
}
END_TEST

START_TEST(compile_long_header_name)
{
	char text[600], name[300];

	memset(name, 'a', 257);
	name[257] = '\0';
	snprintf(text, sizeof(text), "%%[req.hdr(%s)]", name);
	compile_err(text, "header name too long (max 256)");
	name[256] = '\0';
	snprintf(text, sizeof(text), "%%[req.hdr(%s)]", name);
	sample_free(compile_ok(text));
	/* a long unknown fetch still gives the reason first */
	snprintf(text, sizeof(text), "%%[%s]", name);
	compile_err(text, "unknown sample fetch 'aaaa");
}
END_TEST

/* A NULL or zero-sized error buffer is allowed. */
START_TEST(compile_no_err_buffer)
{
	char err[1] = "x";

	ck_assert_ptr_null(sample_compile("%[nope]", NULL, 0));
	ck_assert_ptr_null(sample_compile("%[nope]", err, 0));
	ck_assert_int_eq(err[0], 'x');
	ck_assert_ptr_null(sample_compile("%[nope]", err, sizeof(err)));
	ck_assert_int_eq(err[0], '\0');
	sample_free(NULL);
}
END_TEST

/* The fetches of conditions (smp.c rows without SMP_IN_VALUE) are not
 * values: refused by name, with the list of those that are. */
START_TEST(compile_condition_fetches)
{
	static const char *const texts[] = {
	    "%[path]",        "%[nbsrv(be)]", "%[req.ssl_sni]", "%[req_ssl_hello_type]",
	    "%[always_true]", "%[path_beg]",
	};
	char expect[160];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *t = texts[i] + 2;
		snprintf(expect, sizeof(expect), "unknown sample fetch '%.*s' in '%s' (supported: src, ",
			 (int)strcspn(t, "(]"), t, texts[i]);
		compile_err(texts[i], expect);
	}
	compile_err("%[src,ipmask(24,64)]", "converters are not supported (only a bare fetch: src, "
	                                    "src_port, dst, dst_port, ssl_fc_sni, req.hdr(<name>))");
}
END_TEST

/* Each fetch segment carries its compiled expression; literals none. */
START_TEST(compile_segment_exprs)
{
	struct sample_fmt *fmt = compile_ok("a%[src]b%[req.hdr(host)]");

	ck_assert_int_eq(fmt->nsegs, 4);
	ck_assert_ptr_null(fmt->segs[0].expr);
	ck_assert_ptr_nonnull(fmt->segs[1].expr);
	ck_assert_ptr_null(fmt->segs[1].text);
	ck_assert_ptr_null(fmt->segs[2].expr);
	ck_assert_ptr_nonnull(fmt->segs[3].expr);
	ck_assert_str_eq(fmt->segs[3].text, "host");
	sample_free(fmt);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Expansion */

START_TEST(expand_ipv4)
{
	struct sample_ctx ctx = {
	    .src = addr4(&SRC, "192.0.2.10", 54321),
	    .dst = addr4(&DST, "10.1.2.3", 443),
	};

	expand_eq("%[src]", &ctx, "192.0.2.10");
	expand_eq("%[src_port]", &ctx, "54321");
	expand_eq("%[dst]", &ctx, "10.1.2.3");
	expand_eq("%[dst_port]", &ctx, "443");
	expand_eq("for=%[src]:%[src_port] by=%[dst]:%[dst_port] 100%%", &ctx,
	          "for=192.0.2.10:54321 by=10.1.2.3:443 100%");
	expand_eq("plain text", &ctx, "plain text");
	expand_eq("", &ctx, "");
}
END_TEST

START_TEST(expand_ipv6)
{
	struct sample_ctx ctx = {
	    .src = addr6(&SRC, "2001:db8::1", 1),
	    .dst = addr6(&DST, "::1", 65535),
	};

	/* bare, no brackets: as HAProxy writes X-Forwarded-For */
	expand_eq("%[src]", &ctx, "2001:db8::1");
	expand_eq("%[src_port]", &ctx, "1");
	expand_eq("%[dst]", &ctx, "::1");
	expand_eq("%[dst_port]", &ctx, "65535");
	/* IPv4-mapped: the IPv4 address */
	ctx.src = addr6(&SRC, "::ffff:203.0.113.7", 8080);
	expand_eq("%[src] %[src_port]", &ctx, "203.0.113.7 8080");
	/* an IPv4-compatible-looking but not mapped address stays IPv6 */
	ctx.src = addr6(&SRC, "64:ff9b::203.0.113.7", 8080);
	expand_eq("%[src]", &ctx, "64:ff9b::cb00:7107");
}
END_TEST

START_TEST(expand_missing_values)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct sample_ctx ctx = {0};

	/* no addresses, no SNI, no header callback: all empty */
	expand_eq("[%[src]|%[src_port]|%[dst]|%[dst_port]|%[ssl_fc_sni]|%[req.hdr(host)]]", &ctx,
	          "[|||||]");
	ctx.src = (const struct sockaddr *)&sun;
	ctx.dst = (const struct sockaddr *)&sun;
	expand_eq("[%[src]:%[src_port]>%[dst]:%[dst_port]]", &ctx, "[:>:]");
	/* no context at all */
	{
		struct sample_fmt *fmt = compile_ok("a%[src]b");
		char buf[8];
		ck_assert_int_eq(sample_expand(fmt, NULL, buf, sizeof(buf)), 2);
		ck_assert_str_eq(buf, "ab");
		sample_free(fmt);
	}
}
END_TEST

START_TEST(expand_sni)
{
	struct sample_ctx ctx = {.sni = "api.example.com"};

	expand_eq("%[ssl_fc_sni]", &ctx, "api.example.com");
	ctx.sni = "";
	expand_eq("<%[ssl_fc_sni]>", &ctx, "<>");
	/* bytes a header cannot carry never come out */
	ctx.sni = "evil\r\nX-Injected: 1";
	expand_eq("%[ssl_fc_sni]", &ctx, "evilX-Injected: 1");
	ctx.sni = "a\x01\x7f"
	          "b\tc";
	expand_eq("%[ssl_fc_sni]", &ctx, "ab\tc");
}
END_TEST

START_TEST(expand_req_hdr)
{
	static const char *const pairs[] = {"Host", "www.example.com", "X-Dup",  "first",   "x-dup",
	                                    "last", "X-Bad",           "a\r\nb", "X-Empty", "",
	                                    NULL};
	struct hdrs h = {.pairs = pairs};
	struct sample_ctx ctx = {.hdr = hdr_lookup, .hdr_arg = &h};

	expand_eq("%[req.hdr(host)]", &ctx, "www.example.com");
	expand_eq("%[req.hdr(HOST)]", &ctx, "www.example.com");
	expand_eq("%[hdr(host)]", &ctx, "www.example.com");
	expand_eq("%[req.hdr(x-dup)]", &ctx, "last");
	expand_eq("<%[req.hdr(X-Missing)]>", &ctx, "<>");
	expand_eq("<%[req.hdr(X-Empty)]>", &ctx, "<>");
	expand_eq("%[req.hdr(X-Bad)]", &ctx, "ab");
	ck_assert_int_eq(h.calls, 7);
}
END_TEST

/* A NUL inside a fetched value is dropped, not a terminator. */
START_TEST(expand_req_hdr_nul)
{
	static const char value[] = "a\0b\rc\nd";
	static const char *const pairs[] = {"X-A", value, NULL};
	struct hdrs h = {.pairs = pairs, .vlen_override = sizeof(value) - 1};
	struct sample_ctx ctx = {.hdr = hdr_lookup, .hdr_arg = &h};

	expand_eq("[%[req.hdr(x-a)]]", &ctx, "[abcd]");
}
END_TEST

/* A callback that says "found" without a value is treated as absent. */
static int hdr_null(void *arg, const char *name, size_t name_len, const uint8_t **val,
                    size_t *val_len)
{
	*val = NULL;
	*val_len = 5;
	return 1;
}

START_TEST(expand_req_hdr_null_value)
{
	struct sample_ctx ctx = {.hdr = hdr_null};

	expand_eq("<%[req.hdr(a)]>", &ctx, "<>");
}
END_TEST

START_TEST(expand_sizes)
{
	struct sample_ctx ctx = {.src = addr6(&SRC, "2001:db8:1234:5678:9abc:def0:1234:5678", 1)};
	struct sample_fmt *fmt = compile_ok("ab%[src]");
	char buf[64];
	int need;

	need = sample_expand(fmt, &ctx, buf, sizeof(buf));
	ck_assert_int_eq(need, 2 + 38);
	/* exactly the length: fits, no room for a NUL (none written) */
	memset(buf, 'Z', sizeof(buf));
	ck_assert_int_eq(sample_expand(fmt, &ctx, buf, (size_t)need), need);
	ck_assert_int_eq(buf[need], 'Z');
	ck_assert_int_eq(memcmp(buf, "ab2001:db8:", 11), 0);
	/* one byte short: -1, in the literal or in the fetch */
	ck_assert_int_eq(sample_expand(fmt, &ctx, buf, (size_t)need - 1), -1);
	ck_assert_int_eq(sample_expand(fmt, &ctx, buf, 1), -1);
	ck_assert_int_eq(sample_expand(fmt, &ctx, buf, 0), -1);
	ck_assert_int_eq(sample_expand(fmt, &ctx, NULL, 0), -1);
	sample_free(fmt);

	/* an empty result fits in an empty buffer */
	fmt = compile_ok("");
	ck_assert_int_eq(sample_expand(fmt, &ctx, buf, 0), 0);
	ck_assert_int_eq(sample_expand(NULL, &ctx, buf, sizeof(buf)), 0);
	sample_free(fmt);
}
END_TEST

/* Expansion is repeatable: a compiled value serves every request. */
START_TEST(expand_repeat)
{
	struct sample_fmt *fmt = compile_ok("%[src]");
	struct sample_ctx ctx = {0};
	char buf[64];

	for (int i = 0; i < 3; i++) {
		char ip[24];
		snprintf(ip, sizeof(ip), "10.0.0.%d", i);
		ctx.src = addr4(&SRC, ip, 1);
		ck_assert_int_eq(sample_expand(fmt, &ctx, buf, sizeof(buf)), (int)strlen(ip));
		ck_assert_str_eq(buf, ip);
	}
	sample_free(fmt);
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *sample_suite(void)
{
	Suite *s = suite_create("sample");
	TCase *tc;

	tc = tcase_create("compile");
	tcase_add_test(tc, compile_segments);
	tcase_add_test(tc, compile_fetches);
	tcase_add_test(tc, compile_errors);
	tcase_add_test(tc, compile_long_header_name);
	tcase_add_test(tc, compile_no_err_buffer);
	tcase_add_test(tc, compile_condition_fetches);
	tcase_add_test(tc, compile_segment_exprs);
	suite_add_tcase(s, tc);

	tc = tcase_create("expand");
	tcase_add_test(tc, expand_ipv4);
	tcase_add_test(tc, expand_ipv6);
	tcase_add_test(tc, expand_missing_values);
	tcase_add_test(tc, expand_sni);
	tcase_add_test(tc, expand_req_hdr);
	tcase_add_test(tc, expand_req_hdr_nul);
	tcase_add_test(tc, expand_req_hdr_null_value);
	tcase_add_test(tc, expand_sizes);
	tcase_add_test(tc, expand_repeat);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sample_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
