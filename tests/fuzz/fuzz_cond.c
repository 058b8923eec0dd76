/* fuzz_cond.c - libFuzzer target for conditions, ACLs, sample expressions
 * and log-format values, without the configuration parser in front.
 *
 * The input is read as lines, each split on spaces and tabs:
 *  - `acl <name> <expr> ...` declares into a list the later lines see;
 *  - `if ...` / `unless ...` is a condition: parsed against that list,
 *    then evaluated against a few synthetic contexts (addresses of each
 *    family, with and without a ClientHello, an HTTP target, an nbsrv
 *    callback; Basic credentials with a userlist; and an empty one). Each
 *    evaluation is 0 or 1, the same when
 *    repeated, and `unless` gives the opposite of `if`; the fetch bits stay
 *    within enum acl_fetch; the backends and userlists it names are valid
 *    names;
 *  - every line is also a log-format value: compiled, expanded twice into
 *    the same bytes, never with a control character (but tab) in them,
 *    and -1 (never a partial length) when the buffer is one byte short;
 *  - the first word of every line is also a bare sample expression.
 * A refusal always comes with a reason; lines naming a `-f` file are
 * skipped (no file access). Any inconsistency aborts; everything parsed
 * is freed (LeakSanitizer checks).
 *
 * Built from this file + src/acl.c, src/auth.c, src/net.c, src/sample.c,
 * src/smp.c (and libcrypt: the userlist here has passwords in clear).
 */
#include <config.h>

#include "acl.h"
#include "cfg.h"
#include "net.h"
#include "sample.h"
#include "smp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define MAX_WORDS 64
#define MAX_LINES 64
#define ALL_FETCH_BITS \
	(((1u << (ACL_FETCH_STATE + 1)) - 1) | ACL_NEEDS_HTTP_AUTH | (1u << SMP_USE_STK))

static struct sockaddr_storage SRC4, SRC6, SRC_MAPPED, DST6;

/* A deterministic runtime: "x..." is no backend, others have len % 4. */
static int nbsrv_cb(void *arg, const char *backend)
{
	CHECK(backend && *backend);
	return backend[0] == 'x' ? -1 : (int)(strlen(backend) % 4);
}

/* Stick counters: sc 0..2 or -1 (src), a table name or none, a data
 * type of stktable.h; counter 2 tracks nothing, table "x..." is none. */
static int stk_cb(void *arg, int sc, const char *table, int data, int64_t *out)
{
	CHECK(sc >= -1 && sc <= 2);
	CHECK(data >= 0 && data < 11);
	if (sc == 2 || (table && table[0] == 'x'))
		return 0;
	*out = (sc + 1) * 100 + data;
	return 1;
}

static int hdr_cb(void *arg, const char *name, size_t name_len, const uint8_t **val,
                  size_t *val_len)
{
	static const char value[] = "v\r\nX-Evil: 1\0end";

	if (name_len == 0 || (name[0] | 0x20) != 'h')
		return 0;
	*val = (const uint8_t *)value;
	*val_len = sizeof(value) - 1;
	return 1;
}

static void init_addrs(void)
{
	static int done;
	socklen_t len;

	if (done)
		return;
	CHECK(net_parse_ip("10.1.2.3", &SRC4, &len) == 0);
	CHECK(net_parse_ip("2001:db8::7", &SRC6, &len) == 0);
	CHECK(net_parse_ip("::ffff:127.0.0.1", &SRC_MAPPED, &len) == 0);
	CHECK(net_parse_ip("::1", &DST6, &len) == 0);
	done = 1;
}

static int valid_backend(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:",
		            *s))
			return 0;
	return 1;
}

static int check_backend(void *arg, const char *backend)
{
	CHECK(valid_backend(backend));
	++*(int *)arg;
	return 0;
}

static int check_userlist(void *arg, const char *userlist, const char *group)
{
	CHECK(valid_backend(userlist)); /* the same rule as backend names */
	CHECK(!group || *group);
	++*(int *)arg;
	return 0;
}

/* userlist u: alice (secret; groups admin, ops), bob (pw; no group). */
static struct cfg_str G_OPS = {NULL, "ops"};
static struct cfg_ul_user U_BOB = {.name = "bob", .plain = "pw", .groups = ""};
static struct cfg_ul_user U_ALICE = {.next = &U_BOB,
                                     .name = "alice",
                                     .plain = "secret",
                                     .group_refs = &G_OPS,
                                     .groups = "admin,ops"};
static struct cfg_str G_ALICE = {NULL, "alice"};
static struct cfg_ul_group G_OPS_DEF = {.name = "ops"};
static struct cfg_ul_group G_ADMIN = {.next = &G_OPS_DEF, .name = "admin", .user_refs = &G_ALICE};
static struct cfg_userlist UL = {.name = "u", .users = &U_ALICE, .groups = &G_ADMIN};

