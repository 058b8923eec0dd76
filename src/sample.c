/* sample.c - compile and expand HAProxy log-format values (`%[fetch]`).
 *
 * Compilation runs once, at configuration time, and refuses everything it
 * does not understand (converters, log-format variables like `%ci`,
 * unknown fetches) with a message precise enough to fix the line: a value
 * that silently expanded to something else would put wrong data in front
 * of the servers. Expansion runs per request and is pure.
 */
#include <config.h>

#include "sample.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_MAX_HDR_NAME 256 /* longest header name accepted in req.hdr() */

/* ------------------------------------------------------------------ */
/* Compilation */

static void sample_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void sample_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* RFC 9110 tchar: what a header field name is made of. */
static int sample_is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Append a segment; adjacent literals are merged so that expansion does
 * one copy per run of text. */
static void sample_push(struct sample_fmt *fmt, enum sample_fetch fetch, const char *text,
                        size_t len)
{
	struct sample_seg *seg;

	if (fetch == SAMPLE_LITERAL && fmt->nsegs > 0 &&
	    fmt->segs[fmt->nsegs - 1].fetch == SAMPLE_LITERAL) {
		seg = &fmt->segs[fmt->nsegs - 1];
		seg->text = realloc(seg->text, seg->len + len + 1);
		if (!seg->text)
			abort();
		memcpy(seg->text + seg->len, text, len);
		seg->len += len;
		seg->text[seg->len] = '\0';
		return;
	}
	fmt->segs = realloc(fmt->segs, sizeof(*fmt->segs) * (size_t)(fmt->nsegs + 1));
	if (!fmt->segs)
		abort();
	seg = &fmt->segs[fmt->nsegs++];
	seg->fetch = fetch;
	seg->len = len;
	seg->text = NULL;
	if (text) {
		seg->text = malloc(len + 1);
		if (!seg->text)
			abort();
		memcpy(seg->text, text, len);
		seg->text[len] = '\0';
	}
}

/* The argument of req.hdr(<name>): exactly one header name. HAProxy's
 * optional occurrence argument is refused rather than ignored. */
static int sample_hdr_arg(struct sample_fmt *fmt, const char *expr, const char *arg, size_t len,
                          char *err, size_t errlen)
{
	if (len == 0) {
		sample_err(err, errlen, "'%%[%.80s]': req.hdr() expects a header name", expr);
		return -1;
	}
	if (memchr(arg, ',', len)) {
		sample_err(err, errlen,
		           "'%%[%.80s]': req.hdr() takes one argument, a header name (the "
		           "occurrence argument is not supported)",
		           expr);
		return -1;
	}
	if (len > SAMPLE_MAX_HDR_NAME) {
		sample_err(err, errlen, "'%%[%.80s]': header name too long (max %d)", expr,
		           SAMPLE_MAX_HDR_NAME);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (!sample_is_tchar((unsigned char)arg[i])) {
			sample_err(
			    err, errlen,
			    "'%%[%.80s]': '%.*s' is not a valid header name (RFC 9110 token)", expr,
			    (int)(len > 64 ? 64 : len), arg);
			return -1;
		}
	}
	sample_push(fmt, SAMPLE_REQ_HDR, arg, len);
	return 0;
}

/* A comma outside any parentheses starts a converter chain
 * (`src,ipmask(24)`); one inside belongs to the fetch's arguments. */
static int sample_top_comma(const char *expr)
{
	int depth = 0;

	for (; *expr; expr++) {
		if (*expr == '(')
			depth++;
		else if (*expr == ')' && depth > 0)
			depth--;
		else if (*expr == ',' && depth == 0)
			return 1;
	}
	return 0;
}

