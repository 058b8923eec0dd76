/* test_tls_hello.c - the ClientHello reader (src/tls_hello.c): real
 * hellos made by OpenSSL in memory, the same hellos cut short or re-split
 * into several records, and hand-built hellos for the exact edge cases. */
#include <config.h>

#include "tls_hello.h"

#include <check.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

/* Room for a TLS_HELLO_MAX message cut into 1-byte records (6 bytes each). */
#define BUF_MAX (6 * (TLS_HELLO_MAX + 64))

static uint8_t wire[BUF_MAX], msg[BUF_MAX], resplit[BUF_MAX];

/* ---- byte builder ---- */

struct bld {
	uint8_t *p;
	size_t n;
};

static void put8(struct bld *b, unsigned v)
{
	ck_assert_uint_lt(b->n, BUF_MAX);
	b->p[b->n++] = (uint8_t)v;
}

static void put16(struct bld *b, unsigned v)
{
	put8(b, v >> 8 & 0xFF);
	put8(b, v & 0xFF);
}

static void put24(struct bld *b, unsigned v)
{
	put8(b, v >> 16 & 0xFF);
	put16(b, v & 0xFFFF);
}

static void putn(struct bld *b, const void *data, size_t len)
{
	ck_assert_uint_le(b->n + len, BUF_MAX);
	memcpy(b->p + b->n, data, len);
	b->n += len;
}

/* Overwrite a 16-bit length reserved earlier at `at`, plus a deliberate
 * error `delta` so broken lengths can be made on purpose. */
static void patch16(struct bld *b, size_t at, size_t len, int delta)
{
	unsigned v = (unsigned)((long)len + delta) & 0xFFFF;

	b->p[at] = (uint8_t)(v >> 8);
	b->p[at + 1] = (uint8_t)v;
}

/* ---- hand-built hellos ---- */

struct spec {
	int hs_type;        /* handshake type; 0 means 1 (ClientHello) */
	const char *sni;    /* host_name; NULL: no server_name extension */
	size_t sni_len;     /* 0: strlen(sni); else exact (for embedded NULs) */
	size_t pad;         /* a dummy extension of that many bytes, before the SNI */
	int no_ext;         /* no extensions block at all */
	int ext_delta;      /* error added to the extensions block length */
	int list_delta;     /* error added to the server_name_list length */
	int sni_ext_delta;  /* error added to the server_name extension length */
	size_t cut;         /* bytes dropped from the end of the body */
	long msg_len_force; /* > 0: the handshake length field says this */
};

static void put_sni_ext(struct bld *b, const struct spec *s)
{
	size_t len = s->sni_len ? s->sni_len : strlen(s->sni);

	put16(b, 0); /* server_name */
	put16(b, 0);
	patch16(b, b->n - 2, 2 + 1 + 2 + len, s->sni_ext_delta);
	put16(b, 0);
	patch16(b, b->n - 2, 1 + 2 + len, s->list_delta);
	put8(b, 0); /* host_name */
	put16(b, (unsigned)len);
	putn(b, s->sni, len);
}

static void put_extensions(struct bld *b, const struct spec *s)
{
	size_t at = b->n;

	put16(b, 0);
	/* supported_versions: TLS 1.3, 1.2 - something before the SNI to walk over */
	put16(b, 43);
	put16(b, 5);
	put8(b, 4);
	put16(b, 0x0304);
	put16(b, 0x0303);
	if (s->pad) {
		put16(b, 21); /* padding (RFC 7685) */
		put16(b, (unsigned)s->pad);
		for (size_t i = 0; i < s->pad; i++)
			put8(b, 0);
	}
	if (s->sni)
		put_sni_ext(b, s);
	patch16(b, at, b->n - at - 2, s->ext_delta);
}

