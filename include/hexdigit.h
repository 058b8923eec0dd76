/* hexdigit.h - the value of one hexadecimal digit, shared by the parsers
 * (config escapes, PROXY v1 IPv6 text, HTTP chunk sizes). */
#ifndef PPB_HEXDIGIT_H
#define PPB_HEXDIGIT_H

/* 0-15 for [0-9a-fA-F], -1 for anything else. */
static inline int hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
