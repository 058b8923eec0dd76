/* fuzz_http1.c - libFuzzer target for the HTTP/1.1 codec.
 *
 * The first input byte picks the limits and the request facts a response
 * answers; the rest is read three ways:
 *  - as a request head: the answers over the prefixes are consistent
 *    (NEED_MORE until the first answer that is not, then that same answer),
 *    feeding byte by byte to one h1_req agrees with one call; a parsed head
 *    rewrites into a head that parses again with the same framing, exactly
 *    one X-Forwarded-For, no client Connection option left but upgrade, and
 *    rewrites again to the same bytes;
 *  - as a response head, with the same prefix rule;
 *  - as a chunked body: split anywhere it gives the same answer; after its
 *    end, trailers parse and filter into trailers without X-Forwarded-For.
 * Any inconsistency aborts. Built from this file + src/http1.c only.
 */
#include <config.h>

#include "http1.h"

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

#define NF 256

static struct h1_field f1[NF], f2[NF];
static uint8_t out1[8192], out2[8192];

static const char *const del[] = {"x-forwarded-for", "Forwarded", "X-Real-IP", "x-forwarded-proto"};
static const struct h1_add_field add[] = {
    {"X-Forwarded-For", 15, "2001:db8::1", 11},
    {"X-Forwarded-Proto", 17, "http", 4},
};

struct answer {
	enum h1_result r;
	enum h1_error e;
	size_t hl;
};

static struct answer req_at(const uint8_t *d, size_t n, const struct h1_limits *lim,
                            struct h1_req *req, struct h1_field *f)
{
	struct answer a;
	uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */

	memcpy(copy, d, n);
	h1_req_init(req, f, NF);
	a.r = h1_parse_request(copy, n, lim, req, &a.hl, &a.e);
	free(copy);
	return a;
}

static bool same(struct answer a, struct answer b)
{
	return a.r == b.r && a.e == b.e && a.hl == b.hl;
}

static bool inside(struct h1_span s, size_t len)
{
	return s.off <= len && s.len <= len - s.off;
}

static void check_rewritten(const struct h1_req *req, const struct h1_rewrite *rw, int n)
{
	struct h1_limits big = {0, 0, NF, 0};
	struct h1_req r2;
	struct answer a;
	uint32_t i, xff = 0;
	int m;

	CHECK(n > 0 && (size_t)n <= h1_rewrite_bound(req, rw));
	a = req_at(out1, (size_t)n, &big, &r2, f2);
	CHECK(a.r == H1_OK && a.hl == (size_t)n);
	CHECK(r2.framing == req->framing && r2.content_length == req->content_length);
	CHECK(r2.method == req->method && r2.version_minor == req->version_minor);
	for (i = 0; i < r2.nfields; i++) {
		if (r2.fields[i].id == H1_F_X_FORWARDED_FOR)
			xff++;
		CHECK(!(r2.fields[i].flags & H1_FF_NOMINATED) || r2.fields[i].id == H1_F_UPGRADE);
		CHECK(r2.fields[i].id != H1_F_KEEP_ALIVE && r2.fields[i].id != H1_F_FORWARDED);
	}
	CHECK(xff == 1);
	CHECK(!r2.cl_normalize);
	if (rw->conn == H1_CONN_AS_CLIENT)
		CHECK(r2.keep_alive == req->keep_alive);
	else
		CHECK(r2.keep_alive == (rw->conn == H1_CONN_KEEP_ALIVE));
	CHECK(r2.upgrade == (rw->keep_upgrade && req->upgrade));
	/* a second pass changes nothing */
	m = h1_rewrite_request(out1, &r2, rw, out2, sizeof(out2));
	CHECK(m == n && memcmp(out1, out2, (size_t)n) == 0);
}

static void fuzz_request(const uint8_t *d, size_t n, uint8_t sel)
{
	struct h1_limits lim = {32u + sel * 4u, (sel & 1) ? 0 : 48, 1u + sel % 16, 0};
	struct h1_req req;
	struct h1_rewrite rw = {del,
	                        3u + (sel >> 7),
	                        add,
	                        1u + (sel >> 7),
	                        (enum h1_conn_mode)((sel >> 1) % 3),
	                        (sel & 8) != 0};
	struct answer all = req_at(d, n, &lim, &req, f1), a, first = {H1_NEED_MORE, 0, 0};
	size_t k, stop = n < lim.max_head + 2 ? n : lim.max_head + 2;
	bool answered = false;
	uint32_t i;
	int w;

	/* every prefix, fresh */
	for (k = 0; k <= stop; k++) {
		a = req_at(d, k, &lim, &req, f1);
		if (!answered) {
			CHECK(a.hl == 0 || a.r == H1_OK);
			if (a.r == H1_NEED_MORE) {
				CHECK(a.e == H1_ERR_NONE);
				continue;
			}
			answered = true;
			first = a;
		}
		CHECK(same(a, first));
	}
	CHECK(answered ? same(all, first) : all.r == H1_NEED_MORE);
	/* byte by byte into one h1_req, in place */
	h1_req_init(&req, f1, NF);
	a = first;
	a.r = H1_NEED_MORE;
	a.e = H1_ERR_NONE;
	a.hl = 0;
	for (k = 1; k <= n && a.r == H1_NEED_MORE; k++)
		a.r = h1_parse_request(d, k, &lim, &req, &a.hl, &a.e);
	CHECK(same(a, all));
	if (all.r != H1_OK)
		return;
	/* facts are inside the head */
	a = req_at(d, n, &lim, &req, f1);
	CHECK(a.hl <= n && a.hl <= lim.max_head && req.nfields <= lim.max_fields);
	CHECK(inside(req.line, a.hl) && inside(req.target, a.hl) && inside(req.host, a.hl));
	for (i = 0; i < req.nfields; i++)
		CHECK(inside(req.fields[i].name, a.hl) && inside(req.fields[i].value, a.hl) &&
		      req.fields[i].line_end <= a.hl);
	CHECK(req.framing != H1_FRAMING_CHUNKED || req.version_minor == 1);
	w = h1_rewrite_request(d, &req, &rw, out1, sizeof(out1));
	CHECK(w != H1_RW_INVALID);
	if (w > 0)
		check_rewritten(&req, &rw, w);
}

