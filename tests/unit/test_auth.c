/* test_auth.c - Basic credentials, userlists, `stats auth` pairs, and the
 * http_auth / http_auth_group conditions that use them. */
#include <config.h>

#include "auth.h"
#include "acl.h"
#include "cfg.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Known answers for the password "secret" (openssl passwd -6/-5/-1
 * -salt abc secret; yescrypt and bcrypt from libxcrypt's crypt(3)). */
#define H_SHA512                                                                                   \
	"$6$abc$IdWKNKTJEb8LxY7CGg8YBXlvtfZzFw7Mp/r6niK9YB2mdvgY..TKjv1T..8RadRt2qvUHYRLr/"        \
	"TsVArtr91iR1"
#define H_SHA256 "$5$abc$qsg6EHbUzHQzF1POlD7zUwBINSELQxypPaeDcZe6vH0"
#define H_MD5 "$1$abc$iCQ2D3nhptRYi27fDYv2s1"
#define H_YESCRYPT "$y$j9T$abcdefgh$IUWJt2doU4Kf6E/JP1UkAT3S5O3Q7SSA8SJirXIlEu9"
#define H_BCRYPT "$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a"

/* ------------------------------------------------------------------ */
/* Helpers */

static char U[AUTH_USER_MAX], P[AUTH_PASS_MAX];

static int basic(const char *value)
{
	return auth_basic_parse(value, strlen(value), U, sizeof(U), P, sizeof(P));
}

static void basic_ok(const char *value, const char *user, const char *pass)
{
	ck_assert_msg(basic(value) == 0, "'%s' should parse", value);
	ck_assert_str_eq(U, user);
	ck_assert_str_eq(P, pass);
}

static void basic_bad(const char *value)
{
	ck_assert_msg(basic(value) == -1, "'%s' should be refused", value);
	ck_assert_str_eq(U, ""); /* cleared */
	ck_assert_str_eq(P, "");
}

static struct cfg *CFG;
static struct cfg_msgs M;

static const char users_cfg[] = "userlist stats-users\n"
                                "    group admin users alice\n"
                                "    group readonly\n"
                                "    user alice password " H_SHA512 "\n"
                                "    user bob insecure-password s3cret groups readonly\n"
                                "    user carol password " H_SHA256 " groups readonly,admin\n"
                                "    user dave password " H_YESCRYPT "\n"
                                "listen stats\n"
                                "    bind 127.0.0.1:8404\n"
                                "    mode http\n"
                                "    server s 127.0.0.1:80\n"
                                "userlist other\n"
                                "    user alice insecure-password other\n";

static void cfg_setup(void)
{
	cfg_msgs_init(&M);
	CFG = cfg_new();
	cfg_parse_text(CFG, "t.cfg", users_cfg, strlen(users_cfg), &M);
	cfg_finish(CFG, &M);
	for (struct cfg_msg *m = M.head; m && M.errors; m = m->next)
		fprintf(stderr, "%s\n", m->text);
	ck_assert_int_eq(M.errors, 0);
}

static void cfg_teardown(void)
{
	cfg_free(CFG);
	cfg_msgs_free(&M);
}

static const struct cfg_userlist *UL(const char *name)
{
	const struct cfg_userlist *ul = cfg_find_userlist(CFG->userlists, name);

	ck_assert_ptr_nonnull(ul);
	return ul;
}

