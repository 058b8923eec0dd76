/* test_proxy_proto.c - PROXY protocol codec: golden bytes, every accepted
 * and rejected form, truncation at every offset, round trips. */
#include <config.h>

#include "net.h"
#include "proxy_proto.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define SIG "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A"
#define SIGLEN 12

/* ------------------------------------------------------------------ */
/* helpers */

static struct sockaddr_storage mkaddr(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(net_parse_ip(ip, &ss, &len), 0);
	net_set_port((struct sockaddr *)&ss, port);
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static enum pp_result dec(const void *buf, size_t len, const struct pp_decode_opts *o,
                          struct pp_header *h, size_t *used, enum pp_error *e)
{
	return pp_decode(buf, len, o, h, used, e);
}

/* Every strict prefix says NEED_MORE (never an error); the whole is OK and
 * consumes exactly len bytes, also when payload follows. */
static void check_valid(const void *v, size_t len, const struct pp_decode_opts *o,
                        struct pp_header *out)
{
	static uint8_t tmp[70000];
	struct pp_header h;
	enum pp_error e;
	size_t used, k;

	ck_assert_uint_le(len + 5, sizeof(tmp));
	memcpy(tmp, v, len);
	memcpy(tmp + len, "\x16\x03\x01GE", 5);
	for (k = 0; k < len; k++) {
		enum pp_result r = dec(tmp, k, o, &h, &used, &e);

		ck_assert_msg(r == PP_NEED_MORE, "prefix %zu of %zu: result %d err %s", k, len, r,
		              pp_strerror(e));
		ck_assert_int_eq(e, PP_ERR_NONE);
		ck_assert_uint_eq(used, 0);
	}
	ck_assert_int_eq(dec(tmp, len + 5, o, &h, &used, &e), PP_OK);
	ck_assert_uint_eq(used, len);
	/* last on the caller's bytes: TLV pointers in *out point there */
	ck_assert_int_eq(dec(v, len, o, out, &used, &e), PP_OK);
	ck_assert_int_eq(e, PP_ERR_NONE);
	ck_assert_uint_eq(used, len);
	ck_assert_uint_eq(out->header_len, len);
}

/* Prefixes shorter than `at` say NEED_MORE; from `at` bytes on (up to len,
 * and with more garbage after) the error is `want`. */
static void check_error_at(const void *v, size_t len, const struct pp_decode_opts *o,
                           enum pp_error want, size_t at)
{
	static uint8_t tmp[70000];
	struct pp_header h;
	enum pp_error e;
	size_t used, k;

	ck_assert_uint_le(at, len);
	memcpy(tmp, v, len);
	memset(tmp + len, 'Z', 200);
	for (k = 0; k < at; k++)
		ck_assert_msg(dec(tmp, k, o, &h, &used, &e) == PP_NEED_MORE,
		              "prefix %zu (error expected at %zu): %s", k, at, pp_strerror(e));
	for (k = at; k <= len + 200; k++) {
		enum pp_result r = dec(tmp, k, o, &h, &used, &e);

		ck_assert_msg(r == PP_ERROR && e == want,
		              "len %zu: result %d err %s, want %s at %zu", k, r, pp_strerror(e),
		              pp_strerror(want), at);
		ck_assert_uint_eq(used, 0);
	}
}

static void check_valid_s(const char *line, const struct pp_decode_opts *o, struct pp_header *out)
{
	check_valid(line, strlen(line), o, out);
}

static void check_v1_error(const char *line, enum pp_error want, size_t at)
{
	check_error_at(line, strlen(line), NULL, want, at);
}

/* v2 header builder */
struct vb {
	uint8_t b[70000];
	size_t n;
};

static struct vb vbuf;

static struct vb *v2_begin(uint8_t vercmd, uint8_t fam)
{
	vbuf.n = 0;
	memcpy(vbuf.b, SIG, SIGLEN);
	vbuf.b[12] = vercmd;
	vbuf.b[13] = fam;
	vbuf.b[14] = vbuf.b[15] = 0;
	vbuf.n = 16;
	return &vbuf;
}

static void vb_add(struct vb *v, const void *p, size_t len)
{
	memcpy(v->b + v->n, p, len);
	v->n += len;
}

static void vb_fill(struct vb *v, uint8_t c, size_t len)
{
	memset(v->b + v->n, c, len);
	v->n += len;
}

static void vb_tlv(struct vb *v, uint8_t type, const void *p, size_t len)
{
	v->b[v->n] = type;
	v->b[v->n + 1] = (uint8_t)(len >> 8);
	v->b[v->n + 2] = (uint8_t)len;
	v->n += 3;
	vb_add(v, p, len);
}

/* Set len from the bytes added; returns the total. */
static size_t vb_end(struct vb *v)
{
	size_t l = v->n - 16;

	v->b[14] = (uint8_t)(l >> 8);
	v->b[15] = (uint8_t)l;
	return v->n;
}

static const uint8_t addr4[12] = {1, 2, 3, 4, 5, 6, 7, 8, 0x04, 0x57, 0x08, 0xAE};

static void crc_fix(struct vb *v, size_t value_off)
{
	uint32_t c;

	memset(v->b + value_off, 0, 4);
	c = pp_crc32c(v->b, v->n);
	v->b[value_off] = (uint8_t)(c >> 24);
	v->b[value_off + 1] = (uint8_t)(c >> 16);
	v->b[value_off + 2] = (uint8_t)(c >> 8);
	v->b[value_off + 3] = (uint8_t)c;
}

static void assert_bytes(struct pp_bytes b, const char *s)
{
	ck_assert_ptr_nonnull(b.ptr);
	ck_assert_uint_eq(b.len, strlen(s));
	ck_assert_mem_eq(b.ptr, s, b.len);
}

static void assert_addr(const struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	char buf[NET_ADDRSTRLEN];

	ck_assert_str_eq(net_format_ip((const struct sockaddr *)ss, buf, sizeof(buf)), ip);
	ck_assert_uint_eq(net_get_port((const struct sockaddr *)ss), port);
}

/* ------------------------------------------------------------------ */
/* CRC32C and names */

START_TEST(test_crc32c)
{
	const char *s = "123456789";
	uint32_t c;

	ck_assert_uint_eq(pp_crc32c(s, 9), 0xE3069283u);
	c = pp_crc32c_update(0, s, 4);
	ck_assert_uint_eq(pp_crc32c_update(c, s + 4, 5), 0xE3069283u);
	ck_assert_uint_eq(pp_crc32c("", 0), 0);
	/* RFC 3720 B.4: 32 bytes of zeros */
	{
		uint8_t z[32] = {0};

		ck_assert_uint_eq(pp_crc32c(z, 32), 0x8A9136AAu);
	}
}
END_TEST

START_TEST(test_strerror)
{
	static const char *const names[] = {
	    "none",         "bad_signature", "bad_version", "bad_command",     "bad_family",
	    "bad_address",  "bad_port",      "bad_syntax",  "truncated_block", "bad_tlv",
	    "crc_mismatch", "too_large",
	};
	int i;

	ck_assert_int_eq(PP_ERR_NONE, 0);
	ck_assert_int_eq(PP_ERR_COUNT, 12);
	for (i = 0; i < PP_ERR_COUNT; i++)
		ck_assert_str_eq(pp_strerror((enum pp_error)i), names[i]);
	ck_assert_str_eq(pp_strerror(PP_ERR_COUNT), "unknown");
	ck_assert_str_eq(pp_strerror((enum pp_error) - 1), "unknown");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Golden bytes captured from HAProxy 2.6.12 on this machine. */

/* send-proxy-v2 proxy-v2-options crc32c,unique-id,ssl; frontend not TLS;
 * unique-id-format %{+X}o\ %ci:%cp; client 127.0.0.1:50904 to the
 * frontend 127.0.0.1:38839. */
static const uint8_t hap_relayed[] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00,
    0x2b, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0xc6, 0xd8, 0x97, 0xb7, 0x03, 0x00,
    0x04, 0xee, 0xe7, 0x78, 0x07, 0x05, 0x00, 0x0d, 0x37, 0x46, 0x30, 0x30, 0x30, 0x30, 0x30,
    0x31, 0x3a, 0x43, 0x36, 0x44, 0x38, 0x20, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* The same server's health check: LOCAL, CRC32C and SSL, no UNIQUE_ID. */
static const uint8_t hap_check[] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x0f,
    0x03, 0x00, 0x04, 0x88, 0x9d, 0xa1, 0xdf, 0x20, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* plain send-proxy-v2, client [::1]:47836 to [::1]:59065 */
static const uint8_t hap_tcp6[] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21,
    0x21, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xba, 0xdc, 0xe6, 0xb9,
};

/* plain send-proxy-v2 on a `bind :::port v4v6`, client 127.0.0.1:47844:
 * HAProxy sends TCP6 with both ends mapped (we send TCP4 there). */
static const uint8_t hap_mapped[] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21,
    0x21, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0x7f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xff, 0x7f, 0x00, 0x00, 0x01, 0xba, 0xe4, 0xe6, 0xb9,
};

/* send-proxy, relayed */
static const char hap_v1[] = "PROXY TCP4 127.0.0.1 127.0.0.1 60052 58175\r\n";

START_TEST(test_golden_haproxy_relayed)
{
	struct sockaddr_storage s = mkaddr("127.0.0.1", 50904), d = mkaddr("127.0.0.1", 38839);
	struct pp_v2_send snd = {.src = SA(s), .dst = SA(d)};
	uint8_t out[600];
	int n;

	snd.flags = PP_V2_F_CRC32C | PP_V2_F_UNIQUE_ID | PP_V2_F_SSL;
	snd.unique_id = pp_bytes_str("7F000001:C6D8");
	n = pp_encode_v2(out, sizeof(out), &snd);
	ck_assert_int_eq(n, (int)sizeof(hap_relayed));
	ck_assert_mem_eq(out, hap_relayed, sizeof(hap_relayed));
	/* the SSL TLV of a connection we did not terminate */
	ck_assert_mem_eq(out + 51, "\x20\x00\x05\x00\x00\x00\x00\x00", 8);
	/* authority flag without a value (not TLS): omitted */
	snd.flags |= PP_V2_F_AUTHORITY;
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), (int)sizeof(hap_relayed));
	ck_assert_mem_eq(out, hap_relayed, sizeof(hap_relayed));
}
END_TEST

