/* tls.c - OpenSSL contexts for binds and for server connections. */
#include <config.h>

#include "tls.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cfg.h"

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

/* ---- shared by binds and server connections ---- */

/* Protocol settings resolved from the config (bind or server value over
 * the global default over ours). */
struct tls_proto {
	int min_ver;
	int max_ver;
	const char *ciphers;
	const char *suites;
};

/* ex_data indexes on SSL_CTX, allocated once. The bind and client objects
 * hang off their default SSL_CTX so that they live exactly as long as any
 * SSL made from it: a reload may free a generation while connections
 * accepted or opened under it still handshake or store sessions. */
static int tls_bind_idx = -1;
static int tls_client_idx = -1;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void bind_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			 void *argp);
static void client_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			   void *argp);

static void tls_init_indexes(void)
{
	tls_bind_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, bind_ex_free);
	tls_client_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, client_ex_free);
}

static int tls_indexes_ready(char *err, size_t errlen)
{
	pthread_once(&tls_once, tls_init_indexes);
	if (tls_bind_idx < 0 || tls_client_idx < 0) {
		snprintf(err, errlen, "cannot allocate OpenSSL ex_data indexes");
		return -1;
	}
	return 0;
}

static int apply_proto(SSL_CTX *ctx, const struct tls_proto *p, char *err, size_t errlen)
{
	char ossl[256];

	if (!SSL_CTX_set_min_proto_version(ctx, p->min_ver ? p->min_ver : TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, p->max_ver)) {
		snprintf(err, errlen, "unsupported TLS version (min 0x%04x, max 0x%04x): %s",
			 p->min_ver, p->max_ver, tls_errors(ossl, sizeof(ossl)));
		return -1;
	}
	if (p->max_ver && p->max_ver < (p->min_ver ? p->min_ver : TLS1_2_VERSION)) {
		snprintf(err, errlen, "ssl-max-ver 0x%04x is below ssl-min-ver 0x%04x", p->max_ver,
			 p->min_ver ? p->min_ver : TLS1_2_VERSION);
		return -1;
	}
	if (p->ciphers && SSL_CTX_set_cipher_list(ctx, p->ciphers) != 1) {
		snprintf(err, errlen, "invalid ciphers '%s': %s", p->ciphers,
			 tls_errors(ossl, sizeof(ossl)));
		return -1;
	}
	if (p->suites && SSL_CTX_set_ciphersuites(ctx, p->suites) != 1) {
		snprintf(err, errlen, "invalid ciphersuites '%s': %s", p->suites,
			 tls_errors(ossl, sizeof(ossl)));
		return -1;
	}
	/* A peer closing without close_notify is a plain EOF with libevent
	 * 2.1; renegotiation is a DoS vector we have no use for; idle
	 * connections (keep-alive, pools) give their buffers back. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

/* Private keys are never encrypted here: answer OpenSSL's passphrase
 * request with "none" rather than let it prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Read a whole (small) file; NUL-terminated for the PEM marker search. */
static char *read_file(const char *path, size_t *lenp, char *err, size_t errlen)
{
	enum { MAX_PEM = 16 << 20 };
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = cap >= MAX_PEM ? NULL : realloc(buf, cap ? cap * 2 : 8192);
			if (!nb) {
				snprintf(err, errlen,
					 "cannot read '%s': too large or out of memory", path);
				goto fail;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	buf[len] = '\0';
	*lenp = len;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/* The first certificate of a PEM buffer, or NULL when it holds none. */
static X509 *pem_first_cert(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;

	BIO_free(bio);
	ERR_clear_error(); /* "no start line" is an answer here, not an error */
	return x;
}

static EVP_PKEY *pem_key(const char *pem, size_t len)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;

	BIO_free(bio);
	return k;
}

/* Any "-----BEGIN [RSA |EC |ENCRYPTED ]PRIVATE KEY-----" block. Looking
 * for the marker tells "no key in this PEM, try <file>.key" apart from "a
 * key that does not parse", which must be an error of its own. */
static int pem_has_key(const char *pem)
{
	for (const char *p = pem; (p = strstr(p, "-----BEGIN ")) != NULL; p += 11) {
		size_t n = strcspn(p, "\r\n");
		if (n >= 27 && !memcmp(p + n - 16, "PRIVATE KEY-----", 16))
			return 1;
	}
	return 0;
}

/* Certificate chain (SSL_CTX_use_certificate_chain_file) and private key
 * (in the PEM, else in <path>.key beside it), checked against each other. */
static int load_cert_key(SSL_CTX *ctx, const char *path, const char *pem, size_t len, char *err,
			 size_t errlen)
{
	char ossl[256], keypath[PATH_MAX];
	const char *from = path;
	char *kbuf = NULL;
	size_t klen = 0;
	EVP_PKEY *key;
	int ret = -1;

	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1) {
		snprintf(err, errlen, "cannot load the certificate chain from '%s': %s", path,
			 tls_errors(ossl, sizeof(ossl)));
		return -1;
	}
	if (!pem_has_key(pem)) {
		if ((size_t)snprintf(keypath, sizeof(keypath), "%s.key", path) >= sizeof(keypath)) {
			snprintf(err, errlen, "'%s': path too long", path);
			return -1;
		}
		kbuf = read_file(keypath, &klen, ossl, sizeof(ossl));
		if (!kbuf) {
			snprintf(err, errlen, "no private key in '%s' and none beside it (%s)",
				 path, ossl);
			return -1;
		}
		from = keypath;
		pem = kbuf;
		len = klen;
	}
	key = pem_key(pem, len);
	if (!key)
		snprintf(err, errlen, "cannot load the private key from '%s': %s", from,
			 tls_errors(ossl, sizeof(ossl)));
	else if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		snprintf(err, errlen, "key does not match certificate in '%s'%s%s: %s", path,
			 from != path ? ", key from " : "", from != path ? from : "",
			 tls_errors(ossl, sizeof(ossl)));
	else
		ret = 0;
	EVP_PKEY_free(key);
	free(kbuf);
	return ret;
}

/* ---- terminating TLS on a bind ---- */

/* One name a certificate answers to, lower-case; "*.suffix" for wildcards. */
struct tls_sni {
	char *name;
	size_t cert; /* index in tls_bind.ctxs */
};

struct tls_bind {
	SSL_CTX **ctxs; /* one per certificate, [0] the default */
	size_t nctx;
	struct tls_sni *names; /* sorted by name, one entry per name */
	size_t nnames;
	unsigned char *alpn; /* wire format: length-prefixed protocol names */
	size_t alpn_len;
	void (*warn)(void *arg, const char *msg); /* only while loading */
	void *warn_arg;
};

static void bind_warn(const struct tls_bind *tb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bind_warn(const struct tls_bind *tb, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!tb->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tb->warn(tb->warn_arg, msg);
}

static void bind_release(struct tls_bind *tb, int free_default)
{
	for (size_t i = free_default ? 0 : 1; i < tb->nctx; i++)
		SSL_CTX_free(tb->ctxs[i]);
	for (size_t i = 0; i < tb->nnames; i++)
		free(tb->names[i].name);
	free(tb->names);
	free(tb->ctxs);
	free(tb->alpn);
	free(tb);
}

/* Runs when the default context's last reference goes (tls_bind_free and
 * every SSL made from it, since SSL_new holds it as the session context). */
static void bind_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			 void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ptr)
		bind_release(ptr, 0);
}

