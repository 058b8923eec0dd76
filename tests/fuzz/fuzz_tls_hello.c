/* fuzz_tls_hello.c - libFuzzer target for the ClientHello reader.
 *
 * For every input:
 *  - the answer is one of the four statuses, does not depend on what the
 *    output struct held before, and a host name is only ever reported with
 *    OK, NUL-terminated, non-empty, made of [a-z0-9._-] only;
 *  - NOT_TLS exactly when the first byte is not a handshake record (or the
 *    major version is not 3), OK only for a ClientHello;
 *  - over the prefixes of the input: NEED_MORE until the first answer that
 *    is not, then that same answer (same name, same type) for every longer
 *    prefix - what a caller reading segment by segment relies on;
 *  - an accepted hello, taken out of its records and cut into records of
 *    another size, is accepted again with the same name.
 * Any inconsistency aborts.
 *
 * Built from this file + src/tls_hello.c only.
 */
#include <config.h>

#include "tls_hello.h"

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

/* The largest message, and the same cut into 1-byte records. */
static uint8_t msg[TLS_HELLO_MAX + 4];
static uint8_t rec[6 * (TLS_HELLO_MAX + 4)];

static int sni_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
	       c == '_';
}

/* Parse twice over differently poisoned structs: same answer both times. */
static enum tls_hello_status parse(const uint8_t *buf, size_t len, struct tls_hello *h)
{
	struct tls_hello other;
	enum tls_hello_status st, st2;
	const char *end;

	memset(h, 0xA5, sizeof(*h));
	memset(&other, 0x00, sizeof(other));
	st = tls_hello_parse(buf, len, h);
	st2 = tls_hello_parse(buf, len, &other);
	CHECK(st == st2);
	CHECK(h->hello_type == other.hello_type && strcmp(h->sni, other.sni) == 0);
	CHECK(st == TLS_HELLO_NEED_MORE || st == TLS_HELLO_OK || st == TLS_HELLO_NOT_TLS ||
	      st == TLS_HELLO_INVALID);
	CHECK(strcmp(tls_hello_status_name(st), "?") != 0);
	CHECK(h->hello_type >= 0 && h->hello_type <= 255);
	end = memchr(h->sni, '\0', sizeof(h->sni));
	CHECK(end != NULL);
	for (const char *c = h->sni; c < end; c++)
		CHECK(sni_char_ok(*c));
	if (h->sni[0])
		CHECK(st == TLS_HELLO_OK);
	return st;
}

static void check_status(const uint8_t *data, size_t size, enum tls_hello_status st,
                         const struct tls_hello *h)
{
	if (size == 0)
		CHECK(st == TLS_HELLO_NEED_MORE && h->hello_type == 0);
	else if (data[0] != 0x16)
		CHECK(st == TLS_HELLO_NOT_TLS);
	if (st == TLS_HELLO_NOT_TLS) {
		CHECK(size > 0);
		CHECK(data[0] != 0x16 || (size >= 5 && data[1] != 3));
		CHECK(h->hello_type == 0);
	}
	if (st == TLS_HELLO_OK) {
		/* record header, message header, the fixed part of a body */
		CHECK(data[0] == 0x16 && size >= 5 + 4 + 2 + 32 + 1 + 2 + 1);
		CHECK(h->hello_type == 1);
	}
}

/* Once decided, the answer stays: extra bytes never change it. */
static void check_prefixes(const uint8_t *data, size_t size, enum tls_hello_status st,
                           const struct tls_hello *h)
{
	size_t step = size <= 600 ? 1 : size / 300;
	int decided = 0;

	for (size_t k = 0; k < size; k += step) {
		struct tls_hello hk;
		enum tls_hello_status sk = parse(data, k, &hk);
		if (sk == TLS_HELLO_NEED_MORE) {
			CHECK(!decided);
			continue;
		}
		decided = 1;
		CHECK(sk == st);
		CHECK(hk.hello_type == h->hello_type);
		CHECK(strcmp(hk.sni, h->sni) == 0);
	}
}

/* The handshake message of an accepted input, by a plain reading of the
 * records; returns its length with the 4-byte header. */
static size_t take_message(const uint8_t *data, size_t size)
{
	size_t off = 0, n = 0, want = 0;

	while (n < 4 || n < want) {
		size_t rl, part;
		CHECK(size - off >= 5 && data[off] == 0x16);
		rl = (size_t)data[off + 3] << 8 | data[off + 4];
		CHECK(rl <= size - off - 5);
		part = rl < sizeof(msg) - n ? rl : sizeof(msg) - n;
		memcpy(msg + n, data + off + 5, part);
		n += part;
		off += 5 + rl;
		if (n >= 4)
			want = 4 + ((size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3]);
		CHECK(want <= sizeof(msg));
	}
	CHECK(msg[0] == 1);
	return want;
}

static size_t wrap(const uint8_t *m, size_t len, size_t chunk)
{
	size_t n = 0;

	for (size_t off = 0; off < len; off += chunk) {
		size_t c = len - off < chunk ? len - off : chunk;
		rec[n++] = 0x16;
		rec[n++] = 0x03;
		rec[n++] = 0x01;
		rec[n++] = (uint8_t)(c >> 8);
		rec[n++] = (uint8_t)c;
		memcpy(rec + n, m + off, c);
		n += c;
	}
	return n;
}

static void check_resplit(const uint8_t *data, size_t size, const struct tls_hello *h)
{
	/* chunk from the input, so the fuzzer explores record sizes too */
	static const size_t chunks[] = {1, 2, 3, 4, 5, 7, 64, 255, 1000, 16384};
	size_t m = take_message(data, size);
	size_t chunk = chunks[data[size - 1] % (sizeof(chunks) / sizeof(chunks[0]))];
	struct tls_hello h2;
	size_t n = wrap(msg, m, chunk);

	CHECK(parse(rec, n, &h2) == TLS_HELLO_OK);
	CHECK(strcmp(h2.sni, h->sni) == 0);
	/* one record short is never enough */
	if (m > chunk)
		CHECK(parse(rec, n - (m % chunk ? m % chunk : chunk) - 5, &h2) ==
		      TLS_HELLO_NEED_MORE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hello h;
	enum tls_hello_status st = parse(data, size, &h);

	check_status(data, size, st, &h);
	check_prefixes(data, size, st, &h);
	if (st == TLS_HELLO_OK)
		check_resplit(data, size, &h);
	return 0;
}