START_TEST(test_golden_haproxy_check)
{
	struct sockaddr_storage s = mkaddr("127.0.0.1", 51334), d = mkaddr("127.0.0.1", 44847);
	struct pp_v2_send snd = {.flags = PP_V2_F_CRC32C | PP_V2_F_UNIQUE_ID | PP_V2_F_SSL};
	uint8_t out[600];

	/* a health check has no stream, so no unique id: LOCAL, CRC, SSL */
	snd.local = true;
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), (int)sizeof(hap_check));
	ck_assert_mem_eq(out, hap_check, sizeof(hap_check));
	/* `local` wins over addresses */
	snd.src = SA(s);
	snd.dst = SA(d);
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), (int)sizeof(hap_check));
	ck_assert_mem_eq(out, hap_check, sizeof(hap_check));
}
END_TEST

START_TEST(test_golden_haproxy_plain)
{
	struct sockaddr_storage s6 = mkaddr("::1", 47836), d6 = mkaddr("::1", 59065);
	struct sockaddr_storage s4 = mkaddr("127.0.0.1", 60052), d4 = mkaddr("127.0.0.1", 58175);
	struct pp_v2_send snd = {.src = SA(s6), .dst = SA(d6)};
	struct pp_header h;
	uint8_t out[600];
	int n;

	n = pp_encode_v2(out, sizeof(out), &snd);
	ck_assert_int_eq(n, (int)sizeof(hap_tcp6));
	ck_assert_mem_eq(out, hap_tcp6, sizeof(hap_tcp6));

	n = pp_encode_v1(out, sizeof(out), SA(s4), SA(d4));
	ck_assert_int_eq(n, (int)strlen(hap_v1));
	ck_assert_mem_eq(out, hap_v1, strlen(hap_v1));

	/* what HAProxy sends, we decode */
	check_valid(hap_relayed, sizeof(hap_relayed), NULL, &h);
	ck_assert_int_eq(h.command, PP_CMD_PROXY);
	assert_addr(&h.src, "127.0.0.1", 50904);
	assert_addr(&h.dst, "127.0.0.1", 38839);
	assert_bytes(h.tlv.unique_id, "7F000001:C6D8");
	ck_assert(h.tlv.has_crc32c);
	ck_assert_uint_eq(h.tlv.crc32c, 0xeee77807u);
	ck_assert(h.tlv.ssl.present);
	ck_assert_uint_eq(h.tlv.ssl.client, 0);
	ck_assert_uint_eq(h.tlv.ssl.verify, 0);
	ck_assert_uint_eq(h.tlv.ssl.subtlvs.len, 0);
	check_valid(hap_check, sizeof(hap_check), NULL, &h);
	ck_assert_int_eq(h.command, PP_CMD_LOCAL);
	ck_assert(h.use_real_addrs);
	ck_assert(h.tlv.has_crc32c && h.tlv.ssl.present);
	check_valid(hap_tcp6, sizeof(hap_tcp6), NULL, &h);
	assert_addr(&h.src, "::1", 47836);
	check_valid(hap_mapped, sizeof(hap_mapped), NULL, &h);
	ck_assert_int_eq(h.fam, PP_FAM_TCP6);
	assert_addr(&h.src, "::ffff:127.0.0.1", 47844);
	check_valid(hap_v1, strlen(hap_v1), NULL, &h);
	ck_assert_int_eq(h.version, PP_VERSION_1);
	assert_addr(&h.src, "127.0.0.1", 60052);
	assert_addr(&h.dst, "127.0.0.1", 58175);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Encoder forms */

START_TEST(test_encode_v1_forms)
{
	struct sockaddr_storage a4 = mkaddr("1.2.3.4", 1111), b4 = mkaddr("5.6.7.8", 2222);
	struct sockaddr_storage a6 = mkaddr("2001:db8::1", 1111), b6 = mkaddr("::1", 2222);
	struct sockaddr_storage m4 = mkaddr("::ffff:1.2.3.4", 1111),
	                        n4 = mkaddr("::ffff:5.6.7.8", 2222);
	struct sockaddr_storage un;
	uint8_t out[200];
	int n;

#define V1(s, d, want)                                                                             \
	do {                                                                                       \
		n = pp_encode_v1(out, sizeof(out), (s), (d));                                      \
		ck_assert_int_eq(n, (int)strlen(want));                                            \
		ck_assert_mem_eq(out, want, strlen(want));                                         \
	} while (0)

	V1(SA(a4), SA(b4), "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n");
	V1(SA(a6), SA(b6), "PROXY TCP6 2001:db8::1 ::1 1111 2222\r\n");
	/* both mapped: TCP4 (HAProxy would send TCP6 ::ffff:...) */
	V1(SA(m4), SA(n4), "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n");
	V1(SA(m4), SA(b4), "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n");
	/* mixed: TCP6 with the IPv4 end mapped, as HAProxy */
	V1(SA(a4), SA(b6), "PROXY TCP6 ::ffff:1.2.3.4 ::1 1111 2222\r\n");
	V1(SA(a6), SA(n4), "PROXY TCP6 2001:db8::1 ::ffff:5.6.7.8 1111 2222\r\n");
	/* no usable addresses: short UNKNOWN only */
	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNIX;
	V1(NULL, SA(b4), "PROXY UNKNOWN\r\n");
	V1(SA(a4), NULL, "PROXY UNKNOWN\r\n");
	V1(SA(un), SA(b4), "PROXY UNKNOWN\r\n");
	V1(SA(a4), SA(un), "PROXY UNKNOWN\r\n");
#undef V1
	/* exact fit, one short */
	ck_assert_int_eq(pp_encode_v1(out, 38, SA(a4), SA(b4)), 38);
	ck_assert_int_eq(pp_encode_v1(out, 37, SA(a4), SA(b4)), PP_ENC_NOSPACE);
	ck_assert_int_eq(pp_encode_v1(out, 14, NULL, NULL), PP_ENC_NOSPACE);
	/* the longest TCP6 line: 104 bytes */
	{
		struct sockaddr_storage x =
		    mkaddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535);
		struct sockaddr_storage y =
		    mkaddr("fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65534);

		ck_assert_int_eq(pp_encode_v1(out, sizeof(out), SA(x), SA(y)), 104);
	}
}
END_TEST

/* all TLVs, TCP6; built by an independent script */
static const uint8_t golden_all[] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x21, 0x00, 0x96,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x01, 0xbb, 0x20, 0xfb, 0x03, 0x00, 0x04, 0xfb, 0xea, 0xc9, 0x4a, 0x01, 0x00, 0x02, 0x68, 0x32,
    0x02, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x63, 0x6f, 0x6d, 0x05, 0x00,
    0x03, 0x61, 0x62, 0x63, 0x20, 0x00, 0x48, 0x07, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0x07, 0x54,
    0x4c, 0x53, 0x76, 0x31, 0x2e, 0x33, 0x22, 0x00, 0x06, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x25,
    0x00, 0x07, 0x52, 0x53, 0x41, 0x32, 0x30, 0x34, 0x38, 0x24, 0x00, 0x0a, 0x52, 0x53, 0x41, 0x2d,
    0x53, 0x48, 0x41, 0x32, 0x35, 0x36, 0x23, 0x00, 0x16, 0x54, 0x4c, 0x53, 0x5f, 0x41, 0x45, 0x53,
    0x5f, 0x31, 0x32, 0x38, 0x5f, 0x47, 0x43, 0x4d, 0x5f, 0x53, 0x48, 0x41, 0x32, 0x35, 0x36, 0x30,
    0x00, 0x04, 0x62, 0x6c, 0x75, 0x65,
};

static const unsigned all_flags =
    PP_V2_F_CRC32C | PP_V2_F_UNIQUE_ID | PP_V2_F_AUTHORITY | PP_V2_F_SSL | PP_V2_F_SSL_CN |
    PP_V2_F_SSL_CIPHER | PP_V2_F_SSL_SIG_ALG | PP_V2_F_SSL_KEY_ALG | PP_V2_F_ALPN | PP_V2_F_NETNS;

static struct pp_ssl_info full_ssl(void)
{
	struct pp_ssl_info si = {.client =
	                             PP_CLIENT_SSL | PP_CLIENT_CERT_CONN | PP_CLIENT_CERT_SESS};

	si.version = pp_bytes_str("TLSv1.3");
	si.cn = pp_bytes_str("client");
	si.cipher = pp_bytes_str("TLS_AES_128_GCM_SHA256");
	si.sig_alg = pp_bytes_str("RSA-SHA256");
	si.key_alg = pp_bytes_str("RSA2048");
	return si;
}