static int sni_cmp(const void *a, const void *b)
{
	const struct tls_sni *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->cert < y->cert ? -1 : x->cert > y->cert;
}

static int add_name(struct tls_bind *tb, const unsigned char *s, int len, size_t cert)
{
	struct tls_sni *n;
	char *name;

	if (len <= 0 || memchr(s, '\0', (size_t)len))
		return 0; /* an embedded NUL can only be an attack on the matcher */
	n = realloc(tb->names, (tb->nnames + 1) * sizeof(*n));
	if (!n)
		return -1;
	tb->names = n;
	name = malloc((size_t)len + 1);
	if (!name)
		return -1;
	for (int i = 0; i < len; i++)
		name[i] = (char)tolower(s[i]);
	name[len] = '\0';
	tb->names[tb->nnames].name = name;
	tb->names[tb->nnames].cert = cert;
	tb->nnames++;
	return 0;
}

/* The names SNI is matched against: the subjectAltName DNS entries, or the
 * (last, most specific) CN when there are none, as RFC 6125 says. */
static int cert_names(struct tls_bind *tb, X509 *x, size_t cert)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	X509_NAME *subj = X509_get_subject_name(x);
	size_t before = tb->nnames;
	int ret = 0, i = -1, last = -1;

	for (int k = 0; gens && k < sk_GENERAL_NAME_num(gens) && ret == 0; k++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, k);
		if (gn->type == GEN_DNS)
			ret = add_name(tb, ASN1_STRING_get0_data(gn->d.dNSName),
				       ASN1_STRING_length(gn->d.dNSName), cert);
	}
	GENERAL_NAMES_free(gens);
	if (ret < 0 || tb->nnames > before)
		return ret;
	while ((i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0)
		last = i;
	if (last >= 0) {
		unsigned char *cn = NULL;
		int len = ASN1_STRING_to_UTF8(
		    &cn, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, last)));
		if (len > 0)
			ret = add_name(tb, cn, len, cert);
		OPENSSL_free(cn);
	}
	return ret;
}

