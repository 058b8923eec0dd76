/* net.h - addresses, CIDR matching and socket options.
 *
 * The parsing and formatting half is pure (no sockets) and is used by the
 * config parser and the PROXY codec; the socket half sets options on
 * descriptors the listener and stream modules own.
 */
#ifndef PPB_NET_H
#define PPB_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest text net_format_addr() writes: "[" v6 "]:" port, plus NUL. */
#define NET_ADDRSTRLEN 56

struct net_cidr {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order, masked */
	int prefix;       /* 0..32 or 0..128 */
};

/* Parse a decimal port 0..65535 (no sign, no leading zeros except "0"). */
int net_parse_port(const char *text, uint16_t *port);

/* Parse a literal IPv4 or IPv6 address (no port) into `ss`. */
int net_parse_ip(const char *text, struct sockaddr_storage *ss, socklen_t *len);

/* Split "host:port", "[v6]:port", ":port", "*:port" into host and port.
 * `host` gets "" for ":port" and "*" for "*:port". An unbracketed IPv6
 * literal takes its last colon as the port separator (as HAProxy). */
int net_split_host_port(const char *text, char *host, size_t hostlen, uint16_t *port,
			const char **err);

/* Parse a bind address: literal IP or wildcard, with a port. */
int net_parse_bind(const char *text, struct sockaddr_storage *ss, socklen_t *len,
		   const char **err);

/* "10.0.0.0/8", "::1", "127.0.0.1" (a bare address is a host route). */
int net_parse_cidr(const char *text, struct net_cidr *cidr);

/* Does `sa` fall in `cidr`? IPv4-mapped IPv6 addresses match IPv4 networks. */
int net_cidr_match(const struct net_cidr *cidr, const struct sockaddr *sa);

/* "1.2.3.4:80" or "[::1]:80". Returns `buf`. */
const char *net_format_addr(const struct sockaddr *sa, char *buf, size_t len);
/* "1.2.3.4" or "::1". Returns `buf`. */
const char *net_format_ip(const struct sockaddr *sa, char *buf, size_t len);
uint16_t net_get_port(const struct sockaddr *sa);
void net_set_port(struct sockaddr *sa, uint16_t port);
socklen_t net_sockaddr_len(const struct sockaddr *sa);
/* Turn an IPv4-mapped IPv6 address into plain IPv4 in place; other
 * addresses are left alone. Returns 1 when it converted. */
int net_unmap_v4(struct sockaddr_storage *ss);
/* Equal family, address and port. */
int net_addr_equal(const struct sockaddr *a, const struct sockaddr *b);

/* Socket helpers (not pure). */
int net_set_nonblock(int fd);
int net_listen(const struct sockaddr *sa, socklen_t len, int reuseport, int v6only, int backlog,
	       char *err, size_t errlen);

#endif
