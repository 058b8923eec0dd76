/* tls.h - OpenSSL contexts for binds and for server connections. */
#ifndef PPB_TLS_H
#define PPB_TLS_H

#include <stddef.h>

typedef struct ssl_ctx_st SSL_CTX; /* OpenSSL's own typedef, repeated to avoid the include */

/* Drain the OpenSSL error queue into one string (for log lines). */
const char *tls_errors(char *buf, size_t len);

/* A client context for connecting to servers: verify peer unless
 * `verify_none`, trusting `ca_file` (or the system store when NULL).
 * Returns NULL with `err` filled when the CA file cannot be used. */
SSL_CTX *tls_client_ctx_new(const char *ca_file, int verify_none, char *err, size_t errlen);

#endif