static void time_str(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "(unreadable date)");
}

/* Expired or not yet valid certificates still load: refusing them would
 * take the whole VIP down over one stale file. The operator gets told. */
static void check_dates(const struct tls_bind *tb, X509 *x, const char *path)
{
	char when[64];

	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		time_str(X509_get0_notAfter(x), when, sizeof(when));
		bind_warn(tb, "certificate '%s' expired on %s", path, when);
	} else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		time_str(X509_get0_notBefore(x), when, sizeof(when));
		bind_warn(tb, "certificate '%s' is not valid before %s", path, when);
	}
}

/* Server preference: the first of our protocols the client offers. No
 * overlap is not fatal: the handshake goes on without ALPN (HTTP/1.1). */
static int bind_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			const unsigned char *in, unsigned int inlen, void *arg)
{
	const struct tls_bind *tb = arg;

	(void)ssl;
	for (size_t i = 0; i < tb->alpn_len; i += 1u + tb->alpn[i]) {
		const unsigned char *p = tb->alpn + i + 1;
		unsigned char n = tb->alpn[i];
		for (unsigned j = 0; j < inlen && j + 1u + in[j] <= inlen; j += 1u + in[j]) {
			if (in[j] == n && !memcmp(in + j + 1, p, n)) {
				*out = p;
				*outlen = n;
				return SSL_TLSEXT_ERR_OK;
			}
		}
	}
	return SSL_TLSEXT_ERR_NOACK;
}

static const struct tls_sni *sni_find(const struct tls_bind *tb, const char *name)
{
	struct tls_sni key = {.name = (char *)name, .cert = 0};
	const struct tls_sni *lo = tb->names, *hi = tb->names + tb->nnames;

	/* lower bound: names are unique after tls_bind_new, cert is ignored */
	while (lo < hi) {
		const struct tls_sni *mid = lo + (hi - lo) / 2;
		if (strcmp(mid->name, key.name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < tb->names + tb->nnames && !strcmp(lo->name, name) ? lo : NULL;
}

/* Exact name first, then "*." + everything after the first label. */
static int bind_servername_cb(SSL *ssl, int *al, void *arg)
{
	const struct tls_bind *tb = arg;
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct tls_sni *hit;
	char name[258];
	size_t len;
	char *dot;

	(void)al;
	if (!sni || tb->nctx < 2)
		return SSL_TLSEXT_ERR_OK;
	len = strlen(sni);
	if (len && sni[len - 1] == '.')
		len--; /* an absolute name is the same name */
	if (len == 0 || len > 253)
		return SSL_TLSEXT_ERR_OK;
	name[0] = '*';
	for (size_t i = 0; i < len; i++)
		name[i + 1] = (char)tolower((unsigned char)sni[i]);
	name[len + 1] = '\0';
	hit = sni_find(tb, name + 1);
	if (!hit && (dot = strchr(name + 1, '.')) != NULL && dot > name + 1) {
		dot[-1] = '*';
		hit = sni_find(tb, dot - 1);
	}
	if (hit && hit->cert != 0 && !SSL_set_SSL_CTX(ssl, tb->ctxs[hit->cert]))
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	return SSL_TLSEXT_ERR_OK;
}

/* "h2,http/1.1" to the wire format. h2 is refused: ppbridge would have to
 * speak it once a client picked it. */
static int parse_alpn(struct tls_bind *tb, const char *list, char *err, size_t errlen)
{
	size_t len = strlen(list), o = 0;
	const char *p = list;

	tb->alpn = malloc(len + 1);
	if (!tb->alpn) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == 0 || n > 255) {
			snprintf(err, errlen, "invalid alpn '%s': empty or too long protocol name",
				 list);
			return -1;
		}
		if (n == 2 && !memcmp(p, "h2", 2)) {
			snprintf(err, errlen,
				 "alpn h2 is not supported (ppbridge speaks HTTP/1.1 only)");
			return -1;
		}
		tb->alpn[o++] = (unsigned char)n;
		memcpy(tb->alpn + o, p, n);
		o += n;
		p += n;
		if (*p == ',' && *++p == '\0') {
			snprintf(err, errlen, "invalid alpn '%s': empty protocol name", list);
			return -1;
		}
	}
	tb->alpn_len = o;
	return 0;
}

/* ---- session ticket keys ----
 *
 * OpenSSL makes fresh random ticket keys for every context, so a reload
 * (new contexts) would make every returning client pay a full handshake,
 * and two hosts behind one VIP could not resume each other's tickets.
 * Instead every bind uses one key set: by default random keys made once
 * per process (they survive reloads), or the keys of a `tls-ticket-keys`
 * file (HAProxy's format: base64 lines of 48 or 80 bytes, name|AES|HMAC;
 * the penultimate key encrypts, all of them decrypt), which hosts can
 * share and rotate. */
#define TLS_TKEYS_MAX 16

struct tls_tkey {
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char hmac[32];
};

struct tls_tkeys {
	atomic_int refs;   /* contexts using this set; the process set is never freed */
	int n;
	int enc;           /* the key new tickets are made with */
	int keylen;        /* 16 (AES-128) or 32 (AES-256) */
	struct tls_tkey k[TLS_TKEYS_MAX];
};

static struct tls_tkeys process_keys;
static pthread_once_t process_keys_once = PTHREAD_ONCE_INIT;
static int tkeys_idx = -1;
static pthread_once_t tkeys_once = PTHREAD_ONCE_INIT;

static void make_process_keys(void)
{
	process_keys.n = 1;
	process_keys.keylen = 32;
	atomic_init(&process_keys.refs, 1);
	if (RAND_bytes((unsigned char *)&process_keys.k[0], sizeof(process_keys.k[0])) != 1)
		process_keys.n = 0; /* tickets then fall back to OpenSSL's own keys */
}

static void tkeys_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
		       void *argp)
{
	struct tls_tkeys *keys = ptr;

	if (keys && keys != &process_keys && atomic_fetch_sub(&keys->refs, 1) == 1) {
		OPENSSL_cleanse(keys, sizeof(*keys));
		free(keys);
	}
}

