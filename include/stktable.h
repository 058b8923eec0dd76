/* stktable.h - HAProxy's stick tables, the subset that limits clients per
 * source: entries keyed by an address, holding counters (conn_cur,
 * http_req_rate(10s), ...), bounded by `size`, expired `expire` after
 * their last user left.
 *
 * Shape: a table is STK_SHARDS shards, each a hash table and a list of the
 * entries nobody tracks (least recently released last) under its own
 * mutex. Finding or creating an entry takes one shard's lock; counting a
 * request or bytes on an entry a stream tracks takes no lock at all (per
 * entry atomics): there is no table-wide lock on any path. When the table
 * is full, the oldest unused entry of a shard is evicted; when every entry
 * is in use, a new source is not tracked (fail-open, counted), as HAProxy.
 *
 * No I/O and no clock of its own: the caller passes `now` in milliseconds
 * (any monotonic origin, wrapping at 2^32), so that tests drive time.
 */
#ifndef PPB_STKTABLE_H
#define PPB_STKTABLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STK_SHARDS 16
#define STK_KEY_LEN 16

enum stk_type {
	STK_TYPE_IP = 0, /* IPv4 keys; an IPv4-mapped IPv6 address counts as IPv4 */
	STK_TYPE_IPV6,   /* IPv6 keys; IPv4 is stored as ::ffff:a.b.c.d (HAProxy) */
};

/* What an entry can store, in HAProxy 2.6's order (show table prints them
 * in it). Counters, then rates over a period. */
enum stk_data {
	STK_CONN_CNT = 0,
	STK_CONN_RATE,
	STK_CONN_CUR,
	STK_SESS_CNT,
	STK_SESS_RATE,
	STK_HTTP_REQ_CNT,
	STK_HTTP_REQ_RATE,
	STK_HTTP_ERR_CNT,
	STK_HTTP_ERR_RATE,
	STK_BYTES_IN_CNT,
	STK_BYTES_IN_RATE,
	STK_NDATA,
};

/* What happens to a tracked entry (each one feeds a counter and a rate). */
enum stk_event {
	STK_EV_SESS = 0, /* a session accepted (sess_cnt, sess_rate) */
	STK_EV_HTTP_REQ, /* an HTTP request (http_req_cnt, http_req_rate) */
	STK_EV_HTTP_ERR, /* a request that ended in a 4xx (http_err_*) */
	STK_EV_BYTES_IN, /* bytes from the client (bytes_in_*) */
};

/* The row of a data type: its HAProxy name and whether it is a rate. */
struct stk_data_kw {
	const char *name;
	int is_rate;
};
const struct stk_data_kw *stk_data_kw(enum stk_data d);
/* The data type named name[0..len), or -1. */
int stk_data_find(const char *name, size_t len);

/* A rate: events in the current period and the one before (HAProxy's
 * freq_ctr_period). `cur` packs the period's start tick (high 32 bits) and
 * its count (low 32): one compare-and-swap moves both. */
struct stk_freq {
	_Atomic uint64_t cur;
	atomic_uint prev;
};

struct stksess {
	struct stksess *hnext;         /* the shard's bucket chain */
	struct stksess *lprev, *lnext; /* the shard's unused list (refs == 0) */
	uint8_t key[STK_KEY_LEN];
	atomic_int refs;      /* streams tracking it */
	atomic_uint expire;   /* the tick it expires at (counted from its last use) */
	uint64_t released;    /* unused: when it was let go, in the table's release order */
	unsigned shard;
	atomic_uint conn_cur;
	_Atomic uint64_t cnt[4];         /* conn, sess, http_req, http_err */
	_Atomic uint64_t bytes_in;
	struct stk_freq rate[5];         /* conn, sess, http_req, http_err, bytes_in */
};

struct stk_shard {
	void *lock; /* a pthread mutex (kept opaque: this header stays light) */
	struct stksess **buckets;
	unsigned nbuckets; /* a power of two */
	struct stksess *lru_head, *lru_tail; /* unused entries, most recent first */
	unsigned unused;
};

