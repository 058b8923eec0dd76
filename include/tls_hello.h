/* tls_hello.h - read a TLS ClientHello without terminating (pure).
 *
 * For routing before termination (`req.ssl_sni`, `req_ssl_hello_type`)
 * and for the PP2 AUTHORITY TLV of a passthrough. The hello may span
 * several TCP segments (a post-quantum key share makes it about 1.8 KB)
 * and several TLS records; the parser is handed everything read so far
 * and says whether it needs more.
 */
#ifndef PPB_TLS_HELLO_H
#define PPB_TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

/* The largest ClientHello read before giving up on it (HAProxy's own
 * limit is its buffer, 16 KB by default). */
#define TLS_HELLO_MAX 16384

enum tls_hello_status {
	TLS_HELLO_NEED_MORE = 0,
	TLS_HELLO_OK,       /* a complete ClientHello */
	TLS_HELLO_NOT_TLS,  /* not a TLS handshake record: plain bytes */
	TLS_HELLO_INVALID,  /* a handshake record, but broken or too large */
};

struct tls_hello {
	int hello_type; /* handshake type of the first message (1: ClientHello), 0 none */
	char sni[256];  /* the host_name, lower-cased; "" when none */
};

enum tls_hello_status tls_hello_parse(const uint8_t *buf, size_t len, struct tls_hello *out);
const char *tls_hello_status_name(enum tls_hello_status st);

#endif
