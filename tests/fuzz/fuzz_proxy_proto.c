/* fuzz_proxy_proto.c - libFuzzer target for the PROXY protocol codec.
 *
 * For every input, with default options, without CRC checking and with a
 * small maximum size:
 *  - the decoder never crashes, and its answers over the prefixes of the
 *    input are consistent: NEED_MORE until the first answer that is not,
 *    then the same answer (OK with the same length, or the same error) for
 *    every longer prefix;
 *  - a decoded header re-encodes, decodes again to the same fields, and
 *    re-encodes to the same bytes;
 * and, reading the input as address text, the v1 decoder accepts exactly
 * what inet_pton() accepts; and pp_sig_classify() (accept-proxy optional)
 * answers as the definition over every prefix of the input, decides within
 * the first 12 bytes, never changes its mind, and agrees with the decoder.
 * Any inconsistency aborts.
 *
 * Built from this file + src/proxy_proto.c + src/net.c only.
 */
#include <config.h>

#include "net.h"
#include "proxy_proto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static uint8_t enc1[PP_V2_MAX_LEN], enc2[PP_V2_MAX_LEN];

static bool inside(struct pp_bytes b, const uint8_t *buf, size_t len)
{
	if (!b.ptr)
		return b.len == 0;
	return b.ptr >= buf && b.len <= len && (size_t)(b.ptr - buf) <= len - b.len;
}

static bool same_bytes(struct pp_bytes a, struct pp_bytes b)
{
	if (!a.ptr || !b.ptr)
		return !a.ptr && !b.ptr;
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Address pairs as the encoder sends them: both ends IPv4 (plain or
 * mapped) become IPv4, otherwise IPv6 with IPv4 ends mapped. */
static void canon_pair(const struct sockaddr_storage *s, const struct sockaddr_storage *d,
                       struct sockaddr_storage *cs, struct sockaddr_storage *cd)
{
	*cs = *s;
	*cd = *d;
	net_unmap_v4(cs);
	net_unmap_v4(cd);
	if (cs->ss_family == AF_INET && cd->ss_family == AF_INET)
		return;
	*cs = *s;
	*cd = *d;
	if (cs->ss_family == AF_INET || cd->ss_family == AF_INET) {
		/* mixed: map the IPv4 end */
		struct sockaddr_storage *v4 = cs->ss_family == AF_INET ? cs : cd;
		struct sockaddr_in sin = *(struct sockaddr_in *)v4;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)v4;
		uint8_t *b = (uint8_t *)&sin6->sin6_addr;

		memset(v4, 0, sizeof(*v4));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = sin.sin_port;
		b[10] = b[11] = 0xFF;
		memcpy(b + 12, &sin.sin_addr, 4);
	}
}

static bool same_pair(const struct pp_header *a, const struct pp_header *b)
{
	struct sockaddr_storage as, ad, bs, bd;

	canon_pair(&a->src, &a->dst, &as, &ad);
	canon_pair(&b->src, &b->dst, &bs, &bd);
	return net_addr_equal((struct sockaddr *)&as, (struct sockaddr *)&bs) &&
	       net_addr_equal((struct sockaddr *)&ad, (struct sockaddr *)&bd);
}

static void check_header(const struct pp_header *h, const uint8_t *buf, size_t used)
{
	CHECK(h->header_len == used);
	CHECK(h->version == PP_VERSION_1 || h->version == PP_VERSION_2);
	CHECK(h->use_real_addrs == (h->src.ss_family == 0));
	CHECK(h->use_real_addrs == (h->dst.ss_family == 0));
	CHECK(h->tlv.authority.len <= PP_AUTHORITY_MAX);
	CHECK(h->tlv.unique_id.len <= PP_UNIQUE_ID_MAX);
	CHECK(inside(h->tlv_block, buf, used));
	CHECK(inside(h->tlv.alpn, buf, used) && inside(h->tlv.authority, buf, used));
	CHECK(inside(h->tlv.unique_id, buf, used) && inside(h->tlv.netns, buf, used));
	CHECK(inside(h->tlv.ssl.cn, buf, used) && inside(h->tlv.ssl.subtlvs, buf, used));
	CHECK(inside(h->tlv.aws_vpce_id, buf, used) && inside(h->tlv.custom_e0, buf, used));
	if (h->version == PP_VERSION_1) {
		CHECK(used <= PP_V1_MAX_LEN);
		CHECK(h->tlv_block.ptr == NULL);
	}
}