/* One `%[...]` body (without the brackets), as a NUL-terminated string. */
static int sample_fetch(struct sample_fmt *fmt, const char *expr, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum sample_fetch fetch;
	} fetches[] = {
	    {"src", SAMPLE_SRC},           {"src_port", SAMPLE_SRC_PORT},     {"dst", SAMPLE_DST},
	    {"dst_port", SAMPLE_DST_PORT}, {"ssl_fc_sni", SAMPLE_SSL_FC_SNI},
	};
	const char *paren = strchr(expr, '(');
	size_t nlen = paren ? (size_t)(paren - expr) : strlen(expr);

	if (!*expr) {
		sample_err(err, errlen, "empty sample fetch '%%[]'");
		return -1;
	}
	if (sample_top_comma(expr)) {
		sample_err(err, errlen,
		           "'%%[%.80s]': converters are not supported (only a bare fetch: src, "
		           "src_port, dst, dst_port, ssl_fc_sni, req.hdr(<name>))",
		           expr);
		return -1;
	}
	if ((nlen == 7 && !strncmp(expr, "req.hdr", 7)) ||
	    (nlen == 3 && !strncmp(expr, "hdr", 3))) {
		size_t alen;
		if (!paren) {
			sample_err(err, errlen, "'%%[%.80s]': req.hdr() expects a header name",
			           expr);
			return -1;
		}
		alen = strlen(paren + 1);
		if (alen == 0 || paren[alen] != ')') {
			sample_err(err, errlen, "'%%[%.80s]': missing ')'", expr);
			return -1;
		}
		return sample_hdr_arg(fmt, expr, paren + 1, alen - 1, err, errlen);
	}
	for (size_t i = 0; i < sizeof(fetches) / sizeof(fetches[0]); i++) {
		if (strlen(fetches[i].name) != nlen || strncmp(fetches[i].name, expr, nlen) != 0)
			continue;
		if (paren) {
			sample_err(err, errlen, "'%%[%.80s]': fetch '%s' takes no argument", expr,
			           fetches[i].name);
			return -1;
		}
		sample_push(fmt, fetches[i].fetch, NULL, 0);
		return 0;
	}
	sample_err(err, errlen,
	           "unknown sample fetch '%.*s' in '%%[%.80s]' (supported: src, src_port, dst, "
	           "dst_port, ssl_fc_sni, req.hdr(<name>))",
	           (int)(nlen > 64 ? 64 : nlen), expr, expr);
	return -1;
}

/* Literal text goes into a header value: it may not carry bytes that
 * would end the field or confuse the next parser. */
static int sample_literal_ok(const char *text, size_t len, char *err, size_t errlen)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			sample_err(err, errlen,
			           "control character 0x%02x in the value (CR, LF and other "
			           "controls cannot be sent in a header)",
			           c);
			return -1;
		}
	}
	return 0;
}

/* `%` at text[*i]: `%%` or `%[...]`. */
static int sample_percent(struct sample_fmt *fmt, const char *text, size_t *i, char *err,
                          size_t errlen)
{
	const char *start = text + *i + 2, *end;
	char *expr;
	int rc;

	if (text[*i + 1] == '%') {
		sample_push(fmt, SAMPLE_LITERAL, "%", 1);
		*i += 2;
		return 0;
	}
	if (text[*i + 1] == '\0') {
		sample_err(err, errlen,
		           "lone '%%' at the end of the value (write '%%%%' for a "
		           "percent sign)");
		return -1;
	}
	if (text[*i + 1] != '[') {
		sample_err(err, errlen,
		           "'%%%.8s': only '%%[<fetch>]' samples and '%%%%' are supported "
		           "(log-format variables and flags are not)",
		           text + *i + 1);
		return -1;
	}
	end = strchr(start, ']');
	if (!end) {
		sample_err(err, errlen, "missing ']' after '%%[%.40s'", start);
		return -1;
	}
	expr = malloc((size_t)(end - start) + 1);
	if (!expr)
		abort();
	memcpy(expr, start, (size_t)(end - start));
	expr[end - start] = '\0';
	rc = sample_fetch(fmt, expr, err, errlen);
	free(expr);
	*i = (size_t)(end - text) + 1;
	return rc;
}

struct sample_fmt *sample_compile(const char *text, char *err, size_t errlen)
{
	struct sample_fmt *fmt = calloc(1, sizeof(*fmt));
	size_t i = 0;

	if (!fmt)
		abort();
	while (text[i]) {
		size_t run = strcspn(text + i, "%");
		if (run) {
			if (sample_literal_ok(text + i, run, err, errlen) < 0)
				goto fail;
			sample_push(fmt, SAMPLE_LITERAL, text + i, run);
			i += run;
			continue;
		}
		if (sample_percent(fmt, text, &i, err, errlen) < 0)
			goto fail;
	}
	return fmt;
fail:
	sample_free(fmt);
	return NULL;
}

