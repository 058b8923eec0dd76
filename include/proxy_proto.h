/* proxy_proto.h - PROXY protocol v1/v2 codec: decode, encode, TLVs, CRC32C.
 *
 * Pure code: no sockets, no allocation, no global state. The decoder reads a
 * caller's byte buffer and reports NEED_MORE for every strict prefix of a valid
 * header, an error as soon as the bytes seen prove the header invalid, or OK
 * with the number of header bytes to consume. TLV values in the result point
 * into the caller's buffer and are valid as long as that buffer is.
 *
 * The encoder writes into a caller's buffer (like HAProxy's make_proxy_line)
 * a profile that HAProxy 2.6 receivers accept: v1 TCP4/TCP6 or the short
 * "PROXY UNKNOWN\r\n"; v2 PROXY with TCP4/TCP6 only, LOCAL without addresses.
 */
#ifndef PPB_PROXY_PROTO_H
#define PPB_PROXY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- limits ---- */

#define PP_V1_MAX_LEN 107          /* longest v1 line, CRLF included */
#define PP_V2_HDR_LEN 16           /* fixed v2 part: signature, ver_cmd, fam, len */
#define PP_V2_MAX_LEN 65551        /* 16 + 65535 */
#define PP_DEFAULT_MAX_HEADER 4096 /* decoder default for struct pp_decode_opts.max_header */
#define PP_SEND_MAX 512            /* encoder default cap (one segment, HAProxy 2.6 peeks once) */
#define PP_AUTHORITY_MAX 255       /* HAProxy PP2_AUTHORITY_MAX */
#define PP_UNIQUE_ID_MAX 128       /* HAProxy UNIQUEID_LEN, spec 2.2.5 */
#define PP_ALPN_MAX 255            /* RFC 7301 protocol name */

/* Upper bounds assumed by pp_v2_worst_case_size() for SSL sub-TLV values. */
#define PP_SSL_VERSION_MAX 32
#define PP_SSL_CN_MAX 256 /* ub-common-name 64 characters, 4 bytes each in UTF-8 */
#define PP_SSL_CIPHER_MAX 64
#define PP_SSL_ALG_MAX 32 /* sig_alg and key_alg */

/* ---- wire constants (spec 2.2) ---- */

enum pp_tlv_type {
	PP_TLV_NONE = 0x00,
	PP_TLV_ALPN = 0x01,
	PP_TLV_AUTHORITY = 0x02,
	PP_TLV_CRC32C = 0x03,
	PP_TLV_NOOP = 0x04,
	PP_TLV_UNIQUE_ID = 0x05,
	PP_TLV_SSL = 0x20,
	PP_TLV_SSL_VERSION = 0x21,
	PP_TLV_SSL_CN = 0x22,
	PP_TLV_SSL_CIPHER = 0x23,
	PP_TLV_SSL_SIG_ALG = 0x24,
	PP_TLV_SSL_KEY_ALG = 0x25,
	PP_TLV_SSL_GROUP = 0x26,       /* 2025, not in HAProxy 2.6 */
	PP_TLV_SSL_SIG_SCHEME = 0x27,  /* 2025, not in HAProxy 2.6 */
	PP_TLV_SSL_CLIENT_CERT = 0x28, /* 2026, not in HAProxy 2.6 */
	PP_TLV_NETNS = 0x30,
	PP_TLV_GCP = 0xE0, /* custom range; also hitch's client cert */
	PP_TLV_AWS = 0xEA,
	PP_TLV_AZURE = 0xEE,
};

/* Bits of the SSL TLV <client> field. */
enum pp_ssl_client {
	PP_CLIENT_NONE = 0x00,
	PP_CLIENT_SSL = 0x01,
	PP_CLIENT_CERT_CONN = 0x02,
	PP_CLIENT_CERT_SESS = 0x04,
};

