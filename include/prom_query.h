/* prom_query.h - the query string of a metrics request, as HAProxy 2.6's
 * Prometheus exporter reads it.
 *
 *   scope=<s>   repeatable; global, frontend, listener, backend, server,
 *               sticktable, or '*' (all); an empty value removes every
 *               scope given so far; the first `scope` replaces the
 *               default (all scopes)
 *   no-maint    servers in maintenance are left out
 *
 * Other parameters are ignored. `scope` without '=', an unknown scope, a
 * value holding '=' or a bad %-escape is an error (HAProxy answers 400).
 * Pure: no I/O, no allocation.
 */
#ifndef PPB_PROM_QUERY_H
#define PPB_PROM_QUERY_H

#include <stdbool.h>

enum prom_scope {
	PROM_SCOPE_GLOBAL = 1u << 0,
	PROM_SCOPE_FRONTEND = 1u << 1,
	PROM_SCOPE_LISTENER = 1u << 2,
	PROM_SCOPE_BACKEND = 1u << 3,
	PROM_SCOPE_SERVER = 1u << 4,
	PROM_SCOPE_STICKTABLE = 1u << 5, /* stick tables: size, used, evictions */
};
#define PROM_SCOPE_ALL 0x3fu

struct prom_opts {
	unsigned scopes; /* enum prom_scope bits */
	bool no_maint;
};

/* Read `query` (what follows '?', up to an optional '#'; NULL or "" is no
 * query) into `*o`. Returns 0, or -1 with `*o` untouched. */
int prom_parse_query(const char *query, struct prom_opts *o);

#endif
