/* tls.h - OpenSSL contexts for binds and for server connections.
 *
 * Built once per configuration generation (at start-up, by -c, and later
 * by reloads, so a bad certificate is refused before anything changes),
 * then shared read-only by the worker threads. The only mutable state is
 * each server's session cache, behind its own lock.
 *
 * Lifetime: tls_bind_free() and tls_client_free() may be called while
 * connections made from them are still open (a reload): the objects hang
 * off their SSL_CTX (ex_data with a free callback) and go with its last
 * SSL. The SSL app_data slot is left to the caller.
 */
#ifndef PPB_TLS_H
#define PPB_TLS_H

#include <stddef.h>

typedef struct ssl_ctx_st SSL_CTX; /* OpenSSL's own typedefs, repeated to avoid the include */
typedef struct ssl_st SSL;

struct cfg_bind;
struct cfg_global;
struct cfg_server;

/* Drain the OpenSSL error queue into one string (for log lines). */
const char *tls_errors(char *buf, size_t len);

/* A client context for connecting to servers: verify peer unless
 * `verify_none`, trusting `ca_file` (or the system store when NULL).
 * Returns NULL with `err` filled when the CA file cannot be used. */
SSL_CTX *tls_client_ctx_new(const char *ca_file, int verify_none, char *err, size_t errlen);

/* ---- terminating TLS on a bind (`bind ... ssl crt ...`) ---- */

struct tls_bind;

/* Load every `crt` (a PEM with certificate, chain and key, or a separate
 * <file>.key beside it; a directory contributes all its certificates).
 * The first certificate is the default; others are chosen by SNI against
 * their subjectAltName DNS names (the CN only when there is none), exact
 * names before `*.suffix` wildcards (one label, RFC 6125), case-insensitive;
 * an unknown SNI gets the default.
 * `alpn`, `ssl-min-ver`, `ciphers`, `ciphersuites` and the global
 * `ssl-default-bind-*` apply; `alpn` with h2 is refused (HTTP/1.1 only);
 * the protocol chosen is SSL_get0_alpn_selected() (none when the client
 * offered none of ours). Session tickets and a session cache are on, so
 * returning clients resume (the cache by session id keeps an entry only
 * when the SSL was shut down, SSL_shutdown() or SSL_set_shutdown()). Errors name the file and say
 * why (unreadable, no key, key not matching the certificate). An expired certificate loads with a
 * warning (through `warn`, may be NULL). Returns NULL on error. */
struct tls_bind *tls_bind_new(const struct cfg_bind *b, const struct cfg_global *g,
			      void (*warn)(void *arg, const char *msg), void *warn_arg, char *err,
			      size_t errlen);
void tls_bind_free(struct tls_bind *tb);
/* A server-side SSL for one accepted connection (SSL_set_accept_state). */
SSL *tls_bind_ssl_new(struct tls_bind *tb);

/* ---- re-encrypting to a server (`server ... ssl`) ---- */

struct tls_client;

/* Context for one server: `ca-file`, `verify` (default required, like
 * HAProxy's ssl-server-verify), `crt` (client certificate), `ssl-min-ver`,
 * the global `ssl-default-server-*`. SSL_MODE_RELEASE_BUFFERS keeps idle
 * connections small; SSL_OP_IGNORE_UNEXPECTED_EOF makes a peer that closes
 * without close_notify a plain EOF. Returns NULL with `err` filled. */
struct tls_client *tls_client_new(const struct cfg_server *sv, const struct cfg_global *g,
				  char *err, size_t errlen);
void tls_client_free(struct tls_client *tc);
/* A client-side SSL for one new server connection: SNI set when `sni` is
 * non-empty; the peer name verified against `verifyhost` when configured,
 * else against the SNI (as HAProxy with `verify required`); a session
 * cached for this SNI is offered for resumption (TLS 1.3 tickets are
 * captured by a new-session callback when they arrive). The cache holds
 * copies, so closing without close_notify does not spoil it. Counting uses
 * the context's info callback: do not SSL_set_info_callback() these SSLs. */
SSL *tls_client_ssl_new(struct tls_client *tc, const char *sni);
/* Counters for tests and stats: handshakes that resumed, full ones. */
void tls_client_stats(const struct tls_client *tc, unsigned long *resumed, unsigned long *full);

#endif