static void tkeys_index(void)
{
	tkeys_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, tkeys_free);
}

static int ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
		     EVP_MAC_CTX *hctx, int enc)
{
	const struct tls_tkeys *keys = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tkeys_idx);
	const EVP_CIPHER *cipher;
	const struct tls_tkey *k = NULL;
	OSSL_PARAM params[3];
	int i = 0;

	if (!keys || keys->n == 0)
		return -1;
	cipher = keys->keylen == 32 ? EVP_aes_256_cbc() : EVP_aes_128_cbc();
	if (enc) {
		k = &keys->k[keys->enc];
		memcpy(name, k->name, 16);
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(cipher)) != 1 ||
		    EVP_EncryptInit_ex(cctx, cipher, NULL, k->aes, iv) != 1)
			return -1;
	} else {
		for (i = 0; i < keys->n; i++)
			if (!memcmp(name, keys->k[i].name, 16))
				break;
		if (i == keys->n)
			return 0; /* unknown key: a full handshake, then a new ticket */
		k = &keys->k[i];
		if (EVP_DecryptInit_ex(cctx, cipher, NULL, k->aes, iv) != 1)
			return -1;
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)k->hmac,
						      (size_t)keys->keylen);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	/* Every resumption gets a fresh ticket (2: renew), as OpenSSL's own
	 * ticket handling does: a TLS 1.3 client uses a ticket once, so
	 * without it every other connection of a client that chains its
	 * sessions (wrk, browsers) paid a full handshake (measured: 50% of
	 * handshakes resumed under wrk, HAProxy 100%). */
	return enc ? 1 : 2;
}

