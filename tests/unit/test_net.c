/* test_net.c - address parsing, formatting and CIDR matching. */
#include <config.h>

#include "net.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(test_port)
{
	uint16_t p = 1;

	ck_assert_int_eq(net_parse_port("0", &p), 0);
	ck_assert_uint_eq(p, 0);
	ck_assert_int_eq(net_parse_port("65535", &p), 0);
	ck_assert_uint_eq(p, 65535);
	ck_assert_int_eq(net_parse_port("65536", &p), -1);
	ck_assert_int_eq(net_parse_port("080", &p), -1);
	ck_assert_int_eq(net_parse_port("", &p), -1);
	ck_assert_int_eq(net_parse_port("-1", &p), -1);
	ck_assert_int_eq(net_parse_port("12a", &p), -1);
	ck_assert_int_eq(net_parse_port("99999999999999999999", &p), -1);
}
END_TEST

START_TEST(test_split_host_port)
{
	char host[64];
	uint16_t port;
	const char *err = NULL;

	ck_assert_int_eq(net_split_host_port("10.0.0.1:6443", host, sizeof(host), &port, &err), 0);
	ck_assert_str_eq(host, "10.0.0.1");
	ck_assert_uint_eq(port, 6443);
	ck_assert_int_eq(net_split_host_port("[::1]:443", host, sizeof(host), &port, &err), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_uint_eq(port, 443);
	ck_assert_int_eq(net_split_host_port("::1:80", host, sizeof(host), &port, &err), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_uint_eq(port, 80);
	ck_assert_int_eq(net_split_host_port(":80", host, sizeof(host), &port, &err), 0);
	ck_assert_str_eq(host, "");
	ck_assert_int_eq(net_split_host_port("*:80", host, sizeof(host), &port, &err), 0);
	ck_assert_str_eq(host, "*");
	ck_assert_int_eq(net_split_host_port("master1.example.com:6443", host, sizeof(host), &port,
					     &err),
			 0);
	ck_assert_str_eq(host, "master1.example.com");
	ck_assert_int_eq(net_split_host_port("nohost", host, sizeof(host), &port, &err), -1);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(net_split_host_port("[::1]443", host, sizeof(host), &port, &err), -1);
	ck_assert_int_eq(net_split_host_port("[::1:443", host, sizeof(host), &port, &err), -1);
	ck_assert_int_eq(net_split_host_port("h:99999", host, sizeof(host), &port, &err), -1);
	ck_assert_int_eq(net_split_host_port("averyveryveryveryveryveryveryveryveryveryveryveryverylongname:1",
					     host, 16, &port, &err),
			 -1);
}
END_TEST

START_TEST(test_bind)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *err;
	char buf[NET_ADDRSTRLEN];

	ck_assert_int_eq(net_parse_bind("*:8080", &ss, &len, &err), 0);
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&ss, buf, sizeof(buf)), "0.0.0.0:8080");
	ck_assert_int_eq(net_parse_bind(":80", &ss, &len, &err), 0);
	ck_assert_int_eq(ss.ss_family, AF_INET);
	ck_assert_int_eq(net_parse_bind("[::1]:6443", &ss, &len, &err), 0);
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&ss, buf, sizeof(buf)), "[::1]:6443");
	ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
	ck_assert_int_eq(net_parse_bind("127.0.0.3:443", &ss, &len, &err), 0);
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&ss, buf, sizeof(buf)),
			 "127.0.0.3:443");
	ck_assert_int_eq(net_parse_bind("host.example:80", &ss, &len, &err), -1);
	ck_assert_int_eq(net_parse_bind("127.0.0.1:0", &ss, &len, &err), -1);
	ck_assert_int_eq(net_parse_bind("127.0.0.1", &ss, &len, &err), -1);
}
END_TEST

static struct sockaddr_storage ip(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;

	ck_assert_int_eq(net_parse_ip(text, &ss, &len), 0);
	return ss;
}