void sample_free(struct sample_fmt *fmt)
{
	if (!fmt)
		return;
	for (int i = 0; i < fmt->nsegs; i++)
		free(fmt->segs[i].text);
	free(fmt->segs);
	free(fmt);
}

/* ------------------------------------------------------------------ */
/* Expansion */

struct sample_out {
	char *buf;
	size_t len, used;
	int overflow;
};

static void sample_put(struct sample_out *o, const char *p, size_t n)
{
	if (o->overflow || n > o->len - o->used) {
		o->overflow = 1;
		return;
	}
	memcpy(o->buf + o->used, p, n);
	o->used += n;
}

/* Fetched bytes come from the network (SNI, client headers): drop what a
 * header value cannot carry instead of letting it split or end the field. */
static void sample_put_clean(struct sample_out *o, const char *p, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c >= 0x20 && c != 0x7f) || c == '\t')
			continue;
		sample_put(o, p + start, i - start);
		start = i + 1;
	}
	sample_put(o, p + start, n - start);
}

/* The address alone: IPv6 bare (no brackets), IPv4-mapped IPv6 as IPv4,
 * anything else (no address, AF_UNIX) as nothing. */
static void sample_put_ip(struct sample_out *o, const struct sockaddr *sa)
{
	char text[INET6_ADDRSTRLEN];
	const void *addr = NULL;
	int family = 0;

	if (sa && sa->sa_family == AF_INET) {
		family = AF_INET;
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		family = AF_INET6;
		addr = a6;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			addr = &a6->s6_addr[12];
		}
	}
	if (addr && inet_ntop(family, addr, text, sizeof(text)))
		sample_put(o, text, strlen(text));
}

static void sample_put_port(struct sample_out *o, const struct sockaddr *sa)
{
	char text[8];
	unsigned port;

	if (sa && sa->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
	else if (sa && sa->sa_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
	else
		return;
	snprintf(text, sizeof(text), "%u", port);
	sample_put(o, text, strlen(text));
}

/* req.hdr(): the callback returns > 0 when the request has the header. */
static void sample_put_hdr(struct sample_out *o, const struct sample_seg *seg,
                           const struct sample_ctx *ctx)
{
	const uint8_t *val = NULL;
	size_t vlen = 0;

	if (!ctx->hdr || ctx->hdr(ctx->hdr_arg, seg->text, seg->len, &val, &vlen) <= 0 || !val)
		return;
	sample_put_clean(o, (const char *)val, vlen);
}

static void sample_put_seg(struct sample_out *o, const struct sample_seg *seg,
                           const struct sample_ctx *ctx)
{
	switch (seg->fetch) {
	case SAMPLE_LITERAL:
		sample_put(o, seg->text, seg->len);
		break;
	case SAMPLE_SRC:
		sample_put_ip(o, ctx->src);
		break;
	case SAMPLE_SRC_PORT:
		sample_put_port(o, ctx->src);
		break;
	case SAMPLE_DST:
		sample_put_ip(o, ctx->dst);
		break;
	case SAMPLE_DST_PORT:
		sample_put_port(o, ctx->dst);
		break;
	case SAMPLE_SSL_FC_SNI:
		if (ctx->sni)
			sample_put_clean(o, ctx->sni, strlen(ctx->sni));
		break;
	case SAMPLE_REQ_HDR:
		sample_put_hdr(o, seg, ctx);
		break;
	}
}

/* The result is not NUL-terminated unless there is room left for one (the
 * NUL is never counted in the returned length). */
int sample_expand(const struct sample_fmt *fmt, const struct sample_ctx *ctx, char *buf, size_t len)
{
	static const struct sample_ctx empty;
	struct sample_out o = {.buf = buf, .len = buf ? len : 0};

	if (!ctx)
		ctx = &empty;
	for (int i = 0; fmt && i < fmt->nsegs; i++)
		sample_put_seg(&o, &fmt->segs[i], ctx);
	if (o.overflow || o.used > INT32_MAX)
		return -1;
	if (o.used < o.len)
		buf[o.used] = '\0';
	return (int)o.used;
}
