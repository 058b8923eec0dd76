/* tls_bio.h - a socket BIO that first serves bytes already read.
 *
 * TLS must sometimes start on bytes ppbridge has read itself: the part of
 * a ClientHello that arrived with an inbound PROXY header, or (with the
 * migration toggle) a ClientHello first read to route by SNI. OpenSSL's
 * socket BIO cannot be given them back; this one replays them, then reads
 * the socket. Writes always go to the socket (MSG_NOSIGNAL).
 */
#ifndef PPB_TLS_BIO_H
#define PPB_TLS_BIO_H

#include <stddef.h>
#include <stdint.h>

typedef struct bio_st BIO;

/* A BIO on `fd` (not closed by the BIO) that returns `prefix` first (the
 * bytes are copied). Returns NULL on allocation failure. */
BIO *tls_bio_new(int fd, const uint8_t *prefix, size_t len);

#endif
