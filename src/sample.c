/* sample.c - compile and expand HAProxy log-format values (`%[fetch]`).
 *
 * Compilation runs once, at configuration time, and refuses everything it
 * does not understand (converters, log-format variables like `%ci`,
 * unknown fetches) with a message precise enough to fix the line: a value
 * that silently expanded to something else would put wrong data in front
 * of the servers. Expansion runs per request and is pure. The fetches are
 * smp.c's rows usable in values; this file adds the text around them.
 */
#include <config.h>

#include "sample.h"

#include "smp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Append a segment; adjacent literals are merged so that expansion does
 * one copy per run of text. A fetch segment takes `expr` over. */
static void sample_push(struct sample_fmt *fmt, enum sample_fetch fetch, const char *text,
                        size_t len, struct smp_expr *expr)
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
	seg->expr = expr;
	if (text) {
		seg->text = malloc(len + 1);
		if (!seg->text)
			abort();
		memcpy(seg->text, text, len);
		seg->text[len] = '\0';
	}
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

/* What a segment is called in enum sample_fetch (fetches added to smp.c
 * later are SAMPLE_EXPR). */
static enum sample_fetch sample_label(const struct smp_expr *e)
{
	static const struct {
		const char *name;
		enum sample_fetch fetch;
	} labels[] = {
	    {"src", SAMPLE_SRC},
	    {"src_port", SAMPLE_SRC_PORT},
	    {"dst", SAMPLE_DST},
	    {"dst_port", SAMPLE_DST_PORT},
	    {"ssl_fc_sni", SAMPLE_SSL_FC_SNI},
	    {"req.hdr", SAMPLE_REQ_HDR},
	    {"hdr", SAMPLE_REQ_HDR},
	};

	for (size_t i = 0; e->nconvs == 0 && i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(labels[i].name, e->fetch->name) == 0)
			return labels[i].fetch;
	return SAMPLE_EXPR;
}

/* One `%[...]` body (without the brackets), as a NUL-terminated string. */
static int sample_fetch(struct sample_fmt *fmt, const char *expr, char *err, size_t errlen)
{
	const struct smp_fetch_kw *kw;
	struct smp_expr *e;
	size_t nlen = smp_name_len(expr);
	char list[256], why[256];

	if (!*expr) {
		sample_err(err, errlen, "empty sample fetch '%%[]'");
		return -1;
	}
	smp_fetch_list(SMP_IN_VALUE, list, sizeof(list));
	if (sample_top_comma(expr)) {
		sample_err(err, errlen,
		           "'%%[%.80s]': converters are not supported (only a bare fetch: %s)",
		           expr, list);
		return -1;
	}
	kw = smp_fetch_find(expr, nlen);
	if (!kw || !(kw->where & SMP_IN_VALUE)) {
		sample_err(err, errlen,
		           "unknown sample fetch '%.*s' in '%%[%.80s]' (supported: %s)",
		           (int)(nlen > 64 ? 64 : nlen), expr, expr, list);
		return -1;
	}
	e = smp_expr_parse(expr, SMP_IN_VALUE, why, sizeof(why));
	if (!e) {
		sample_err(err, errlen, "'%%[%.80s]': %s", expr, why);
		return -1;
	}
	/* the header name stays readable as the segment's text */
	if (e->nargs > 0 && e->args[0].type == SMP_ARG_HDR)
		sample_push(fmt, sample_label(e), e->args[0].str, e->args[0].len, e);
	else
		sample_push(fmt, sample_label(e), NULL, 0, e);
	return 0;
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
		sample_push(fmt, SAMPLE_LITERAL, "%", 1, NULL);
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
			sample_push(fmt, SAMPLE_LITERAL, text + i, run, NULL);
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
	for (int i = 0; i < fmt->nsegs; i++) {
		free(fmt->segs[i].text);
		smp_expr_free(fmt->segs[i].expr);
	}
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

/* The address alone: IPv6 bare (no brackets); the fetch gives an
 * IPv4-mapped IPv6 address as IPv4. */
static void sample_put_ip(struct sample_out *o, const struct sockaddr_storage *ss)
{
	char text[INET6_ADDRSTRLEN];
	const void *addr = ss->ss_family == AF_INET
	                       ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
	                       : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (inet_ntop(ss->ss_family, addr, text, sizeof(text)))
		sample_put(o, text, strlen(text));
}

/* A fetched value, written as text. */
static void sample_put_smp(struct sample_out *o, const struct smp *v)
{
	char text[24];

	switch (v->type) {
	case SMP_T_BOOL:
	case SMP_T_INT:
		snprintf(text, sizeof(text), "%lld", (long long)v->i);
		sample_put(o, text, strlen(text));
		break;
	case SMP_T_IP:
		sample_put_ip(o, &v->ip);
		break;
	case SMP_T_STR:
		sample_put_clean(o, v->str, v->len);
		break;
	}
}

static void sample_put_seg(struct sample_out *o, const struct sample_seg *seg,
                           const struct smp_env *env)
{
	struct smp v;

	if (!seg->expr)
		sample_put(o, seg->text, seg->len);
	else if (smp_expr_eval(seg->expr, env, &v))
		sample_put_smp(o, &v);
}

/* The result is not NUL-terminated unless there is room left for one (the
 * NUL is never counted in the returned length). */
int sample_expand(const struct sample_fmt *fmt, const struct sample_ctx *ctx, char *buf, size_t len)
{
	struct sample_out o = {.buf = buf, .len = buf ? len : 0};
	struct smp_env env = {0};

	if (ctx) {
		env.src = ctx->src;
		env.dst = ctx->dst;
		env.tls_sni = ctx->sni;
		env.hdr = ctx->hdr;
		env.hdr_arg = ctx->hdr_arg;
	}
	for (int i = 0; fmt && i < fmt->nsegs; i++)
		sample_put_seg(&o, &fmt->segs[i], &env);
	if (o.overflow || o.used > INT32_MAX)
		return -1;
	if (o.used < o.len)
		buf[o.used] = '\0';
	return (int)o.used;
}
