/* tls_bio.c - a socket BIO that first serves bytes already read. */
#include <config.h>

#include "tls_bio.h"

#include <errno.h>
#include <openssl/bio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct tls_bio {
	int fd;
	uint8_t *prefix;
	size_t len;
	size_t off;
};

static BIO_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static int bio_read(BIO *b, char *out, int outl)
{
	struct tls_bio *t = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	if (outl <= 0)
		return 0;
	if (t->off < t->len) {
		size_t k = t->len - t->off < (size_t)outl ? t->len - t->off : (size_t)outl;
		memcpy(out, t->prefix + t->off, k);
		t->off += k;
		if (t->off == t->len) {
			free(t->prefix); /* replayed: back to a plain socket */
			t->prefix = NULL;
			t->len = t->off = 0;
		}
		return (int)k;
	}
	n = recv(t->fd, out, (size_t)outl, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_read(b);
	return (int)n;
}

static int bio_write(BIO *b, const char *in, int inl)
{
	struct tls_bio *t = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(t->fd, in, (size_t)inl, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_bio *t = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
	case BIO_CTRL_DUP:
		return 1;
	case BIO_CTRL_PENDING:
		return t ? (long)(t->len - t->off) : 0;
	case BIO_CTRL_WPENDING:
		return 0;
	default:
		return 0;
	}
}

static int bio_destroy(BIO *b)
{
	struct tls_bio *t = BIO_get_data(b);

	if (t) {
		free(t->prefix);
		free(t);
	}
	BIO_set_data(b, NULL);
	return 1;
}

static void make_method(void)
{
	method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ppbridge prefix socket");
	if (!method)
		return;
	BIO_meth_set_read(method, bio_read);
	BIO_meth_set_write(method, bio_write);
	BIO_meth_set_ctrl(method, bio_ctrl);
	BIO_meth_set_destroy(method, bio_destroy);
}

BIO *tls_bio_new(int fd, const uint8_t *prefix, size_t len)
{
	struct tls_bio *t;
	BIO *b;

	pthread_once(&method_once, make_method);
	if (!method || !(t = calloc(1, sizeof(*t))))
		return NULL;
	t->fd = fd;
	if (len > 0) {
		t->prefix = malloc(len);
		if (!t->prefix) {
			free(t);
			return NULL;
		}
		memcpy(t->prefix, prefix, len);
		t->len = len;
	}
	b = BIO_new(method);
	if (!b) {
		free(t->prefix);
		free(t);
		return NULL;
	}
	BIO_set_data(b, t);
	BIO_set_init(b, 1);
	return b;
}