static void eval_all(const struct acl_cond *cond, const struct acl_cond *flipped)
{
	static const char uri1[] = "/api/v1/x?y=1", uri2[] = "http://h.test/p";
	static const char alice[] = "Basic YWxpY2U6c2VjcmV0", bob[] = "basic Ym9iOnB3";
	const struct acl_ctx ctxs[] = {
	    {.src = (struct sockaddr *)&SRC4,
	     .sni = "a.example.com",
	     .hello_type = 1,
	     .uri = uri1,
	     .uri_len = sizeof(uri1) - 1,
	     .nbsrv = nbsrv_cb,
	     .stk = stk_cb},
	    {.src = (struct sockaddr *)&SRC6,
	     .uri = uri2,
	     .uri_len = sizeof(uri2) - 1,
	     .nbsrv = nbsrv_cb},
	    {.src = (struct sockaddr *)&SRC_MAPPED, .sni = "", .uri = "*", .uri_len = 1},
	    {.authorization = alice, .authorization_len = sizeof(alice) - 1, .userlists = &UL},
	    {.authorization = bob, .authorization_len = sizeof(bob) - 1, .userlists = &UL},
	    {.authorization = alice, .authorization_len = 5, .userlists = &UL},
	    {.authorization = alice, .authorization_len = sizeof(alice) - 1},
	    {0},
	};

	for (size_t i = 0; i < sizeof(ctxs) / sizeof(ctxs[0]); i++) {
		int r = acl_cond_eval(cond, &ctxs[i]);
		CHECK(r == 0 || r == 1);
		CHECK(acl_cond_eval(cond, &ctxs[i]) == r);
		if (flipped)
			CHECK(acl_cond_eval(flipped, &ctxs[i]) == !r);
	}
}

/* `if ...` / `unless ...`. */
static void one_cond(char **words, int n, const struct acl *list)
{
	char err[256] = "", err2[256];
	struct acl_cond *cond = acl_cond_parse(words, n, list, err, sizeof(err)), *flipped;
	char *first = words[0];
	int nb = 0;

	if (!cond) {
		CHECK(err[0]);
		return;
	}
	words[0] = strcmp(first, "if") == 0 ? "unless" : "if";
	flipped = acl_cond_parse(words, n, list, err2, sizeof(err2));
	words[0] = first;
	CHECK(flipped != NULL);
	eval_all(cond, flipped);
	CHECK((acl_cond_fetches(cond) & ~ALL_FETCH_BITS) == 0);
	CHECK(acl_cond_fetches(cond) == acl_cond_fetches(flipped));
	CHECK(acl_cond_backends(cond, check_backend, &nb) == 0);
	CHECK(acl_cond_tables(cond, check_backend, &nb) == 0); /* proxy names, the same rules */
	CHECK(acl_cond_userlists(cond, check_userlist, &nb) == 0);
	acl_cond_free(flipped);
	acl_cond_free(cond);
}

static void one_acl(char **words, int n, struct acl **list)
{
	char err[256] = "";

	if (acl_declare(list, words[1], words + 2, n - 2, err, sizeof(err)) < 0)
		CHECK(err[0]);
	else
		CHECK(acl_find(*list, words[1]) != NULL);
}

/* The first word alone, as a sample expression anywhere. */
static void one_expr(const char *text)
{
	char err[256] = "";
	struct smp_expr *e = smp_expr_parse(text, SMP_IN_COND | SMP_IN_VALUE, err, sizeof(err));
	struct smp_env env = {.src = (struct sockaddr *)&SRC6,
	                      .dst = (struct sockaddr *)&SRC4,
	                      .hello_sni = "h.test",
	                      .uri = "/x?y",
	                      .uri_len = 4,
	                      .nbsrv = nbsrv_cb,
	                      .hdr = hdr_cb};
	struct smp a, b;
	int nb = 0;

	if (!e) {
		CHECK(err[0]);
		return;
	}
	CHECK(smp_expr_eval(e, &env, &a) == smp_expr_eval(e, &env, &b));
	CHECK(a.type == b.type && a.i == b.i && a.len == b.len);
	CHECK(smp_expr_backends(e, check_backend, &nb) == 0);
	smp_expr_free(e);
}

static void check_clean(const char *buf, int n)
{
	for (int i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		CHECK((c >= 0x20 && c != 0x7f) || c == '\t');
	}
}

/* The whole line as a log-format value. */
static void one_value(const char *line)
{
	struct sample_ctx ctx = {.src = (struct sockaddr *)&SRC_MAPPED,
	                         .dst = (struct sockaddr *)&DST6,
	                         .sni = "s\r\n.test",
	                         .hdr = hdr_cb};
	char err[256] = "", a[1024], b[1024];
	struct sample_fmt *fmt = sample_compile(line, err, sizeof(err));
	int n;

	if (!fmt) {
		CHECK(err[0]);
		return;
	}
	n = sample_expand(fmt, &ctx, a, sizeof(a));
	if (n >= 0) {
		CHECK((size_t)n <= sizeof(a));
		check_clean(a, n);
		CHECK(sample_expand(fmt, &ctx, b, sizeof(b)) == n && memcmp(a, b, (size_t)n) == 0);
		if (n > 0)
			CHECK(sample_expand(fmt, &ctx, b, (size_t)n - 1) == -1);
	}
	sample_free(fmt);
}

static int split(char *line, char **words)
{
	int n = 0;

	for (char *w = strtok(line, " \t\r"); w && n < MAX_WORDS; w = strtok(NULL, " \t\r"))
		words[n++] = w;
	return n;
}

static int names_a_file(char **words, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(words[i], "-f") == 0)
			return 1;
	return 0;
}

static void one_line(const char *line, struct acl **list)
{
	char *copy = strdup(line), *words[MAX_WORDS];
	int n;

	CHECK(copy);
	one_value(line);
	n = split(copy, words);
	if (n > 0 && !names_a_file(words, n)) {
		one_expr(words[0]);
		if (strcmp(words[0], "if") == 0 || strcmp(words[0], "unless") == 0)
			one_cond(words, n, *list);
		else if (strcmp(words[0], "acl") == 0 && n >= 3)
			one_acl(words, n, list);
	}
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *next;
	struct acl *list = NULL;
	int lines = 0;

	CHECK(text);
	init_addrs();
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line && lines < MAX_LINES; line = next, lines++) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		one_line(line, &list);
	}
	{
		int nb = 0;
		CHECK(acl_list_backends(list, check_backend, &nb) == 0);
	}
	acl_list_free(list);
	free(text);
	return 0;
}