START_TEST(test_encode_v2_forms)
{
	struct sockaddr_storage a6 = mkaddr("2001:db8::1", 443), b6 = mkaddr("2001:db8::2", 8443);
	struct sockaddr_storage a4 = mkaddr("1.2.3.4", 1111), b4 = mkaddr("5.6.7.8", 2222);
	struct sockaddr_storage m4 = mkaddr("::ffff:127.0.0.1", 47844);
	struct sockaddr_storage n4 = mkaddr("::ffff:127.0.0.1", 59065);
	struct pp_ssl_info si = full_ssl();
	struct pp_v2_send snd = {.src = SA(a6), .dst = SA(b6), .flags = all_flags, .ssl = &si};
	struct sockaddr_storage un;
	uint8_t out[600];
	int n;

	snd.alpn = pp_bytes_str("h2");
	snd.authority = pp_bytes_str("example.com");
	snd.unique_id = pp_bytes_str("abc");
	snd.netns = pp_bytes_str("blue");
	n = pp_encode_v2(out, sizeof(out), &snd);
	ck_assert_int_eq(n, (int)sizeof(golden_all));
	ck_assert_mem_eq(out, golden_all, sizeof(golden_all));

	/* LOCAL without TLVs: 16 bytes, fam 0, len 0 */
	memset(&snd, 0, sizeof(snd));
	snd.local = true;
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), 16);
	ck_assert_mem_eq(out, SIG "\x20\x00\x00\x00", 16);
	/* no addresses, or a family we do not relay: LOCAL too */
	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNIX;
	snd.local = false;
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), 16);
	ck_assert_mem_eq(out, SIG "\x20\x00\x00\x00", 16);
	snd.src = SA(un);
	snd.dst = SA(b4);
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), 16);
	snd.src = SA(a4);
	snd.dst = SA(un);
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), 16);

	/* TCP4 */
	snd.dst = SA(b4);
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), 28);
	ck_assert_mem_eq(out, SIG "\x21\x11\x00\x0c", 16);
	ck_assert_mem_eq(out + 16, addr4, 12);

	/* both ends mapped: TCP4 where HAProxy sends TCP6 (hap_mapped) */
	snd.src = SA(m4);
	snd.dst = SA(n4);
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), 28);
	ck_assert_mem_eq(
	    out, SIG "\x21\x11\x00\x0c\x7f\x00\x00\x01\x7f\x00\x00\x01\xba\xe4\xe6\xb9", 28);
	/* mixed: TCP6, the IPv4 end mapped (as HAProxy) */
	snd.src = SA(a4);
	snd.dst = SA(b6);
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), 52);
	ck_assert_mem_eq(out, SIG "\x21\x21\x00\x24", 16);
	ck_assert_mem_eq(out + 16, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x01\x02\x03\x04", 16);
	ck_assert_mem_eq(out + 48, "\x04\x57\x20\xfb", 4);

	/* SSL with client data but without the sub-TLV flags: VERSION only */
	snd.src = SA(a4);
	snd.dst = SA(b4);
	snd.flags = PP_V2_F_SSL;
	snd.ssl = &si;
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), 28 + 8 + 10);
	ck_assert_mem_eq(out + 28, "\x20\x00\x0f\x07\x00\x00\x00\x00\x21\x00\x07TLSv1.3", 18);
	/* verify is big-endian */
	si.verify = 0x01020304;
	si.version.ptr = NULL;
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), 28 + 8);
	ck_assert_mem_eq(out + 28, "\x20\x00\x05\x07\x01\x02\x03\x04", 8);

	/* values given without their flags are not sent */
	snd.flags = 0;
	snd.alpn = pp_bytes_str("h2");
	snd.authority = pp_bytes_str("a");
	snd.unique_id = pp_bytes_str("u");
	snd.netns = pp_bytes_str("n");
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), 28);
	/* empty but present values are sent as empty TLVs */
	snd.flags = PP_V2_F_AUTHORITY | PP_V2_F_UNIQUE_ID;
	snd.authority = pp_bytes_str("");
	snd.unique_id = pp_bytes_str("");
	ck_assert_int_eq(pp_encode_v2(out, sizeof(out), &snd), 34);
	ck_assert_mem_eq(out + 28, "\x02\x00\x00\x05\x00\x00", 6);
	ck_assert_ptr_null(pp_bytes_str(NULL).ptr);
	ck_assert_uint_eq(pp_bytes_str(NULL).len, 0);
}
END_TEST

START_TEST(test_encode_limits)
{
	static uint8_t big[PP_V2_MAX_LEN + 100];
	static char longs[70000];
	struct sockaddr_storage a6 = mkaddr("2001:db8::1", 443), b6 = mkaddr("2001:db8::2", 8443);
	struct pp_v2_send snd = {.src = SA(a6), .dst = SA(b6)};
	struct pp_ssl_info si = {0};
	int n;

	memset(longs, 'x', sizeof(longs) - 1);
	/* AUTHORITY 255 + UNIQUE_ID 128 + ALPN 255 > 512 */
	snd.flags = PP_V2_F_AUTHORITY | PP_V2_F_UNIQUE_ID | PP_V2_F_ALPN;
	snd.authority.ptr = (const uint8_t *)longs;
	snd.authority.len = PP_AUTHORITY_MAX;
	snd.unique_id.ptr = (const uint8_t *)longs;
	snd.unique_id.len = PP_UNIQUE_ID_MAX;
	snd.alpn.ptr = (const uint8_t *)longs;
	snd.alpn.len = 100;
	snd.max_size = 4096;
	n = pp_encode_v2(big, sizeof(big), &snd);
	ck_assert_int_eq(n, 52 + 258 + 131 + 103); /* 544 */
	ck_assert_int_eq(n, 544);
	snd.max_size = 0; /* default cap PP_SEND_MAX = 512 */
	snd.alpn.len = 69;
	ck_assert_int_eq(pp_encode_v2(big, sizeof(big), &snd), PP_ENC_TOO_LARGE); /* 513 */
	snd.alpn.len = 68;
	ck_assert_int_eq(pp_encode_v2(big, sizeof(big), &snd), 512);
	snd.alpn.len = 100;
	ck_assert_int_eq(pp_encode_v2(big, sizeof(big), &snd), PP_ENC_TOO_LARGE);
	snd.max_size = 544;
	ck_assert_int_eq(pp_encode_v2(big, sizeof(big), &snd), 544);
	snd.max_size = 543;
	ck_assert_int_eq(pp_encode_v2(big, sizeof(big), &snd), PP_ENC_TOO_LARGE);
	/* buffer too small: nothing useful written, distinct code */
	snd.max_size = 4096;
	ck_assert_int_eq(pp_encode_v2(big, 543, &snd), PP_ENC_NOSPACE);
	ck_assert_int_eq(pp_encode_v2(big, 544, &snd), 544);
	/* values no receiver accepts */
	snd.authority.len = PP_AUTHORITY_MAX + 1;
	ck_assert_int_eq(pp_encode_v2(big, sizeof(big), &snd), PP_ENC_INVALID);
	snd.authority.len = 1;
	snd.unique_id.len = PP_UNIQUE_ID_MAX + 1;
	ck_assert_int_eq(pp_encode_v2(big, sizeof(big), &snd), PP_ENC_INVALID);
	snd.unique_id.len = 1;
	snd.alpn.len = 65536;
	ck_assert_int_eq(pp_encode_v2(big, sizeof(big), &snd), PP_ENC_INVALID);
	/* the largest header: 65551 bytes */
	snd.max_size = PP_V2_MAX_LEN;
	snd.flags = PP_V2_F_ALPN;
	snd.alpn.len = 65535 - 36 - 3;
	ck_assert_int_eq(pp_encode_v2(big, sizeof(big), &snd), PP_V2_MAX_LEN);
	snd.alpn.len++;
	ck_assert_int_eq(pp_encode_v2(big, sizeof(big), &snd), PP_ENC_INVALID);
	/* SSL TLV value over 65535 */
	snd.flags = PP_V2_F_SSL | PP_V2_F_SSL_CN | PP_V2_F_SSL_CIPHER;
	snd.ssl = &si;
	si.cn.ptr = si.cipher.ptr = (const uint8_t *)longs;
	si.cn.len = 40000;
	si.cipher.len = 40000;
	ck_assert_int_eq(pp_encode_v2(big, sizeof(big), &snd), PP_ENC_INVALID);
	/* v2 too small for even the fixed part */
	snd.flags = 0;
	ck_assert_int_eq(pp_encode_v2(big, 51, &snd), PP_ENC_NOSPACE);
}
END_TEST