/* Encode what was decoded (v1 as v1, v2 as v2); returns the length. */
static int reencode(const struct pp_header *h, uint8_t *out)
{
	struct pp_v2_send s;
	struct pp_ssl_info si;

	if (h->version == PP_VERSION_1)
		return h->use_real_addrs
		           ? pp_encode_v1(out, PP_V2_MAX_LEN, NULL, NULL)
		           : pp_encode_v1(out, PP_V2_MAX_LEN, (const struct sockaddr *)&h->src,
		                          (const struct sockaddr *)&h->dst);
	memset(&s, 0, sizeof(s));
	memset(&si, 0, sizeof(si));
	s.local = h->use_real_addrs;
	s.src = (const struct sockaddr *)&h->src;
	s.dst = (const struct sockaddr *)&h->dst;
	s.max_size = PP_V2_MAX_LEN;
	s.flags = h->tlv.has_crc32c ? PP_V2_F_CRC32C : 0;
	s.alpn = h->tlv.alpn;
	s.authority = h->tlv.authority;
	s.unique_id = h->tlv.unique_id;
	s.netns = h->tlv.netns;
	s.flags |= (s.alpn.ptr ? PP_V2_F_ALPN : 0) | (s.authority.ptr ? PP_V2_F_AUTHORITY : 0) |
	           (s.unique_id.ptr ? PP_V2_F_UNIQUE_ID : 0) | (s.netns.ptr ? PP_V2_F_NETNS : 0);
	if (h->tlv.ssl.present) {
		si.client = h->tlv.ssl.client;
		si.verify = h->tlv.ssl.verify;
		si.version = h->tlv.ssl.version;
		si.cn = h->tlv.ssl.cn;
		si.cipher = h->tlv.ssl.cipher;
		si.sig_alg = h->tlv.ssl.sig_alg;
		si.key_alg = h->tlv.ssl.key_alg;
		s.ssl = &si;
		s.flags |= PP_V2_F_SSL | (si.cn.ptr ? PP_V2_F_SSL_CN : 0) |
		           (si.cipher.ptr ? PP_V2_F_SSL_CIPHER : 0) |
		           (si.sig_alg.ptr ? PP_V2_F_SSL_SIG_ALG : 0) |
		           (si.key_alg.ptr ? PP_V2_F_SSL_KEY_ALG : 0);
	}
	return pp_encode_v2(out, PP_V2_MAX_LEN, &s);
}

static void roundtrip(const struct pp_header *h)
{
	struct pp_decode_opts big = {.max_header = PP_V2_MAX_LEN};
	struct pp_header h2;
	enum pp_error e;
	size_t used;
	int n1, n2;

	n1 = reencode(h, enc1);
	CHECK(n1 > 0);
	CHECK(pp_decode(enc1, (size_t)n1, &big, &h2, &used, &e) == PP_OK);
	CHECK(used == (size_t)n1);
	CHECK(h2.version == h->version);
	CHECK(h2.use_real_addrs == h->use_real_addrs);
	if (!h->use_real_addrs) {
		CHECK(h2.command == PP_CMD_PROXY);
		CHECK(same_pair(h, &h2));
	} else if (h->version == PP_VERSION_2) {
		CHECK(h2.command == PP_CMD_LOCAL && h2.fam == PP_FAM_UNSPEC);
	}
	CHECK(h2.tlv.has_crc32c == h->tlv.has_crc32c);
	CHECK(same_bytes(h2.tlv.alpn, h->tlv.alpn));
	CHECK(same_bytes(h2.tlv.authority, h->tlv.authority));
	CHECK(same_bytes(h2.tlv.unique_id, h->tlv.unique_id));
	CHECK(same_bytes(h2.tlv.netns, h->tlv.netns));
	CHECK(h2.tlv.ssl.present == h->tlv.ssl.present);
	if (h->tlv.ssl.present) {
		CHECK(h2.tlv.ssl.client == h->tlv.ssl.client);
		CHECK(h2.tlv.ssl.verify == h->tlv.ssl.verify);
		CHECK(same_bytes(h2.tlv.ssl.version, h->tlv.ssl.version));
		CHECK(same_bytes(h2.tlv.ssl.cn, h->tlv.ssl.cn));
		CHECK(same_bytes(h2.tlv.ssl.cipher, h->tlv.ssl.cipher));
		CHECK(same_bytes(h2.tlv.ssl.sig_alg, h->tlv.ssl.sig_alg));
		CHECK(same_bytes(h2.tlv.ssl.key_alg, h->tlv.ssl.key_alg));
	}
	/* encoding is a fixed point after one trip */
	n2 = reencode(&h2, enc2);
	CHECK(n2 == n1);
	CHECK(memcmp(enc1, enc2, (size_t)n1) == 0);
}

static void decode_all(const uint8_t *data, size_t size, const struct pp_decode_opts *o)
{
	struct pp_header h, hk;
	enum pp_error e, ek;
	size_t used, usedk, k, step;
	enum pp_result r, rk;
	bool seen = false;

	r = pp_decode(data, size, o, &h, &used, &e);
	CHECK(r == PP_OK || r == PP_NEED_MORE || r == PP_ERROR);
	CHECK((r == PP_ERROR) == (e != PP_ERR_NONE));
	CHECK(e < PP_ERR_COUNT && strcmp(pp_strerror(e), "unknown") != 0);
	if (r == PP_OK) {
		CHECK(used > 0 && used <= size);
		check_header(&h, data, used);
		roundtrip(&h);
	} else {
		CHECK(used == 0);
	}

	/* prefixes: every one below the first answer is NEED_MORE, every one
	 * from there on gives that same answer */
	step = size <= 600 ? 1 : size / 300;
	for (k = 0; k < size; k += step) {
		rk = pp_decode(data, k, o, &hk, &usedk, &ek);
		if (rk == PP_NEED_MORE) {
			CHECK(!seen);
			CHECK(r != PP_OK || k < used);
			continue;
		}
		seen = true;
		CHECK(rk == r);
		if (r == PP_OK)
			CHECK(usedk == used);
		else
			CHECK(ek == e);
	}
}