/* The handshake message (type, 24-bit length, body) into `out`. */
static size_t build_msg(uint8_t *out, const struct spec *s)
{
	struct bld b = {out, 0};
	size_t body_len;

	put8(&b, s->hs_type ? (unsigned)s->hs_type : 1);
	put24(&b, 0);
	put16(&b, 0x0303);
	for (unsigned i = 0; i < 32; i++)
		put8(&b, i * 7 + 1); /* random */
	put8(&b, 32); /* legacy session id, as TLS 1.3 clients send */
	for (unsigned i = 0; i < 32; i++)
		put8(&b, 0xA0 + i);
	put16(&b, 6);
	put16(&b, 0x1301);
	put16(&b, 0x1302);
	put16(&b, 0xC02F);
	put8(&b, 1);
	put8(&b, 0); /* null compression */
	if (!s->no_ext)
		put_extensions(&b, s);
	ck_assert_uint_le(s->cut, b.n - 4);
	b.n -= s->cut;
	body_len = s->msg_len_force > 0 ? (size_t)s->msg_len_force : b.n - 4;
	out[1] = (uint8_t)(body_len >> 16);
	out[2] = (uint8_t)(body_len >> 8);
	out[3] = (uint8_t)body_len;
	return b.n;
}

/* Cut a handshake message into handshake records of `chunk` bytes. */
static size_t wrap(uint8_t *out, const uint8_t *m, size_t len, size_t chunk)
{
	struct bld b = {out, 0};

	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		put8(&b, 0x16);
		put16(&b, 0x0301);
		put16(&b, (unsigned)n);
		putn(&b, m + off, n);
	}
	return b.n;
}

/* The test's own reassembly: the payloads of all records, concatenated. */
static size_t unwrap(uint8_t *out, const uint8_t *rec, size_t len)
{
	size_t off = 0, n = 0;

	while (off < len) {
		size_t rl;
		ck_assert_uint_ge(len - off, 5);
		ck_assert_uint_eq(rec[off], 0x16);
		rl = (size_t)rec[off + 3] << 8 | rec[off + 4];
		ck_assert_uint_le(rl, len - off - 5);
		memcpy(out + n, rec + off + 5, rl);
		n += rl;
		off += 5 + rl;
	}
	return n;
}

static size_t build(uint8_t *out, const struct spec *s, size_t chunk)
{
	size_t n = build_msg(msg, s);

	return wrap(out, msg, n, chunk);
}

/* ---- a real hello from OpenSSL, made in memory ---- */

static size_t openssl_hello(uint8_t *out, size_t cap, const char *host, const char *groups)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl;
	BIO *rb, *wb;
	int r, n;

	ck_assert(ctx != NULL);
	ssl = SSL_new(ctx);
	ck_assert(ssl != NULL);
	if (host)
		ck_assert_int_eq(SSL_set_tlsext_host_name(ssl, host), 1);
	if (groups)
		ck_assert_int_eq(SSL_set1_groups_list(ssl, groups), 1);
	rb = BIO_new(BIO_s_mem());
	wb = BIO_new(BIO_s_mem());
	ck_assert(rb != NULL && wb != NULL);
	SSL_set_bio(ssl, rb, wb);
	SSL_set_connect_state(ssl);
	/* nothing to read yet: the client writes its hello and waits */
	r = SSL_do_handshake(ssl);
	ck_assert_int_le(r, 0);
	ck_assert_int_eq(SSL_get_error(ssl, r), SSL_ERROR_WANT_READ);
	n = BIO_read(wb, out, (int)cap);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(BIO_ctrl_pending(wb), 0); /* all of it fitted */
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return (size_t)n;
}

/* ---- shared checks ---- */

static enum tls_hello_status parse(const uint8_t *b, size_t n, struct tls_hello *h)
{
	/* garbage first: the parser must set every field itself */
	memset(h, 0x5A, sizeof(*h));
	return tls_hello_parse(b, n, h);
}

static void assert_ok(const uint8_t *b, size_t n, const char *sni)
{
	struct tls_hello h;

	ck_assert_int_eq(parse(b, n, &h), TLS_HELLO_OK);
	ck_assert_int_eq(h.hello_type, 1);
	ck_assert_str_eq(h.sni, sni);
}

static void assert_invalid(const uint8_t *b, size_t n, int hello_type)
{
	struct tls_hello h;

	ck_assert_int_eq(parse(b, n, &h), TLS_HELLO_INVALID);
	ck_assert_int_eq(h.hello_type, hello_type);
	ck_assert_str_eq(h.sni, "");
}