START_TEST(test_worst_case)
{
	/* HAProxy's crc32c,unique-id,ssl: 16+36 + 7 + 131 + 8+35 */
	ck_assert_uint_eq(
	    pp_v2_worst_case_size(PP_V2_F_CRC32C | PP_V2_F_UNIQUE_ID | PP_V2_F_SSL, 0), 233);
	ck_assert_uint_eq(pp_v2_worst_case_size(0, 0), 52);
	ck_assert_uint_eq(pp_v2_worst_case_size(PP_V2_F_NETNS, 10), 65);
	ck_assert_uint_eq(pp_v2_worst_case_size(PP_V2_F_SSL_CN, 0), 52); /* needs F_SSL */
	ck_assert_uint_le(pp_v2_worst_case_size(PP_V2_F_AUTHORITY | PP_V2_F_UNIQUE_ID |
	                                            PP_V2_F_CRC32C | PP_V2_F_SSL,
	                                        0),
	                  PP_SEND_MAX);
	ck_assert_uint_gt(pp_v2_worst_case_size(all_flags, 8), PP_SEND_MAX);
	ck_assert_uint_eq(pp_v2_worst_case_size(all_flags, 8),
	                  52 + 7 + 258 + 258 + 131 + 8 + 35 + 259 + 67 + 35 + 35 + 11);
	/* real values stay within the worst case */
	{
		struct sockaddr_storage a6 = mkaddr("2001:db8::1", 1), b6 = mkaddr("::2", 2);
		struct pp_ssl_info si = full_ssl();
		struct pp_v2_send snd = {
		    .src = SA(a6), .dst = SA(b6), .flags = all_flags, .ssl = &si, .max_size = 4096};
		uint8_t out[4096];

		snd.alpn = pp_bytes_str("http/1.1");
		snd.authority = pp_bytes_str("example.com");
		snd.unique_id = pp_bytes_str("id");
		snd.netns = pp_bytes_str("ns");
		ck_assert_int_le(pp_encode_v2(out, sizeof(out), &snd),
		                 (int)pp_v2_worst_case_size(all_flags, 2));
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Decoding: accepted forms (PROXY-NOTES a.7 and more) */

START_TEST(test_decode_v1_accepted)
{
	struct pp_header h;

	check_valid_s("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n", NULL, &h);
	ck_assert_int_eq(h.version, PP_VERSION_1);
	ck_assert_int_eq(h.command, PP_CMD_PROXY);
	ck_assert_int_eq(h.fam, PP_FAM_TCP4);
	ck_assert(!h.use_real_addrs);
	assert_addr(&h.src, "1.2.3.4", 1111);
	assert_addr(&h.dst, "5.6.7.8", 2222);
	ck_assert_ptr_null(h.tlv_block.ptr);

	check_valid_s("PROXY TCP6 2001:db8::1 ::1 1111 2222\r\n", NULL, &h);
	ck_assert_int_eq(h.fam, PP_FAM_TCP6);
	assert_addr(&h.src, "2001:db8::1", 1111);
	assert_addr(&h.dst, "::1", 2222);

	/* IPv4-mapped in the dotted form, as inet_pton reads it; kept mapped */
	check_valid_s("PROXY TCP6 ::ffff:1.2.3.4 ::FFFF:5.6.7.8 0 65535\r\n", NULL, &h);
	ck_assert_int_eq(h.src.ss_family, AF_INET6);
	assert_addr(&h.src, "::ffff:1.2.3.4", 0);
	assert_addr(&h.dst, "::ffff:5.6.7.8", 65535);

	check_valid_s("PROXY UNKNOWN\r\n", NULL, &h);
	ck_assert(h.use_real_addrs);
	ck_assert_int_eq(h.fam, PP_FAM_UNSPEC);
	ck_assert_int_eq(h.src.ss_family, 0);

	/* long form: legal per spec, ignored (HAProxy 2.6 resets it) */
	check_valid_s("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1111 2222\r\n", NULL, &h);
	ck_assert(h.use_real_addrs);
	check_valid_s("PROXY UNKNOWN \x01\xff garbage\r\n", NULL, &h);
	check_valid_s("PROXY UNKNOWN \r\n", NULL, &h);

	/* zeros, the extremes, all address shapes */
	check_valid_s("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", NULL, &h);
	assert_addr(&h.dst, "255.255.255.255", 65535);
	check_valid_s("PROXY TCP6 :: 1:2:3:4:5:6:7:8 1 2\r\n", NULL, &h);
	check_valid_s("PROXY TCP6 1:2:3:4:5:6:7:: 1::8 1 2\r\n", NULL, &h);
	check_valid_s("PROXY TCP6 1:2:3:4:5:6:1.2.3.4 ::0.0.0.0 1 2\r\n", NULL, &h);
	check_valid_s("PROXY TCP6 1::2:3:4:5:6:7 abcd:EF01::10.0.0.1 1 2\r\n", NULL, &h);
	check_valid_s("PROXY TCP6 0000:0000:0000:0000:0000:0000:0000:0001 ::1 1 2\r\n", NULL, &h);
	assert_addr(&h.src, "::1", 1);
	/* longest TCP6 line with 39-character addresses: 104 bytes */
	{
		const char *l = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";

		ck_assert_uint_eq(strlen(l), 104);
		check_valid(l, 104, NULL, &h);
	}
	/* longest accepted line: 107 bytes */
	{
		char l[200];

		memcpy(l, "PROXY UNKNOWN ", 14);
		memset(l + 14, 'x', 91);
		memcpy(l + 105, "\r\n", 2);
		check_valid(l, 107, NULL, &h);
		/* dotted-tail addresses can make a TCP6 line that fits */
		strcpy(l, "PROXY TCP6 0000:0000:0000:0000:0000:0000:255.255.255.255 "
		          "0:0:0:0:0:0:1.2.3.4 65535 65535\r\n");
		check_valid(l, strlen(l), NULL, &h);
	}
}
END_TEST

START_TEST(test_decode_v2_accepted)
{
	struct pp_header h;
	struct vb *v;
	size_t n;
	uint8_t ab[216];

	/* 0x21 0x11 + 12 bytes */
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	n = vb_end(v);
	check_valid(v->b, n, NULL, &h);
	ck_assert_int_eq(h.version, PP_VERSION_2);
	ck_assert_int_eq(h.command, PP_CMD_PROXY);
	assert_addr(&h.src, "1.2.3.4", 1111);
	assert_addr(&h.dst, "5.6.7.8", 2222);
	ck_assert_uint_eq(h.tlv_block.len, 0);

	/* TCP6 */
	v = v2_begin(0x21, 0x21);
	vb_add(v, golden_all + 16, 36);
	n = vb_end(v);
	check_valid(v->b, n, NULL, &h);
	assert_addr(&h.src, "2001:db8::1", 443);
	assert_addr(&h.dst, "2001:db8::2", 8443);

	/* LOCAL, len 0 */
	v = v2_begin(0x20, 0x00);
	n = vb_end(v);
	check_valid(v->b, n, NULL, &h);
	ck_assert_int_eq(h.command, PP_CMD_LOCAL);
	ck_assert(h.use_real_addrs);
	/* LOCAL carrying a TCP4 block (accepted by HAProxy 2.6): skipped */
	v = v2_begin(0x20, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_AUTHORITY, "h", 1);
	n = vb_end(v);
	check_valid(v->b, n, NULL, &h);
	ck_assert(h.use_real_addrs);
	ck_assert_int_eq(h.src.ss_family, 0);
	ck_assert_uint_eq(h.tlv_block.len, 4);
	assert_bytes(h.tlv.authority, "h");
	/* LOCAL with TLVs only (what we send) */
	v = v2_begin(0x20, 0x00);
	vb_tlv(v, PP_TLV_NOOP, "", 0);
	n = vb_end(v);
	check_valid(v->b, n, NULL, &h);

	/* PROXY with families we do not relay: real addresses (HAProxy resets) */
	{
		static const uint8_t fams[] = {0x00, 0x12, 0x22, 0x31, 0x32};
		static const size_t blocks[] = {0, 12, 36, 216, 216};
		size_t i;

		memset(ab, 0x41, sizeof(ab));
		for (i = 0; i < sizeof(fams); i++) {
			v = v2_begin(0x21, fams[i]);
			vb_add(v, ab, blocks[i]);
			vb_tlv(v, PP_TLV_UNIQUE_ID, "id", 2);
			n = vb_end(v);
			check_valid(v->b, n, NULL, &h);
			ck_assert(h.use_real_addrs);
			ck_assert_int_eq(h.fam, fams[i]);
			ck_assert_int_eq(h.src.ss_family, 0);
			assert_bytes(h.tlv.unique_id, "id");
			ck_assert_ptr_eq(h.tlv_block.ptr, v->b + 16 + blocks[i]);
		}
	}
}
END_TEST

START_TEST(test_decode_tlvs)
{
	struct pp_header h;
	struct vb *v;
	size_t n;
	uint8_t ssl[200], *p = ssl;

	/* golden_all: every registered TLV */
	check_valid(golden_all, sizeof(golden_all), NULL, &h);
	assert_bytes(h.tlv.alpn, "h2");
	assert_bytes(h.tlv.authority, "example.com");
	assert_bytes(h.tlv.unique_id, "abc");
	assert_bytes(h.tlv.netns, "blue");
	ck_assert(h.tlv.has_crc32c);
	ck_assert_uint_eq(h.tlv.crc32c, 0xfbeac94au);
	ck_assert(h.tlv.ssl.present);
	ck_assert_uint_eq(h.tlv.ssl.client, 7);
	ck_assert_uint_eq(h.tlv.ssl.verify, 0);
	assert_bytes(h.tlv.ssl.version, "TLSv1.3");
	assert_bytes(h.tlv.ssl.cn, "client");
	assert_bytes(h.tlv.ssl.cipher, "TLS_AES_128_GCM_SHA256");
	assert_bytes(h.tlv.ssl.sig_alg, "RSA-SHA256");
	assert_bytes(h.tlv.ssl.key_alg, "RSA2048");
	ck_assert_ptr_null(h.tlv.ssl.group.ptr);
	ck_assert_uint_eq(h.tlv.ssl.subtlvs.len, 0x48 - 5);
	ck_assert_uint_eq(h.tlv_block.len, 0x96 - 36);

	/* SSL with the newer sub-TLVs, an unknown one, verify != 0;
	 * NOOP, unknown types, vendor TLVs */
	*p++ = PP_CLIENT_SSL | PP_CLIENT_CERT_SESS;
	memcpy(p, "\x00\x00\x00\x0a", 4);
	p += 4;
	memcpy(p, "\x26\x00\x09secp256r1", 12);
	p += 12;
	memcpy(p, "\x27\x00\x13rsa_pss_rsae_sha256", 22);
	p += 22;
	memcpy(p, "\x28\x00\x03\x30\x82\x01", 6);
	p += 6;
	memcpy(p, "\x2f\x00\x01z", 4);
	p += 4;
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_NOOP, "\0\0\0\0\0", 5);
	vb_tlv(v, PP_TLV_SSL, ssl, (size_t)(p - ssl));
	vb_tlv(v, 0x99, "x", 1);
	vb_tlv(v, 0xF0, "", 0);
	vb_tlv(v, PP_TLV_AWS, "\x01vpce-0abc123-X", 15);
	vb_tlv(v, PP_TLV_AWS, "\x01vpce-second", 12); /* first wins */
	vb_tlv(v, PP_TLV_AZURE, "\x01\x78\x56\x34\x12", 5);
	vb_tlv(v, PP_TLV_AZURE, "\x01\x00\x00\x00\x00", 5);
	vb_tlv(v, PP_TLV_GCP, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	vb_tlv(v, PP_TLV_GCP, "\x00\x00\x00\x00\x00\x00\x00\x09", 8);
	vb_tlv(v, PP_TLV_GCP, "-----BEGIN CERTIFICATE-----", 27); /* hitch */
	vb_tlv(v, PP_TLV_GCP, "second", 6);
	n = vb_end(v);
	check_valid(v->b, n, NULL, &h);
	ck_assert(h.tlv.ssl.present);
	ck_assert_uint_eq(h.tlv.ssl.client, 5);
	ck_assert_uint_eq(h.tlv.ssl.verify, 10);
	ck_assert_ptr_null(h.tlv.ssl.version.ptr);
	assert_bytes(h.tlv.ssl.group, "secp256r1");
	assert_bytes(h.tlv.ssl.sig_scheme, "rsa_pss_rsae_sha256");
	assert_bytes(h.tlv.ssl.client_cert, "\x30\x82\x01");
	assert_bytes(h.tlv.aws_vpce_id, "vpce-0abc123-X");
	ck_assert(h.tlv.has_azure_linkid);
	ck_assert_uint_eq(h.tlv.azure_linkid, 0x12345678u);
	ck_assert(h.tlv.has_gcp_psc_id);
	ck_assert(h.tlv.gcp_psc_id == 0x0102030405060708ull);
	assert_bytes(h.tlv.custom_e0, "-----BEGIN CERTIFICATE-----");
	ck_assert(!h.tlv.has_crc32c);
	ck_assert_ptr_null(h.tlv.alpn.ptr);

	/* vendor TLVs that do not match their format: not decoded, no error */
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_AWS, "\x02vpce-1", 7); /* other subtype */
	vb_tlv(v, PP_TLV_AWS, "\x01vpce_1", 7); /* bad character */
	vb_tlv(v, PP_TLV_AWS, "\x01", 1);       /* empty id */
	vb_tlv(v, PP_TLV_AWS, "", 0);
	vb_tlv(v, PP_TLV_AZURE, "\x02\x01\x02\x03\x04", 5);
	vb_tlv(v, PP_TLV_AZURE, "\x01\x01\x02\x03", 4);
	vb_tlv(v, PP_TLV_GCP, "", 0);
	n = vb_end(v);
	check_valid(v->b, n, NULL, &h);
	ck_assert_ptr_null(h.tlv.aws_vpce_id.ptr);
	ck_assert(!h.tlv.has_azure_linkid);
	ck_assert(!h.tlv.has_gcp_psc_id);
	ck_assert_ptr_nonnull(h.tlv.custom_e0.ptr);
	ck_assert_uint_eq(h.tlv.custom_e0.len, 0);

	/* limits: AUTHORITY 255, UNIQUE_ID 128, empty values */
	{
		uint8_t big[255];

		memset(big, 'a', sizeof(big));
		v = v2_begin(0x21, 0x11);
		vb_add(v, addr4, 12);
		vb_tlv(v, PP_TLV_AUTHORITY, big, 255);
		vb_tlv(v, PP_TLV_UNIQUE_ID, big, 128);
		vb_tlv(v, PP_TLV_ALPN, "", 0);
		vb_tlv(v, PP_TLV_NETNS, "", 0);
		n = vb_end(v);
		check_valid(v->b, n, NULL, &h);
		ck_assert_uint_eq(h.tlv.authority.len, 255);
		ck_assert_uint_eq(h.tlv.unique_id.len, 128);
		ck_assert_ptr_nonnull(h.tlv.alpn.ptr);
		ck_assert_uint_eq(h.tlv.alpn.len, 0);
	}
}
END_TEST

START_TEST(test_tlv_iter)
{
	struct pp_header h;
	struct pp_tlv_iter it;
	struct pp_tlv t;
	static const uint8_t types[] = {0x03, 0x01, 0x02, 0x05, 0x20, 0x30};
	static const uint8_t subs[] = {0x21, 0x22, 0x25, 0x24, 0x23};
	size_t i = 0;

	check_valid(golden_all, sizeof(golden_all), NULL, &h);
	pp_tlv_iter_init(&it, h.tlv_block.ptr, h.tlv_block.len);
	while (pp_tlv_next(&it, &t) == 1) {
		ck_assert_uint_lt(i, sizeof(types));
		ck_assert_uint_eq(t.type, types[i]);
		if (t.type == PP_TLV_ALPN) {
			ck_assert_uint_eq(t.len, 2);
			ck_assert_mem_eq(t.value, "h2", 2);
		}
		i++;
	}
	ck_assert_uint_eq(i, sizeof(types));
	ck_assert_int_eq(pp_tlv_next(&it, &t), 0);
	/* SSL sub-TLVs */
	i = 0;
	pp_tlv_iter_init(&it, h.tlv.ssl.subtlvs.ptr, h.tlv.ssl.subtlvs.len);
	while (pp_tlv_next(&it, &t) == 1)
		ck_assert_uint_eq(t.type, subs[i++]);
	ck_assert_uint_eq(i, sizeof(subs));
	/* empty, malformed */
	pp_tlv_iter_init(&it, NULL, 0);
	ck_assert_int_eq(pp_tlv_next(&it, &t), 0);
	pp_tlv_iter_init(&it, (const uint8_t *)"\x01\x00", 2);
	ck_assert_int_eq(pp_tlv_next(&it, &t), -1);
	pp_tlv_iter_init(&it, (const uint8_t *)"\x01\x00\x02x", 4);
	ck_assert_int_eq(pp_tlv_next(&it, &t), -1);
	pp_tlv_iter_init(&it, (const uint8_t *)"\x01\x00\x01x\x04", 5);
	ck_assert_int_eq(pp_tlv_next(&it, &t), 1);
	ck_assert_int_eq(pp_tlv_next(&it, &t), -1);
	pp_tlv_iter_init(&it, (const uint8_t *)"\x04\x00\x00", 3);
	ck_assert_int_eq(pp_tlv_next(&it, &t), 1);
	ck_assert_uint_eq(t.len, 0);
	ck_assert_int_eq(pp_tlv_next(&it, &t), 0);
}
END_TEST

START_TEST(test_decode_crc)
{
	struct pp_decode_opts o = {.ignore_crc = true};
	struct pp_header h;
	uint8_t bad[sizeof(hap_relayed)];
	struct vb *v;
	size_t n;

	/* good: captured from HAProxy, and built here with the CRC not first */
	check_valid(hap_relayed, sizeof(hap_relayed), NULL, &h);
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_NOOP, "pad", 3);
	vb_tlv(v, PP_TLV_CRC32C, "\0\0\0\0", 4);
	vb_tlv(v, PP_TLV_NOOP, "pad", 3);
	n = vb_end(v);
	crc_fix(v, 16 + 12 + 6 + 3);
	check_valid(v->b, n, NULL, &h);
	ck_assert(h.tlv.has_crc32c);

	/* bad: any flipped bit, in the CRC or elsewhere, once complete */
	memcpy(bad, hap_relayed, sizeof(bad));
	bad[31] ^= 0x01;
	check_error_at(bad, sizeof(bad), NULL, PP_ERR_CRC_MISMATCH, sizeof(bad));
	check_valid(bad, sizeof(bad), &o, &h); /* ignore_crc */
	ck_assert_uint_eq(h.tlv.crc32c, 0xefe77807u);
	memcpy(bad, hap_relayed, sizeof(bad));
	bad[40] ^= 0x20; /* inside the unique id */
	check_error_at(bad, sizeof(bad), NULL, PP_ERR_CRC_MISMATCH, sizeof(bad));
	memcpy(bad, hap_relayed, sizeof(bad));
	bad[17] ^= 0x80; /* source address */
	check_error_at(bad, sizeof(bad), NULL, PP_ERR_CRC_MISMATCH, sizeof(bad));
	memcpy(bad, hap_check, sizeof(hap_check));
	bad[sizeof(hap_check) - 1] = 1; /* verify field of the check's SSL TLV */
	check_error_at(bad, sizeof(hap_check), NULL, PP_ERR_CRC_MISMATCH, sizeof(hap_check));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Rejections, each at the earliest byte that proves them */

START_TEST(test_reject_signature)
{
	check_v1_error("GET / HTTP/1.1\r\n", PP_ERR_BAD_SIGNATURE, 1);
	check_error_at("\x16\x03\x01\x02\x00", 5, NULL, PP_ERR_BAD_SIGNATURE, 1);
	check_error_at("", 1, NULL, PP_ERR_BAD_SIGNATURE, 1); /* a NUL byte */
	check_v1_error("PROXZ TCP4", PP_ERR_BAD_SIGNATURE, 5);
	check_v1_error("Proxy TCP4", PP_ERR_BAD_SIGNATURE, 2);
	{
		struct pp_header h;
		size_t used;
		enum pp_error e;

		ck_assert_int_eq(pp_decode((const uint8_t *)"PROX", 4, NULL, &h, &used, &e),
		                 PP_NEED_MORE);
	}
}
END_TEST

START_TEST(test_reject_signature_v2)
{
	uint8_t b[32];

	memcpy(b, SIG "\x21\x11\x00\x0c", 16);
	b[11] = 0x0B;
	check_error_at(b, 16, NULL, PP_ERR_BAD_SIGNATURE, 12);
	memcpy(b, SIG, 12);
	b[4] = 0x01;
	check_error_at(b, 16, NULL, PP_ERR_BAD_SIGNATURE, 5);
	/* "\r\n\r\n" then HTTP-ish: not v2 */
	check_error_at("\r\n\r\nGET", 7, NULL, PP_ERR_BAD_SIGNATURE, 5);
}
END_TEST

START_TEST(test_reject_version_command)
{
	uint8_t b[28];

	memcpy(b, SIG "\x11\x11\x00\x0c", 16);
	memcpy(b + 16, addr4, 12);
	check_error_at(b, 28, NULL, PP_ERR_BAD_VERSION, 13); /* version 1 */
	b[12] = 0x31;
	check_error_at(b, 28, NULL, PP_ERR_BAD_VERSION, 13);
	b[12] = 0x02; /* the old spec typo */
	check_error_at(b, 28, NULL, PP_ERR_BAD_VERSION, 13);
	b[12] = 0x22;
	check_error_at(b, 28, NULL, PP_ERR_BAD_COMMAND, 13);
	b[12] = 0x2F;
	check_error_at(b, 28, NULL, PP_ERR_BAD_COMMAND, 13);
}
END_TEST

START_TEST(test_reject_family)
{
	static const uint8_t bad_fams[] = {0x41, 0x13, 0x01, 0x10, 0x20, 0x33, 0xFF, 0x03};
	uint8_t b[28];
	size_t i;

	memcpy(b, SIG "\x21\x11\x00\x0c", 16);
	memcpy(b + 16, addr4, 12);
	for (i = 0; i < sizeof(bad_fams); i++) {
		b[13] = bad_fams[i];
		check_error_at(b, 28, NULL, PP_ERR_BAD_FAMILY, 14);
	}
	b[12] = 0x20; /* LOCAL too: a fam byte outside the table is invalid */
	b[13] = 0x41;
	check_error_at(b, 28, NULL, PP_ERR_BAD_FAMILY, 14);

	check_v1_error("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", PP_ERR_BAD_FAMILY, 7);
	check_v1_error("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", PP_ERR_BAD_FAMILY, 10);
	check_v1_error("PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n", PP_ERR_BAD_FAMILY, 10);
	check_v1_error("PROXY TCP\r\n", PP_ERR_BAD_FAMILY, 10);
	check_v1_error("PROXY UNKNOWNX\r\n", PP_ERR_BAD_FAMILY, 14);
	check_v1_error("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", PP_ERR_BAD_FAMILY, 8);
	check_v1_error("PROXY TCP44 1.2.3.4", PP_ERR_BAD_FAMILY, 11);
}
END_TEST

START_TEST(test_reject_address)
{
	/* leading zero: error as soon as the digit after the 0 arrives */
	check_v1_error("PROXY TCP4 01.2.3.4 5.6.7.8 1111 2222\r\n", PP_ERR_BAD_ADDRESS, 13);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.00 1111 2222\r\n", PP_ERR_BAD_ADDRESS, 27);
	check_v1_error("PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n", PP_ERR_BAD_ADDRESS, 14);
	check_v1_error("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", PP_ERR_BAD_ADDRESS, 17);
	check_v1_error("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", PP_ERR_BAD_ADDRESS, 19);
	check_v1_error("PROXY TCP4 1..2.3 5.6.7.8 1 2\r\n", PP_ERR_BAD_ADDRESS, 14);
	check_v1_error("PROXY TCP4 .1.2.3 5.6.7.8 1 2\r\n", PP_ERR_BAD_ADDRESS, 12);
	check_v1_error("PROXY TCP4 1.2.3. 5.6.7.8 1 2\r\n", PP_ERR_BAD_ADDRESS, 18);
	check_v1_error("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", PP_ERR_BAD_ADDRESS, 19);
	/* family mismatch */
	check_v1_error("PROXY TCP4 ::1 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 12);
	check_v1_error("PROXY TCP4 1.2.3.4 2001:db8::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 23);
	check_v1_error("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 13);
	check_v1_error("PROXY TCP6 ::1 5.6.7.8 1 2\r\n", PP_ERR_BAD_ADDRESS, 17);
	check_v1_error("PROXY TCP6 ::1 5 1 2\r\n", PP_ERR_BAD_ADDRESS, 17);
	/* IPv6 shapes inet_pton refuses */
	check_v1_error("PROXY TCP6 ::: ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 14);
	check_v1_error("PROXY TCP6 1::2::3 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 17);
	check_v1_error("PROXY TCP6 12345:: ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 16);
	check_v1_error("PROXY TCP6 :1 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 13);
	check_v1_error("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 27);
	check_v1_error("PROXY TCP6 1:2:3:4:5:6:7:8:: ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 27);
	check_v1_error("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 25);
	check_v1_error("PROXY TCP6 1: ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 14);
	check_v1_error("PROXY TCP6 : ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 13);
	check_v1_error("PROXY TCP6 g::1 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 12);
	check_v1_error("PROXY TCP6 ::ffff:01.2.3.4 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 21);
	check_v1_error("PROXY TCP6 ::ffff:1.2.3.4:5 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 26);
	check_v1_error("PROXY TCP6 ::ffff:1.2.3 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 24);
	check_v1_error("PROXY TCP6 ::ffff:1.2.3.a ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 25);
	check_v1_error("PROXY TCP6 ::ffff:1a.2.3.4 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 21);
	check_v1_error("PROXY TCP6 ::1234.2.3.4 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 18);
	check_v1_error("PROXY TCP6 1:2:3:4:5:1.2.3.4 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 23);
	check_v1_error("PROXY TCP6 1:2:3:4:5:6::1.2.3.4 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 26);
	check_v1_error("PROXY TCP6 1:2:3:4:5:6:7:1.2.3.4 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 27);
	check_v1_error("PROXY TCP6 12345 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 16);
	check_v1_error("PROXY TCP6 1:2:3:4:5:6:7::8 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 27);
	check_v1_error("PROXY TCP6 ::.1.2.3 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 14);
	check_v1_error("PROXY TCP6 1:.1.2.3 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 14);
	check_v1_error("PROXY TCP6 1:2:3:4:5:6:7:8:1.2.3.4 ::1 1 2\r\n", PP_ERR_BAD_ADDRESS, 27);
	/* longer than any address */
	check_v1_error("PROXY TCP6 0000:0000:0000:0000:0000:0000:255.255.255.2550 ::1 1 2\r\n",
	               PP_ERR_BAD_ADDRESS, 57);
	/* nine groups */
	check_v1_error("PROXY TCP6 0000:0000:0000:0000:0000:0000:0000:0000:0000 ::1 1 2\r\n",
	               PP_ERR_BAD_ADDRESS, 51);
}
END_TEST

START_TEST(test_reject_port)
{
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 01111 2222\r\n", PP_ERR_BAD_PORT, 29);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1111 02222\r\n", PP_ERR_BAD_PORT, 34);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 00 1\r\n", PP_ERR_BAD_PORT, 29);
	/* 70000 (HAProxy wraps it to 4464): error at the fifth digit */
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 70000 2222\r\n", PP_ERR_BAD_PORT, 32);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1111 65536\r\n", PP_ERR_BAD_PORT, 37);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1111 655350\r\n", PP_ERR_BAD_PORT, 38);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 12a 2222\r\n", PP_ERR_BAD_PORT, 30);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2222\r\n", PP_ERR_BAD_PORT, 28);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2222\r\n", PP_ERR_BAD_PORT, 28);
}
END_TEST

START_TEST(test_reject_syntax)
{
	char l[200];

	check_v1_error("PROXY_TCP4", PP_ERR_BAD_SYNTAX, 6);
	check_v1_error("PROXY\r\n", PP_ERR_BAD_SYNTAX, 6);
	check_v1_error("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", PP_ERR_BAD_SYNTAX, 7);
	check_v1_error("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", PP_ERR_BAD_SYNTAX, 12);
	check_v1_error("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", PP_ERR_BAD_SYNTAX, 20);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n", PP_ERR_BAD_SYNTAX, 28);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", PP_ERR_BAD_SYNTAX, 30);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", PP_ERR_BAD_SYNTAX, 31);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n", PP_ERR_BAD_SYNTAX, 30);
	/* LF only, lone CR, CR inside */
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", PP_ERR_BAD_SYNTAX, 31);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", PP_ERR_BAD_SYNTAX, 32);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", PP_ERR_BAD_SYNTAX, 32);
	check_v1_error("PROXY UNKNOWN\n", PP_ERR_BAD_SYNTAX, 14);
	check_v1_error("PROXY UNKNOWN\rX", PP_ERR_BAD_SYNTAX, 15);
	check_v1_error("PROXY UNKNOWN foo\nbar\r\n", PP_ERR_BAD_SYNTAX, 18);
	check_v1_error("PROXY UNKNOWN foo\rbar\r\n", PP_ERR_BAD_SYNTAX, 19);
	/* fields missing */
	check_v1_error("PROXY TCP4\r\n", PP_ERR_BAD_SYNTAX, 11);
	check_v1_error("PROXY TCP4 1.2.3.4\r\n", PP_ERR_BAD_SYNTAX, 19);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8\r\n", PP_ERR_BAD_SYNTAX, 27);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", PP_ERR_BAD_SYNTAX, 29);
	check_v1_error("PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n", PP_ERR_BAD_SYNTAX, 30);
	check_v1_error("PROXY TCP4 \r\n", PP_ERR_BAD_SYNTAX, 12);
	check_v1_error("PROXY \r\n", PP_ERR_BAD_SYNTAX, 7);
	check_v1_error("PROXY TCP4 1.2.3.4 \n", PP_ERR_BAD_SYNTAX, 20);
	/* no CRLF within 107 bytes: the CR must be at offset 105 at the latest */
	memcpy(l, "PROXY UNKNOWN ", 14);
	memset(l + 14, 'x', 92);
	memcpy(l + 106, "\r\n", 3);
	check_v1_error(l, PP_ERR_BAD_SYNTAX, 106);
	/* a TCP6 line that would be 116 bytes */
	strcpy(l, "PROXY TCP6 0000:0000:0000:0000:0000:0000:255.255.255.255 "
	          "0000:0000:0000:0000:0000:0000:255.255.255.255 65535 65535\r\n");
	check_v1_error(l, PP_ERR_BAD_SYNTAX, 106);
	/* CR exactly at 105 but no LF at 106 */
	memcpy(l, "PROXY UNKNOWN ", 14);
	memset(l + 14, 'x', 91);
	memcpy(l + 105, "\rx", 3);
	check_v1_error(l, PP_ERR_BAD_SYNTAX, 107);
}
END_TEST

START_TEST(test_reject_truncated_block)
{
	uint8_t b[300];
	size_t i;
	static const uint8_t fams[] = {0x11, 0x12, 0x21, 0x22, 0x31, 0x32};
	static const uint16_t blocks[] = {12, 12, 36, 36, 216, 216};

	memset(b, 0, sizeof(b));
	for (i = 0; i < sizeof(fams); i++) {
		memcpy(b, SIG, 12);
		b[12] = 0x21;
		b[13] = fams[i];
		b[14] = (uint8_t)((blocks[i] - 1) >> 8);
		b[15] = (uint8_t)(blocks[i] - 1);
		check_error_at(b, 16u + blocks[i] - 1, NULL, PP_ERR_TRUNCATED_BLOCK, 16);
		b[12] = 0x20; /* LOCAL with a family: the block is still required */
		check_error_at(b, 16u + blocks[i] - 1, NULL, PP_ERR_TRUNCATED_BLOCK, 16);
		b[14] = b[15] = 0;
		check_error_at(b, 16, NULL, PP_ERR_TRUNCATED_BLOCK, 16);
	}
}
END_TEST

START_TEST(test_reject_tlv)
{
	struct vb *v;
	size_t n;
	uint8_t big[300];

	memset(big, 'a', sizeof(big));
	/* overrun: declared 5, 4 left; proven by the TLV header */
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_NOOP, "abcd", 4);
	v->b[v->n - 5] = 5;
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 31);
	/* 2 and 1 stray bytes: proven by len alone */
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_add(v, "\x04\x00", 2);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 16);
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_NOOP, "", 0);
	vb_add(v, "\x04", 1);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 31); /* once the NOOP's length is known */
	/* on LOCAL too */
	v = v2_begin(0x20, 0x00);
	vb_add(v, "\x04\x00", 2);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 16);
	/* AUTHORITY > 255, UNIQUE_ID > 128: at the TLV header */
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_AUTHORITY, big, 256);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 31);
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_UNIQUE_ID, big, 129);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 31);
	/* CRC32C not 4 bytes */
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_CRC32C, "\0\0\0", 3);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 31);
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_CRC32C, "\0\0\0\0\0", 5);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 31);
	/* SSL shorter than client + verify */
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_SSL, "\0\0\0\0", 4);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 31);
	/* SSL sub-TLV overrun, stray sub-TLV bytes */
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_SSL, "\x01\0\0\0\0\x21\x00\x09TLSv1.3", 15);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 39);
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_SSL, "\x01\0\0\0\0\x21\x00", 7);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 31);
	/* duplicates of the registered singletons */
	{
		static const uint8_t singles[] = {PP_TLV_ALPN,  PP_TLV_AUTHORITY, PP_TLV_UNIQUE_ID,
		                                  PP_TLV_NETNS, PP_TLV_SSL,       PP_TLV_CRC32C};
		size_t i;

		for (i = 0; i < sizeof(singles); i++) {
			size_t l = singles[i] == PP_TLV_SSL || singles[i] == PP_TLV_CRC32C ? 5 : 1;

			if (singles[i] == PP_TLV_CRC32C)
				l = 4;
			v = v2_begin(0x21, 0x11);
			vb_add(v, addr4, 12);
			vb_tlv(v, singles[i], "\0\0\0\0\0", l);
			vb_tlv(v, singles[i], "\0\0\0\0\0", l);
			n = vb_end(v);
			check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 28 + 3 + l + 3);
		}
	}
	/* duplicate SSL sub-TLV */
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_SSL, "\x01\0\0\0\0\x22\x00\x01x\x22\x00\x01y", 13);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_BAD_TLV, 31 + 5 + 4 + 3);
}
END_TEST

