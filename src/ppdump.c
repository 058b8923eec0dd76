/* ppdump.c - `ppbridge pp-dump`: a debugging tool for operators.
 *
 * Listens on one address and, for each connection, decodes the PROXY
 * header with the daemon's own decoder, prints every field and TLV, and
 * the first payload bytes. Lets an admin see exactly what a balancer
 * sends before pointing it at a router. Blocking and single-threaded on
 * purpose: it is a probe, not a server.
 */
#include <config.h>

#include "ppdump.h"

#include "net.h"
#include "proxy_proto.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PPDUMP_WAIT_MS 5000
#define PPDUMP_PAYLOAD_SHOWN 64

static void print_bytes(FILE *out, const char *label, struct pp_bytes b)
{
	if (!b.ptr)
		return;
	fprintf(out, "  %s \"", label);
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = b.ptr[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			fputc(c, out);
		else
			fprintf(out, "\\x%02x", c);
	}
	fprintf(out, "\"\n");
}

static void describe_ssl(FILE *out, const struct pp_ssl *ssl)
{
	if (!ssl->present)
		return;
	fprintf(out, "  tlv SSL client=0x%02x%s%s%s verify=%u\n", ssl->client,
		(ssl->client & PP_CLIENT_SSL) ? " ssl" : "",
		(ssl->client & PP_CLIENT_CERT_CONN) ? " cert-conn" : "",
		(ssl->client & PP_CLIENT_CERT_SESS) ? " cert-sess" : "", (unsigned)ssl->verify);
	print_bytes(out, "tlv SSL_VERSION", ssl->version);
	print_bytes(out, "tlv SSL_CN", ssl->cn);
	print_bytes(out, "tlv SSL_CIPHER", ssl->cipher);
	print_bytes(out, "tlv SSL_SIG_ALG", ssl->sig_alg);
	print_bytes(out, "tlv SSL_KEY_ALG", ssl->key_alg);
	print_bytes(out, "tlv SSL_GROUP", ssl->group);
	print_bytes(out, "tlv SSL_SIG_SCHEME", ssl->sig_scheme);
	if (ssl->client_cert.ptr)
		fprintf(out, "  tlv SSL_CLIENT_CERT %zu bytes\n", ssl->client_cert.len);
}

void ppdump_describe(FILE *out, const struct pp_header *h)
{
	char a[NET_ADDRSTRLEN];
	const struct pp_tlvs *t = &h->tlv;

	fprintf(out, "  version %d, command %s, family 0x%02x, header %zu bytes\n", h->version,
		h->command == PP_CMD_LOCAL ? "LOCAL" : "PROXY", h->fam, h->header_len);
	if (h->use_real_addrs) {
		fprintf(out, "  no addresses: the receiver keeps the connection's own\n");
	} else {
		fprintf(out, "  source %s\n",
			net_format_addr((const struct sockaddr *)&h->src, a, sizeof(a)));
		fprintf(out, "  destination %s\n",
			net_format_addr((const struct sockaddr *)&h->dst, a, sizeof(a)));
	}
	if (t->has_crc32c)
		fprintf(out, "  tlv CRC32C 0x%08x (verified)\n", (unsigned)t->crc32c);
	print_bytes(out, "tlv ALPN", t->alpn);
	print_bytes(out, "tlv AUTHORITY", t->authority);
	print_bytes(out, "tlv UNIQUE_ID", t->unique_id);
	describe_ssl(out, &t->ssl);
	print_bytes(out, "tlv NETNS", t->netns);
	print_bytes(out, "tlv AWS_VPCE_ID", t->aws_vpce_id);
	if (t->has_azure_linkid)
		fprintf(out, "  tlv AZURE_LINKID %u\n", (unsigned)t->azure_linkid);
	if (t->has_gcp_psc_id)
		fprintf(out, "  tlv GCP_PSC_ID %llu\n", (unsigned long long)t->gcp_psc_id);
	if (t->custom_e0.ptr)
		fprintf(out, "  tlv 0xE0 %zu bytes (not a GCP id)\n", t->custom_e0.len);
}