/* Read a `tls-ticket-keys` file. */
static struct tls_tkeys *load_tkeys(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct tls_tkeys *keys;
	char line[256];
	int lineno = 0;

	if (!f) {
		snprintf(err, errlen, "tls-ticket-keys '%s': %s", path, strerror(errno));
		return NULL;
	}
	keys = calloc(1, sizeof(*keys));
	if (!keys) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned char raw[96];
		size_t len = strcspn(line, "\r\n");
		int n, pad = 0;
		lineno++;
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (len % 4 || len > 128 || keys->n == TLS_TKEYS_MAX)
			goto bad;
		n = EVP_DecodeBlock(raw, (const unsigned char *)line, (int)len);
		pad = (line[len - 1] == '=') + (len > 1 && line[len - 2] == '=');
		n -= pad;
		if ((n != 48 && n != 80) || (keys->keylen && keys->keylen != (n - 16) / 2))
			goto bad;
		keys->keylen = (n - 16) / 2;
		memcpy(keys->k[keys->n].name, raw, 16);
		memcpy(keys->k[keys->n].aes, raw + 16, (size_t)keys->keylen);
		memcpy(keys->k[keys->n].hmac, raw + 16 + keys->keylen, (size_t)keys->keylen);
		keys->n++;
		OPENSSL_cleanse(raw, sizeof(raw));
	}
	fclose(f);
	OPENSSL_cleanse(line, sizeof(line));
	if (keys->n == 0) {
		snprintf(err, errlen, "tls-ticket-keys '%s': no key in it", path);
		free(keys);
		return NULL;
	}
	keys->enc = keys->n >= 2 ? keys->n - 2 : 0;
	atomic_init(&keys->refs, 0);
	return keys;
bad:
	fclose(f);
	OPENSSL_cleanse(keys, sizeof(*keys));
	free(keys);
	snprintf(err, errlen,
		 "tls-ticket-keys '%s':%d: not a base64 key of 48 or 80 bytes (all of one size)",
		 path, lineno);
	return NULL;
}

/* Every context of a bind gets the bind's key set. */
static int attach_tkeys(struct tls_bind *tb, struct tls_tkeys *keys, char *err, size_t errlen)
{
	for (size_t i = 0; i < tb->nctx; i++) {
		if (keys != &process_keys)
			atomic_fetch_add(&keys->refs, 1);
		if (!SSL_CTX_set_ex_data(tb->ctxs[i], tkeys_idx, keys) ||
		    SSL_CTX_set_tlsext_ticket_key_evp_cb(tb->ctxs[i], ticket_cb) != 1) {
			snprintf(err, errlen, "cannot install the session ticket keys");
			return -1;
		}
	}
	return 0;
}

static SSL_CTX *bind_ctx_new(struct tls_bind *tb, const struct tls_proto *p, char *err,
			     size_t errlen)
{
	static const unsigned char sid_ctx[] = "ppbridge";
	char ossl[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS server context: %s",
			 tls_errors(ossl, sizeof(ossl)));
		return NULL;
	}
	if (apply_proto(ctx, p, err, errlen) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Our cipher order, as HAProxy's default (no prefer-client-ciphers). */
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_dh_auto(ctx, 1);
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	/* Tickets stay on (OpenSSL's default); the cache serves TLS 1.2
	 * clients that resume by session id. Both live in the session context,
	 * which stays the default one after an SNI switch. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	if (tb->alpn)
		SSL_CTX_set_alpn_select_cb(ctx, bind_alpn_cb, tb);
	return ctx;
}

/* 1 loaded, 0 skipped (a directory entry that holds no certificate), -1. */
static int bind_load_file(struct tls_bind *tb, const struct tls_proto *p, const char *path,
			  int in_dir, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL, **v;
	size_t len;
	char *pem = read_file(path, &len, err, errlen);
	X509 *x = pem ? pem_first_cert(pem, len) : NULL;
	int ret = -1;

	if (!pem)
		return -1;
	if (!x) {
		if (in_dir) {
			bind_warn(tb, "skipping '%s': no PEM certificate in it", path);
			ret = 0;
		} else {
			snprintf(err, errlen, "no PEM certificate in '%s'", path);
		}
		goto out;
	}
	ctx = bind_ctx_new(tb, p, err, errlen);
	if (!ctx || load_cert_key(ctx, path, pem, len, err, errlen) < 0)
		goto out;
	v = realloc(tb->ctxs, (tb->nctx + 1) * sizeof(*v));
	if (!v || cert_names(tb, x, tb->nctx) < 0) {
		tb->ctxs = v ? v : tb->ctxs;
		snprintf(err, errlen, "out of memory loading '%s'", path);
		goto out;
	}
	tb->ctxs = v;
	tb->ctxs[tb->nctx++] = ctx;
	ctx = NULL;
	check_dates(tb, x, path);
	ret = 1;
out:
	SSL_CTX_free(ctx);
	X509_free(x);
	free(pem);
	return ret;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name); /* byte order, whatever the locale */
}

static int skip_dirent(const struct dirent *d)
{
	return d->d_name[0] != '.'; /* hidden files, and Kubernetes' ..data links */
}

static int has_suffix(const char *name, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && !strcmp(name + n - k, suffix);
}