static void fuzz_response(const uint8_t *d, size_t n, uint8_t sel)
{
	static const enum h1_method ms[4] = {H1_METHOD_GET, H1_METHOD_HEAD, H1_METHOD_CONNECT,
	                                     H1_METHOD_POST};
	struct h1_limits lim = {32u + sel * 4u, 0, 1u + sel % 16, 0};
	struct h1_req_info ri = {ms[sel & 3], (sel & 4) != 0};
	struct h1_resp resp;
	struct answer first = {H1_NEED_MORE, 0, 0}, a;
	size_t k, stop = n < lim.max_head + 2 ? n : lim.max_head + 2;
	bool answered = false;

	for (k = 0; k <= stop; k++) {
		uint8_t *copy = malloc(k ? k : 1);

		memcpy(copy, d, k);
		h1_resp_init(&resp, (sel & 16) ? NULL : f1, NF);
		a.r = h1_parse_response(copy, k, &lim, &ri, &resp, &a.hl, &a.e);
		free(copy);
		if (!answered && a.r == H1_NEED_MORE)
			continue;
		if (!answered) {
			answered = true;
			first = a;
		}
		CHECK(same(a, first));
		if (a.r == H1_OK) {
			CHECK(resp.status >= 100 && resp.status <= 599);
			CHECK(!resp.keep_alive || resp.framing == H1_FRAMING_NONE ||
			      resp.framing == H1_FRAMING_LENGTH ||
			      resp.framing == H1_FRAMING_CHUNKED);
		}
	}
}

static void fuzz_chunked(const uint8_t *d, size_t n, uint8_t sel)
{
	struct h1_limits lim = {64u + sel, 0, 4, 1u + sel % 32};
	struct h1_chunk_state s1, s2;
	struct h1_trailers tr;
	size_t c1, c2, c3 = 0, split = n ? sel % (n + 1) : 0, tl;
	enum h1_result r1, r2;
	enum h1_error e;
	int m;

	h1_chunk_init(&s1, &lim);
	r1 = h1_chunk_feed(&s1, d, n, &c1);
	h1_chunk_init(&s2, &lim);
	r2 = h1_chunk_feed(&s2, d, split, &c2);
	CHECK(c2 <= split);
	if (r2 == H1_NEED_MORE) {
		CHECK(c2 == split);
		r2 = h1_chunk_feed(&s2, d + split, n - split, &c3);
	}
	CHECK(r1 == r2 && c1 == c2 + c3 && s1.err == s2.err && s1.data == s2.data);
	CHECK(r1 != H1_NEED_MORE || c1 == n);
	if (r1 != H1_OK)
		return;
	h1_trailers_init(&tr);
	if (h1_parse_trailers(d + c1, n - c1, &lim, &tr, &tl, &e) != H1_OK)
		return;
	m = h1_filter_trailers(d + c1, tl, del, 3, out1, sizeof(out1));
	CHECK(m >= 2 && (size_t)m <= tl);
	h1_trailers_init(&tr);
	CHECK(h1_parse_trailers(out1, (size_t)m, &lim, &tr, &tl, &e) == H1_OK && tl == (size_t)m);
	CHECK(!(tr.seen & (H1_SEEN(H1_F_X_FORWARDED_FOR) | H1_SEEN(H1_F_CONTENT_LENGTH) |
	                   H1_SEEN(H1_F_TRANSFER_ENCODING) | H1_SEEN(H1_F_HOST))));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[H1_ERROR_MAX];

	if (size < 1)
		return 0;
	fuzz_request(data + 1, size - 1, data[0]);
	fuzz_response(data + 1, size - 1, data[0]);
	fuzz_chunked(data + 1, size - 1, data[0]);
	CHECK(h1_build_error(400 + data[0] % 200, err, sizeof(err)) > 0);
	return 0;
}
