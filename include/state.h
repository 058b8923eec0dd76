/* state.h - runtime state that outlives a generation.
 *
 * What an operator or the health checks set at run time - a frontend's
 * client-IP strategy, a server's UP/DOWN verdict, maintenance, drain and
 * weight, and the PROXY mode `client-ip auto` found - is carried in memory
 * into the next generation at every reload, and kept in two files across
 * a restart (`client-ip-state`, `server-state-file`). Everywhere the same
 * rule as HAProxy's: the runtime value is kept unless the configuration
 * changed that very setting; then the configuration wins.
 *
 * Main thread only. The files are written whole, fsync'ed, renamed into
 * place, and their directory fsync'ed: a crash leaves the old file or the
 * new one, never half of one.
 */
#ifndef PPB_STATE_H
#define PPB_STATE_H

#include <stddef.h>

struct gen;

/* A reload: `now` takes over what `old` learned and was told. */
void state_carry(const struct gen *old, struct gen *now);

/* Start-up: apply both state files, when configured. A missing file is
 * normal (first start); an unreadable one, a truncated or malformed line,
 * or a name the configuration no longer has is one log line each, never
 * an error. */
void state_load(struct gen *gen);

/* Write the client-IP state file now (after a switch, a reload, at stop). */
void state_save_client_ip(const struct gen *gen);
/* Write the server state file now. */
void state_save_servers(const struct gen *gen);
/* Once a second from the main loop: write the server state file when a
 * server's state changed since the last write (changes come from any
 * thread: checks, the admin socket, the data path's PROXY detection). */
void state_tick(const struct gen *gen);

/* The lines of `show servers state [backend]` (HAProxy's version 1 format
 * plus ppb_pp_mode), header included, each passed to `emit` with its '\n'. */
void state_servers_dump(const struct gen *gen, const char *backend,
			void (*emit)(void *arg, const char *line), void *arg);

/* Write `len` bytes as `path`, atomically and durably (see above).
 * Returns 0, or -1 with the reason in `err`. */
int state_write_file(const char *path, const char *data, size_t len, char *err, size_t errlen);

#endif