/* Files that belong to a certificate rather than being one: HAProxy's
 * extra files (OCSP response, issuer, SCTs: not used here, skipped as
 * HAProxy skips them), and a "<cert>.key" whose "<cert>" is beside it. */
static int is_extra_file(const char *dir, const char *name)
{
	size_t n = strlen(name);
	char cert[PATH_MAX];
	struct stat st;

	if (has_suffix(name, n, ".ocsp") || has_suffix(name, n, ".issuer") ||
	    has_suffix(name, n, ".sctl"))
		return 1;
	if (!has_suffix(name, n, ".key"))
		return 0;
	if ((size_t)snprintf(cert, sizeof(cert), "%s/%.*s", dir, (int)(n - 4), name) >=
	    sizeof(cert))
		return 0;
	return stat(cert, &st) == 0 && S_ISREG(st.st_mode);
}

static int bind_load_dir(struct tls_bind *tb, const struct tls_proto *p, const char *dir, char *err,
			 size_t errlen)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, skip_dirent, name_cmp), ret = 0, loaded = 0;

	if (n < 0) {
		snprintf(err, errlen, "cannot list directory '%s': %s", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct stat st;
		int r;

		if (ret == 0 &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name) <
			sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    !is_extra_file(dir, ents[i]->d_name)) {
			r = bind_load_file(tb, p, path, 1, err, errlen);
			if (r < 0)
				ret = -1;
			loaded += r > 0;
		}
		free(ents[i]);
	}
	free(ents);
	if (ret == 0 && loaded == 0)
		bind_warn(tb, "no certificate in directory '%s'", dir);
	return ret;
}

static int bind_load(struct tls_bind *tb, const struct tls_proto *p, const char *path, char *err,
		     size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return bind_load_dir(tb, p, path, err, errlen);
	return bind_load_file(tb, p, path, 0, err, errlen) < 0 ? -1 : 0;
}

/* Sorted, and one entry per name: the certificate loaded first wins. */
static void index_names(struct tls_bind *tb)
{
	size_t o = 0;

	qsort(tb->names, tb->nnames, sizeof(*tb->names), sni_cmp);
	for (size_t i = 0; i < tb->nnames; i++) {
		if (o && !strcmp(tb->names[o - 1].name, tb->names[i].name))
			free(tb->names[i].name);
		else
			tb->names[o++] = tb->names[i];
	}
	tb->nnames = o;
}

struct tls_bind *tls_bind_new(const struct cfg_bind *b, const struct cfg_global *g,
			      void (*warn)(void *arg, const char *msg), void *warn_arg, char *err,
			      size_t errlen)
{
	struct tls_proto p = {
	    .min_ver = b->ssl_min_ver ? b->ssl_min_ver
		       : g	      ? g->ssl_default_bind_min_ver
				      : 0,
	    .max_ver = b->ssl_max_ver,
	    .ciphers = b->ciphers ? b->ciphers
		       : g	  ? g->ssl_default_bind_ciphers
				  : NULL,
	    .suites = b->ciphersuites ? b->ciphersuites
		      : g	      ? g->ssl_default_bind_ciphersuites
				      : NULL,
	};
	struct tls_bind *tb;

	if (tls_indexes_ready(err, errlen) < 0)
		return NULL;
	tb = calloc(1, sizeof(*tb));
	if (!tb) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tb->warn = warn;
	tb->warn_arg = warn_arg;
	if (b->alpn && parse_alpn(tb, b->alpn, err, errlen) < 0)
		goto fail;
	for (const struct cfg_str *c = b->crts; c; c = c->next)
		if (bind_load(tb, &p, c->s, err, errlen) < 0)
			goto fail;
	if (tb->nctx == 0) {
		snprintf(err, errlen, "no certificate loaded (`ssl` needs at least one `crt`)");
		goto fail;
	}
	index_names(tb);
	{
		struct tls_tkeys *keys = &process_keys;
		pthread_once(&process_keys_once, make_process_keys);
		pthread_once(&tkeys_once, tkeys_index);
		if (b->tls_ticket_keys && !(keys = load_tkeys(b->tls_ticket_keys, err, errlen)))
			goto fail;
		if (keys->n > 0 && attach_tkeys(tb, keys, err, errlen) < 0) {
			if (keys != &process_keys && atomic_load(&keys->refs) == 0)
				free(keys);
			goto fail;
		}
		if (keys != &process_keys && atomic_load(&keys->refs) == 0)
			free(keys); /* no context took it (cannot happen: nctx > 0) */
	}
	tb->warn = NULL; /* the caller's argument may not outlive this call */
	SSL_CTX_set_tlsext_servername_callback(tb->ctxs[0], bind_servername_cb);
	SSL_CTX_set_tlsext_servername_arg(tb->ctxs[0], tb);
	if (!SSL_CTX_set_ex_data(tb->ctxs[0], tls_bind_idx, tb)) {
		snprintf(err, errlen, "cannot attach the bind to its TLS context");
		goto fail;
	}
	return tb;
fail:
	bind_release(tb, 1);
	return NULL;
}