static void print_payload(FILE *out, const uint8_t *p, size_t len)
{
	struct pp_bytes b = {p, len < PPDUMP_PAYLOAD_SHOWN ? len : PPDUMP_PAYLOAD_SHOWN};

	fprintf(out, "  payload %zu bytes%s\n", len, len ? ":" : "");
	if (len)
		print_bytes(out, "first bytes", b);
}

/* Read until the header is complete, invalid, or the peer stops. */
static void dump_one(int fd, FILE *out)
{
	uint8_t buf[PP_DEFAULT_MAX_HEADER + PPDUMP_PAYLOAD_SHOWN];
	size_t len = 0;
	struct pp_header h;
	size_t consumed;
	enum pp_error err;
	enum pp_result r = PP_NEED_MORE;

	while (len < sizeof(buf)) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;
		if (poll(&pfd, 1, PPDUMP_WAIT_MS) <= 0) {
			fprintf(out, "  no complete header after %d ms (%zu bytes)\n", PPDUMP_WAIT_MS,
				len);
			return;
		}
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n <= 0) {
			fprintf(out, "  peer closed after %zu bytes, header %s\n", len,
				r == PP_OK ? "complete" : "incomplete");
			break;
		}
		len += (size_t)n;
		r = pp_decode(buf, len, NULL, &h, &consumed, &err);
		if (r != PP_NEED_MORE)
			break;
	}
	if (r == PP_ERROR) {
		fprintf(out, "  invalid PROXY header: %s (%zu bytes read)\n", pp_strerror(err), len);
		return;
	}
	if (r != PP_OK)
		return;
	if (len == consumed && len < sizeof(buf)) {
		/* The header often travels alone: give the payload a moment. */
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t n;
		if (poll(&pfd, 1, 500) > 0 && (n = read(fd, buf + len, sizeof(buf) - len)) > 0) {
			len += (size_t)n;
			r = pp_decode(buf, len, NULL, &h, &consumed, &err); /* re-point into buf */
		}
	}
	ppdump_describe(out, &h);
	print_payload(out, buf + consumed, len - consumed);
}

static int usage(void)
{
	fprintf(stderr, "Usage: ppbridge pp-dump [-n COUNT] ADDR:PORT\n"
			"  Print the PROXY header of each connection received on ADDR:PORT\n"
			"  (e.g. 127.0.0.1:8443 or [::1]:8443); stop after COUNT connections.\n");
	return 1;
}

int ppdump_main(int argc, char **argv)
{
	long count = -1;
	struct sockaddr_storage ss;
	socklen_t sslen;
	const char *err;
	char why[160];
	int lfd, i = 1;

	if (argc >= 3 && strcmp(argv[1], "-n") == 0) {
		count = strtol(argv[2], NULL, 10);
		i = 3;
	}
	if (i != argc - 1 || count == 0)
		return usage();
	if (net_parse_bind(argv[i], &ss, &sslen, &err) < 0) {
		fprintf(stderr, "pp-dump: %s: %s\n", argv[i], err);
		return 1;
	}
	lfd = net_listen((struct sockaddr *)&ss, sslen, 0, 0, 16, why, sizeof(why));
	if (lfd < 0) {
		fprintf(stderr, "pp-dump: %s: %s\n", argv[i], why);
		return 1;
	}
	fprintf(stdout, "pp-dump: listening on %s\n", argv[i]);
	fflush(stdout);
	while (count < 0 || count-- > 0) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		char a[NET_ADDRSTRLEN];
		struct pollfd pfd = {.fd = lfd, .events = POLLIN};
		int fd;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		fd = accept(lfd, (struct sockaddr *)&peer, &plen);
		if (fd < 0)
			continue;
		fprintf(stdout, "connection from %s\n",
			net_format_addr((struct sockaddr *)&peer, a, sizeof(a)));
		dump_one(fd, stdout);
		fflush(stdout);
		close(fd);
	}
	close(lfd);
	return 0;
}