/* Every strict prefix is incomplete, never an error nor a hello. */
static void assert_prefixes_need_more(const uint8_t *b, size_t n)
{
	struct tls_hello h;

	for (size_t k = 0; k < n; k++) {
		enum tls_hello_status st = parse(b, k, &h);
		if (st != TLS_HELLO_NEED_MORE)
			ck_abort_msg("prefix %zu of %zu: %s", k, n, tls_hello_status_name(st));
		ck_assert_str_eq(h.sni, "");
	}
}

/* ---- real hellos ---- */

START_TEST(test_openssl_hello)
{
	size_t n = openssl_hello(wire, sizeof(wire), "Api.Example.COM", NULL);

	ck_assert_uint_eq(wire[0], 0x16);
	assert_ok(wire, n, "api.example.com");
}
END_TEST

START_TEST(test_openssl_prefixes)
{
	size_t n = openssl_hello(wire, sizeof(wire), "Api.Example.COM", NULL);

	assert_prefixes_need_more(wire, n);
}
END_TEST

/* Bytes after the hello (the next flight, or anything) change nothing. */
START_TEST(test_openssl_trailing_bytes)
{
	size_t n = openssl_hello(wire, sizeof(wire), "Api.Example.COM", NULL);

	memcpy(wire + n, "\x14\x03\x03\x00\x01\x01garbage", 13);
	assert_ok(wire, n + 13, "api.example.com");
}
END_TEST

static const size_t chunks[] = {1, 3, 4, 5, 100, 255, 1000};
#define NCHUNKS ((int)(sizeof(chunks) / sizeof(chunks[0])))

/* RFC 8446 5.1: a handshake message may span records; cut anywhere. */
START_TEST(test_openssl_resplit)
{
	size_t n = openssl_hello(wire, sizeof(wire), "Api.Example.COM", NULL);
	size_t m = unwrap(msg, wire, n);
	size_t r = wrap(resplit, msg, m, chunks[_i]);

	ck_assert_uint_eq(m, n - 5); /* OpenSSL sent one record */
	assert_ok(resplit, r, "api.example.com");
	assert_prefixes_need_more(resplit, r);
}
END_TEST

START_TEST(test_openssl_no_sni)
{
	size_t n = openssl_hello(wire, sizeof(wire), NULL, NULL);

	assert_ok(wire, n, "");
}
END_TEST

/* A big key share first (1 KB for ffdhe8192) makes a hello well past one
 * small segment, as a post-quantum share does. */
START_TEST(test_openssl_big_key_share)
{
	size_t n = openssl_hello(wire, sizeof(wire), "big.example.com",
	                         "ffdhe8192:X25519:P-256:P-384:P-521:ffdhe2048");

	ck_assert_uint_gt(n, 1200);
	assert_ok(wire, n, "big.example.com");
	assert_prefixes_need_more(wire, n);
}
END_TEST

/* ---- hand-built hellos ---- */

START_TEST(test_built_hello)
{
	struct spec s = {.sni = "www.Example.org"};
	size_t n = build(wire, &s, 16384);

	assert_ok(wire, n, "www.example.org");
	assert_prefixes_need_more(wire, n);
}
END_TEST

/* ~1.9 KB, the SNI after an 1800-byte extension, whole and in records. */
START_TEST(test_big_hello)
{
	struct spec s = {.sni = "pq.example.net", .pad = 1800};
	size_t n = build(wire, &s, 16384);

	ck_assert_uint_gt(n, 1800 + 100);
	assert_ok(wire, n, "pq.example.net");
	assert_prefixes_need_more(wire, n);
	n = build(wire, &s, 700);
	assert_ok(wire, n, "pq.example.net");
	assert_prefixes_need_more(wire, n);
}
END_TEST

START_TEST(test_no_sni_ext)
{
	struct spec s = {.pad = 10};
	size_t n = build(wire, &s, 16384);

	assert_ok(wire, n, "");
}
END_TEST

START_TEST(test_no_extensions)
{
	struct spec s = {.no_ext = 1};
	size_t n = build(wire, &s, 16384);

	assert_ok(wire, n, "");
}
END_TEST