START_TEST(test_max_header)
{
	struct pp_decode_opts o = {0};
	struct pp_header h;
	struct vb *v;
	size_t n;

	/* default 4096: 16 + 4080 accepted, 16 + 4081 refused at byte 16 */
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	v->b[v->n] = PP_TLV_NOOP;
	v->b[v->n + 1] = (uint8_t)((4080 - 12 - 3) >> 8);
	v->b[v->n + 2] = (uint8_t)(4080 - 12 - 3);
	v->n += 3;
	vb_fill(v, 0, 4080 - 12 - 3);
	n = vb_end(v);
	ck_assert_uint_eq(n, 4096);
	check_valid(v->b, n, NULL, &h);
	check_valid(v->b, n, &o, &h);
	v->b[30]++; /* NOOP one longer */
	vb_fill(v, 0, 1);
	n = vb_end(v);
	check_error_at(v->b, n, NULL, PP_ERR_TOO_LARGE, 16);
	o.max_header = 5000;
	check_valid(v->b, n, &o, &h);
	/* a small maximum */
	o.max_header = 64;
	v = v2_begin(0x21, 0x11);
	vb_add(v, addr4, 12);
	vb_tlv(v, PP_TLV_NOOP, "0123456789012345678901234567890123", 33);
	n = vb_end(v);
	ck_assert_uint_eq(n, 64);
	check_valid(v->b, n, &o, &h);
	vb_add(v, "x", 1);
	v->b[30]++;
	n = vb_end(v);
	check_error_at(v->b, n, &o, PP_ERR_TOO_LARGE, 16);
	/* the largest v2 header, when allowed */
	o.max_header = PP_V2_MAX_LEN;
	v = v2_begin(0x21, 0x00);
	vb_tlv(v, PP_TLV_NOOP, "", 0);
	v->b[17] = 0xFF;
	v->b[18] = 0xFC; /* 65532 */
	vb_fill(v, 0, 65532);
	n = vb_end(v);
	ck_assert_uint_eq(n, PP_V2_MAX_LEN);
	check_valid(v->b, n, &o, &h);
	/* v1 is bounded by 107 bytes whatever the maximum */
	o.max_header = 16;
	check_valid_s("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n", &o, &h);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Truncation at every offset of every valid vector (and the encoder's
 * output), with and without CRC verification. */

START_TEST(test_truncation_everywhere)
{
	static const char *const v1s[] = {
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n",
	    "PROXY TCP6 2001:db8::1 ::1 1111 2222\r\n",
	    "PROXY TCP6 ::ffff:1.2.3.4 ::ffff:5.6.7.8 1 2\r\n",
	    "PROXY UNKNOWN\r\n",
	    "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1111 2222\r\n",
	    "PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n",
	    "PROXY TCP6 :: :: 0 0\r\n",
	};
	struct pp_decode_opts noc = {.ignore_crc = true};
	struct pp_header h;
	size_t i;

	for (i = 0; i < sizeof(v1s) / sizeof(v1s[0]); i++)
		check_valid(v1s[i], strlen(v1s[i]), NULL, &h);
	check_valid(hap_relayed, sizeof(hap_relayed), NULL, &h);
	check_valid(hap_relayed, sizeof(hap_relayed), &noc, &h);
	check_valid(hap_check, sizeof(hap_check), NULL, &h);
	check_valid(hap_tcp6, sizeof(hap_tcp6), NULL, &h);
	check_valid(hap_mapped, sizeof(hap_mapped), NULL, &h);
	check_valid(golden_all, sizeof(golden_all), NULL, &h);
	check_valid(golden_all, sizeof(golden_all), &noc, &h);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Round trips */

static void norm(const struct sockaddr_storage *in, struct sockaddr_storage *out)
{
	*out = *in;
	net_unmap_v4(out);
}

static bool both_v4(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct sockaddr_storage x, y;

	norm(a, &x);
	norm(b, &y);
	return x.ss_family == AF_INET && y.ss_family == AF_INET;
}

static void assert_same_addr(const struct sockaddr_storage *got,
                             const struct sockaddr_storage *want, bool v4pair)
{
	struct sockaddr_storage g = *got, w = *want;

	if (v4pair) {
		net_unmap_v4(&g);
		net_unmap_v4(&w);
	} else if (w.ss_family == AF_INET) {
		/* mixed pair: the IPv4 end travels mapped */
		net_unmap_v4(&g);
	}
	ck_assert(net_addr_equal((struct sockaddr *)&g, (struct sockaddr *)&w));
}

static void assert_same_bytes(struct pp_bytes got, struct pp_bytes want, bool sent)
{
	if (!sent || !want.ptr) {
		ck_assert_ptr_null(got.ptr);
		return;
	}
	ck_assert_ptr_nonnull(got.ptr);
	ck_assert_uint_eq(got.len, want.len);
	if (got.len)
		ck_assert_mem_eq(got.ptr, want.ptr, got.len);
}

START_TEST(test_roundtrip)
{
	static const struct {
		const char *src, *dst;
		int fam;
	} pairs[] = {
	    {"1.2.3.4", "5.6.7.8", PP_FAM_TCP4},
	    {"2001:db8::1", "::1", PP_FAM_TCP6},
	    {"::ffff:1.2.3.4", "::ffff:5.6.7.8", PP_FAM_TCP4},
	    {"1.2.3.4", "2001:db8::1", PP_FAM_TCP6},
	    {"fe80::1", "10.0.0.1", PP_FAM_TCP6},
	    {"::ffff:10.1.1.1", "192.168.0.1", PP_FAM_TCP4},
	    {"0.0.0.0", "255.255.255.255", PP_FAM_TCP4},
	    {"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PP_FAM_TCP6},
	};
	static const uint16_t ports[][2] = {{0, 65535}, {1111, 2222}, {65535, 0}};
	struct pp_ssl_info si = full_ssl();
	size_t i, k;
	unsigned flags;

	si.verify = 0xdeadbeef;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		for (k = 0; k < 3; k++) {
			struct sockaddr_storage s = mkaddr(pairs[i].src, ports[k][0]);
			struct sockaddr_storage d = mkaddr(pairs[i].dst, ports[k][1]);
			bool v4 = both_v4(&s, &d);
			uint8_t out[1024];
			struct pp_header h;
			int n;

			/* v1 */
			n = pp_encode_v1(out, sizeof(out), SA(s), SA(d));
			ck_assert_int_gt(n, 0);
			check_valid(out, (size_t)n, NULL, &h);
			ck_assert_int_eq(h.fam, pairs[i].fam);
			assert_same_addr(&h.src, &s, v4);
			assert_same_addr(&h.dst, &d, v4);

			/* v2, every combination of flags */
			for (flags = 0; flags <= (unsigned)all_flags; flags++) {
				struct pp_v2_send snd = {
				    .src = SA(s), .dst = SA(d), .flags = flags};
				bool ssl_on = flags & PP_V2_F_SSL;

				snd.alpn = pp_bytes_str("h2");
				snd.authority = pp_bytes_str("www.example.com");
				snd.unique_id = pp_bytes_str("7F000001:C6D8");
				snd.netns = pp_bytes_str("ns1");
				snd.ssl = (flags & 1) ? NULL : &si; /* both SSL forms */
				n = pp_encode_v2(out, sizeof(out), &snd);
				ck_assert_int_gt(n, 0);
				ck_assert_uint_le((size_t)n, pp_v2_worst_case_size(flags, 3));
				if (flags % 31 == 0) {
					check_valid(out, (size_t)n, NULL, &h);
				} else {
					size_t used;
					enum pp_error e;

					ck_assert_int_eq(
					    pp_decode(out, (size_t)n, NULL, &h, &used, &e), PP_OK);
					ck_assert_uint_eq(used, (size_t)n);
				}
				ck_assert_int_eq(h.command, PP_CMD_PROXY);
				ck_assert_int_eq(h.fam, pairs[i].fam);
				assert_same_addr(&h.src, &s, v4);
				assert_same_addr(&h.dst, &d, v4);
				ck_assert_int_eq(h.tlv.has_crc32c, !!(flags & PP_V2_F_CRC32C));
				assert_same_bytes(h.tlv.alpn, snd.alpn, flags & PP_V2_F_ALPN);
				assert_same_bytes(h.tlv.authority, snd.authority,
				                  flags & PP_V2_F_AUTHORITY);
				assert_same_bytes(h.tlv.unique_id, snd.unique_id,
				                  flags & PP_V2_F_UNIQUE_ID);
				assert_same_bytes(h.tlv.netns, snd.netns, flags & PP_V2_F_NETNS);
				ck_assert_int_eq(h.tlv.ssl.present, ssl_on);
				if (ssl_on && snd.ssl) {
					ck_assert_uint_eq(h.tlv.ssl.client, si.client);
					ck_assert_uint_eq(h.tlv.ssl.verify, si.verify);
					assert_same_bytes(h.tlv.ssl.version, si.version, true);
					assert_same_bytes(h.tlv.ssl.cn, si.cn,
					                  flags & PP_V2_F_SSL_CN);
					assert_same_bytes(h.tlv.ssl.cipher, si.cipher,
					                  flags & PP_V2_F_SSL_CIPHER);
					assert_same_bytes(h.tlv.ssl.sig_alg, si.sig_alg,
					                  flags & PP_V2_F_SSL_SIG_ALG);
					assert_same_bytes(h.tlv.ssl.key_alg, si.key_alg,
					                  flags & PP_V2_F_SSL_KEY_ALG);
				} else if (ssl_on) {
					ck_assert_uint_eq(h.tlv.ssl.client, 0);
					ck_assert_uint_eq(h.tlv.ssl.verify, 0);
					ck_assert_uint_eq(h.tlv.ssl.subtlvs.len, 0);
				}
				/* the same as LOCAL: no addresses, the same TLVs */
				if (flags % 97 == 0) {
					snd.local = true;
					n = pp_encode_v2(out, sizeof(out), &snd);
					check_valid(out, (size_t)n, NULL, &h);
					ck_assert_int_eq(h.command, PP_CMD_LOCAL);
					ck_assert_int_eq(h.fam, 0);
					ck_assert(h.use_real_addrs);
					ck_assert_int_eq(h.tlv.has_crc32c,
					                 !!(flags & PP_V2_F_CRC32C));
				}
			}
		}
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* pp_sig_classify(): is there a header at all (accept-proxy optional) */

/* The definition, written the obvious way: a signature is still possible
 * while the bytes seen equal its start. */
static enum pp_sig sig_oracle(const uint8_t *buf, size_t len)
{
	bool v1 = memcmp(buf, "PROXY ", len < 6 ? len : 6) == 0;
	bool v2 = memcmp(buf, SIG, len < SIGLEN ? len : SIGLEN) == 0;

	if (v1 && len >= 6)
		return PP_SIG_V1;
	if (v2 && len >= SIGLEN)
		return PP_SIG_V2;
	return v1 || v2 ? PP_SIG_NEED_MORE : PP_SIG_NONE;
}

/* First bytes a bind sees, what they are, and after how many bytes that
 * is known (0: never, the client closes first). */
static const struct sig_case {
	const char *name;
	const char *bytes;
	size_t len;
	enum pp_sig want;
	size_t at;
} sig_cases[] = {
#define B(s) s, sizeof(s) - 1
    {"v1 header", B("PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\nGET / HTTP/1.1\r\n"), PP_SIG_V1, 6},
    {"v1 UNKNOWN", B("PROXY UNKNOWN\r\n"), PP_SIG_V1, 6},
    {"v2 header", B(SIG "\x21\x11\x00\x0c\x01\x02\x03\x04\x05\x06\x07\x08\x04\x57\x08\xae"),
     PP_SIG_V2, 12},
    {"v2 LOCAL", B(SIG "\x20\x00\x00\x00"), PP_SIG_V2, 12},
    {"v2 signature, bad version", B(SIG "\x11\x11\x00\x00"), PP_SIG_V2, 12},
    {"TLS ClientHello", B("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), PP_SIG_NONE, 1},
    {"HTTP GET", B("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), PP_SIG_NONE, 1},
    {"HTTP POST", B("POST /x HTTP/1.1\r\n"), PP_SIG_NONE, 2},
    {"HTTP PUT", B("PUT /x HTTP/1.1\r\n"), PP_SIG_NONE, 2},
    {"HTTP PATCH", B("PATCH /x HTTP/1.1\r\n"), PP_SIG_NONE, 2},
    {"WebDAV PROPFIND", B("PROPFIND /x HTTP/1.1\r\n"), PP_SIG_NONE, 4},
    {"PROXX", B("PROXX"), PP_SIG_NONE, 5},
    {"PROXY without its space", B("PROXY\r\n"), PP_SIG_NONE, 6},
    {"lower case proxy", B("proxy TCP4"), PP_SIG_NONE, 1},
    {"CRLF CRLF then a request", B("\r\n\r\nGET / HTTP/1.0\r\n"), PP_SIG_NONE, 5},
    {"v2 signature, last byte wrong", B("\r\n\r\n\x00\r\nQUIT\x0b\x21"), PP_SIG_NONE, 12},
    {"a NUL first", B("\x00\r\n"), PP_SIG_NONE, 1},
    {"PRO, then a close", B("PRO"), PP_SIG_NEED_MORE, 0},
    {"11 bytes of the v2 signature, then a close", B("\r\n\r\n\x00\r\nQUIT"), PP_SIG_NEED_MORE, 0},
    {"nothing, then a close", B(""), PP_SIG_NEED_MORE, 0},
#undef B
};
#define NSIG_CASES (sizeof(sig_cases) / sizeof(sig_cases[0]))

START_TEST(test_sig_cases)
{
	for (size_t i = 0; i < NSIG_CASES; i++) {
		const struct sig_case *c = &sig_cases[i];
		const uint8_t *b = (const uint8_t *)c->bytes;

		for (size_t k = 0; k <= c->len; k++) {
			enum pp_sig want = c->at && k >= c->at ? c->want : PP_SIG_NEED_MORE;
			enum pp_sig got = pp_sig_classify(b, k);

			ck_assert_msg(got == want, "%s: %zu bytes: got %d, want %d", c->name, k,
			              (int)got, (int)want);
			ck_assert_int_eq(got, sig_oracle(b, k));
		}
	}
}
END_TEST

/* Every way the first bytes can arrive: each split of the first 13 bytes
 * into reads (2^12 of them), the reader classifying after every read as
 * stream_client.c does. The answer comes at the first read that reaches
 * the deciding byte, and it is the same whatever the split. */
START_TEST(test_sig_splits)
{
	for (size_t i = 0; i < NSIG_CASES; i++) {
		const struct sig_case *c = &sig_cases[i];
		size_t n = c->len < 13 ? c->len : 13;

		for (unsigned cuts = 0; n && cuts < (1u << (n - 1)); cuts++) {
			size_t have = 0;
			enum pp_sig got = PP_SIG_NEED_MORE;

			while (have < n && got == PP_SIG_NEED_MORE) {
				do /* one read: up to the next cut */
					have++;
				while (have < n && !(cuts & (1u << (have - 1))));
				got = pp_sig_classify((const uint8_t *)c->bytes, have);
				if (got != PP_SIG_NEED_MORE)
					ck_assert_msg(have >= c->at, "%s: decided at %zu", c->name,
					              have);
			}
			ck_assert_msg(got == (c->at && c->at <= n ? c->want : PP_SIG_NEED_MORE),
			              "%s, cuts %#x: got %d", c->name, cuts, (int)got);
		}
	}
}
END_TEST

/* Exhaustive next to the signatures: every prefix of each, followed by
 * every byte value, against the definition; and the decoder agrees on the
 * same bytes (NONE: it refuses them too; V1/V2: never as bad_signature). */
START_TEST(test_sig_exhaustive)
{
	static const struct {
		const char *sig;
		size_t len;
	} sigs[] = {{"PROXY ", 6}, {SIG, SIGLEN}};
	uint8_t buf[16];

	for (size_t s = 0; s < 2; s++) {
		for (size_t k = 0; k <= sigs[s].len; k++) {
			memcpy(buf, sigs[s].sig, k);
			for (int b = 0; b < 256; b++) {
				enum pp_sig got, want;
				struct pp_header h;
				size_t used;
				enum pp_error e;
				enum pp_result r;

				buf[k] = (uint8_t)b;
				got = pp_sig_classify(buf, k + 1);
				want = sig_oracle(buf, k + 1);
				ck_assert_msg(got == want,
				              "sig %zu, %zu bytes then %#x: got %d, want %d", s, k,
				              b, (int)got, (int)want);
				ck_assert_int_eq(pp_sig_classify(buf, k),
				                 k == sigs[s].len ? (s ? PP_SIG_V2 : PP_SIG_V1)
				                                  : PP_SIG_NEED_MORE);
				r = pp_decode(buf, k + 1, NULL, &h, &used, &e);
				/* not a header: accept-proxy refuses it too ("PROXY"
				 * and another byte than the space: bad_syntax) */
				if (got == PP_SIG_NONE)
					ck_assert(r == PP_ERROR && (e == PP_ERR_BAD_SIGNATURE ||
					                            (s == 0 && k == 5)));
				else
					ck_assert(r != PP_ERROR || e != PP_ERR_BAD_SIGNATURE);
			}
		}
	}
}
END_TEST

static Suite *pp_suite(void)
{
	Suite *s = suite_create("proxy_proto");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_crc32c);
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_golden_haproxy_relayed);
	tcase_add_test(tc, test_golden_haproxy_check);
	tcase_add_test(tc, test_golden_haproxy_plain);
	tcase_add_test(tc, test_encode_v1_forms);
	tcase_add_test(tc, test_encode_v2_forms);
	tcase_add_test(tc, test_encode_limits);
	tcase_add_test(tc, test_worst_case);
	tcase_add_test(tc, test_decode_v1_accepted);
	tcase_add_test(tc, test_decode_v2_accepted);
	tcase_add_test(tc, test_decode_tlvs);
	tcase_add_test(tc, test_tlv_iter);
	tcase_add_test(tc, test_decode_crc);
	tcase_add_test(tc, test_reject_signature);
	tcase_add_test(tc, test_reject_signature_v2);
	tcase_add_test(tc, test_reject_version_command);
	tcase_add_test(tc, test_reject_family);
	tcase_add_test(tc, test_reject_address);
	tcase_add_test(tc, test_reject_port);
	tcase_add_test(tc, test_reject_syntax);
	tcase_add_test(tc, test_reject_truncated_block);
	tcase_add_test(tc, test_reject_tlv);
	tcase_add_test(tc, test_max_header);
	tcase_add_test(tc, test_truncation_everywhere);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_sig_cases);
	tcase_add_test(tc, test_sig_splits);
	tcase_add_test(tc, test_sig_exhaustive);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