/* v2 fam byte values (family << 4 | transport). */
enum pp_fam {
	PP_FAM_UNSPEC = 0x00,
	PP_FAM_TCP4 = 0x11,
	PP_FAM_UDP4 = 0x12,
	PP_FAM_TCP6 = 0x21,
	PP_FAM_UDP6 = 0x22,
	PP_FAM_UNIX_STREAM = 0x31,
	PP_FAM_UNIX_DGRAM = 0x32,
};

/* ---- decoder ---- */

enum pp_result {
	PP_NEED_MORE = 0, /* every byte so far is a valid prefix; read more */
	PP_OK,            /* a complete valid header: *consumed bytes */
	PP_ERROR,         /* invalid: *err says why; drop the connection */
};

/* Error classes. The names from pp_strerror() are stable (counters, logs). */
enum pp_error {
	PP_ERR_NONE = 0,        /* "none" */
	PP_ERR_BAD_SIGNATURE,   /* "bad_signature": not a PROXY header at all */
	PP_ERR_BAD_VERSION,     /* "bad_version": v2 version nibble not 2 */
	PP_ERR_BAD_COMMAND,     /* "bad_command": v2 command not LOCAL/PROXY */
	PP_ERR_BAD_FAMILY,      /* "bad_family": v2 fam byte, v1 protocol word */
	PP_ERR_BAD_ADDRESS,     /* "bad_address": v1 address text, family mismatch */
	PP_ERR_BAD_PORT,        /* "bad_port": v1 port text, leading zero, > 65535 */
	PP_ERR_BAD_SYNTAX,      /* "bad_syntax": v1 spacing, CR/LF, no CRLF in 107 bytes */
	PP_ERR_TRUNCATED_BLOCK, /* "truncated_block": v2 len below the address block */
	PP_ERR_BAD_TLV,         /* "bad_tlv": overrun, stray bytes, bad length, duplicate */
	PP_ERR_CRC_MISMATCH,    /* "crc_mismatch" */
	PP_ERR_TOO_LARGE,       /* "too_large": v2 16+len above the configured maximum */
	PP_ERR_COUNT            /* number of values above, not an error */
};

struct pp_decode_opts {
	size_t max_header; /* largest v2 header (16+len) accepted; 0: PP_DEFAULT_MAX_HEADER.
	                    * v1 lines are always bounded by PP_V1_MAX_LEN. */
	bool ignore_crc;   /* do not verify a CRC32C TLV (its length is still checked) */
};

/* A byte string inside the caller's buffer; ptr == NULL when absent. */
struct pp_bytes {
	const uint8_t *ptr;
	size_t len;
};

struct pp_ssl {
	bool present;
	uint8_t client;  /* PP_CLIENT_* bits */
	uint32_t verify; /* host order (sent big-endian) */
	struct pp_bytes version, cn, cipher, sig_alg, key_alg;
	struct pp_bytes group, sig_scheme, client_cert; /* 0x26..0x28, stored as seen */
	struct pp_bytes subtlvs;                        /* raw sub-TLV area */
};

struct pp_tlvs {
	struct pp_bytes alpn, authority, unique_id, netns;
	bool has_crc32c;
	uint32_t crc32c; /* as received (verified unless ignore_crc) */
	struct pp_ssl ssl;
	/* Vendor TLVs (custom range: only meaningful if the sender is that vendor). */
	struct pp_bytes aws_vpce_id; /* 0xEA subtype 0x01, [A-Za-z0-9-]+ */
	bool has_azure_linkid;
	uint32_t azure_linkid; /* 0xEE subtype 0x01, little-endian on the wire */
	bool has_gcp_psc_id;
	uint64_t gcp_psc_id;       /* 0xE0 of length 8, big-endian on the wire */
	struct pp_bytes custom_e0; /* 0xE0 of any other length (e.g. hitch), raw */
};

enum pp_version {
	PP_VERSION_NONE = 0,
	PP_VERSION_1,
	PP_VERSION_2,
};