/* The input as the address of a v1 line: accepted iff inet_pton() says so. */
static void address_text(const uint8_t *data, size_t size)
{
	char text[64], line[160];
	uint8_t tmp[16];
	struct pp_header h;
	enum pp_error e;
	size_t used, i;
	int n;

	if (size == 0 || size > 50)
		return;
	for (i = 0; i < size; i++)
		if (data[i] == 0 || data[i] == ' ' || data[i] == '\r' || data[i] == '\n')
			return;
	memcpy(text, data, size);
	text[size] = '\0';

	n = snprintf(line, sizeof(line), "PROXY TCP6 ::1 %s 1 2\r\n", text);
	CHECK((pp_decode((uint8_t *)line, (size_t)n, NULL, &h, &used, &e) == PP_OK) ==
	      (inet_pton(AF_INET6, text, tmp) == 1));
	if (inet_pton(AF_INET6, text, tmp) == 1)
		CHECK(memcmp(&((struct sockaddr_in6 *)&h.dst)->sin6_addr, tmp, 16) == 0);
	else
		CHECK(e == PP_ERR_BAD_ADDRESS);
	n = snprintf(line, sizeof(line), "PROXY TCP4 %s 1.2.3.4 1 2\r\n", text);
	CHECK((pp_decode((uint8_t *)line, (size_t)n, NULL, &h, &used, &e) == PP_OK) ==
	      (inet_pton(AF_INET, text, tmp) == 1));
	if (inet_pton(AF_INET, text, tmp) == 1)
		CHECK(memcmp(&((struct sockaddr_in *)&h.src)->sin_addr, tmp, 4) == 0);
	else
		CHECK(e == PP_ERR_BAD_ADDRESS);
}

/* The generic iterator on arbitrary bytes: it ends, and a clean end means
 * the TLVs tile the block exactly. */
static void iterate(const uint8_t *data, size_t size)
{
	struct pp_tlv_iter it;
	struct pp_tlv t;
	size_t sum = 0;
	int r;

	pp_tlv_iter_init(&it, data, size);
	while ((r = pp_tlv_next(&it, &t)) == 1) {
		CHECK(t.value == data + sum + 3);
		sum += 3 + (size_t)t.len;
		CHECK(sum <= size);
	}
	CHECK(r == 0 ? sum == size : size - sum > 0);
}

/* The definition of pp_sig_classify(): a signature is possible while the
 * bytes equal its start. */
static enum pp_sig sig_oracle(const uint8_t *buf, size_t len)
{
	static const uint8_t v2[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
	                               0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
	bool v1 = memcmp(buf, "PROXY ", len < 6 ? len : 6) == 0;
	bool w2 = memcmp(buf, v2, len < 12 ? len : 12) == 0;

	if (v1 && len >= 6)
		return PP_SIG_V1;
	if (w2 && len >= 12)
		return PP_SIG_V2;
	return v1 || w2 ? PP_SIG_NEED_MORE : PP_SIG_NONE;
}

/* Every prefix is a way the first bytes can arrive (the reader classifies
 * all it has after each read), so every split is covered. */
static void classify_all(const uint8_t *data, size_t size)
{
	enum pp_sig whole = pp_sig_classify(data, size), first = PP_SIG_NEED_MORE;
	struct pp_header h;
	enum pp_error e;
	size_t used;
	enum pp_result r;

	for (size_t k = 0; k <= size && k <= 16; k++) {
		enum pp_sig got = pp_sig_classify(data, k);
		CHECK(got == sig_oracle(data, k));
		if (first != PP_SIG_NEED_MORE)
			CHECK(got == first);
		else if (got != PP_SIG_NEED_MORE)
			first = got;
	}
	CHECK(size < 12 || first != PP_SIG_NEED_MORE);
	CHECK(whole == first);
	r = pp_decode(data, size, NULL, &h, &used, &e);
	if (whole == PP_SIG_NONE)
		CHECK(r == PP_ERROR);
	if (whole == PP_SIG_V1 || whole == PP_SIG_V2)
		CHECK(r != PP_ERROR || e != PP_ERR_BAD_SIGNATURE);
	if (r == PP_OK)
		CHECK(whole == (h.version == PP_VERSION_1 ? PP_SIG_V1 : PP_SIG_V2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_decode_opts nocrc = {.ignore_crc = true};
	struct pp_decode_opts small = {.max_header = 64};

	decode_all(data, size, NULL);
	decode_all(data, size, &nocrc);
	decode_all(data, size, &small);
	address_text(data, size);
	iterate(data, size);
	classify_all(data, size);
	return 0;
}
