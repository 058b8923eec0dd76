/* tls.c - OpenSSL contexts for binds and for server connections. */
#include <config.h>

#include "tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

/* Append one queued error as "reason (detail)". The reason string alone
 * ("certificate verify failed", "No such file or directory") reads better
 * in a log line than OpenSSL's full "error:0A000086:SSL routines::..." form;
 * the detail carries what the library attached (e.g. "calling fopen(...)"). */
static size_t append_error(char *buf, size_t len, size_t used, unsigned long e, const char *data,
                           int flags)
{
	const char *reason = ERR_reason_error_string(e);
	char code[64];
	int n;

	if (used >= len)
		return used;
	if (!reason) {
		ERR_error_string_n(e, code, sizeof(code));
		reason = code;
	}
	n = snprintf(buf + used, len - used, "%s%s", used ? "; " : "", reason);
	if (n > 0)
		used += (size_t)n;
	if (used < len && (flags & ERR_TXT_STRING) && data && *data) {
		n = snprintf(buf + used, len - used, " (%s)", data);
		if (n > 0)
			used += (size_t)n;
	}
	return used < len ? used : len;
}

const char *tls_errors(char *buf, size_t len)
{
	unsigned long e;
	const char *data;
	int flags;
	size_t used = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	/* Always drain the whole queue, even when the text no longer fits:
	 * stale errors would otherwise be blamed on the next failure. */
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0)
		used = append_error(buf, len, used, e, data, flags);
	if (used == 0)
		snprintf(buf, len, "no OpenSSL error reported");
	return buf;
}

static int load_trust(SSL_CTX *ctx, const char *ca_file, char *err, size_t errlen)
{
	char ossl[256];

	if (ca_file) {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			snprintf(err, errlen, "cannot load CA file '%s': %s", ca_file,
			         tls_errors(ossl, sizeof(ossl)));
			return -1;
		}
		return 0;
	}
	if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, errlen, "cannot load the system CA store: %s",
		         tls_errors(ossl, sizeof(ossl)));
		return -1;
	}
	return 0;
}

SSL_CTX *tls_client_ctx_new(const char *ca_file, int verify_none, char *err, size_t errlen)
{
	char ossl[256];
	SSL_CTX *ctx;

	ERR_clear_error(); /* so that the message below names only our failure */
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS client context: %s",
		         tls_errors(ossl, sizeof(ossl)));
		return NULL;
	}
	/* TLS 1.2 minimum, as HAProxy 2.2+ defaults to. A server that closes
	 * without close_notify (most do on a health check) is an EOF, not an
	 * error: OpenSSL 3 would report it as one otherwise. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(ctx, verify_none ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	/* A ca-file given with `verify none` is still loaded: a typo in its path
	 * is a configuration error either way (HAProxy refuses it too). */
	if ((ca_file || !verify_none) && load_trust(ctx, ca_file, err, errlen) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