enum pp_command {
	PP_CMD_LOCAL = 0,
	PP_CMD_PROXY = 1,
};

struct pp_header {
	enum pp_version version;
	enum pp_command command; /* v1 is always PROXY */
	uint8_t fam; /* v2 fam byte; v1: PP_FAM_TCP4, PP_FAM_TCP6, PP_FAM_UNSPEC (UNKNOWN) */
	/* true for LOCAL, v1 UNKNOWN, and v2 UNSPEC/UDP/UNIX: the header carries no
	 * usable addresses, keep the real socket endpoints; src/dst are zeroed. */
	bool use_real_addrs;
	struct sockaddr_storage src, dst; /* AF_INET or AF_INET6 (mapped kept as sent) */
	size_t header_len;                /* == *consumed */
	struct pp_bytes tlv_block;        /* v2 raw TLV area (after the address block) */
	struct pp_tlvs tlv;
};

/* Decode the header at the start of buf[0..len). opts may be NULL (defaults).
 * PP_OK: *out filled, *consumed = header length (bytes after it are payload).
 * PP_NEED_MORE / PP_ERROR: *consumed = 0; *err set (PP_ERR_NONE unless error);
 * *out is then meaningless. out, consumed and err must not be NULL.
 * Strict: a second ALPN, AUTHORITY, CRC32C, UNIQUE_ID, SSL or NETNS TLV, or a
 * second SSL sub-TLV of a known type, is PP_ERR_BAD_TLV; of repeated vendor
 * TLVs the first one counts; NOOP and unknown types are skipped. */
enum pp_result pp_decode(const uint8_t *buf, size_t len, const struct pp_decode_opts *opts,
                         struct pp_header *out, size_t *consumed, enum pp_error *err);

/* Stable lower-case name of an error class ("bad_tlv"); "unknown" if out of range. */
const char *pp_strerror(enum pp_error err);

/* ---- optional header: is there one? (`bind ... accept-proxy optional`) ---- */

enum pp_sig {
	PP_SIG_NEED_MORE = 0, /* every byte so far starts a signature: read more */
	PP_SIG_V1,            /* "PROXY " (6 bytes) */
	PP_SIG_V2,            /* the 12-byte v2 signature */
	PP_SIG_NONE,          /* a byte departed from both signatures: no header */
};

/* Which header the bytes at buf[0..len) start with, decided exactly: at the
 * first byte that departs from both signatures (NONE), or once one of them
 * is whole. Only the signature is looked at; pp_decode() judges the rest.
 * A prefix of an input never answers anything but NEED_MORE or the whole
 * input's answer. */
enum pp_sig pp_sig_classify(const uint8_t *buf, size_t len);

/* ---- generic TLV iterator (v2 TLV blocks and SSL sub-TLV areas) ---- */

struct pp_tlv {
	uint8_t type;
	uint16_t len;
	const uint8_t *value;
};

struct pp_tlv_iter {
	const uint8_t *pos, *end;
};

void pp_tlv_iter_init(struct pp_tlv_iter *it, const uint8_t *block, size_t len);
/* 1: *tlv filled; 0: end of block; -1: malformed (overrun or 1-2 stray bytes). */
int pp_tlv_next(struct pp_tlv_iter *it, struct pp_tlv *tlv);

/* ---- encoder ---- */

enum pp_enc_status {
	PP_ENC_OK = 0,
	PP_ENC_NOSPACE = -1,   /* caller's buffer too small */
	PP_ENC_TOO_LARGE = -2, /* header would exceed the cap (max_size / PP_SEND_MAX) */
	PP_ENC_INVALID = -3,   /* a value no receiver accepts (AUTHORITY > 255, UNIQUE_ID > 128,
	                        * TLV > 65535) */
};

