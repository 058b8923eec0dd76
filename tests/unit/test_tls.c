/* test_tls.c - certificate loading, SNI selection, verification and
 * session resumption, with live handshakes over socketpairs. Every
 * certificate is made at test time in a temporary directory. */
#include <config.h>

#include "cfg.h"
#include "tls.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];
static char warnings[4096];
static int nwarnings;

/* ---- certificates ---- */

static const char *tpath(const char *name)
{
	static char bufs[8][256];
	static int next;
	char *p = bufs[next++ % 8];

	snprintf(p, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return p;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	ck_assert_ptr_nonnull(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

/* Self-signed when `issuer` is NULL. Validity from now+from_s to now+to_s. */
static X509 *make_cert(const char *cn, const char *san, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey,
		       long from_s, long to_s)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), to_s);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	X509_set_pubkey(x, key);
	if (!issuer) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "CA:FALSE");
	}
	if (san)
		add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
	ck_assert_int_gt(X509_sign(x, issuer ? ikey : key, EVP_sha256()), 0);
	return x;
}

static void write_pem(const char *name, X509 *leaf, X509 *chain, EVP_PKEY *key)
{
	FILE *f = fopen(tpath(name), "w");

	ck_assert_ptr_nonnull(f);
	if (leaf)
		PEM_write_X509(f, leaf);
	if (chain)
		PEM_write_X509(f, chain);
	if (key)
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(tpath(name), "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* A leaf signed by `ca`, written as <name> (cert, chain, and the key unless
 * `key_beside`, which puts it in <name>.key). */
static void make_leaf(const char *name, const char *cn, const char *san, X509 *ca, EVP_PKEY *cakey,
		      long from_s, long to_s, int key_beside)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = make_cert(cn, san, key, ca, cakey, from_s, to_s);
	char keyname[128];

	write_pem(name, x, ca, key_beside ? NULL : key);
	if (key_beside) {
		snprintf(keyname, sizeof(keyname), "%s.key", name);
		write_pem(keyname, NULL, NULL, key);
	}
	X509_free(x);
	EVP_PKEY_free(key);
}

