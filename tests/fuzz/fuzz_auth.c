/* fuzz_auth.c - libFuzzer target for auth_basic_parse() and the
 * constant-time comparison.
 *
 * For every input, taken as an Authorization header's value:
 *  - the answer is 0 or -1; on -1 both buffers are all zero;
 *  - on 0, user and password are NUL-terminated inside their buffers, the
 *    user has no ':', neither has a control character;
 *  - the credentials, encoded again ("Basic " + strict base64 of
 *    user:pass), parse to the same credentials;
 *  - smaller buffers accept the input only with the same answer;
 *  - auth_ct_equal() of the input's halves agrees with memcmp().
 * Any inconsistency aborts.
 *
 * Built from this file + src/auth.c (and libcrypt, which this never calls).
 */
#include <config.h>

#include "auth.h"

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

static int all_zero(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static void check_text(const char *s, size_t cap, int user)
{
	const char *nul = memchr(s, '\0', cap);

	CHECK(nul != NULL);
	for (const char *p = s; p < nul; p++) {
		CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
		CHECK(!user || *p != ':');
	}
}

/* "Basic " + base64 of "user:pass", into out (large enough). */
static size_t encode(const char *user, const char *pass, char *out)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char plain[AUTH_USER_MAX + AUTH_PASS_MAX + 1];
	size_t n = (size_t)snprintf(plain, sizeof(plain), "%s:%s", user, pass), o = 6;

	memcpy(out, "Basic ", 6);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)(unsigned char)plain[i] << 16;
		v |= i + 1 < n ? (unsigned)(unsigned char)plain[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned)(unsigned char)plain[i + 2] : 0;
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	return o;
}

static void check_parse(const char *v, size_t size)
{
	static char user[AUTH_USER_MAX], pass[AUTH_PASS_MAX], u2[AUTH_USER_MAX], p2[AUTH_PASS_MAX];
	static char again[8 + (AUTH_USER_MAX + AUTH_PASS_MAX) / 3 * 4 + 8];
	char su[8], sp[8];
	int rc = auth_basic_parse(v, size, user, sizeof(user), pass, sizeof(pass));
	int small = auth_basic_parse(v, size, su, sizeof(su), sp, sizeof(sp));

	CHECK(rc == 0 || rc == -1);
	CHECK(small == 0 || small == -1);
	if (rc < 0) {
		CHECK(all_zero(user, sizeof(user)) && all_zero(pass, sizeof(pass)));
		CHECK(small < 0);
		return;
	}
	check_text(user, sizeof(user), 1);
	check_text(pass, sizeof(pass), 0);
	if (small == 0)
		CHECK(!strcmp(su, user) && !strcmp(sp, pass));
	else
		CHECK(strlen(user) >= sizeof(su) || strlen(pass) >= sizeof(sp));
	size_t n = encode(user, pass, again);
	CHECK(auth_basic_parse(again, n, u2, sizeof(u2), p2, sizeof(p2)) == 0);
	CHECK(!strcmp(u2, user) && !strcmp(p2, pass));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *v = (const char *)data;
	size_t half = size / 2;

	check_parse(v, size);
	CHECK(auth_ct_equal(v, half, v + half, size - half) ==
	      (half == size - half && memcmp(v, v + half, half) == 0));
	return 0;
}
