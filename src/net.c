/* net.c - addresses, CIDR matching and socket options. */
#include <config.h>

#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int net_parse_port(const char *text, uint16_t *port)
{
	unsigned long value = 0;
	const char *p = text;

	if (*p == '\0' || (p[0] == '0' && p[1] != '\0'))
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		value = value * 10 + (unsigned long)(*p - '0');
		if (value > 65535)
			return -1;
	}
	*port = (uint16_t)value;
	return 0;
}

int net_parse_ip(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

int net_split_host_port(const char *text, char *host, size_t hostlen, uint16_t *port,
			const char **err)
{
	const char *colon;
	size_t hlen;
	const char *hstart = text;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close) {
			*err = "missing ']' after IPv6 address";
			return -1;
		}
		if (close[1] != ':') {
			*err = "missing ':<port>' after ']'";
			return -1;
		}
		hstart = text + 1;
		hlen = (size_t)(close - hstart);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon) {
			*err = "missing ':<port>'";
			return -1;
		}
		hlen = (size_t)(colon - text);
	}
	if (hlen + 1 > hostlen) {
		*err = "host name too long";
		return -1;
	}
	memcpy(host, hstart, hlen);
	host[hlen] = '\0';
	if (net_parse_port(colon + 1, port) < 0) {
		*err = "invalid port (expected 0..65535)";
		return -1;
	}
	return 0;
}

int net_parse_bind(const char *text, struct sockaddr_storage *ss, socklen_t *len,
		   const char **err)
{
	char host[256];
	uint16_t port;

	if (net_split_host_port(text, host, sizeof(host), &port, err) < 0)
		return -1;
	if (host[0] == '\0' || strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		memset(ss, 0, sizeof(*ss));
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		*len = sizeof(*sin);
	} else if (net_parse_ip(host, ss, len) < 0) {
		*err = "bind address must be a literal IPv4/IPv6 address or '*'";
		return -1;
	}
	if (port == 0) {
		*err = "bind port must not be 0";
		return -1;
	}
	net_set_port((struct sockaddr *)ss, port);
	return 0;
}

int net_parse_cidr(const char *text, struct net_cidr *cidr)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	int max;

	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	memset(cidr, 0, sizeof(*cidr));
	if (inet_pton(AF_INET, addr, cidr->addr) == 1) {
		cidr->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, cidr->addr) == 1) {
		cidr->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	cidr->prefix = max;
	if (slash) {
		const char *p = slash + 1;
		int value = 0;
		if (*p == '\0')
			return -1;
		for (; *p; p++) {
			if (*p < '0' || *p > '9' || value > max)
				return -1;
			value = value * 10 + (*p - '0');
		}
		if (value > max)
			return -1;
		cidr->prefix = value;
	}
	/* Keep only the network bits so matching is a plain compare. */
	for (int bit = cidr->prefix; bit < max; bit++)
		cidr->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return 0;
}

static int prefix_equal(const uint8_t *a, const uint8_t *b, int prefix)
{
	int whole = prefix / 8;
	int rest = prefix % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

int net_cidr_match(const struct net_cidr *cidr, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		if (cidr->family != AF_INET)
			return 0;
		return prefix_equal(cidr->addr, (const uint8_t *)&sin->sin_addr, cidr->prefix);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *a6 = sin6->sin6_addr.s6_addr;
		if (cidr->family == AF_INET6)
			return prefix_equal(cidr->addr, a6, cidr->prefix);
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			return prefix_equal(cidr->addr, a6 + 12, cidr->prefix);
	}
	return 0;
}

const char *net_format_ip(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *src = NULL;

	if (sa->sa_family == AF_INET)
		src = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		src = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (!src || !inet_ntop(sa->sa_family, src, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *net_format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	net_format_ip(sa, ip, sizeof(ip));
	if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ip, net_get_port(sa));
	else
		snprintf(buf, len, "%s:%u", ip, net_get_port(sa));
	return buf;
}

uint16_t net_get_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

void net_set_port(struct sockaddr *sa, uint16_t port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

socklen_t net_sockaddr_len(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (sa->sa_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

int net_unmap_v4(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in sin;

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = sin6->sin6_port;
	memcpy(&sin.sin_addr, sin6->sin6_addr.s6_addr + 12, 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin, sizeof(sin));
	return 1;
}

int net_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}

int net_set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL, 0);

	if (flags == -1)
		return -1;
	return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int net_listen(const struct sockaddr *sa, socklen_t len, int reuseport, int v6only, int backlog,
	       char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1)) {
		snprintf(err, errlen, "setsockopt: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (sa->sa_family == AF_INET6) {
		int only = v6only;
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof(only));
	}
	/* Accepted sockets inherit TCP_NODELAY from the listener on Linux: one
	 * setsockopt here instead of one per connection. We always write whole
	 * reads, so Nagle would only add latency. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, sa, len) == -1) {
		snprintf(err, errlen, "bind: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, backlog) == -1) {
		snprintf(err, errlen, "listen: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