START_TEST(test_cidr)
{
	struct net_cidr c;
	struct sockaddr_storage a;

	ck_assert_int_eq(net_parse_cidr("127.0.0.0/8", &c), 0);
	a = ip("127.1.2.3");
	ck_assert(net_cidr_match(&c, (struct sockaddr *)&a));
	a = ip("128.0.0.1");
	ck_assert(!net_cidr_match(&c, (struct sockaddr *)&a));
	a = ip("::ffff:127.0.0.9");
	ck_assert(net_cidr_match(&c, (struct sockaddr *)&a));
	a = ip("::1");
	ck_assert(!net_cidr_match(&c, (struct sockaddr *)&a));

	ck_assert_int_eq(net_parse_cidr("10.1.2.3/12", &c), 0);
	a = ip("10.15.255.255");
	ck_assert(net_cidr_match(&c, (struct sockaddr *)&a));
	a = ip("10.16.0.0");
	ck_assert(!net_cidr_match(&c, (struct sockaddr *)&a));

	ck_assert_int_eq(net_parse_cidr("::1", &c), 0);
	ck_assert_int_eq(c.prefix, 128);
	a = ip("::1");
	ck_assert(net_cidr_match(&c, (struct sockaddr *)&a));
	ck_assert_int_eq(net_parse_cidr("2001:db8::/32", &c), 0);
	a = ip("2001:db8:ffff::1");
	ck_assert(net_cidr_match(&c, (struct sockaddr *)&a));
	a = ip("2001:db9::1");
	ck_assert(!net_cidr_match(&c, (struct sockaddr *)&a));
	a = ip("10.0.0.1");
	ck_assert(!net_cidr_match(&c, (struct sockaddr *)&a));

	ck_assert_int_eq(net_parse_cidr("0.0.0.0/0", &c), 0);
	a = ip("1.2.3.4");
	ck_assert(net_cidr_match(&c, (struct sockaddr *)&a));

	ck_assert_int_eq(net_parse_cidr("10.0.0.0/33", &c), -1);
	ck_assert_int_eq(net_parse_cidr("::/129", &c), -1);
	ck_assert_int_eq(net_parse_cidr("10.0.0.0/", &c), -1);
	ck_assert_int_eq(net_parse_cidr("10.0.0.0/x", &c), -1);
	ck_assert_int_eq(net_parse_cidr("host/8", &c), -1);
	ck_assert_int_eq(net_parse_cidr("", &c), -1);
}
END_TEST

START_TEST(test_unmap_and_equal)
{
	struct sockaddr_storage a = ip("::ffff:192.0.2.7"), b = ip("192.0.2.7");
	char buf[NET_ADDRSTRLEN];

	net_set_port((struct sockaddr *)&a, 99);
	net_set_port((struct sockaddr *)&b, 99);
	ck_assert(!net_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	ck_assert_int_eq(net_unmap_v4(&a), 1);
	ck_assert(net_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
	ck_assert_str_eq(net_format_addr((struct sockaddr *)&a, buf, sizeof(buf)), "192.0.2.7:99");
	ck_assert_int_eq(net_unmap_v4(&a), 0);
	a = ip("::1");
	ck_assert_int_eq(net_unmap_v4(&a), 0);
	ck_assert_str_eq(net_format_ip((struct sockaddr *)&a, buf, sizeof(buf)), "::1");
	ck_assert_uint_eq(net_sockaddr_len((struct sockaddr *)&a), sizeof(struct sockaddr_in6));
}
END_TEST

START_TEST(test_listen)
{
	struct sockaddr_storage ss = ip("127.0.0.1");
	char err[128];
	int fd = net_listen((struct sockaddr *)&ss, sizeof(struct sockaddr_in), 1, 0, 16, err,
			    sizeof(err));

	ck_assert_int_ge(fd, 0);
	close(fd);
	ss = ip("192.0.2.1"); /* TEST-NET: not configured here, so bind fails */
	net_set_port((struct sockaddr *)&ss, 1);
	fd = net_listen((struct sockaddr *)&ss, sizeof(struct sockaddr_in), 1, 0, 16, err,
			sizeof(err));
	ck_assert_int_eq(fd, -1);
	ck_assert(strstr(err, "bind") != NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_port);
	tcase_add_test(tc, test_split_host_port);
	tcase_add_test(tc, test_bind);
	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_unmap_and_equal);
	tcase_add_test(tc, test_listen);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
