/* sample.h - HAProxy log-format values for header rules: literal text with
 * `%[fetch]` samples, compiled once at configuration time (pure), expanded
 * per request. The same expander serves `http-request set-header` values
 * now and the server's `sni <expr>` later.
 *
 * Fetches: src, src_port, dst, dst_port, ssl_fc_sni, req.hdr(<name>), the
 * rows of smp.c usable in values (SMP_IN_VALUE). Converters are refused
 * for now. `%%` is a literal percent sign.
 */
#ifndef PPB_SAMPLE_H
#define PPB_SAMPLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum sample_fetch {
	SAMPLE_LITERAL = 0,
	SAMPLE_SRC,
	SAMPLE_SRC_PORT,
	SAMPLE_DST,
	SAMPLE_DST_PORT,
	SAMPLE_SSL_FC_SNI,
	SAMPLE_REQ_HDR, /* req.hdr(<name>): the last occurrence, as HAProxy */
	SAMPLE_EXPR,    /* any other fetch: see the segment's expr */
};

struct smp_expr;

struct sample_seg {
	enum sample_fetch fetch; /* what it is, for readers; expansion uses expr */
	char *text;              /* LITERAL: the text; REQ_HDR: the header name */
	size_t len;
	struct smp_expr *expr; /* a fetch (smp.h); NULL for LITERAL */
};

struct sample_fmt {
	struct sample_seg *segs;
	int nsegs;
};

/* What a request offers to the fetches. */
struct sample_ctx {
	const struct sockaddr *src;
	const struct sockaddr *dst;
	const char *sni; /* NULL: no TLS / no SNI */
	/* req.hdr(): look a header up in the current request (may be NULL) */
	int (*hdr)(void *arg, const char *name, size_t name_len, const uint8_t **val,
		   size_t *val_len);
	void *hdr_arg;
};

/* Compile `text`. Returns NULL with `err` filled (unknown fetch, missing
 * ']', ...). */
struct sample_fmt *sample_compile(const char *text, char *err, size_t errlen);
void sample_free(struct sample_fmt *fmt);
/* Expand into buf; returns the length, or -1 when it does not fit. Bytes a
 * header value may not carry (CR, LF, NUL) never come out of a fetch. */
int sample_expand(const struct sample_fmt *fmt, const struct sample_ctx *ctx, char *buf,
		  size_t len);

#endif