static void setup(void)
{
	const long day = 86400;
	EVP_PKEY *cakey, *ca2key, *other;
	X509 *ca, *ca2, *x;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_tls.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	cakey = EVP_EC_gen("P-256");
	ca2key = EVP_EC_gen("P-256");
	other = EVP_EC_gen("P-256");
	ca = make_cert("Test CA", NULL, cakey, NULL, NULL, -day, 30 * day);
	ca2 = make_cert("Other CA", NULL, ca2key, NULL, NULL, -day, 30 * day);
	write_pem("ca.pem", ca, NULL, NULL);
	write_pem("ca2.pem", ca2, NULL, NULL);
	make_leaf("a.pem", "a.test", "DNS:a.test,DNS:*.wild.test", ca, cakey, -day, 30 * day, 0);
	make_leaf("b.pem", "b.test", "DNS:b.test,DNS:B2.test", ca, cakey, -day, 30 * day, 1);
	make_leaf("cn.pem", "cn.test", NULL, ca, cakey, -day, 30 * day, 0);
	make_leaf("expired.pem", "old.test", "DNS:old.test", ca, cakey, -30 * day, -day, 0);
	make_leaf("future.pem", "new.test", "DNS:new.test", ca, cakey, day, 30 * day, 0);
	make_leaf("client.pem", "client", NULL, ca, cakey, -day, 30 * day, 0);
	/* a's certificate with another key */
	x = make_cert("a.test", "DNS:a.test", ca2key, ca, cakey, -day, day);
	write_pem("mismatch.pem", x, NULL, other);
	write_pem("nokey.pem", x, NULL, NULL);
	write_pem("badkey.pem", x, NULL, NULL);
	X509_free(x);
	{
		FILE *f = fopen(tpath("badkey.pem"), "a");
		fputs("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", f);
		fclose(f);
	}
	write_text("garbage.pem", "not a certificate\n");
	ck_assert_int_eq(symlink(tpath("loop"), tpath("loop")), 0);
	ck_assert_int_eq(mkdir(tpath("dir"), 0700), 0);
	ck_assert_int_eq(mkdir(tpath("empty"), 0700), 0);
	make_leaf("dir/1-one.pem", "one.test", "DNS:one.test", ca, cakey, -day, 30 * day, 0);
	make_leaf("dir/2-two.pem", "two.test", "DNS:two.test", ca, cakey, -day, 30 * day, 1);
	make_leaf("dir/3-three.pem", "three.test", "DNS:three.test", ca, cakey, -day, 30 * day, 0);
	write_text("dir/README", "certificates for the test\n");
	write_pem("dir/1-one.pem.issuer", ca, NULL, NULL);
	write_text("dir/1-one.pem.ocsp", "\x30\x03");
	write_text("dir/.hidden", "ignored\n");
	X509_free(ca);
	X509_free(ca2);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(ca2key);
	EVP_PKEY_free(other);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- helpers ---- */

static void on_warn(void *arg, const char *msg)
{
	size_t used = strlen(warnings);

	(void)arg;
	snprintf(warnings + used, sizeof(warnings) - used, "%s\n", msg);
	nwarnings++;
}

/* A bind from up to three `crt` paths (NULL ends the list). */
static struct tls_bind *bind3(struct cfg_bind *b, const char *c1, const char *c2, const char *c3,
			      char *err, size_t errlen)
{
	static struct cfg_str crts[3];
	const char *paths[3] = {c1, c2, c3};
	struct cfg_str **tail = &b->crts;

	for (int i = 0; i < 3 && paths[i]; i++) {
		crts[i].s = (char *)paths[i];
		crts[i].next = NULL;
		*tail = &crts[i];
		tail = &crts[i].next;
	}
	b->ssl = 1;
	warnings[0] = '\0';
	nwarnings = 0;
	err[0] = '\0';
	return tls_bind_new(b, NULL, on_warn, NULL, err, errlen);
}

static struct tls_client *client(const char *ca, enum cfg_verify verify, const char *verifyhost,
				 char *err, size_t errlen)
{
	struct cfg_server sv = {.name = "r1", .ssl = 1, .verify = verify};

	sv.ca_file = (char *)ca;
	sv.verifyhost = (char *)verifyhost;
	err[0] = '\0';
	return tls_client_new(&sv, NULL, err, errlen);
}

struct tconn {
	SSL *c;
	SSL *s;
	int fd[2];
};

/* Both ends in one thread on non-blocking sockets: step each side until
 * both are done. 0, or -1 when the client failed, -2 the server. */
static int pump(SSL *c, SSL *s)
{
	int cdone = 0, sdone = 0;

	for (int i = 0; i < 1000 && !(cdone && sdone); i++) {
		int r;
		if (!cdone) {
			r = SSL_do_handshake(c);
			if (r == 1)
				cdone = 1;
			else if (SSL_get_error(c, r) != SSL_ERROR_WANT_READ &&
				 SSL_get_error(c, r) != SSL_ERROR_WANT_WRITE)
				return -1;
		}
		if (!sdone) {
			r = SSL_do_handshake(s);
			if (r == 1)
				sdone = 1;
			else if (SSL_get_error(s, r) != SSL_ERROR_WANT_READ &&
				 SSL_get_error(s, r) != SSL_ERROR_WANT_WRITE)
				return -2;
		}
	}
	return cdone && sdone ? 0 : -3;
}

static int tconn_open(struct tconn *t, struct tls_bind *tb, struct tls_client *tc, const char *sni)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, t->fd), 0);
	fcntl(t->fd[0], F_SETFL, O_NONBLOCK);
	fcntl(t->fd[1], F_SETFL, O_NONBLOCK);
	t->c = tls_client_ssl_new(tc, sni);
	t->s = tls_bind_ssl_new(tb);
	ck_assert_ptr_nonnull(t->c);
	ck_assert_ptr_nonnull(t->s);
	SSL_set_fd(t->c, t->fd[0]);
	SSL_set_fd(t->s, t->fd[1]);
	return pump(t->c, t->s);
}

/* Server to client application data: also makes the client read the TLS
 * 1.3 NewSessionTickets that precede it. */
