/* auth.h - HTTP Basic authentication against `userlist` sections and
 * `stats auth` pairs.
 *
 * Pure but for crypt_r(3): no sockets, no libevent, no global state. The
 * caller hands over the Authorization header's value as received; nothing
 * here keeps a credential beyond the call. Passwords written in clear are
 * compared in constant time, hashes through crypt_r(3) (whatever schemes
 * the system's libcrypt knows: yescrypt, SHA-512, SHA-256, MD5, ...).
 */
#ifndef PPB_AUTH_H
#define PPB_AUTH_H

#include <stddef.h>

struct cfg_ul_user;
struct cfg_userlist;

/* Buffers for auth_basic_parse(), NUL included: longer credentials are
 * refused as malformed. */
#define AUTH_USER_MAX 256
#define AUTH_PASS_MAX 1024

/* The value of an `Authorization` header: `Basic <base64 of user:pass>`
 * (the scheme without case, RFC 7617; strict, padded base64; user and
 * password split at the first ':'; no control character in either).
 * `user` and `pass` are buffers of ulen and plen bytes, NUL-terminated on
 * success. Returns 0, or -1 on anything malformed or too long (the buffers
 * are then cleared). */
int auth_basic_parse(const char *value, size_t len, char *user, size_t ulen, char *pass,
                     size_t plen);

/* The userlist named `name` in the list that starts at `list`, or NULL. */
const struct cfg_userlist *auth_userlist_find(const struct cfg_userlist *list, const char *name);

/* The user of `ul` whose credentials an Authorization header's value
 * carries (auth_basic_parse(), then auth_userlist_check()), or NULL: no
 * valid Basic credentials, no such user, a wrong password. The decoded
 * credentials are wiped before it returns. */
const struct cfg_ul_user *auth_basic_user(const struct cfg_userlist *ul, const char *value,
                                          size_t len);

/* 1 when `user` is in the userlist and `pass` is its password, else 0. */
int auth_userlist_check(const struct cfg_userlist *ul, const char *user, const char *pass);

/* 1 when `user` is in the userlist and a member of `group`, else 0 (the
 * password is not looked at: check it first). */
int auth_userlist_in_group(const struct cfg_userlist *ul, const char *user, const char *group);

/* `stats auth user:pass` lines kept as "user:pass" strings: 1 when one of
 * the n pairs is exactly `user` and `pass` (split at the pair's first ':'),
 * else 0. Every pair is compared, in constant time. */
int auth_plain_check(const char *const *pairs, int n, const char *user, const char *pass);

/* Can crypt_r(3) on this system check passwords against `hash`? 1 yes,
 * 0 no (an unknown or unsupported scheme, a malformed hash). Used when a
 * configuration is read, so that a hash the system cannot check is an
 * error there and not a user who can never log in. */
int auth_hash_usable(const char *hash);

/* Is the cost a hash's settings ask for bearable? Every request to the
 * stats page runs crypt_r(3) on the main thread, which also runs the
 * health checks and the admin socket: bcrypt above cost 14, SHA-crypt
 * above 1 000 000 rounds and yescrypt above 8 times its default N are
 * refused (auth_hash_usable() too, without running them). 1 yes, 0 no. */
#define AUTH_MAX_BCRYPT_COST 14
#define AUTH_MAX_SHA_ROUNDS 1000000ul
#define AUTH_MAX_YESCRYPT_N 14 /* the index of 'C' in crypt's base64; 'j9T': '9' = 11 */
int auth_hash_cost_ok(const char *hash);

/* Constant-time equality of two byte strings: the time depends on the
 * lengths only, never on where they differ. 1 equal, 0 not. */
int auth_ct_equal(const char *a, size_t alen, const char *b, size_t blen);

#endif
