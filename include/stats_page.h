/* stats_page.h - the HTML stats page of `stats uri` (HAProxy's page, and
 * the client-IP migration at a glance).
 *
 * One self-contained HTML5 document (inline CSS and SVG, no script, no
 * external asset), written from a generation's counters and states on the
 * main thread. The caller (the HTTP stats dispatcher) adds the HTTP
 * headers, parses the request (stats_form.h) and runs the actions.
 *
 * What a browser test can rely on:
 *   section#migration     tr.mig#mig-<frontend>  data-strategy data-from
 *                         svg.bar (title: the percentages), span.share
 *   section#frontends     tr.fe#fe-<frontend>    data-strategy
 *   section#backends      section.be#be-<backend> data-iid
 *                         tr.srv#srv-<backend>/<server> data-status (UP,
 *                         DOWN, MAINT, DRAIN, "no check") data-pp (plain,
 *                         proxy, unknown); tr.betotal
 *   div#notice            data-st (DONE, ERRP, ...) when there is one
 *   forms (show_admin)    form.srvform: hidden b=#<iid>, checkboxes s,
 *                         select action (ready, drain, maint);
 *                         form.cipform: hidden action=set-client-ip,
 *                         hidden fe, select client_ip (stats_form.h)
 */
#ifndef PPB_STATS_PAGE_H
#define PPB_STATS_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "stats_form.h" /* enum stats_st */

struct adm_out;
struct gen;
struct stats_hist;

struct stats_page_opts {
	const char *uri;         /* the `stats uri` prefix, as configured (escaped here);
	                          * links and form actions start with it. NULL: "/" */
	unsigned refresh_s;      /* `stats refresh`; 0: no automatic refresh */
	bool norefresh;          /* ;norefresh in the request */
	bool hide_down;          /* ;up in the request: servers DOWN not listed */
	bool hide_version;       /* `stats hide-version` */
	bool show_admin;         /* the forms: authenticated, and `stats admin` holds */
	bool show_metrics;       /* link to metrics_uri (it is served) */
	const char *metrics_uri; /* NULL: "/metrics" */
	enum stats_st st;        /* the result of the last action (;st=), INIT: none */
	const char *notice;      /* one more line at the top (plain text), or NULL */
	long uptime_s;           /* seconds since the process started */
	time_t now;              /* wall clock, for "last change ... ago" */
	const char *version;     /* NULL: PACKAGE_VERSION; hidden with hide_version */
	const char *node;        /* host name shown in the title, or NULL */
};

/* Append the page to `out`. `hist` (may be NULL) gives the last minute's
 * paths and rates. Main thread; reads the workers' counters relaxed. */
void stats_page_render(const struct gen *gen, const struct stats_page_opts *o,
                       const struct stats_hist *hist, struct adm_out *out);

/* HTML-escape `in` (& < > " ') into buf (len bytes, NUL-terminated, cut
 * at a whole entity when short). Returns the length written. Pure. */
size_t stats_html_escape(const char *in, char *buf, size_t len);

#endif