/* The host name limit is the struct's: 255 characters fit, 256 do not. */
START_TEST(test_sni_length_limit)
{
	char name[257];
	struct spec s = {.sni = name};
	size_t n;

	memset(name, 'a', sizeof(name));
	name[255] = '\0';
	n = build(wire, &s, 16384);
	assert_ok(wire, n, name);
	name[255] = 'a';
	name[256] = '\0';
	n = build(wire, &s, 16384);
	assert_invalid(wire, n, 1);
}
END_TEST

/* The largest message accepted, necessarily over two records. */
START_TEST(test_max_size)
{
	struct spec s = {.sni = "max.example.com"};
	size_t base = build_msg(msg, &s), n;

	s.pad = TLS_HELLO_MAX + 4 - base - 4; /* + its 4-byte extension header */
	n = build_msg(msg, &s);
	ck_assert_uint_eq(n, TLS_HELLO_MAX + 4);
	n = wrap(wire, msg, n, 16384);
	assert_ok(wire, n, "max.example.com");
	n = wrap(wire, msg, TLS_HELLO_MAX + 4, 4096);
	assert_ok(wire, n, "max.example.com");
}
END_TEST

/* ---- not TLS, or broken ---- */

START_TEST(test_not_tls)
{
	static const uint8_t v2hello[] = {0x80, 0x2E, 0x01, 0x00, 0x02};
	static const uint8_t bad_major[] = {0x16, 0x01, 0x00, 0x00, 0x10};
	struct tls_hello h;

	ck_assert_int_eq(parse((const uint8_t *)"GET / HTTP/1.1\r\n", 16, &h), TLS_HELLO_NOT_TLS);
	ck_assert_int_eq(h.hello_type, 0);
	ck_assert_str_eq(h.sni, "");
	ck_assert_int_eq(parse((const uint8_t *)"G", 1, &h), TLS_HELLO_NOT_TLS);
	ck_assert_int_eq(parse(v2hello, sizeof(v2hello), &h), TLS_HELLO_NOT_TLS);
	ck_assert_int_eq(parse(bad_major, sizeof(bad_major), &h), TLS_HELLO_NOT_TLS);
}
END_TEST

START_TEST(test_nothing_yet)
{
	static const uint8_t start[] = {0x16, 0x03, 0x01, 0x02};
	struct tls_hello h;

	ck_assert_int_eq(parse(start, 0, &h), TLS_HELLO_NEED_MORE);
	ck_assert_int_eq(h.hello_type, 0);
	for (size_t k = 1; k <= sizeof(start); k++)
		ck_assert_int_eq(parse(start, k, &h), TLS_HELLO_NEED_MORE);
}
END_TEST

START_TEST(test_server_hello)
{
	struct spec s = {.hs_type = 2, .sni = "a.example"};
	size_t n = build(wire, &s, 16384);

	assert_invalid(wire, n, 2);
}
END_TEST

START_TEST(test_record_length_zero)
{
	static const uint8_t empty[] = {0x16, 0x03, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};

	assert_invalid(empty, sizeof(empty), 0);
}
END_TEST

START_TEST(test_record_too_long)
{
	static const uint8_t huge[] = {0x16, 0x03, 0x01, 0x41, 0x01, 0x01, 0x00, 0x00, 0x00};

	/* 16641 bytes announced: over 2^14 + 256, refused before waiting for them */
	assert_invalid(huge, sizeof(huge), 0);
}
END_TEST

/* A second record that is not a handshake one, mid-message. */
START_TEST(test_foreign_record_mid_message)
{
	struct spec s = {.sni = "x.example"};
	size_t m = build_msg(msg, &s);
	size_t n = wrap(wire, msg, m, 50);

	wire[55] = 0x17; /* the second record becomes application data */
	assert_invalid(wire, n, 1);
}
END_TEST

START_TEST(test_sni_bad_char)
{
	static const char *const bad[] = {"a b.example", "a\0b.example", "a/b", "caf\xc3\xa9",
	                                  "a:443"};
	struct spec s = {0};
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.sni = bad[i];
		s.sni_len = i == 1 ? 11 : 0;
		n = build(wire, &s, 16384);
		assert_invalid(wire, n, 1);
	}
	s.sni = "";
	s.sni_len = 0;
	n = build(wire, &s, 16384);
	assert_invalid(wire, n, 1); /* an empty host_name */
}
END_TEST