static void tconn_data(struct tconn *t)
{
	char buf[16];
	int n = -1;

	ck_assert_int_eq(SSL_write(t->s, "hello", 5), 5);
	for (int i = 0; i < 100 && n <= 0; i++)
		n = SSL_read(t->c, buf, sizeof(buf));
	ck_assert_int_eq(n, 5);
	ck_assert_mem_eq(buf, "hello", 5);
}

/* Without close_notify, as the daemon closes idle server connections. */
static void tconn_close(struct tconn *t)
{
	SSL_free(t->c);
	SSL_free(t->s);
	close(t->fd[0]);
	close(t->fd[1]);
}

static const char *peer_cn(SSL *ssl)
{
	static char cn[128];
	X509 *x = SSL_get0_peer_certificate(ssl);

	cn[0] = '\0';
	if (x)
		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	return cn;
}

/* CN of the certificate served for `sni`, verification off. */
static const char *served_for(struct tls_bind *tb, const char *sni)
{
	char err[512];
	struct tls_client *tc = client(NULL, CFG_VERIFY_NONE, NULL, err, sizeof(err));
	struct tconn t;
	static char cn[128];

	ck_assert_ptr_nonnull(tc);
	ck_assert_int_eq(tconn_open(&t, tb, tc, sni), 0);
	snprintf(cn, sizeof(cn), "%s", peer_cn(t.c));
	tconn_close(&t);
	tls_client_free(tc);
	return cn;
}

/* ---- loading ---- */

START_TEST(test_load_pem_with_key)
{
	struct cfg_bind b = {0};
	char err[512];
	struct tls_bind *tb = bind3(&b, tpath("a.pem"), NULL, NULL, err, sizeof(err));

	ck_assert_msg(tb != NULL, "%s", err);
	ck_assert_int_eq(nwarnings, 0);
	tls_bind_free(tb);
}
END_TEST

START_TEST(test_load_key_beside)
{
	struct cfg_bind b = {0};
	char err[512];
	struct tls_bind *tb = bind3(&b, tpath("b.pem"), NULL, NULL, err, sizeof(err));

	ck_assert_msg(tb != NULL, "%s", err);
	ck_assert_str_eq(served_for(tb, NULL), "b.test");
	tls_bind_free(tb);
}
END_TEST

START_TEST(test_load_dir)
{
	struct cfg_bind b = {0};
	char err[512];
	struct tls_bind *tb = bind3(&b, tpath("dir"), NULL, NULL, err, sizeof(err));

	ck_assert_msg(tb != NULL, "%s", err);
	/* README is not a certificate; 2-two.pem.key, .issuer, .ocsp and .hidden
	 * pass silently */
	ck_assert_int_eq(nwarnings, 1);
	ck_assert_ptr_nonnull(strstr(warnings, "dir/README"));
	ck_assert_str_eq(served_for(tb, NULL), "one.test"); /* first by name */
	ck_assert_str_eq(served_for(tb, "one.test"), "one.test");
	ck_assert_str_eq(served_for(tb, "two.test"), "two.test");
	ck_assert_str_eq(served_for(tb, "three.test"), "three.test");
	tls_bind_free(tb);
}
END_TEST

