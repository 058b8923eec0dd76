/* auth.c - HTTP Basic credentials, checked against userlists and `stats
 * auth` pairs (pure but for crypt_r(3)).
 *
 * Nothing here short-circuits on a secret: passwords in clear are compared
 * with auth_ct_equal(), every `stats auth` pair is tried, and a hash is
 * checked by crypt_r(3) and compared the same way. Only the existence of a
 * user name shows in the time a check takes (crypt_r is not run for an
 * unknown user), as in HAProxy; user names are not secrets.
 */
#include <config.h>

#include "auth.h"

#include "cfg.h"

#include <crypt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Comparison */

int auth_ct_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen > blen ? alen : blen;
	/* volatile: the compiler must not turn the loop into an early exit */
	volatile unsigned char diff = alen != blen;

	for (size_t i = 0; i < n; i++) {
		unsigned char x = i < alen ? (unsigned char)a[i] : 0;
		unsigned char y = i < blen ? (unsigned char)b[i] : 0;
		diff |= (unsigned char)(x ^ y);
	}
	return diff == 0;
}

/* ------------------------------------------------------------------ */
/* Authorization: Basic */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* The 6 bits of a base64 digit (RFC 4648 section 4), -1 for anything else. */
static int b64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64: a multiple of 4 digits, '=' only as the last one or two,
 * and the bits the padding drops all zero (one encoding per value, so that
 * no two headers mean the same credentials). Returns the decoded length,
 * or -1 (malformed, or more than `cap` bytes). */
static long b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t pad = 0, n = 0;

	if (len == 0 || len % 4 != 0)
		return -1;
	if (in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	if (len / 4 * 3 - pad > cap)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int d[4];
		int last = i + 4 == len;
		for (int k = 0; k < 4; k++) {
			int padded = last && k >= 4 - (int)pad;
			d[k] = padded ? 0 : b64_digit((unsigned char)in[i + (size_t)k]);
			if (d[k] < 0)
				return -1;
		}
		uint32_t v = (uint32_t)d[0] << 18 | (uint32_t)d[1] << 12 | (uint32_t)d[2] << 6 |
		             (uint32_t)d[3];
		if (last && ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff))))
			return -1; /* non-zero bits under the padding */
		out[n++] = (unsigned char)(v >> 16);
		if (!last || pad < 2)
			out[n++] = (unsigned char)(v >> 8);
		if (!last || pad < 1)
			out[n++] = (unsigned char)v;
	}
	return (long)n;
}

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 7617: neither the user-id nor the password has a control character;
 * a NUL would also cut the C strings we hand out. */
