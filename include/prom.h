/* prom.h - a generation's counters in Prometheus' text exposition format
 * (version 0.0.4), with HAProxy 2.6's exporter names.
 *
 * Every family HAProxy's exporter has and ppbridge can fill truthfully
 * keeps HAProxy's name, type, help text and labels (`proxy`, `server`,
 * `state`), so dashboards and alerts written for the routers' HAProxy
 * work unchanged; what only ppbridge knows (client-IP strategy and paths,
 * detected PROXY mode, PROXY refusals, TLS resumption, descriptor
 * shortages) is in ppbridge_* families with the same label names.
 * A family HAProxy has but ppbridge cannot fill is left out, not zeroed.
 *
 * Families come in HAProxy's order: global, frontend, (listener: none,
 * as HAProxy without `option socket-stats`), backend, server; each
 * scope's ppbridge_* families follow its haproxy_* ones. A family with
 * no line (no server has checks) has no HELP/TYPE either, as HAProxy.
 *
 * Control plane: runs on the main thread, reads the counters the workers
 * update (relaxed atomics) and the check results the main thread keeps.
 *
 * An HTTP endpoint serves it as HAProxy's exporter does: the query after
 * '?' through prom_parse_query() (prom_query.h; -1 is a 400), then
 * prom_render(), with `Content-Type: text/plain; version=0.0.4` and
 * `Cache-Control: no-cache`; `show metrics` renders every scope.
 */
#ifndef PPB_PROM_H
#define PPB_PROM_H

struct adm_out;
struct gen;
struct prom_opts;

/* Append the exposition of `gen` to `out`: the scopes of `o` (NULL: all,
 * servers in maintenance included); `uptime_s` is the process' uptime. */
void prom_render(const struct gen *gen, const struct prom_opts *o, long uptime_s,
                 struct adm_out *out);

#endif