/* "Basic " + base64(text), into buf. */
static const char *basic_of(const char *text, char *buf, size_t len)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(text), o = (size_t)snprintf(buf, len, "Basic ");

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)text[i] << 16;
		v |= i + 1 < n ? (unsigned char)text[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned char)text[i + 2] : 0;
		ck_assert(o + 5 < len);
		buf[o++] = b64[v >> 18 & 63];
		buf[o++] = b64[v >> 12 & 63];
		buf[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		buf[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	buf[o] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* Authorization: Basic */

START_TEST(basic_parse_ok)
{
	basic_ok("Basic YWxpY2U6d29uZGVyOmxhbmQ=", "alice", "wonder:land"); /* first ':' */
	basic_ok("basic Ym9iOnMzY3JldA==", "bob", "s3cret");                /* any case */
	basic_ok("BASIC Ym9iOnMzY3JldA==", "bob", "s3cret");
	basic_ok("  Basic   Ym9iOnMzY3JldA==\t ", "bob", "s3cret"); /* OWS, 1*SP */
	basic_ok("Basic YTo=", "a", "");                            /* empty password */
	basic_ok("Basic OmI=", "", "b");                            /* empty user */
}
END_TEST

START_TEST(basic_parse_malformed)
{
	ck_assert_int_eq(auth_basic_parse(NULL, 0, U, sizeof(U), P, sizeof(P)), -1);
	ck_assert_int_eq(auth_basic_parse("Basic YTo=", 10, NULL, 0, P, sizeof(P)), -1);
	basic_bad("");
	basic_bad("Basic");
	basic_bad("Basic ");
	basic_bad("Bearer YTo=");
	basic_bad("Basi YTo=");
	basic_bad("BasicYTo=");
	basic_bad("Basic\tYTo="); /* the scheme ends with a space */
	basic_bad("Basic YTo");   /* no padding */
	basic_bad("Basic YTo=="); /* not a multiple of 4 */
	basic_bad("Basic YT=o");  /* '=' inside */
	basic_bad("Basic =Tob");
	basic_bad("Basic YTp=");      /* non-zero bits under the padding */
	basic_bad("Basic YR==");      /* the same, with two '=' */
	basic_bad("Basic YWJj");      /* "abc": no ':' */
	basic_bad("Basic YT!=");      /* not base64 */
	basic_bad("Basic YTo= YTo="); /* two tokens */
	basic_bad("Basic YQFiOmM=");  /* "a\x01b:c": a control character */
	basic_bad("Basic YTpiAA==");  /* "a:b\0": a NUL */
	basic_bad("Basic YWJjOmQK");  /* "abc:d\n" */
}
END_TEST

START_TEST(basic_parse_bounds)
{
	char hdr[4096], text[2048], user[4], pass[4];

	/* the buffers' sizes bound user and password, NUL included */
	ck_assert_int_eq(auth_basic_parse("Basic YWJjOmRlZg==", 18, user, 4, pass, 4), 0);
	ck_assert_str_eq(user, "abc");
	ck_assert_str_eq(pass, "def");
	ck_assert_int_eq(auth_basic_parse("Basic YWJjZDplZg==", 18, user, 4, pass, 4), -1);
	ck_assert_int_eq(auth_basic_parse("Basic YWI6Y2RlZg==", 18, user, 4, pass, 4), -1);
	/* the largest credentials the fixed buffers take, and one byte more */
	memset(text, 'u', AUTH_USER_MAX - 1);
	text[AUTH_USER_MAX - 1] = ':';
	memset(text + AUTH_USER_MAX, 'p', AUTH_PASS_MAX - 1);
	text[AUTH_USER_MAX + AUTH_PASS_MAX - 1] = '\0';
	ck_assert_int_eq(basic(basic_of(text, hdr, sizeof(hdr))), 0);
	ck_assert_uint_eq(strlen(U), AUTH_USER_MAX - 1);
	ck_assert_uint_eq(strlen(P), AUTH_PASS_MAX - 1);
	strcat(text, "p");
	basic_bad(basic_of(text, hdr, sizeof(hdr)));
}
END_TEST

/* Every prefix of a header: refused, or a prefix of the credentials; no
 * read past the length given (ASan). */
START_TEST(basic_parse_truncated)
{
	const char *full = "Basic YWxpY2U6d29uZGVyOmxhbmQ=";
	size_t n = strlen(full);

	for (size_t len = 0; len <= n; len++) {
		char *copy = malloc(len ? len : 1);
		memcpy(copy, full, len);
		if (auth_basic_parse(copy, len, U, sizeof(U), P, sizeof(P)) == 0) {
			ck_assert_str_eq(U, "alice");
			ck_assert(strncmp(P, "wonder:land", strlen(P)) == 0);
		}
		free(copy);
	}
	ck_assert_int_eq(basic(full), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Comparison, hashes */

START_TEST(ct_equal)
{
	ck_assert_int_eq(auth_ct_equal("abc", 3, "abc", 3), 1);
	ck_assert_int_eq(auth_ct_equal("abc", 3, "abd", 3), 0);
	ck_assert_int_eq(auth_ct_equal("abc", 3, "abcd", 4), 0);
	ck_assert_int_eq(auth_ct_equal("abc", 3, "ab", 2), 0);
	ck_assert_int_eq(auth_ct_equal("", 0, "", 0), 1);
	ck_assert_int_eq(auth_ct_equal("a\0b", 3, "a\0c", 3), 0);
}
END_TEST

START_TEST(hash_usable)
{
	ck_assert_int_eq(auth_hash_usable(H_SHA512), 1);
	ck_assert_int_eq(auth_hash_usable(H_SHA256), 1);
	ck_assert_int_eq(auth_hash_usable(H_YESCRYPT), 1);
	ck_assert_int_eq(auth_hash_usable(NULL), 0);
	ck_assert_int_eq(auth_hash_usable(""), 0);
	ck_assert_int_eq(auth_hash_usable("*"), 0); /* locked, shadow(5) */
	ck_assert_int_eq(auth_hash_usable("!" H_SHA512), 0);
	ck_assert_int_eq(auth_hash_usable("$9$abc$xyz"), 0);          /* unknown scheme */
	ck_assert_int_eq(auth_hash_usable("$6$abc$IdWKNKTJEb8L"), 0); /* truncated */
	ck_assert_int_eq(auth_hash_usable(H_SHA512 "x"), 0);          /* too long */
	ck_assert_int_eq(auth_hash_usable("secret"), 0);              /* a password */
}
END_TEST

/* Costs a request to the stats page could not bear: refused unrun. */
START_TEST(hash_cost)
{
	ck_assert_int_eq(auth_hash_cost_ok(H_SHA512), 1);
	ck_assert_int_eq(auth_hash_cost_ok(H_YESCRYPT), 1);
	ck_assert_int_eq(auth_hash_cost_ok(H_BCRYPT), 1);
	ck_assert_int_eq(auth_hash_cost_ok("$2b$14$abcdefghijklmnopqrstuu"), 1);
	ck_assert_int_eq(auth_hash_cost_ok("$2b$15$abcdefghijklmnopqrstuu"), 0);
	ck_assert_int_eq(auth_hash_cost_ok("$2y$31$abcdefghijklmnopqrstuu"), 0);
	ck_assert_int_eq(auth_hash_cost_ok("$2b$x1$abcdefghijklmnopqrstuu"), 0);
	ck_assert_int_eq(auth_hash_cost_ok("$6$rounds=1000000$abc$"), 1);
	ck_assert_int_eq(auth_hash_cost_ok("$6$rounds=1000001$abc$"), 0);
	ck_assert_int_eq(auth_hash_cost_ok("$5$rounds=99999999999999999999$abc$"), 0);
	ck_assert_int_eq(auth_hash_cost_ok("$y$jCT$abcdefgh$"), 1);
	ck_assert_int_eq(auth_hash_cost_ok("$y$jDT$abcdefgh$"), 0);
	ck_assert_int_eq(auth_hash_cost_ok("$y$jzT$abcdefgh$"), 0);
	ck_assert_int_eq(auth_hash_cost_ok(NULL), 0);
	/* the usability check does not run them */
	ck_assert_int_eq(
	    auth_hash_usable("$2b$31$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a"), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Userlists */

START_TEST(userlist_check)
{
	const struct cfg_userlist *ul = UL("stats-users");

	ck_assert_int_eq(auth_userlist_check(ul, "alice", "secret"), 1); /* sha512crypt */
	ck_assert_int_eq(auth_userlist_check(ul, "alice", "Secret"), 0);
	ck_assert_int_eq(auth_userlist_check(ul, "alice", ""), 0);
	ck_assert_int_eq(auth_userlist_check(ul, "carol", "secret"), 1); /* sha256crypt */
	ck_assert_int_eq(auth_userlist_check(ul, "dave", "secret"), 1);  /* yescrypt */
	ck_assert_int_eq(auth_userlist_check(ul, "dave", "secrets"), 0);
	ck_assert_int_eq(auth_userlist_check(ul, "bob", "s3cret"), 1); /* in clear */
	ck_assert_int_eq(auth_userlist_check(ul, "bob", "s3cre"), 0);
	ck_assert_int_eq(auth_userlist_check(ul, "bob", "s3cret "), 0);
	ck_assert_int_eq(auth_userlist_check(ul, "mallory", "secret"), 0); /* no such user */
	ck_assert_int_eq(auth_userlist_check(ul, "Alice", "secret"), 0);   /* names have case */
	ck_assert_int_eq(auth_userlist_check(ul, NULL, "secret"), 0);
	ck_assert_int_eq(auth_userlist_check(NULL, "alice", "secret"), 0);
	/* userlists are separate */
	ck_assert_int_eq(auth_userlist_check(UL("other"), "alice", "secret"), 0);
	ck_assert_int_eq(auth_userlist_check(UL("other"), "alice", "other"), 1);
}
END_TEST

/* Schemes a libcrypt may leave out (MD5, bcrypt): checked where known. */
START_TEST(userlist_more_schemes)
{
	static const struct {
		const char *hash;
	} h[] = {{H_MD5}, {H_BCRYPT}};

	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		struct cfg_ul_user u = {.name = "u", .hash = (char *)h[i].hash};
		struct cfg_userlist ul = {.name = "l", .users = &u};
		if (!auth_hash_usable(h[i].hash))
			continue;
		ck_assert_int_eq(auth_userlist_check(&ul, "u", "secret"), 1);
		ck_assert_int_eq(auth_userlist_check(&ul, "u", "secreT"), 0);
	}
}
END_TEST

START_TEST(userlist_groups)
{
	const struct cfg_userlist *ul = UL("stats-users");

	/* by the group's `users`, by the user's `groups`, or both */
	ck_assert_int_eq(auth_userlist_in_group(ul, "alice", "admin"), 1);
	ck_assert_int_eq(auth_userlist_in_group(ul, "alice", "readonly"), 0);
	ck_assert_int_eq(auth_userlist_in_group(ul, "bob", "readonly"), 1);
	ck_assert_int_eq(auth_userlist_in_group(ul, "bob", "admin"), 0);
	ck_assert_int_eq(auth_userlist_in_group(ul, "carol", "admin"), 1);
	ck_assert_int_eq(auth_userlist_in_group(ul, "carol", "readonly"), 1);
	ck_assert_int_eq(auth_userlist_in_group(ul, "dave", "admin"), 0);
	ck_assert_int_eq(auth_userlist_in_group(ul, "mallory", "admin"), 0);
	ck_assert_int_eq(auth_userlist_in_group(ul, "alice", "nosuch"), 0);
	/* cfg_finish() lists each user's groups, in the groups' order */
	ck_assert_str_eq(ul->users->name, "alice");
	ck_assert_str_eq(ul->users->groups, "admin");
	ck_assert_str_eq(ul->users->next->groups, "readonly");
	ck_assert_str_eq(ul->users->next->next->groups, "admin,readonly");
	ck_assert_str_eq(ul->users->next->next->next->groups, "");
}
END_TEST

START_TEST(basic_user)
{
	const struct cfg_userlist *ul = UL("stats-users");
	char hdr[256];
	const struct cfg_ul_user *u;

	basic_of("alice:secret", hdr, sizeof(hdr));
	u = auth_basic_user(ul, hdr, strlen(hdr));
	ck_assert_ptr_nonnull(u);
	ck_assert_str_eq(u->name, "alice");
	ck_assert_ptr_null(auth_basic_user(ul, hdr, strlen(hdr) - 1));
	basic_of("alice:secreT", hdr, sizeof(hdr));
	ck_assert_ptr_null(auth_basic_user(ul, hdr, strlen(hdr)));
	ck_assert_ptr_null(auth_basic_user(ul, "Basic !!!!", 10));
	ck_assert_ptr_null(auth_basic_user(ul, NULL, 0));
}
END_TEST

/* ------------------------------------------------------------------ */
/* stats auth */

START_TEST(plain_pairs)
{
	const char *const pairs[] = {"admin:pa:ss", "nocolon", "ops:x", ":empty", "e:"};

	ck_assert_int_eq(auth_plain_check(pairs, 5, "admin", "pa:ss"), 1);
	ck_assert_int_eq(auth_plain_check(pairs, 5, "admin", "pa"), 0);
	ck_assert_int_eq(auth_plain_check(pairs, 5, "admin", "x"), 0); /* ops' password */
	ck_assert_int_eq(auth_plain_check(pairs, 5, "ops", "x"), 1);
	ck_assert_int_eq(auth_plain_check(pairs, 5, "nocolon", ""), 0);
	ck_assert_int_eq(auth_plain_check(pairs, 5, "", "empty"), 1);
	ck_assert_int_eq(auth_plain_check(pairs, 5, "e", ""), 1);
	ck_assert_int_eq(auth_plain_check(pairs, 2, "ops", "x"), 0); /* only n pairs */
	ck_assert_int_eq(auth_plain_check(pairs, 0, "admin", "pa:ss"), 0);
	ck_assert_int_eq(auth_plain_check(NULL, 1, "admin", "pa:ss"), 0);
	ck_assert_int_eq(auth_plain_check(pairs, 5, NULL, "x"), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Conditions */

static struct acl *ACLS;

/* `acl <name> <words...>` into ACLS. */
static void declare(const char *name, const char *words)
{
	char buf[256], *w[16], err[256] = "";
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", words);
	for (char *t = strtok(buf, " "); t && n < 16; t = strtok(NULL, " "))
		w[n++] = t;
	ck_assert_msg(acl_declare(&ACLS, name, w, n, err, sizeof(err)) == 0, "%s: %s", words, err);
}

static int holds(const char *cond, const char *authz)
{
	char buf[256], *w[16], err[256] = "";
	struct acl_ctx ctx = {.userlists = CFG->userlists};
	struct acl_cond *c;
	int n = 0, r;

	snprintf(buf, sizeof(buf), "%s", cond);
	for (char *t = strtok(buf, " "); t && n < 16; t = strtok(NULL, " "))
		w[n++] = t;
	c = acl_cond_parse(w, n, ACLS, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s: %s", cond, err);
	ck_assert_uint_eq(acl_cond_fetches(c) & ACL_NEEDS_HTTP_AUTH, ACL_NEEDS_HTTP_AUTH);
	ctx.authorization = authz;
	ctx.authorization_len = authz ? strlen(authz) : 0;
	r = acl_cond_eval(c, &ctx);
	acl_cond_free(c);
	return r;
}

START_TEST(cond_http_auth)
{
	char alice[128], bob[128], carol[128], wrong[128];

	basic_of("alice:secret", alice, sizeof(alice));
	basic_of("bob:s3cret", bob, sizeof(bob));
	basic_of("carol:secret", carol, sizeof(carol));
	basic_of("alice:nope", wrong, sizeof(wrong));
	declare("AUTH", "http_auth(stats-users)");
	declare("AUTH_ADMIN", "http_auth_group(stats-users) admin");
	declare("AUTH_RO", "http_auth_group(stats-users) readonly ops");

	ck_assert_int_eq(holds("if AUTH", alice), 1);
	ck_assert_int_eq(holds("if AUTH", bob), 1);
	ck_assert_int_eq(holds("if AUTH", wrong), 0);
	ck_assert_int_eq(holds("if AUTH", NULL), 0);
	ck_assert_int_eq(holds("unless AUTH", NULL), 1); /* `auth unless AUTH` asks */
	ck_assert_int_eq(holds("if AUTH", "Basic !"), 0);
	ck_assert_int_eq(holds("if { http_auth(other) }", alice), 0);
	ck_assert_int_eq(holds("if AUTH_ADMIN", alice), 1);
	ck_assert_int_eq(holds("if AUTH_ADMIN", bob), 0);
	ck_assert_int_eq(holds("if AUTH_ADMIN", carol), 1); /* "admin,readonly" */
	ck_assert_int_eq(holds("if AUTH_RO", carol), 1);
	ck_assert_int_eq(holds("if AUTH_ADMIN", wrong), 0); /* a group needs the password */
	ck_assert_int_eq(holds("if AUTH_ADMIN", NULL), 0);
	ck_assert_int_eq(holds("if !AUTH_ADMIN", NULL), 1);
	/* a whole group name, not a part of the list */
	ck_assert_int_eq(holds("if { http_auth_group(stats-users) admin,readonly }", carol), 0);
	ck_assert_int_eq(holds("if { http_auth_group(stats-users) -m beg read }", carol), 1);
	ck_assert_int_eq(holds("if { http_auth_group(stats-users) -m found }", carol), 1);
}
END_TEST

/* Without userlists in the context (the data path), no value: never
 * true, whatever the header. */
START_TEST(cond_no_userlists)
{
	char alice[128], *w[] = {"if", "{", "http_auth(stats-users)", "}"}, err[256];
	struct acl_cond *c = acl_cond_parse(w, 4, NULL, err, sizeof(err));
	struct acl_ctx ctx = {0};

	ck_assert_ptr_nonnull(c);
	ctx.authorization = basic_of("alice:secret", alice, sizeof(alice));
	ctx.authorization_len = strlen(alice);
	ck_assert_int_eq(acl_cond_eval(c, &ctx), 0);
	acl_cond_free(c);
}
END_TEST

static int count_refs(void *arg, const char *userlist, const char *group)
{
	char *out = arg;
	size_t used = strlen(out);

	snprintf(out + used, 256 - used, "%s%s%s;", userlist, group ? "/" : "", group ? group : "");
	return 0;
}

START_TEST(cond_userlist_refs)
{
	char out[256] = "";

	declare("A", "http_auth(l1)");
	declare("B", "http_auth_group(l2) admin ops");
	declare("C", "http_auth_group(l3) -m beg adm");
	declare("D", "http_auth_group(l4) -i Admin");
	acl_list_userlists(ACLS, count_refs, out);
	/* acl_declare() puts new names first */
	ck_assert_str_eq(out, "l4;l3;l2;l2/admin;l2/ops;l1;");
}
END_TEST

static void acls_teardown(void)
{
	acl_list_free(ACLS);
	ACLS = NULL;
}

static Suite *auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("basic");

	tcase_add_test(tc, basic_parse_ok);
	tcase_add_test(tc, basic_parse_malformed);
	tcase_add_test(tc, basic_parse_bounds);
	tcase_add_test(tc, basic_parse_truncated);
	tcase_add_test(tc, ct_equal);
	tcase_add_test(tc, hash_usable);
	tcase_add_test(tc, hash_cost);
	tcase_add_test(tc, plain_pairs);
	suite_add_tcase(s, tc);

	tc = tcase_create("userlist");
	tcase_add_checked_fixture(tc, cfg_setup, cfg_teardown);
	tcase_add_checked_fixture(tc, NULL, acls_teardown);
	tcase_set_timeout(tc, 30); /* yescrypt and ASan */
	tcase_add_test(tc, userlist_check);
	tcase_add_test(tc, userlist_more_schemes);
	tcase_add_test(tc, userlist_groups);
	tcase_add_test(tc, basic_user);
	tcase_add_test(tc, cond_http_auth);
	tcase_add_test(tc, cond_no_userlists);
	tcase_add_test(tc, cond_userlist_refs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(auth_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