struct stktable {
	char *name; /* the proxy that declares it */
	enum stk_type type;
	unsigned size;      /* at most this many entries */
	unsigned expire_ms; /* an unused entry lives this long */
	unsigned store;     /* bits 1u << enum stk_data */
	unsigned period_ms[STK_NDATA]; /* rates: their period */
	uint64_t seed;
	atomic_uint used;
	atomic_ullong releases;    /* orders the unused entries across shards (eviction) */
	atomic_ullong evicted;     /* unused entries dropped to make room */
	atomic_ullong untracked;   /* sources not tracked: every entry in use */
	atomic_ullong expired;
	atomic_uint full_logged;   /* the tick of the last "full" log line */
	struct stk_shard shards[STK_SHARDS];
};

/* A new empty table. `period_ms` gives each stored rate's period (indexed
 * by enum stk_data; read for the rates in `store` only). */
struct stktable *stk_new(const char *name, enum stk_type type, unsigned size, unsigned expire_ms,
                         unsigned store, const unsigned *period_ms);
void stk_free(struct stktable *t);
const char *stk_type_name(enum stk_type type);

/* The key of address `sa` in table `t`. Returns 0 when it cannot be one
 * (an IPv6 address that is not IPv4-mapped, in a `type ip` table: HAProxy
 * tracks nothing then). */
int stk_key(const struct stktable *t, const struct sockaddr *sa, uint8_t key[STK_KEY_LEN]);
/* The key as text, as show table prints it. */
void stk_key_format(const struct stktable *t, const uint8_t *key, char *buf, size_t len);
/* Parse a key written on the admin socket; 0 when it is not one. */
int stk_key_parse(const struct stktable *t, const char *text, uint8_t key[STK_KEY_LEN]);

/* Start tracking `key`: the entry is found or created, referenced, and
 * counted as a new connection (conn_cnt, conn_cur, conn_rate: HAProxy counts
 * them at tracking time whatever the rule). NULL when every entry is in
 * use (the source is not tracked; t->untracked counts it). */
struct stksess *stk_track(struct stktable *t, const uint8_t *key, uint32_t now);
/* Stop tracking: conn_cur goes down; the last user starts the expiry. */
void stk_release(struct stktable *t, struct stksess *e, uint32_t now);
/* Count `n` events on a tracked entry (no lock). */
void stk_count(struct stktable *t, struct stksess *e, enum stk_event ev, uint64_t n, uint32_t now);
/* A stored value of a tracked entry; -1 when the table does not store `d`. */
int64_t stk_value(const struct stktable *t, struct stksess *e, enum stk_data d, uint32_t now);
/* The same for an entry looked up by key (src_* fetches): 0 without an
 * entry, -1 when the table does not store `d`. */
int64_t stk_lookup_value(struct stktable *t, const uint8_t *key, enum stk_data d, uint32_t now);

/* Drop unused entries whose expiry is over; returns how many. */
unsigned stk_purge(struct stktable *t, uint32_t now);
/* Drop unused entries (all, or the one with `key`), as `clear table`:
 * entries in use stay. Returns how many were dropped. */
unsigned stk_clear(struct stktable *t, const uint8_t *key, uint32_t now);

/* An entry's values at one instant, copied out under its shard's lock so
 * that nothing slow (formatting, output) ever runs under it. */
struct stk_view {
	const void *id; /* the entry's address: show table's first column */
	uint8_t key[STK_KEY_LEN];
	int refs;
	long exp;               /* ms left, 0 when over (or no expire) */
	int64_t v[STK_NDATA];   /* -1 where the table does not store it */
};
void stk_view_of(const struct stktable *t, struct stksess *e, uint32_t now, struct stk_view *v);

/* Each live entry in turn (`key`: only that one), as views copied a few
 * dozen at a time under a shard's lock and handed to fn without it. fn's
 * non-zero return stops the walk and is returned. */
int stk_walk(struct stktable *t, const uint8_t *key, uint32_t now,
             int (*fn)(void *arg, const struct stktable *t, const struct stk_view *v),
             void *arg);
/* One entry as HAProxy's `show table` prints it (without the newline):
 * "0x...: key=10.0.0.1 use=1 exp=29000 conn_rate(10000)=5 conn_cur=1". */
int stk_format_view(const struct stktable *t, const struct stk_view *v, char *buf, size_t len);
int stk_format_entry(const struct stktable *t, struct stksess *e, uint32_t now, char *buf,
                     size_t len);

#endif