START_TEST(test_load_errors)
{
	struct cfg_bind b = {0};
	char err[512];

	ck_assert_ptr_null(bind3(&b, tpath("missing.pem"), NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "missing.pem"));
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));

	memset(&b, 0, sizeof(b));
	ck_assert_ptr_null(bind3(&b, tpath("loop"), NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "/loop"));
	ck_assert_ptr_nonnull(strstr(err, "symbolic links"));

	memset(&b, 0, sizeof(b));
	ck_assert_ptr_null(bind3(&b, tpath("mismatch.pem"), NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "key does not match certificate in '"));
	ck_assert_ptr_nonnull(strstr(err, "mismatch.pem"));

	memset(&b, 0, sizeof(b));
	ck_assert_ptr_null(bind3(&b, tpath("nokey.pem"), NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no private key in '"));
	ck_assert_ptr_nonnull(strstr(err, "nokey.pem.key"));

	memset(&b, 0, sizeof(b));
	ck_assert_ptr_null(bind3(&b, tpath("badkey.pem"), NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "cannot load the private key from '"));

	memset(&b, 0, sizeof(b));
	ck_assert_ptr_null(bind3(&b, tpath("garbage.pem"), NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no PEM certificate in '"));

	/* an error after good certificates frees them (ASan checks) */
	memset(&b, 0, sizeof(b));
	ck_assert_ptr_null(
	    bind3(&b, tpath("a.pem"), tpath("dir"), tpath("missing.pem"), err, sizeof(err)));

	memset(&b, 0, sizeof(b));
	ck_assert_ptr_null(bind3(&b, tpath("empty"), NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no certificate loaded"));
	ck_assert_ptr_nonnull(strstr(warnings, "no certificate in directory"));
}
END_TEST

START_TEST(test_load_unreadable)
{
	struct cfg_bind b = {0};
	char err[512];
	struct tls_bind *tb;

	if (geteuid() == 0)
		return; /* root reads anything: the ELOOP case above stands in */
	ck_assert_int_eq(chmod(tpath("cn.pem"), 0), 0);
	tb = bind3(&b, tpath("cn.pem"), NULL, NULL, err, sizeof(err));
	chmod(tpath("cn.pem"), 0600);
	ck_assert_ptr_null(tb);
	ck_assert_ptr_nonnull(strstr(err, "Permission denied"));
}
END_TEST

START_TEST(test_load_dates_warn)
{
	struct cfg_bind b = {0};
	char err[512];
	struct tls_bind *tb =
	    bind3(&b, tpath("expired.pem"), tpath("future.pem"), NULL, err, sizeof(err));

	ck_assert_msg(tb != NULL, "%s", err);
	ck_assert_int_eq(nwarnings, 2);
	ck_assert_ptr_nonnull(strstr(warnings, "expired.pem' expired on 20"));
	ck_assert_ptr_nonnull(strstr(warnings, "future.pem' is not valid before 20"));
	ck_assert_ptr_nonnull(strstr(warnings, " UTC"));
	tls_bind_free(tb);
}
END_TEST

START_TEST(test_options)
{
	struct cfg_bind b = {0};
	struct cfg_global g = {0};
	char err[512];
	struct tls_bind *tb;

	b.alpn = "http/1.1,h2";
	ck_assert_ptr_null(bind3(&b, tpath("a.pem"), NULL, NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "alpn h2 is not supported (ppbridge speaks HTTP/1.1 only)");
	b.alpn = "http/1.1,";
	ck_assert_ptr_null(bind3(&b, tpath("a.pem"), NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "empty protocol name"));
	b.alpn = NULL;
	b.ciphers = "NO-SUCH-CIPHER";
	ck_assert_ptr_null(bind3(&b, tpath("a.pem"), NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "invalid ciphers 'NO-SUCH-CIPHER'"));
	b.ciphers = NULL;
	b.ciphersuites = "TLS_NOPE";
	ck_assert_ptr_null(bind3(&b, tpath("a.pem"), NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "invalid ciphersuites 'TLS_NOPE'"));
	b.ciphersuites = NULL;
	b.ssl_min_ver = TLS1_3_VERSION;
	b.ssl_max_ver = TLS1_2_VERSION;
	ck_assert_ptr_null(bind3(&b, tpath("a.pem"), NULL, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "below ssl-min-ver"));

	/* a bad global default is refused, a bind value overrides it */
	memset(&b, 0, sizeof(b));
	b.crts = NULL;
	g.ssl_default_bind_ciphers = "NO-SUCH-CIPHER";
	b.ssl = 1;
	{
		struct cfg_str c = {.s = (char *)tpath("a.pem")};
		b.crts = &c;
		ck_assert_ptr_null(tls_bind_new(&b, &g, NULL, NULL, err, sizeof(err)));
		b.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
		tb = tls_bind_new(&b, &g, NULL, NULL, err, sizeof(err));
		ck_assert_msg(tb != NULL, "%s", err);
		tls_bind_free(tb);
	}
}
END_TEST

START_TEST(test_client_config)
{
	struct cfg_server sv = {.name = "r1", .ssl = 1};
	struct cfg_global g = {0};
	char err[512];
	struct tls_client *tc;

	ck_assert_ptr_null(client(NULL, CFG_VERIFY_DEFAULT, NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "verify is enabled by default but no CA file specified for server "
			      "'r1' (use 'ca-file' or 'verify none')");
	ck_assert_ptr_null(client(NULL, CFG_VERIFY_REQUIRED, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "verify is enabled but no CA file"));
	tc = client(NULL, CFG_VERIFY_NONE, NULL, err, sizeof(err));
	ck_assert_msg(tc != NULL, "%s", err);
	tls_client_free(tc);

	/* ssl-server-verify none, unless the server says required */
	g.ssl_server_verify_none = 1;
	tc = tls_client_new(&sv, &g, err, sizeof(err));
	ck_assert_msg(tc != NULL, "%s", err);
	tls_client_free(tc);
	sv.verify = CFG_VERIFY_REQUIRED;
	ck_assert_ptr_null(tls_client_new(&sv, &g, err, sizeof(err)));

	ck_assert_ptr_null(client(tpath("noca.pem"), CFG_VERIFY_DEFAULT, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "noca.pem"));
	ck_assert_ptr_null(
	    client(tpath("garbage.pem"), CFG_VERIFY_DEFAULT, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "garbage.pem"));

	sv.verify = CFG_VERIFY_DEFAULT;
	sv.ca_file = (char *)tpath("ca.pem");
	sv.crt = (char *)tpath("client.pem");
	tc = tls_client_new(&sv, NULL, err, sizeof(err));
	ck_assert_msg(tc != NULL, "%s", err);
	tls_client_free(tc);
	sv.crt = (char *)tpath("mismatch.pem");
	ck_assert_ptr_null(tls_client_new(&sv, NULL, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "server 'r1': key does not match certificate"));
	sv.crt = NULL;
	g.ssl_default_server_ciphers = "NO-SUCH-CIPHER";
	ck_assert_ptr_null(tls_client_new(&sv, &g, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "invalid ciphers"));
}
END_TEST

/* ---- live handshakes ---- */

START_TEST(test_sni_select)
{
	struct cfg_bind b = {0};
	char err[512];
	struct tls_bind *tb =
	    bind3(&b, tpath("b.pem"), tpath("a.pem"), tpath("cn.pem"), err, sizeof(err));

	ck_assert_msg(tb != NULL, "%s", err);
	ck_assert_str_eq(served_for(tb, NULL), "b.test");
	ck_assert_str_eq(served_for(tb, "a.test"), "a.test");
	ck_assert_str_eq(served_for(tb, "A.Test"), "a.test");
	ck_assert_str_eq(served_for(tb, "a.test."), "a.test");
	ck_assert_str_eq(served_for(tb, "b2.test"), "b.test");
	ck_assert_str_eq(served_for(tb, "x.wild.test"), "a.test");
	ck_assert_str_eq(served_for(tb, "X.WILD.test"), "a.test");
	ck_assert_str_eq(served_for(tb, "y.x.wild.test"), "b.test"); /* one label only */
	ck_assert_str_eq(served_for(tb, "wild.test"), "b.test");
	ck_assert_str_eq(served_for(tb, "cn.test"), "cn.test"); /* CN when no SAN */
	ck_assert_str_eq(served_for(tb, "unknown.test"), "b.test");
	tls_bind_free(tb);
}
END_TEST

START_TEST(test_verify)
{
	struct cfg_bind b = {0};
	char err[512];
	struct tls_bind *tb = bind3(&b, tpath("a.pem"), tpath("b.pem"), NULL, err, sizeof(err));
	struct tls_client *tc;
	struct tconn t;

	ck_assert_msg(tb != NULL, "%s", err);
	/* the right CA, the name checked against the SNI */
	tc = client(tpath("ca.pem"), CFG_VERIFY_DEFAULT, NULL, err, sizeof(err));
	ck_assert_msg(tc != NULL, "%s", err);
	ck_assert_int_eq(tconn_open(&t, tb, tc, "b.test"), 0);
	ck_assert_int_eq(SSL_get_verify_result(t.c), X509_V_OK);
	ck_assert_str_eq(peer_cn(t.c), "b.test");
	tconn_close(&t);
	/* the default certificate does not name what the SNI asked for */
	ck_assert_int_eq(tconn_open(&t, tb, tc, "unknown.test"), -1);
	ck_assert_int_eq(SSL_get_verify_result(t.c), X509_V_ERR_HOSTNAME_MISMATCH);
	tconn_close(&t);
	tls_client_free(tc);

	/* the wrong CA */
	tc = client(tpath("ca2.pem"), CFG_VERIFY_REQUIRED, NULL, err, sizeof(err));
	ck_assert_msg(tc != NULL, "%s", err);
	ck_assert_int_eq(tconn_open(&t, tb, tc, "a.test"), -1);
	ck_assert_int_ne(SSL_get_verify_result(t.c), X509_V_OK);
	tconn_close(&t);
	tls_client_free(tc);

	/* verifyhost wins over the SNI */
	tc = client(tpath("ca.pem"), CFG_VERIFY_DEFAULT, "other.test", err, sizeof(err));
	ck_assert_msg(tc != NULL, "%s", err);
	ck_assert_int_eq(tconn_open(&t, tb, tc, "a.test"), -1);
	ck_assert_int_eq(SSL_get_verify_result(t.c), X509_V_ERR_HOSTNAME_MISMATCH);
	tconn_close(&t);
	tls_client_free(tc);
	tc = client(tpath("ca.pem"), CFG_VERIFY_DEFAULT, "a.test", err, sizeof(err));
	ck_assert_int_eq(tconn_open(&t, tb, tc, NULL), 0); /* no SNI: the default, a */
	tconn_close(&t);
	ck_assert_int_eq(tconn_open(&t, tb, tc, "b.test"), -1); /* b served, a expected */
	ck_assert_int_eq(SSL_get_verify_result(t.c), X509_V_ERR_HOSTNAME_MISMATCH);
	tconn_close(&t);
	tls_client_free(tc);

	/* verify none takes anything */
	tc = client(tpath("ca2.pem"), CFG_VERIFY_NONE, "other.test", err, sizeof(err));
	ck_assert_int_eq(tconn_open(&t, tb, tc, "unknown.test"), 0);
	tconn_close(&t);
	tls_client_free(tc);
	tls_bind_free(tb);
}
END_TEST

START_TEST(test_versions_alpn)
{
	struct cfg_bind b = {0};
	char err[512];
	struct tls_bind *tb;
	struct tls_client *tc = client(tpath("ca.pem"), CFG_VERIFY_DEFAULT, NULL, err, sizeof(err));
	const unsigned char *proto;
	unsigned plen;
	struct tconn t;

	ck_assert_msg(tc != NULL, "%s", err);
	b.alpn = "http/1.1";
	tb = bind3(&b, tpath("a.pem"), NULL, NULL, err, sizeof(err));
	ck_assert_msg(tb != NULL, "%s", err);
	ck_assert_int_eq(tconn_open(&t, tb, tc, "a.test"), 0);
	ck_assert_int_eq(SSL_version(t.c), TLS1_3_VERSION);
	tconn_close(&t);

	/* ALPN: ours among the client's; none in common is no ALPN at all */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, t.fd), 0);
	t.c = tls_client_ssl_new(tc, "a.test");
	t.s = tls_bind_ssl_new(tb);
	SSL_set_alpn_protos(t.c, (const unsigned char *)"\x02h2\x08http/1.1", 12);
	SSL_set_fd(t.c, t.fd[0]);
	SSL_set_fd(t.s, t.fd[1]);
	fcntl(t.fd[0], F_SETFL, O_NONBLOCK);
	fcntl(t.fd[1], F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(pump(t.c, t.s), 0);
	SSL_get0_alpn_selected(t.s, &proto, &plen);
	ck_assert_uint_eq(plen, 8);
	ck_assert_mem_eq(proto, "http/1.1", 8);
	tconn_close(&t);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, t.fd), 0);
	t.c = tls_client_ssl_new(tc, "a.test");
	t.s = tls_bind_ssl_new(tb);
	SSL_set_alpn_protos(t.c, (const unsigned char *)"\x02h2", 3);
	SSL_set_fd(t.c, t.fd[0]);
	SSL_set_fd(t.s, t.fd[1]);
	fcntl(t.fd[0], F_SETFL, O_NONBLOCK);
	fcntl(t.fd[1], F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(pump(t.c, t.s), 0);
	SSL_get0_alpn_selected(t.s, &proto, &plen);
	ck_assert_uint_eq(plen, 0);
	tconn_close(&t);
	tls_bind_free(tb);

	/* TLS 1.2 only, and a TLS 1.3-only bind a TLS 1.2 client cannot reach */
	memset(&b, 0, sizeof(b));
	b.ssl_max_ver = TLS1_2_VERSION;
	tb = bind3(&b, tpath("a.pem"), NULL, NULL, err, sizeof(err));
	ck_assert_msg(tb != NULL, "%s", err);
	ck_assert_int_eq(tconn_open(&t, tb, tc, "a.test"), 0);
	ck_assert_int_eq(SSL_version(t.c), TLS1_2_VERSION);
	tconn_close(&t);
	tls_bind_free(tb);
	memset(&b, 0, sizeof(b));
	b.ssl_min_ver = TLS1_3_VERSION;
	tb = bind3(&b, tpath("a.pem"), NULL, NULL, err, sizeof(err));
	ck_assert_msg(tb != NULL, "%s", err);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, t.fd), 0);
	t.c = tls_client_ssl_new(tc, "a.test");
	t.s = tls_bind_ssl_new(tb);
	SSL_set_max_proto_version(t.c, TLS1_2_VERSION);
	SSL_set_fd(t.c, t.fd[0]);
	SSL_set_fd(t.s, t.fd[1]);
	fcntl(t.fd[0], F_SETFL, O_NONBLOCK);
	fcntl(t.fd[1], F_SETFL, O_NONBLOCK);
	ck_assert_int_lt(pump(t.c, t.s), 0);
	tconn_close(&t);
	tls_bind_free(tb);
	tls_client_free(tc);
}
END_TEST

/* Two connections per SNI; the second must resume, also after an SNI
 * switch to a non-default certificate, and a session never crosses SNIs. */
static void check_resumption(int max_ver)
{
	struct cfg_bind b = {.ssl_max_ver = max_ver};
	char err[512];
	struct tls_bind *tb = bind3(&b, tpath("a.pem"), tpath("b.pem"), NULL, err, sizeof(err));
	struct tls_client *tc = client(tpath("ca.pem"), CFG_VERIFY_DEFAULT, NULL, err, sizeof(err));
	const char *snis[] = {"a.test", "b.test", "a.test", "b.test", "x.wild.test", ""};
	const int reused[] = {0, 0, 1, 1, 0, 0};
	unsigned long res, full;
	struct tconn t;

	ck_assert_ptr_nonnull(tb);
	ck_assert_msg(tc != NULL, "%s", err);
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(tconn_open(&t, tb, tc, snis[i]), 0);
		ck_assert_int_eq(SSL_version(t.c), max_ver ? max_ver : TLS1_3_VERSION);
		ck_assert_msg(SSL_session_reused(t.c) == reused[i], "connection %d (%s)", i,
			      snis[i]);
		ck_assert_str_eq(peer_cn(t.c), snis[i][0] == 'b' ? "b.test" : "a.test");
		tconn_data(&t);
		tconn_close(&t); /* no close_notify: the cache must not care */
	}
	tls_client_stats(tc, &res, &full);
	ck_assert_uint_eq(res, 2);
	ck_assert_uint_eq(full, 4);
	/* the bind outlives tls_bind_free while a connection holds it */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, t.fd), 0);
	t.c = tls_client_ssl_new(tc, "b.test");
	t.s = tls_bind_ssl_new(tb);
	tls_bind_free(tb);
	tls_client_free(tc);
	SSL_set_fd(t.c, t.fd[0]);
	SSL_set_fd(t.s, t.fd[1]);
	fcntl(t.fd[0], F_SETFL, O_NONBLOCK);
	fcntl(t.fd[1], F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(pump(t.c, t.s), 0);
	ck_assert_int_eq(SSL_session_reused(t.c), 1);
	ck_assert_str_eq(peer_cn(t.c), "b.test");
	tconn_data(&t);
	tconn_close(&t);
}

START_TEST(test_resume_tls13)
{
	check_resumption(0);
}
END_TEST

START_TEST(test_resume_tls12)
{
	check_resumption(TLS1_2_VERSION);
}
END_TEST

/* TLS 1.2 without tickets: the server's session cache (session id). */
START_TEST(test_resume_session_id)
{
	struct cfg_bind b = {.ssl_max_ver = TLS1_2_VERSION};
	char err[512];
	struct tls_bind *tb = bind3(&b, tpath("a.pem"), tpath("b.pem"), NULL, err, sizeof(err));
	struct tls_client *tc = client(tpath("ca.pem"), CFG_VERIFY_DEFAULT, NULL, err, sizeof(err));
	struct tconn t;

	ck_assert_ptr_nonnull(tb);
	ck_assert_ptr_nonnull(tc);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, t.fd), 0);
		t.c = tls_client_ssl_new(tc, "b.test");
		t.s = tls_bind_ssl_new(tb);
		SSL_set_options(t.c, SSL_OP_NO_TICKET);
		SSL_set_fd(t.c, t.fd[0]);
		SSL_set_fd(t.s, t.fd[1]);
		fcntl(t.fd[0], F_SETFL, O_NONBLOCK);
		fcntl(t.fd[1], F_SETFL, O_NONBLOCK);
		ck_assert_int_eq(pump(t.c, t.s), 0);
		ck_assert_int_eq(SSL_session_reused(t.c), i);
		/* the server keeps its cache entry only after a clean close */
		SSL_shutdown(t.s);
		tconn_close(&t);
	}
	tls_bind_free(tb);
	tls_client_free(tc);
}
END_TEST

