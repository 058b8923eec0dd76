/* proxy_proto.c - PROXY protocol v1/v2 codec (see proxy_proto.h).
 *
 * Written from doc/proxy-protocol.txt and the behaviour notes in
 * PROXY-NOTES.md. The decoder is incremental: it walks the bytes in order
 * and stops at the first one that proves the header invalid, so a prefix of
 * an input never reports an error the whole input would not report, and a
 * strict prefix of a valid header always reports PP_NEED_MORE.
 */
#include <config.h>

#include "hexdigit.h"
#include "proxy_proto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* ------------------------------------------------------------------ */
/* CRC32C: reflected Castagnoli polynomial 0x82F63B78, init and final   */
/* xor 0xFFFFFFFF. Table generated from the polynomial.                 */

static const uint32_t crc32c_table[256] = {
    0x00000000U, 0xf26b8303U, 0xe13b70f7U, 0x1350f3f4U, 0xc79a971fU, 0x35f1141cU, 0x26a1e7e8U,
    0xd4ca64ebU, 0x8ad958cfU, 0x78b2dbccU, 0x6be22838U, 0x9989ab3bU, 0x4d43cfd0U, 0xbf284cd3U,
    0xac78bf27U, 0x5e133c24U, 0x105ec76fU, 0xe235446cU, 0xf165b798U, 0x030e349bU, 0xd7c45070U,
    0x25afd373U, 0x36ff2087U, 0xc494a384U, 0x9a879fa0U, 0x68ec1ca3U, 0x7bbcef57U, 0x89d76c54U,
    0x5d1d08bfU, 0xaf768bbcU, 0xbc267848U, 0x4e4dfb4bU, 0x20bd8edeU, 0xd2d60dddU, 0xc186fe29U,
    0x33ed7d2aU, 0xe72719c1U, 0x154c9ac2U, 0x061c6936U, 0xf477ea35U, 0xaa64d611U, 0x580f5512U,
    0x4b5fa6e6U, 0xb93425e5U, 0x6dfe410eU, 0x9f95c20dU, 0x8cc531f9U, 0x7eaeb2faU, 0x30e349b1U,
    0xc288cab2U, 0xd1d83946U, 0x23b3ba45U, 0xf779deaeU, 0x05125dadU, 0x1642ae59U, 0xe4292d5aU,
    0xba3a117eU, 0x4851927dU, 0x5b016189U, 0xa96ae28aU, 0x7da08661U, 0x8fcb0562U, 0x9c9bf696U,
    0x6ef07595U, 0x417b1dbcU, 0xb3109ebfU, 0xa0406d4bU, 0x522bee48U, 0x86e18aa3U, 0x748a09a0U,
    0x67dafa54U, 0x95b17957U, 0xcba24573U, 0x39c9c670U, 0x2a993584U, 0xd8f2b687U, 0x0c38d26cU,
    0xfe53516fU, 0xed03a29bU, 0x1f682198U, 0x5125dad3U, 0xa34e59d0U, 0xb01eaa24U, 0x42752927U,
    0x96bf4dccU, 0x64d4cecfU, 0x77843d3bU, 0x85efbe38U, 0xdbfc821cU, 0x2997011fU, 0x3ac7f2ebU,
    0xc8ac71e8U, 0x1c661503U, 0xee0d9600U, 0xfd5d65f4U, 0x0f36e6f7U, 0x61c69362U, 0x93ad1061U,
    0x80fde395U, 0x72966096U, 0xa65c047dU, 0x5437877eU, 0x4767748aU, 0xb50cf789U, 0xeb1fcbadU,
    0x197448aeU, 0x0a24bb5aU, 0xf84f3859U, 0x2c855cb2U, 0xdeeedfb1U, 0xcdbe2c45U, 0x3fd5af46U,
    0x7198540dU, 0x83f3d70eU, 0x90a324faU, 0x62c8a7f9U, 0xb602c312U, 0x44694011U, 0x5739b3e5U,
    0xa55230e6U, 0xfb410cc2U, 0x092a8fc1U, 0x1a7a7c35U, 0xe811ff36U, 0x3cdb9bddU, 0xceb018deU,
    0xdde0eb2aU, 0x2f8b6829U, 0x82f63b78U, 0x709db87bU, 0x63cd4b8fU, 0x91a6c88cU, 0x456cac67U,
    0xb7072f64U, 0xa457dc90U, 0x563c5f93U, 0x082f63b7U, 0xfa44e0b4U, 0xe9141340U, 0x1b7f9043U,
    0xcfb5f4a8U, 0x3dde77abU, 0x2e8e845fU, 0xdce5075cU, 0x92a8fc17U, 0x60c37f14U, 0x73938ce0U,
    0x81f80fe3U, 0x55326b08U, 0xa759e80bU, 0xb4091bffU, 0x466298fcU, 0x1871a4d8U, 0xea1a27dbU,
    0xf94ad42fU, 0x0b21572cU, 0xdfeb33c7U, 0x2d80b0c4U, 0x3ed04330U, 0xccbbc033U, 0xa24bb5a6U,
    0x502036a5U, 0x4370c551U, 0xb11b4652U, 0x65d122b9U, 0x97baa1baU, 0x84ea524eU, 0x7681d14dU,
    0x2892ed69U, 0xdaf96e6aU, 0xc9a99d9eU, 0x3bc21e9dU, 0xef087a76U, 0x1d63f975U, 0x0e330a81U,
    0xfc588982U, 0xb21572c9U, 0x407ef1caU, 0x532e023eU, 0xa145813dU, 0x758fe5d6U, 0x87e466d5U,
    0x94b49521U, 0x66df1622U, 0x38cc2a06U, 0xcaa7a905U, 0xd9f75af1U, 0x2b9cd9f2U, 0xff56bd19U,
    0x0d3d3e1aU, 0x1e6dcdeeU, 0xec064eedU, 0xc38d26c4U, 0x31e6a5c7U, 0x22b65633U, 0xd0ddd530U,
    0x0417b1dbU, 0xf67c32d8U, 0xe52cc12cU, 0x1747422fU, 0x49547e0bU, 0xbb3ffd08U, 0xa86f0efcU,
    0x5a048dffU, 0x8ecee914U, 0x7ca56a17U, 0x6ff599e3U, 0x9d9e1ae0U, 0xd3d3e1abU, 0x21b862a8U,
    0x32e8915cU, 0xc083125fU, 0x144976b4U, 0xe622f5b7U, 0xf5720643U, 0x07198540U, 0x590ab964U,
    0xab613a67U, 0xb831c993U, 0x4a5a4a90U, 0x9e902e7bU, 0x6cfbad78U, 0x7fab5e8cU, 0x8dc0dd8fU,
    0xe330a81aU, 0x115b2b19U, 0x020bd8edU, 0xf0605beeU, 0x24aa3f05U, 0xd6c1bc06U, 0xc5914ff2U,
    0x37faccf1U, 0x69e9f0d5U, 0x9b8273d6U, 0x88d28022U, 0x7ab90321U, 0xae7367caU, 0x5c18e4c9U,
    0x4f48173dU, 0xbd23943eU, 0xf36e6f75U, 0x0105ec76U, 0x12551f82U, 0xe03e9c81U, 0x34f4f86aU,
    0xc69f7b69U, 0xd5cf889dU, 0x27a40b9eU, 0x79b737baU, 0x8bdcb4b9U, 0x988c474dU, 0x6ae7c44eU,
    0xbe2da0a5U, 0x4c4623a6U, 0x5f16d052U, 0xad7d5351U,
};