/* v2 options, like HAProxy's proxy-v2-options. */
enum pp_v2_flag {
	PP_V2_F_NONE = 0,
	PP_V2_F_CRC32C = 1 << 0,
	PP_V2_F_UNIQUE_ID = 1 << 1,
	PP_V2_F_AUTHORITY = 1 << 2,
	PP_V2_F_SSL = 1 << 3,
	PP_V2_F_SSL_CN = 1 << 4,      /* cert-cn */
	PP_V2_F_SSL_CIPHER = 1 << 5,  /* ssl-cipher */
	PP_V2_F_SSL_SIG_ALG = 1 << 6, /* cert-sig */
	PP_V2_F_SSL_KEY_ALG = 1 << 7, /* cert-key */
	PP_V2_F_ALPN = 1 << 8,
	PP_V2_F_NETNS = 1 << 9,
};

/* What we know about the client's TLS session. A value with ptr == NULL is
 * omitted. VERSION is sent whenever given; CN, CIPHER, SIG_ALG and KEY_ALG
 * only with their PP_V2_F_SSL_* flag (HAProxy's cert-cn, ssl-cipher,
 * cert-sig, cert-key). */
struct pp_ssl_info {
	uint8_t client;  /* PP_CLIENT_* */
	uint32_t verify; /* host order; HAProxy leaves 0 when no certificate was sent */
	struct pp_bytes version, cn, cipher, sig_alg, key_alg;
};

struct pp_v2_send {
	/* Addresses: AF_INET or AF_INET6. NULL, another family, or `local` makes
	 * a LOCAL header (fam 0x00, len covering the TLVs only). */
	const struct sockaddr *src, *dst;
	bool local;
	unsigned flags; /* PP_V2_F_* */
	/* TLV values, each sent only with its flag and when ptr != NULL. */
	struct pp_bytes unique_id; /* <= PP_UNIQUE_ID_MAX */
	struct pp_bytes authority; /* client SNI or received AUTHORITY, <= PP_AUTHORITY_MAX */
	struct pp_bytes alpn;
	struct pp_bytes netns;
	/* With PP_V2_F_SSL: NULL means the client connection was not TLS: the TLV
	 * is sent with client=0, verify=0 and no sub-TLVs (20 00 05 00 00000000). */
	const struct pp_ssl_info *ssl;
	size_t max_size; /* cap on the header; 0: PP_SEND_MAX */
};

/* {s, strlen(s)}, or {NULL, 0} for NULL: a C string as a TLV value. */
struct pp_bytes pp_bytes_str(const char *s);

/* "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN\r\n" (when an
 * address is NULL or not AF_INET/AF_INET6). Both ends IPv4 or IPv4-mapped:
 * TCP4; otherwise TCP6 with IPv4 ends written mapped. Returns the length
 * (no NUL is written) or PP_ENC_NOSPACE. */
int pp_encode_v1(uint8_t *buf, size_t size, const struct sockaddr *src, const struct sockaddr *dst);

/* Binary header, TLVs in HAProxy 2.6's order: CRC32C, ALPN, AUTHORITY,
 * UNIQUE_ID, SSL (VERSION, CN, KEY_ALG, SIG_ALG, CIPHER), NETNS. Same family
 * rule as v1. Returns the length or a negative enum pp_enc_status. */
int pp_encode_v2(uint8_t *buf, size_t size, const struct pp_v2_send *send);

/* Largest header pp_encode_v2() can build with these flags: TCP6 addresses,
 * every selected TLV at its maximum (ALPN 255, AUTHORITY 255, UNIQUE_ID 128,
 * the PP_SSL_*_MAX sizes, NETNS netns_len). Compare with PP_SEND_MAX. */
size_t pp_v2_worst_case_size(unsigned flags, size_t netns_len);

/* ---- CRC32C (Castagnoli, reflected 0x82F63B78) ---- */

/* Running CRC: start with crc = 0; pp_crc32c_update(0, "123456789", 9) == 0xE3069283. */
uint32_t pp_crc32c_update(uint32_t crc, const void *data, size_t len);
uint32_t pp_crc32c(const void *data, size_t len);

#endif