void tls_bind_free(struct tls_bind *tb)
{
	if (tb)
		SSL_CTX_free(tb->ctxs[0]); /* the rest goes with its last SSL */
}

SSL *tls_bind_ssl_new(struct tls_bind *tb)
{
	SSL *ssl = SSL_new(tb->ctxs[0]);

	if (ssl)
		SSL_set_accept_state(ssl);
	return ssl;
}

/* ---- re-encrypting to a server ---- */

/* Sessions are cached per SNI in a direct-mapped table: with `sni
 * req.hdr(host)` clients choose the names, so the cache must stay bounded;
 * two names sharing a slot only cost each other a full handshake. */
#define TLS_CLIENT_SLOTS 512

struct tls_client_slot {
	char *sni; /* "" when none was sent */
	SSL_SESSION *sess;
};

struct tls_client {
	SSL_CTX *ctx;
	int verify;
	char *verifyhost;
	pthread_mutex_t lock; /* the slots; worker threads share the client */
	struct tls_client_slot slots[TLS_CLIENT_SLOTS];
	atomic_ulong resumed;
	atomic_ulong full;
};

static void client_release(struct tls_client *tc)
{
	for (size_t i = 0; i < TLS_CLIENT_SLOTS; i++) {
		free(tc->slots[i].sni);
		SSL_SESSION_free(tc->slots[i].sess);
	}
	pthread_mutex_destroy(&tc->lock);
	free(tc->verifyhost);
	free(tc);
}

static void client_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			   void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ptr)
		client_release(ptr);
}

static struct tls_client_slot *client_slot(struct tls_client *tc, const char *sni)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)sni; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &tc->slots[h % TLS_CLIENT_SLOTS];
}

static struct tls_client *client_of(const SSL *ssl)
{
	return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_client_idx);
}

/* Called for every session the server gives us: in the handshake with TLS
 * 1.2, from each NewSessionTicket after it with TLS 1.3. The cache keeps a
 * copy: SSL_free() on a connection closed without close_notify marks that
 * connection's own session unresumable, and that must not reach the cache. */
static int client_new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_client *tc = client_of(ssl);
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	struct tls_client_slot *slot;
	SSL_SESSION *copy, *old;
	char *name = NULL;

	if (!tc || !SSL_SESSION_is_resumable(sess))
		return 0;
	if (!sni)
		sni = "";
	slot = client_slot(tc, sni);
	copy = SSL_SESSION_dup(sess);
	if (!copy)
		return 0;
	pthread_mutex_lock(&tc->lock);
	if (!slot->sni || strcmp(slot->sni, sni)) {
		name = strdup(sni);
		if (!name) {
			pthread_mutex_unlock(&tc->lock);
			SSL_SESSION_free(copy);
			return 0;
		}
		free(slot->sni);
		slot->sni = name;
	}
	old = slot->sess;
	slot->sess = copy;
	pthread_mutex_unlock(&tc->lock);
	SSL_SESSION_free(old);
	return 0; /* we did not keep `sess` itself */
}

/* A private copy of the cached session for one new connection (see above
 * for why the cached object itself is never handed out). */
static SSL_SESSION *client_cached(struct tls_client *tc, const char *sni)
{
	struct tls_client_slot *slot = client_slot(tc, sni);
	SSL_SESSION *s = NULL;

	pthread_mutex_lock(&tc->lock);
	if (slot->sess && !strcmp(slot->sni, sni))
		s = SSL_SESSION_dup(slot->sess);
	pthread_mutex_unlock(&tc->lock);
	return s;
}

/* Counts each completed handshake once: OpenSSL does not report a TLS 1.3
 * NewSessionTicket as a handshake, and renegotiation is disabled. */
static void client_info_cb(const SSL *ssl, int where, int ret)
{
	struct tls_client *tc;

	(void)ret;
	if (!(where & SSL_CB_HANDSHAKE_DONE) || !(tc = client_of(ssl)))
		return;
	if (SSL_session_reused(ssl))
		atomic_fetch_add_explicit(&tc->resumed, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&tc->full, 1, memory_order_relaxed);
}