uint32_t pp_crc32c_update(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
	return ~crc;
}

uint32_t pp_crc32c(const void *data, size_t len)
{
	return pp_crc32c_update(0, data, len);
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static const char *const pp_error_names[PP_ERR_COUNT] = {
    [PP_ERR_NONE] = "none",
    [PP_ERR_BAD_SIGNATURE] = "bad_signature",
    [PP_ERR_BAD_VERSION] = "bad_version",
    [PP_ERR_BAD_COMMAND] = "bad_command",
    [PP_ERR_BAD_FAMILY] = "bad_family",
    [PP_ERR_BAD_ADDRESS] = "bad_address",
    [PP_ERR_BAD_PORT] = "bad_port",
    [PP_ERR_BAD_SYNTAX] = "bad_syntax",
    [PP_ERR_TRUNCATED_BLOCK] = "truncated_block",
    [PP_ERR_BAD_TLV] = "bad_tlv",
    [PP_ERR_CRC_MISMATCH] = "crc_mismatch",
    [PP_ERR_TOO_LARGE] = "too_large",
};

const char *pp_strerror(enum pp_error err)
{
	if ((unsigned)err >= PP_ERR_COUNT)
		return "unknown";
	return pp_error_names[err];
}

struct pp_bytes pp_bytes_str(const char *s)
{
	struct pp_bytes b = {NULL, 0};

	if (s) {
		b.ptr = (const uint8_t *)s;
		b.len = strlen(s);
	}
	return b;
}

/* ------------------------------------------------------------------ */
/* Generic TLV iterator                                                 */

void pp_tlv_iter_init(struct pp_tlv_iter *it, const uint8_t *block, size_t len)
{
	it->pos = block;
	it->end = block ? block + len : block;
}

int pp_tlv_next(struct pp_tlv_iter *it, struct pp_tlv *tlv)
{
	size_t left = (size_t)(it->end - it->pos);
	uint16_t vlen;

	if (left == 0)
		return 0;
	if (left < 3)
		return -1;
	vlen = get_be16(it->pos + 1);
	if (vlen > left - 3)
		return -1;
	tlv->type = it->pos[0];
	tlv->len = vlen;
	tlv->value = it->pos + 3;
	it->pos += 3 + (size_t)vlen;
	return 1;
}

/* ------------------------------------------------------------------ */
/* v1 text address validators, fed one character at a time. Each feed   */
/* returns 0 while the text so far can still become a valid address and  */
/* -1 as soon as it cannot; *_done() says whether it is complete. They   */
/* accept exactly what glibc's inet_pton() accepts.                      */

struct v4_text {
	int dots;   /* dots seen, 0..3 */
	int digits; /* digits in the current octet */
	int value;  /* value of the current octet */
};

static int v4_feed(struct v4_text *v, char c)
{
	if (c >= '0' && c <= '9') {
		if (v->digits == 1 && v->value == 0)
			return -1; /* leading zero */
		v->value = v->value * 10 + (c - '0');
		v->digits++;
		return v->value > 255 ? -1 : 0;
	}
	if (c == '.') {
		if (v->digits == 0 || v->dots == 3)
			return -1;
		v->dots++;
		v->digits = 0;
		v->value = 0;
		return 0;
	}
	return -1;
}

static bool v4_done(const struct v4_text *v)
{
	return v->dots == 3 && v->digits > 0;
}

struct v6_text {
	int pos;           /* characters seen */
	int groups;        /* 16-bit groups closed by ':' */
	int xdigits;       /* hex digits in the current token */
	bool dcolon;       /* "::" seen */
	bool last_dcolon;  /* the last character closed a "::" */
	bool lead_colon;   /* a single ':' at position 0, needs a second one */
	bool dotted;       /* in the IPv4 dotted tail */
	bool tok_v4_ok;    /* the current token is still a valid IPv4 prefix */
	struct v4_text v4; /* current token (or dotted tail) as IPv4 */
};

static int v6_feed(struct v6_text *v, char c)
{
	int pos = v->pos++;
	bool was_lead = v->lead_colon;

	v->last_dcolon = false;
	v->lead_colon = false;
	if (v->dotted)
		return c == ':' ? -1 : v4_feed(&v->v4, c);
	if (was_lead && c != ':')
		return -1;
	if (hex_digit_value(c) >= 0) {
		if (v->xdigits == 0) {
			/* a new token: it needs room for one more group */
			if (v->groups + 1 > (v->dcolon ? 7 : 8))
				return -1;
			memset(&v->v4, 0, sizeof(v->v4));
			v->tok_v4_ok = true;
		}
		if (v->xdigits == 4)
			return -1;
		v->xdigits++;
		if (v->tok_v4_ok && v4_feed(&v->v4, c) < 0)
			v->tok_v4_ok = false;
		return 0;
	}
	if (c == ':') {
		if (v->xdigits > 0) {
			v->groups++;
			v->xdigits = 0;
			/* something must follow: a group, or "::" */
			return v->groups <= (v->dcolon ? 6 : 7) ? 0 : -1;
		}
		if (pos == 0) {
			v->lead_colon = true;
			return 0;
		}
		/* second colon of "::": it stands for at least one group */
		if (v->dcolon || v->groups > 7)
			return -1;
		v->dcolon = true;
		v->last_dcolon = true;
		return 0;
	}
	if (c == '.') {
		if (v->xdigits == 0 || !v->tok_v4_ok)
			return -1;
		/* the tail takes the last 32 bits */
		if (v->dcolon ? v->groups > 5 : v->groups != 6)
			return -1;
		v->dotted = true;
		return v4_feed(&v->v4, c);
	}
	return -1;
}

static bool v6_done(const struct v6_text *v)
{
	int total;

	if (v->dotted)
		return v4_done(&v->v4);
	if (v->pos == 0 || v->lead_colon)
		return false;
	if (v->xdigits == 0 && !v->last_dcolon)
		return false; /* ends with a single ':' */
	total = v->groups + (v->xdigits > 0);
	return v->dcolon ? total <= 7 : total == 8;
}

/* ------------------------------------------------------------------ */
/* v1 decoder: one pass, one state per field                            */

enum v1_state {
	V1_LITERAL = 0, /* "PROXY " */
	V1_PROTO,
	V1_SRC,
	V1_DST,
	V1_SPORT,
	V1_DPORT,
	V1_UNKNOWN_SKIP,
	V1_LF,
};

#define V1_ADDR_MAX 45 /* longest inet_pton() IPv6 text */

struct v1_field {
	char text[V1_ADDR_MAX + 1];
	int len;
	struct v4_text v4;
	struct v6_text v6;
	uint32_t port;
	int port_digits;
};

static enum pp_result v1_fail(enum pp_error *err, enum pp_error e)
{
	*err = e;
	return PP_ERROR;
}

/* Finish an address field into ss; -1 if it is not a complete address. */
static int v1_finish_addr(struct v1_field *f, int family, struct sockaddr_storage *ss)
{
	f->text[f->len] = '\0';
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (!v4_done(&f->v4) || inet_pton(AF_INET, f->text, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (!v6_done(&f->v6) || inet_pton(AF_INET6, f->text, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
	}
	return 0;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static enum pp_result decode_v1(const uint8_t *buf, size_t len, struct pp_header *out,
                                size_t *consumed, enum pp_error *err)
{
	static const char literal[] = "PROXY ";
	static const char *const protos[] = {"TCP4", "TCP6", "UNKNOWN"};
	enum v1_state st = V1_LITERAL;
	struct v1_field f;
	char proto[8];
	int proto_len = 0, family = 0;
	size_t i, n = len < PP_V1_MAX_LEN ? len : PP_V1_MAX_LEN;

	memset(&f, 0, sizeof(f));
	for (i = 0; i < n; i++) {
		char c = (char)buf[i];

		if (st == V1_LITERAL) {
			if (c != literal[i])
				return v1_fail(err,
				               i < 5 ? PP_ERR_BAD_SIGNATURE : PP_ERR_BAD_SYNTAX);
			if (i == 5)
				st = V1_PROTO;
			continue;
		}
		if (st == V1_LF) {
			if (c != '\n')
				return v1_fail(err, PP_ERR_BAD_SYNTAX);
			out->version = PP_VERSION_1;
			out->command = PP_CMD_PROXY;
			out->header_len = i + 1;
			*consumed = i + 1;
			return PP_OK;
		}
		/* The CR must come by offset 105 so that the LF fits in 107 bytes. */
		if (i >= PP_V1_MAX_LEN - 2 && c != '\r')
			return v1_fail(err, PP_ERR_BAD_SYNTAX);
		if (c == '\n')
			return v1_fail(err, PP_ERR_BAD_SYNTAX); /* bare LF */

		if (st == V1_PROTO) {
			if (c == ' ' || c == '\r') {
				int k, match = -1;

				for (k = 0; k < 3; k++)
					if (proto_len == (int)strlen(protos[k]) &&
					    memcmp(proto, protos[k], (size_t)proto_len) == 0)
						match = k;
				if (proto_len == 0)
					return v1_fail(err, PP_ERR_BAD_SYNTAX);
				if (match < 0)
					return v1_fail(err, PP_ERR_BAD_FAMILY);
				if (match == 2) {
					out->fam = PP_FAM_UNSPEC;
					out->use_real_addrs = true;
					st = c == '\r' ? V1_LF : V1_UNKNOWN_SKIP;
					continue;
				}
				if (c == '\r')
					return v1_fail(err, PP_ERR_BAD_SYNTAX);
				family = match == 0 ? AF_INET : AF_INET6;
				out->fam = match == 0 ? PP_FAM_TCP4 : PP_FAM_TCP6;
				st = V1_SRC;
			} else {
				int k;
				bool prefix = false;

				proto[proto_len++] = c; /* <= 7: longer is no prefix */
				for (k = 0; k < 3; k++)
					if (strlen(protos[k]) >= (size_t)proto_len &&
					    memcmp(proto, protos[k], (size_t)proto_len) == 0)
						prefix = true;
				if (!prefix)
					return v1_fail(err, PP_ERR_BAD_FAMILY);
			}
		} else if (st == V1_SRC || st == V1_DST) {
			if (c == ' ') {
				struct sockaddr_storage *ss = st == V1_SRC ? &out->src : &out->dst;

				if (f.len == 0)
					return v1_fail(err, PP_ERR_BAD_SYNTAX);
				if (v1_finish_addr(&f, family, ss) < 0)
					return v1_fail(err, PP_ERR_BAD_ADDRESS);
				memset(&f, 0, sizeof(f));
				st = st == V1_SRC ? V1_DST : V1_SPORT;
				continue;
			}
			if (c == '\r')
				return v1_fail(err, PP_ERR_BAD_SYNTAX);
			if (f.len == V1_ADDR_MAX)
				return v1_fail(err, PP_ERR_BAD_ADDRESS);
			if ((family == AF_INET ? v4_feed(&f.v4, c) : v6_feed(&f.v6, c)) < 0)
				return v1_fail(err, PP_ERR_BAD_ADDRESS);
			f.text[f.len++] = c;
		} else if (st == V1_SPORT || st == V1_DPORT) {
			if (c == ' ' || c == '\r') {
				if (f.port_digits == 0 || (c == ' ') != (st == V1_SPORT))
					return v1_fail(err, PP_ERR_BAD_SYNTAX);
				if (st == V1_SPORT) {
					set_port(&out->src, (uint16_t)f.port);
					memset(&f, 0, sizeof(f));
					st = V1_DPORT;
				} else {
					set_port(&out->dst, (uint16_t)f.port);
					st = V1_LF;
				}
				continue;
			}
			if (c < '0' || c > '9' || (f.port_digits == 1 && f.port == 0))
				return v1_fail(err, PP_ERR_BAD_PORT);
			f.port = f.port * 10 + (uint32_t)(c - '0');
			f.port_digits++;
			if (f.port > 65535)
				return v1_fail(err, PP_ERR_BAD_PORT);
		} else if (c == '\r') { /* V1_UNKNOWN_SKIP: anything up to CRLF */
			st = V1_LF;
		}
	}
	return PP_NEED_MORE;
}

/* ------------------------------------------------------------------ */
/* v2 decoder                                                           */

/* Address block size for a fam byte, -1 for an invalid one. */
static int v2_block_len(uint8_t fam)
{
	switch (fam) {
	case PP_FAM_UNSPEC:
		return 0;
	case PP_FAM_TCP4:
	case PP_FAM_UDP4:
		return 12;
	case PP_FAM_TCP6:
	case PP_FAM_UDP6:
		return 36;
	case PP_FAM_UNIX_STREAM:
	case PP_FAM_UNIX_DGRAM:
		return 216;
	default:
		return -1;
	}
}

/* Walking state for one level of TLVs: [off, end) of buf, of which the bytes
 * below avail have arrived. */
struct tlv_walk {
	const uint8_t *buf;
	size_t off, end, avail;
};

enum walk_step {
	WALK_DONE = 0, /* region fully walked */
	WALK_TLV,      /* a TLV whose header has arrived: type, vlen, value offset */
	WALK_MORE,     /* the next TLV header has not arrived */
	WALK_BAD,      /* overrun or 1-2 stray bytes */
};

static enum walk_step walk_next(struct tlv_walk *w, uint8_t *type, size_t *vlen, size_t *voff)
{
	if (w->off >= w->end)
		return WALK_DONE;
	if (w->end - w->off < 3)
		return WALK_BAD;
	if (w->avail < w->off + 3)
		return WALK_MORE;
	*type = w->buf[w->off];
	*vlen = get_be16(w->buf + w->off + 1);
	*voff = w->off + 3;
	if (*vlen > w->end - *voff)
		return WALK_BAD;
	w->off = *voff + *vlen;
	return WALK_TLV;
}

static void set_bytes(struct pp_bytes *b, const uint8_t *p, size_t len)
{
	b->ptr = p;
	b->len = len;
}

/* SSL TLV value at [voff, voff+vlen): client(1) verify(4) sub-TLVs. */
static enum pp_result parse_ssl(const uint8_t *buf, size_t voff, size_t vlen, size_t avail,
                                struct pp_ssl *ssl, enum pp_error *err)
{
	struct tlv_walk w = {buf, voff + 5, voff + vlen, avail};
	enum walk_step step;
	uint8_t type;
	size_t slen, soff;

	while ((step = walk_next(&w, &type, &slen, &soff)) == WALK_TLV) {
		struct pp_bytes *dst;

		switch (type) {
		case PP_TLV_SSL_VERSION:
			dst = &ssl->version;
			break;
		case PP_TLV_SSL_CN:
			dst = &ssl->cn;
			break;
		case PP_TLV_SSL_CIPHER:
			dst = &ssl->cipher;
			break;
		case PP_TLV_SSL_SIG_ALG:
			dst = &ssl->sig_alg;
			break;
		case PP_TLV_SSL_KEY_ALG:
			dst = &ssl->key_alg;
			break;
		case PP_TLV_SSL_GROUP:
			dst = &ssl->group;
			break;
		case PP_TLV_SSL_SIG_SCHEME:
			dst = &ssl->sig_scheme;
			break;
		case PP_TLV_SSL_CLIENT_CERT:
			dst = &ssl->client_cert;
			break;
		default:
			dst = NULL;
			break; /* unknown sub-TLV: skipped */
		}
		if (dst && dst->ptr) {
			*err = PP_ERR_BAD_TLV; /* duplicate */
			return PP_ERROR;
		}
		if (dst)
			set_bytes(dst, buf + soff, slen);
	}
	if (step == WALK_BAD) {
		*err = PP_ERR_BAD_TLV;
		return PP_ERROR;
	}
	if (step == WALK_MORE || avail < voff + vlen)
		return PP_NEED_MORE;
	ssl->present = true;
	ssl->client = buf[voff];
	ssl->verify = get_be32(buf + voff + 1);
	set_bytes(&ssl->subtlvs, buf + voff + 5, vlen - 5);
	return PP_OK;
}

static bool aws_id_ok(const uint8_t *p, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		uint8_t c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	return true;
}

/* Walk the TLVs at [off, total). *crc_off gets the CRC32C value offset. */
static enum pp_result parse_tlvs(const uint8_t *buf, size_t off, size_t total, size_t avail,
                                 struct pp_tlvs *t, size_t *crc_off, enum pp_error *err)
{
	struct tlv_walk w = {buf, off, total, avail};
	enum walk_step step;
	uint8_t type;
	size_t vlen, voff;

	while ((step = walk_next(&w, &type, &vlen, &voff)) == WALK_TLV) {
		const uint8_t *v = buf + voff;
		struct pp_bytes *single = NULL;
		bool bad = false, complete = avail >= voff + vlen;

		/* Checks that the TLV header alone decides. */
		switch (type) {
		case PP_TLV_ALPN:
			single = &t->alpn;
			break;
		case PP_TLV_AUTHORITY:
			single = &t->authority;
			bad = vlen > PP_AUTHORITY_MAX;
			break;
		case PP_TLV_UNIQUE_ID:
			single = &t->unique_id;
			bad = vlen > PP_UNIQUE_ID_MAX;
			break;
		case PP_TLV_NETNS:
			single = &t->netns;
			break;
		case PP_TLV_CRC32C:
			bad = vlen != 4 || *crc_off != 0;
			*crc_off = voff;
			break;
		case PP_TLV_SSL:
			bad = vlen < 5 || t->ssl.present;
			break;
		default:
			break;
		}
		if (bad || (single && single->ptr)) {
			*err = PP_ERR_BAD_TLV;
			return PP_ERROR;
		}
		if (type == PP_TLV_SSL) {
			enum pp_result r = parse_ssl(buf, voff, vlen, avail, &t->ssl, err);

			if (r != PP_OK)
				return r;
			continue;
		}
		if (!complete)
			return PP_NEED_MORE;
		if (single) {
			set_bytes(single, v, vlen);
		} else if (type == PP_TLV_CRC32C) {
			t->has_crc32c = true;
			t->crc32c = get_be32(v);
		} else if (type == PP_TLV_AWS) {
			if (!t->aws_vpce_id.ptr && vlen >= 2 && v[0] == 0x01 &&
			    aws_id_ok(v + 1, vlen - 1))
				set_bytes(&t->aws_vpce_id, v + 1, vlen - 1);
		} else if (type == PP_TLV_AZURE) {
			if (!t->has_azure_linkid && vlen == 5 && v[0] == 0x01) {
				t->has_azure_linkid = true;
				t->azure_linkid = (uint32_t)v[1] | ((uint32_t)v[2] << 8) |
				                  ((uint32_t)v[3] << 16) | ((uint32_t)v[4] << 24);
			}
		} else if (type == PP_TLV_GCP) {
			if (vlen == 8 && !t->has_gcp_psc_id) {
				t->has_gcp_psc_id = true;
				t->gcp_psc_id = ((uint64_t)get_be32(v) << 32) | get_be32(v + 4);
			} else if (vlen != 8 && !t->custom_e0.ptr) {
				set_bytes(&t->custom_e0, v, vlen);
			}
		}
		/* NOOP and unknown types: skipped */
	}
	if (step == WALK_BAD) {
		*err = PP_ERR_BAD_TLV;
		return PP_ERROR;
	}
	return step == WALK_MORE ? PP_NEED_MORE : PP_OK;
}

static enum pp_result v2_fail(enum pp_error *err, enum pp_error e)
{
	*err = e;
	return PP_ERROR;
}

static enum pp_result decode_v2(const uint8_t *buf, size_t len, const struct pp_decode_opts *opts,
                                struct pp_header *out, size_t *consumed, enum pp_error *err)
{
	size_t max = opts && opts->max_header ? opts->max_header : PP_DEFAULT_MAX_HEADER;
	size_t total, block_off, crc_off = 0;
	int block;
	enum pp_result r;

	if (memcmp(buf, v2_sig, len < 12 ? len : 12) != 0)
		return v2_fail(err, PP_ERR_BAD_SIGNATURE);
	if (len < 13)
		return PP_NEED_MORE;
	if ((buf[12] & 0xF0) != 0x20)
		return v2_fail(err, PP_ERR_BAD_VERSION);
	if ((buf[12] & 0x0F) > 1)
		return v2_fail(err, PP_ERR_BAD_COMMAND);
	if (len < 14)
		return PP_NEED_MORE;
	block = v2_block_len(buf[13]);
	if (block < 0)
		return v2_fail(err, PP_ERR_BAD_FAMILY);
	if (len < 16)
		return PP_NEED_MORE;
	if (get_be16(buf + 14) < block)
		return v2_fail(err, PP_ERR_TRUNCATED_BLOCK);
	total = PP_V2_HDR_LEN + (size_t)get_be16(buf + 14);
	if (total > max)
		return v2_fail(err, PP_ERR_TOO_LARGE);

	block_off = PP_V2_HDR_LEN + (size_t)block;
	r = parse_tlvs(buf, block_off, total, len < total ? len : total, &out->tlv, &crc_off, err);
	if (r != PP_OK)
		return r;
	if (len < total)
		return PP_NEED_MORE; /* a value at the end has not fully arrived */

	if (out->tlv.has_crc32c && !(opts && opts->ignore_crc)) {
		static const uint8_t zero[4];
		uint32_t crc = pp_crc32c_update(0, buf, crc_off);

		crc = pp_crc32c_update(crc, zero, 4);
		crc = pp_crc32c_update(crc, buf + crc_off + 4, total - crc_off - 4);
		if (crc != out->tlv.crc32c)
			return v2_fail(err, PP_ERR_CRC_MISMATCH);
	}

	out->version = PP_VERSION_2;
	out->command = (enum pp_command)(buf[12] & 0x0F);
	out->fam = buf[13];
	out->header_len = total;
	set_bytes(&out->tlv_block, buf + block_off, total - block_off);
	if (out->command == PP_CMD_PROXY && out->fam == PP_FAM_TCP4) {
		struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;

		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, buf + 16, 4);
		memcpy(&d->sin_addr, buf + 20, 4);
		memcpy(&s->sin_port, buf + 24, 2);
		memcpy(&d->sin_port, buf + 26, 2);
	} else if (out->command == PP_CMD_PROXY && out->fam == PP_FAM_TCP6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;

		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, buf + 16, 16);
		memcpy(&d->sin6_addr, buf + 32, 16);
		memcpy(&s->sin6_port, buf + 48, 2);
		memcpy(&d->sin6_port, buf + 50, 2);
	} else {
		/* LOCAL, or a family we do not relay (UNSPEC, UDP, UNIX) */
		out->use_real_addrs = true;
	}
	*consumed = total;
	return PP_OK;
}

enum pp_result pp_decode(const uint8_t *buf, size_t len, const struct pp_decode_opts *opts,
                         struct pp_header *out, size_t *consumed, enum pp_error *err)
{
	enum pp_result r;

	memset(out, 0, sizeof(*out));
	*consumed = 0;
	*err = PP_ERR_NONE;
	if (len == 0)
		return PP_NEED_MORE;
	if (buf[0] == 'P')
		r = decode_v1(buf, len, out, consumed, err);
	else if (buf[0] == v2_sig[0])
		r = decode_v2(buf, len, opts, out, consumed, err);
	else
		r = v2_fail(err, PP_ERR_BAD_SIGNATURE);
	return r;
}

enum pp_sig pp_sig_classify(const uint8_t *buf, size_t len)
{
	static const uint8_t v1_sig[6] = {'P', 'R', 'O', 'X', 'Y', ' '};
	bool v1 = true, v2 = true;

	for (size_t i = 0; i < len && (v1 || v2); i++) {
		if (i < sizeof(v1_sig) && buf[i] != v1_sig[i])
			v1 = false;
		if (i < sizeof(v2_sig) && buf[i] != v2_sig[i])
			v2 = false;
		if (v1 && i + 1 == sizeof(v1_sig))
			return PP_SIG_V1;
		if (v2 && i + 1 == sizeof(v2_sig))
			return PP_SIG_V2;
	}
	return v1 || v2 ? PP_SIG_NEED_MORE : PP_SIG_NONE;
}

/* ------------------------------------------------------------------ */
/* Encoders                                                             */

struct pp_addrs {
	int family; /* AF_INET, AF_INET6, or 0 (none: UNKNOWN / LOCAL) */
	uint8_t src[16], dst[16];
	uint16_t sport, dport; /* host order */
};

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

/* IPv4 (plain or mapped) into a[0..4); 0 if it is neither. */
static int addr_as_v4(const struct sockaddr *sa, uint8_t a[4], uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		memcpy(a, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return 1;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *b = (const uint8_t *)&sin6->sin6_addr;

		if (memcmp(b, v4mapped_prefix, 12) != 0)
			return 0;
		memcpy(a, b + 12, 4);
		*port = ntohs(sin6->sin6_port);
		return 1;
	}
	return 0;
}

/* IPv4 written mapped, IPv6 as is. */
static void addr_as_v6(const struct sockaddr *sa, uint8_t a[16], uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		memcpy(a, v4mapped_prefix, 12);
		memcpy(a + 12, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		memcpy(a, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
	}
}

static void pick_addrs(const struct sockaddr *src, const struct sockaddr *dst, struct pp_addrs *a)
{
	memset(a, 0, sizeof(*a));
	if (!src || !dst)
		return;
	if ((src->sa_family != AF_INET && src->sa_family != AF_INET6) ||
	    (dst->sa_family != AF_INET && dst->sa_family != AF_INET6))
		return;
	if (addr_as_v4(src, a->src, &a->sport) && addr_as_v4(dst, a->dst, &a->dport)) {
		a->family = AF_INET;
		return;
	}
	a->family = AF_INET6;
	addr_as_v6(src, a->src, &a->sport);
	addr_as_v6(dst, a->dst, &a->dport);
}

int pp_encode_v1(uint8_t *buf, size_t size, const struct sockaddr *src, const struct sockaddr *dst)
{
	char line[PP_V1_MAX_LEN + 1], s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	struct pp_addrs a;
	int n;

	pick_addrs(src, dst, &a);
	if (a.family == 0) {
		n = snprintf(line, sizeof(line), "PROXY UNKNOWN\r\n");
	} else {
		/* inet_ntop() cannot fail here: known family, large enough buffers */
		inet_ntop(a.family, a.src, s, sizeof(s));
		inet_ntop(a.family, a.dst, d, sizeof(d));
		n = snprintf(line, sizeof(line), "PROXY %s %s %s %u %u\r\n",
		             a.family == AF_INET ? "TCP4" : "TCP6", s, d, (unsigned)a.sport,
		             (unsigned)a.dport);
	}
	if ((size_t)n > size)
		return PP_ENC_NOSPACE;
	memcpy(buf, line, (size_t)n);
	return n;
}

static size_t tlv_size(const struct pp_bytes *b, bool on)
{
	return on && b->ptr ? 3 + b->len : 0;
}

static size_t put_tlv(uint8_t *p, uint8_t type, const uint8_t *v, size_t len)
{
	p[0] = type;
	put_be16(p + 1, (uint16_t)len);
	if (len)
		memcpy(p + 3, v, len);
	return 3 + len;
}

int pp_encode_v2(uint8_t *buf, size_t size, const struct pp_v2_send *s)
{
	static const struct pp_ssl_info no_ssl;
	const struct pp_ssl_info *ssl = s->ssl ? s->ssl : &no_ssl;
	size_t cap = s->max_size ? s->max_size : PP_SEND_MAX;
	unsigned fl = s->flags;
	bool f_uid = fl & PP_V2_F_UNIQUE_ID, f_auth = fl & PP_V2_F_AUTHORITY;
	bool f_ssl = fl & PP_V2_F_SSL, f_alpn = fl & PP_V2_F_ALPN, f_ns = fl & PP_V2_F_NETNS;
	const struct pp_bytes *subs[5] = {&ssl->version, &ssl->cn, &ssl->key_alg, &ssl->sig_alg,
	                                  &ssl->cipher};
	const uint8_t sub_types[5] = {PP_TLV_SSL_VERSION, PP_TLV_SSL_CN, PP_TLV_SSL_KEY_ALG,
	                              PP_TLV_SSL_SIG_ALG, PP_TLV_SSL_CIPHER};
	bool sub_on[5] = {true, fl & PP_V2_F_SSL_CN, fl & PP_V2_F_SSL_KEY_ALG,
	                  fl & PP_V2_F_SSL_SIG_ALG, fl & PP_V2_F_SSL_CIPHER};
	const struct pp_bytes *vals[4] = {&s->alpn, &s->authority, &s->unique_id, &s->netns};
	struct pp_addrs a;
	size_t total, ssl_len = 5, p, crc_off = 0;
	int i;

	if (s->local)
		memset(&a, 0, sizeof(a));
	else
		pick_addrs(s->src, s->dst, &a);

	/* Sizes first: nothing is written unless the whole header fits. */
	if ((f_auth && s->authority.ptr && s->authority.len > PP_AUTHORITY_MAX) ||
	    (f_uid && s->unique_id.ptr && s->unique_id.len > PP_UNIQUE_ID_MAX))
		return PP_ENC_INVALID;
	for (i = 0; i < 4; i++)
		if (vals[i]->ptr && vals[i]->len > 0xFFFF)
			return PP_ENC_INVALID;
	for (i = 0; i < 5; i++)
		ssl_len += tlv_size(subs[i], f_ssl && sub_on[i]);
	total = PP_V2_HDR_LEN + (a.family == AF_INET ? 12 : a.family == AF_INET6 ? 36 : 0);
	total += (fl & PP_V2_F_CRC32C) ? 7 : 0;
	total += tlv_size(&s->alpn, f_alpn) + tlv_size(&s->authority, f_auth) +
	         tlv_size(&s->unique_id, f_uid) + tlv_size(&s->netns, f_ns);
	total += f_ssl ? 3 + ssl_len : 0;
	if (ssl_len > 0xFFFF || total > PP_V2_MAX_LEN)
		return PP_ENC_INVALID;
	if (total > cap)
		return PP_ENC_TOO_LARGE;
	if (total > size)
		return PP_ENC_NOSPACE;

	memcpy(buf, v2_sig, 12);
	put_be16(buf + 14, (uint16_t)(total - PP_V2_HDR_LEN));
	if (a.family == AF_INET) {
		buf[12] = 0x21;
		buf[13] = PP_FAM_TCP4;
		memcpy(buf + 16, a.src, 4);
		memcpy(buf + 20, a.dst, 4);
		put_be16(buf + 24, a.sport);
		put_be16(buf + 26, a.dport);
		p = 28;
	} else if (a.family == AF_INET6) {
		buf[12] = 0x21;
		buf[13] = PP_FAM_TCP6;
		memcpy(buf + 16, a.src, 16);
		memcpy(buf + 32, a.dst, 16);
		put_be16(buf + 48, a.sport);
		put_be16(buf + 50, a.dport);
		p = 52;
	} else {
		buf[12] = 0x20; /* LOCAL */
		buf[13] = PP_FAM_UNSPEC;
		p = 16;
	}
	if (fl & PP_V2_F_CRC32C) {
		static const uint8_t zero[4];

		crc_off = p + 3;
		p += put_tlv(buf + p, PP_TLV_CRC32C, zero, 4);
	}
	if (f_alpn && s->alpn.ptr)
		p += put_tlv(buf + p, PP_TLV_ALPN, s->alpn.ptr, s->alpn.len);
	if (f_auth && s->authority.ptr)
		p += put_tlv(buf + p, PP_TLV_AUTHORITY, s->authority.ptr, s->authority.len);
	if (f_uid && s->unique_id.ptr)
		p += put_tlv(buf + p, PP_TLV_UNIQUE_ID, s->unique_id.ptr, s->unique_id.len);
	if (f_ssl) {
		buf[p] = PP_TLV_SSL;
		put_be16(buf + p + 1, (uint16_t)ssl_len);
		buf[p + 3] = ssl->client;
		put_be32(buf + p + 4, ssl->verify);
		p += 8;
		for (i = 0; i < 5; i++)
			if (sub_on[i] && subs[i]->ptr)
				p += put_tlv(buf + p, sub_types[i], subs[i]->ptr, subs[i]->len);
	}
	if (f_ns && s->netns.ptr)
		p += put_tlv(buf + p, PP_TLV_NETNS, s->netns.ptr, s->netns.len);
	if (crc_off)
		put_be32(buf + crc_off, pp_crc32c(buf, total));
	return (int)total;
}

size_t pp_v2_worst_case_size(unsigned flags, size_t netns_len)
{
	size_t n = PP_V2_HDR_LEN + 36;

	if (flags & PP_V2_F_CRC32C)
		n += 3 + 4;
	if (flags & PP_V2_F_ALPN)
		n += 3 + PP_ALPN_MAX;
	if (flags & PP_V2_F_AUTHORITY)
		n += 3 + PP_AUTHORITY_MAX;
	if (flags & PP_V2_F_UNIQUE_ID)
		n += 3 + PP_UNIQUE_ID_MAX;
	if (flags & PP_V2_F_SSL) {
		n += 3 + 5 + 3 + PP_SSL_VERSION_MAX;
		if (flags & PP_V2_F_SSL_CN)
			n += 3 + PP_SSL_CN_MAX;
		if (flags & PP_V2_F_SSL_CIPHER)
			n += 3 + PP_SSL_CIPHER_MAX;
		if (flags & PP_V2_F_SSL_SIG_ALG)
			n += 3 + PP_SSL_ALG_MAX;
		if (flags & PP_V2_F_SSL_KEY_ALG)
			n += 3 + PP_SSL_ALG_MAX;
	}
	if (flags & PP_V2_F_NETNS)
		n += 3 + netns_len;
	return n;
}