static int has_ctl(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* `decoded` is "user:pass": split at the first ':' into the buffers. */
static int split_pair(const unsigned char *decoded, size_t n, char *user, size_t ulen, char *pass,
                      size_t plen)
{
	const unsigned char *colon = memchr(decoded, ':', n);
	size_t ul, pl;

	if (!colon || has_ctl(decoded, n))
		return -1;
	ul = (size_t)(colon - decoded);
	pl = n - ul - 1;
	if (ul >= ulen || pl >= plen)
		return -1;
	memcpy(user, decoded, ul);
	user[ul] = '\0';
	memcpy(pass, colon + 1, pl);
	pass[pl] = '\0';
	return 0;
}

static int basic_parse(const char *v, size_t len, char *user, size_t ulen, char *pass, size_t plen)
{
	static const char scheme[] = "basic";
	unsigned char decoded[AUTH_USER_MAX + AUTH_PASS_MAX];
	size_t i = 0, end = len, start;
	long n;
	int rc;

	while (i < end && is_ows(v[i]))
		i++;
	while (end > i && is_ows(v[end - 1]))
		end--;
	if (end - i < sizeof(scheme) || v[i + sizeof(scheme) - 1] != ' ')
		return -1;
	for (size_t k = 0; k + 1 < sizeof(scheme); k++)
		if (lower((unsigned char)v[i + k]) != scheme[k])
			return -1;
	i += sizeof(scheme); /* "basic" and one space (RFC 7235: 1*SP) */
	while (i < end && v[i] == ' ')
		i++;
	start = i;
	n = b64_decode(v + start, end - start, decoded, sizeof(decoded));
	rc = n < 0 ? -1 : split_pair(decoded, (size_t)n, user, ulen, pass, plen);
	explicit_bzero(decoded, sizeof(decoded));
	return rc;
}

int auth_basic_parse(const char *value, size_t len, char *user, size_t ulen, char *pass,
                     size_t plen)
{
	if (!user || !pass || ulen == 0 || plen == 0)
		return -1;
	if (value && basic_parse(value, len, user, ulen, pass, plen) == 0)
		return 0;
	memset(user, 0, ulen);
	memset(pass, 0, plen);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Hashes */

/* crypt_r(3) of `pass` with the settings of `hash`, compared with it.
 * libxcrypt answers a failure with a string starting with '*', older
 * libcs with NULL. struct crypt_data is 32 KiB: on the heap. */
static int hash_matches(const char *pass, const char *hash)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *out;
	int ok = 0;

	if (!cd)
		return 0;
	out = crypt_r(pass, hash, cd);
	if (out && out[0] != '*')
		ok = auth_ct_equal(out, strlen(out), hash, strlen(hash));
	explicit_bzero(cd, sizeof(*cd)); /* it held the password */
	free(cd);
	return ok;
}

/* The cost a scheme's settings ask for, against the limits: bcrypt's
 * log2 rounds ($2b$12$), SHA-crypt's rounds=N, yescrypt's N (the second
 * character of its parameters, j9T by default). Unknown schemes pass:
 * crypt_r decides. */
static int cost_ok(const char *hash)
{
	static const char itoa64[] =
	    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	const char *p;

	if (hash[0] == '$' && hash[1] == '2' && hash[2] && hash[3] == '$')
		return hash[4] >= '0' && hash[4] <= '9' && hash[5] >= '0' && hash[5] <= '9' &&
		       (hash[4] - '0') * 10 + (hash[5] - '0') <= AUTH_MAX_BCRYPT_COST;
	if ((!strncmp(hash, "$5$rounds=", 10) || !strncmp(hash, "$6$rounds=", 10))) {
		unsigned long r = strtoul(hash + 10, NULL, 10);
		return r <= AUTH_MAX_SHA_ROUNDS;
	}
	if (!strncmp(hash, "$y$", 3) && hash[3] && (p = strchr(itoa64, hash[4])) && hash[4])
		return p - itoa64 <= AUTH_MAX_YESCRYPT_N;
	return 1;
}

int auth_hash_cost_ok(const char *hash)
{
	return hash && cost_ok(hash);
}

int auth_hash_usable(const char *hash)
{
	struct crypt_data *cd;
	const char *out;
	int ok;

	if (!hash || !*hash || hash[0] == '*' || hash[0] == '!')
		return 0; /* "*" and "!" lock an account in shadow(5): never a match */
	if (!cost_ok(hash))
		return 0; /* not even tried: it could take minutes */
	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return 0;
	out = crypt_r("ppbridge-probe", hash, cd);
	/* A usable hash yields a result of its own form: same settings. */
	ok = out && out[0] != '*' && strlen(out) == strlen(hash);
	free(cd);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Userlists */

const struct cfg_userlist *auth_userlist_find(const struct cfg_userlist *list, const char *name)
{
	for (; list && name; list = list->next)
		if (strcmp(list->name, name) == 0)
			return list;
	return NULL;
}

static const struct cfg_ul_user *find_user(const struct cfg_userlist *ul, const char *name)
{
	for (const struct cfg_ul_user *u = ul ? ul->users : NULL; u; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u;
	return NULL;
}

static const struct cfg_ul_user *check_user(const struct cfg_userlist *ul, const char *user,
                                            const char *pass)
{
	const struct cfg_ul_user *u;
	int ok;

	if (!user || !pass || !(u = find_user(ul, user)))
		return NULL;
	if (u->plain)
		ok = auth_ct_equal(pass, strlen(pass), u->plain, strlen(u->plain));
	else
		ok = u->hash ? hash_matches(pass, u->hash) : 0;
	return ok ? u : NULL;
}

int auth_userlist_check(const struct cfg_userlist *ul, const char *user, const char *pass)
{
	return check_user(ul, user, pass) != NULL;
}

const struct cfg_ul_user *auth_basic_user(const struct cfg_userlist *ul, const char *value,
                                          size_t len)
{
	char user[AUTH_USER_MAX], pass[AUTH_PASS_MAX];
	const struct cfg_ul_user *u = NULL;

	if (auth_basic_parse(value, len, user, sizeof(user), pass, sizeof(pass)) == 0)
		u = check_user(ul, user, pass);
	explicit_bzero(pass, sizeof(pass));
	return u;
}

static int str_listed(const struct cfg_str *l, const char *s)
{
	for (; l; l = l->next)
		if (strcmp(l->s, s) == 0)
			return 1;
	return 0;
}

int auth_userlist_in_group(const struct cfg_userlist *ul, const char *user, const char *group)
{
	const struct cfg_ul_user *u;

	if (!user || !group || !(u = find_user(ul, user)))
		return 0;
	if (str_listed(u->group_refs, group))
		return 1;
	for (const struct cfg_ul_group *g = ul->groups; g; g = g->next)
		if (strcmp(g->name, group) == 0 && str_listed(g->user_refs, user))
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* stats auth */

int auth_plain_check(const char *const *pairs, int n, const char *user, const char *pass)
{
	size_t ul, pl;
	int found = 0;

	if (!pairs || !user || !pass)
		return 0;
	ul = strlen(user);
	pl = strlen(pass);
	for (int i = 0; i < n; i++) {
		const char *p = pairs[i], *colon = p ? strchr(p, ':') : NULL;
		if (!colon)
			continue;
		/* both halves always compared: no early exit on the user */
		int u_ok = auth_ct_equal(p, (size_t)(colon - p), user, ul);
		int p_ok = auth_ct_equal(colon + 1, strlen(colon + 1), pass, pl);
		found |= u_ok & p_ok;
	}
	return found;
}