/* Client certificate: the same PEM rules as a bind's `crt`. */
static int client_load_crt(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	size_t len;
	char *pem = read_file(path, &len, err, errlen);
	int ret;

	if (!pem)
		return -1;
	ret = load_cert_key(ctx, path, pem, len, err, errlen);
	free(pem);
	return ret;
}

static SSL_CTX *client_ctx_new(const struct cfg_server *sv, const struct cfg_global *g, int verify,
			       char *err, size_t errlen)
{
	struct tls_proto p = {
	    .min_ver = sv->ssl_min_ver ? sv->ssl_min_ver
		       : g	       ? g->ssl_default_server_min_ver
				       : 0,
	    .ciphers = g ? g->ssl_default_server_ciphers : NULL,
	    .suites = g ? g->ssl_default_server_ciphersuites : NULL,
	};
	char ossl[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS client context: %s",
			 tls_errors(ossl, sizeof(ossl)));
		return NULL;
	}
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (apply_proto(ctx, &p, err, errlen) < 0 ||
	    (sv->ca_file && load_trust(ctx, sv->ca_file, err, errlen) < 0) ||
	    (sv->crt && client_load_crt(ctx, sv->crt, err, errlen) < 0)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_session_cache_mode(ctx,
				       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, client_new_session_cb);
	SSL_CTX_set_info_callback(ctx, client_info_cb);
	return ctx;
}

struct tls_client *tls_client_new(const struct cfg_server *sv, const struct cfg_global *g,
				  char *err, size_t errlen)
{
	int verify = sv->verify == CFG_VERIFY_REQUIRED ||
		     (sv->verify == CFG_VERIFY_DEFAULT && !(g && g->ssl_server_verify_none));
	char why[512];
	struct tls_client *tc;

	if (verify && !sv->ca_file) {
		/* As HAProxy: no silent trust in the system store. */
		snprintf(err, errlen,
			 "verify is enabled%s but no CA file specified for server '%s' (use "
			 "'ca-file' or 'verify none')",
			 sv->verify == CFG_VERIFY_DEFAULT ? " by default" : "", sv->name);
		return NULL;
	}
	if (tls_indexes_ready(err, errlen) < 0)
		return NULL;
	tc = calloc(1, sizeof(*tc));
	if (!tc || pthread_mutex_init(&tc->lock, NULL) != 0) {
		free(tc);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tc->verify = verify;
	if (sv->verifyhost && !(tc->verifyhost = strdup(sv->verifyhost))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	tc->ctx = client_ctx_new(sv, g, verify, why, sizeof(why));
	if (!tc->ctx) {
		snprintf(err, errlen, "server '%s': %s", sv->name, why);
		goto fail;
	}
	if (!SSL_CTX_set_ex_data(tc->ctx, tls_client_idx, tc)) {
		snprintf(err, errlen, "cannot attach server '%s' to its TLS context", sv->name);
		SSL_CTX_free(tc->ctx);
		goto fail;
	}
	return tc;
fail:
	client_release(tc);
	return NULL;
}

void tls_client_free(struct tls_client *tc)
{
	if (tc)
		SSL_CTX_free(tc->ctx); /* tc goes with the context's last SSL */
}

SSL *tls_client_ssl_new(struct tls_client *tc, const char *sni)
{
	const char *host = tc->verifyhost ? tc->verifyhost : sni;
	SSL *ssl = SSL_new(tc->ctx);
	SSL_SESSION *sess;

	if (!ssl)
		return NULL;
	if (!sni)
		sni = "";
	SSL_set_connect_state(ssl);
	if (*sni && !SSL_set_tlsext_host_name(ssl, sni))
		goto fail;
	if (tc->verify && host && *host) {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (!SSL_set1_host(ssl, host))
			goto fail;
	}
	/* Keyed by SNI, which also fixes the host name checked: a session
	 * resumes without a new certificate check, so it must only be offered
	 * where it was verified for the same name. */
	sess = client_cached(tc, sni);
	if (sess) {
		SSL_set_session(ssl, sess);
		SSL_SESSION_free(sess);
	}
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

void tls_client_stats(const struct tls_client *tc, unsigned long *resumed, unsigned long *full)
{
	/* the casts: older clang refuses atomic loads through a const pointer */
	*resumed = atomic_load_explicit((atomic_ulong *)&tc->resumed, memory_order_relaxed);
	*full = atomic_load_explicit((atomic_ulong *)&tc->full, memory_order_relaxed);
}