/* Worker threads share one tls_client (and one bind): the cache lock. */
struct worker {
	struct tls_bind *tb;
	struct tls_client *tc;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 20; i++) {
		struct tconn t;
		char buf[8];
		int n = -1;

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, t.fd) < 0) {
			w->failures++;
			continue;
		}
		fcntl(t.fd[0], F_SETFL, O_NONBLOCK);
		fcntl(t.fd[1], F_SETFL, O_NONBLOCK);
		t.c = tls_client_ssl_new(w->tc, i % 2 ? "a.test" : "b.test");
		t.s = tls_bind_ssl_new(w->tb);
		SSL_set_fd(t.c, t.fd[0]);
		SSL_set_fd(t.s, t.fd[1]);
		if (pump(t.c, t.s) < 0 || SSL_write(t.s, "x", 1) != 1)
			w->failures++;
		for (int k = 0; k < 100 && n <= 0; k++)
			n = SSL_read(t.c, buf, sizeof(buf));
		w->failures += n != 1;
		tconn_close(&t);
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct cfg_bind b = {0};
	char err[512];
	struct worker w[4];
	pthread_t th[4];
	unsigned long res, full;

	w[0].tb = bind3(&b, tpath("a.pem"), tpath("b.pem"), NULL, err, sizeof(err));
	w[0].tc = client(tpath("ca.pem"), CFG_VERIFY_DEFAULT, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(w[0].tb);
	ck_assert_ptr_nonnull(w[0].tc);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.tb = w[0].tb, .tc = w[0].tc};
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].failures, 0);
	}
	tls_client_stats(w[0].tc, &res, &full);
	ck_assert_uint_eq(res + full, 80);
	ck_assert_uint_ge(res, 60);
	tls_client_free(w[0].tc);
	tls_bind_free(w[0].tb);
}
END_TEST

static Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *load = tcase_create("load");
	TCase *live = tcase_create("live");

	tcase_add_unchecked_fixture(load, setup, teardown);
	tcase_add_test(load, test_load_pem_with_key);
	tcase_add_test(load, test_load_key_beside);
	tcase_add_test(load, test_load_dir);
	tcase_add_test(load, test_load_errors);
	tcase_add_test(load, test_load_unreadable);
	tcase_add_test(load, test_load_dates_warn);
	tcase_add_test(load, test_options);
	tcase_add_test(load, test_client_config);
	suite_add_tcase(s, load);
	tcase_add_unchecked_fixture(live, setup, teardown);
	tcase_add_test(live, test_sni_select);
	tcase_add_test(live, test_verify);
	tcase_add_test(live, test_versions_alpn);
	tcase_add_test(live, test_resume_tls13);
	tcase_add_test(live, test_resume_tls12);
	tcase_add_test(live, test_resume_session_id);
	tcase_add_test(live, test_threads);
	tcase_set_timeout(live, 20);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tls_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