START_TEST(test_handshake_too_long)
{
	struct spec s = {.sni = "a.example", .msg_len_force = TLS_HELLO_MAX + 1};
	size_t n = build(wire, &s, 16384);

	/* refused at once: no need to wait for 16 KB that will not be read */
	assert_invalid(wire, n, 1);
	s.msg_len_force = 0xFFFFFF;
	n = build(wire, &s, 16384);
	assert_invalid(wire, n, 1);
}
END_TEST

START_TEST(test_ext_lengths)
{
	static const struct spec bad[] = {
		{.sni = "a.example", .ext_delta = 1},
		{.sni = "a.example", .ext_delta = -1},
		{.sni = "a.example", .list_delta = 1},
		{.sni = "a.example", .list_delta = -1},
		{.sni = "a.example", .cut = 1}, /* block says more than there is */
		{.sni = "a.example", .cut = 3},
		{.sni = "a.example", .sni_ext_delta = 1}, /* the extension overruns */
		{.sni = "a.example", .sni_ext_delta = -1},
		{.pad = 40, .cut = 1},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = build(wire, &bad[i], 16384);
		assert_invalid(wire, n, 1);
	}
}
END_TEST

/* A body cut inside its fixed part (random, session id, suites). */
START_TEST(test_body_truncated)
{
	struct spec s = {.no_ext = 1};
	size_t full = build_msg(msg, &s) - 4;

	for (size_t cut = 1; cut <= full; cut++) {
		size_t n;
		s.cut = cut;
		n = build(wire, &s, 16384);
		assert_invalid(wire, n, 1);
	}
}
END_TEST

START_TEST(test_status_names)
{
	static const enum tls_hello_status all[] = {TLS_HELLO_NEED_MORE, TLS_HELLO_OK,
	                                            TLS_HELLO_NOT_TLS, TLS_HELLO_INVALID};

	for (size_t i = 0; i < 4; i++) {
		const char *a = tls_hello_status_name(all[i]);
		ck_assert(a != NULL && a[0] != '\0');
		ck_assert_str_ne(a, "?");
		for (size_t j = 0; j < i; j++)
			ck_assert_str_ne(a, tls_hello_status_name(all[j]));
	}
}
END_TEST

static Suite *tls_hello_suite(void)
{
	Suite *s = suite_create("tls_hello");
	TCase *real = tcase_create("openssl");
	TCase *built = tcase_create("built");
	TCase *bad = tcase_create("bad");

	tcase_add_test(real, test_openssl_hello);
	tcase_add_test(real, test_openssl_prefixes);
	tcase_add_test(real, test_openssl_trailing_bytes);
	tcase_add_loop_test(real, test_openssl_resplit, 0, NCHUNKS);
	tcase_add_test(real, test_openssl_no_sni);
	tcase_add_test(real, test_openssl_big_key_share);
	suite_add_tcase(s, real);

	tcase_add_test(built, test_built_hello);
	tcase_add_test(built, test_big_hello);
	tcase_add_test(built, test_no_sni_ext);
	tcase_add_test(built, test_no_extensions);
	tcase_add_test(built, test_sni_length_limit);
	tcase_add_test(built, test_max_size);
	suite_add_tcase(s, built);

	tcase_add_test(bad, test_not_tls);
	tcase_add_test(bad, test_nothing_yet);
	tcase_add_test(bad, test_server_hello);
	tcase_add_test(bad, test_record_length_zero);
	tcase_add_test(bad, test_record_too_long);
	tcase_add_test(bad, test_foreign_record_mid_message);
	tcase_add_test(bad, test_sni_bad_char);
	tcase_add_test(bad, test_handshake_too_long);
	tcase_add_test(bad, test_ext_lengths);
	tcase_add_test(bad, test_body_truncated);
	tcase_add_test(bad, test_status_names);
	suite_add_tcase(s, bad);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tls_hello_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
