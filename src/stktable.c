/* stktable.c - stick tables: per-source counters, bounded and sharded.
 *
 * Locks: a shard's mutex guards its buckets, its unused list and the
 * refs 0 <-> 1 transitions of its entries (so that an entry is freed only
 * when nobody holds it). Counting on a held entry is atomics only.
 */
#include <config.h>

#include "stktable.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* clang-format off */
static const struct stk_data_kw stk_data_kws[STK_NDATA] = {
	[STK_CONN_CNT]      = {"conn_cnt", 0},
	[STK_CONN_RATE]     = {"conn_rate", 1},
	[STK_CONN_CUR]      = {"conn_cur", 0},
	[STK_SESS_CNT]      = {"sess_cnt", 0},
	[STK_SESS_RATE]     = {"sess_rate", 1},
	[STK_HTTP_REQ_CNT]  = {"http_req_cnt", 0},
	[STK_HTTP_REQ_RATE] = {"http_req_rate", 1},
	[STK_HTTP_ERR_CNT]  = {"http_err_cnt", 0},
	[STK_HTTP_ERR_RATE] = {"http_err_rate", 1},
	[STK_BYTES_IN_CNT]  = {"bytes_in_cnt", 0},
	[STK_BYTES_IN_RATE] = {"bytes_in_rate", 1},
};
/* clang-format on */

/* Each event's counter (index into cnt[], -1: bytes_in) and rate. */
static const struct {
	int cnt;
	int rate;
	enum stk_data cnt_data, rate_data;
} ev_slots[] = {
    [STK_EV_SESS] = {1, 1, STK_SESS_CNT, STK_SESS_RATE},
    [STK_EV_HTTP_REQ] = {2, 2, STK_HTTP_REQ_CNT, STK_HTTP_REQ_RATE},
    [STK_EV_HTTP_ERR] = {3, 3, STK_HTTP_ERR_CNT, STK_HTTP_ERR_RATE},
    [STK_EV_BYTES_IN] = {-1, 4, STK_BYTES_IN_CNT, STK_BYTES_IN_RATE},
};

const struct stk_data_kw *stk_data_kw(enum stk_data d)
{
	return (unsigned)d < STK_NDATA ? &stk_data_kws[d] : NULL;
}

int stk_data_find(const char *name, size_t len)
{
	for (int d = 0; d < STK_NDATA; d++)
		if (strlen(stk_data_kws[d].name) == len && memcmp(stk_data_kws[d].name, name, len) == 0)
			return d;
	return -1;
}

const char *stk_type_name(enum stk_type type)
{
	return type == STK_TYPE_IPV6 ? "ipv6" : "ip";
}

/* ---- rates: HAProxy's sliding estimate over one period ---- */

/* The age of a period start at `now`; a caller's clock read a little
 * before another thread rolled the period on gives a negative age: that
 * event belongs to the current period, never to a new anchor. */
static int32_t age_of(uint32_t start, uint32_t now)
{
	int32_t age = (int32_t)(now - start);

	return age < 0 ? 0 : age;
}

static void freq_add(struct stk_freq *f, uint64_t n, uint32_t now, uint32_t period)
{
	uint64_t old = atomic_load_explicit(&f->cur, memory_order_relaxed), nv;
	uint32_t start, prev;

	for (;;) {
		start = (uint32_t)(old >> 32);
		if (old && (uint32_t)age_of(start, now) < period) {
			uint64_t count = (uint32_t)old + n; /* bytes can reach 2^32: saturate */
			nv = (old & 0xffffffff00000000ULL) | (count > UINT32_MAX ? UINT32_MAX : count);
			if (atomic_compare_exchange_weak(&f->cur, &old, nv))
				return;
			continue;
		}
		/* A new period: the last one becomes `prev` if it was just
		 * before, else there was nothing (HAProxy re-anchors then). */
		if (old && (uint32_t)age_of(start, now) < 2 * period) {
			prev = (uint32_t)old;
			start += period;
		} else {
			prev = 0;
			start = now;
		}
		nv = ((uint64_t)start << 32) | (n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
		if (nv == 0)
			nv = (uint64_t)1 << 32; /* 0 means "never": a start tick of 0 is moved */
		if (atomic_compare_exchange_weak(&f->cur, &old, nv)) {
			atomic_store_explicit(&f->prev, prev, memory_order_relaxed);
			return;
		}
	}
}

/* curr + prev * (the share of the period still to come). */
static uint64_t freq_read(const struct stk_freq *f, uint32_t now, uint32_t period)
{
	uint64_t cur = atomic_load_explicit(&((struct stk_freq *)f)->cur, memory_order_relaxed);
	uint32_t start = (uint32_t)(cur >> 32), elapsed = (uint32_t)age_of(start, now);
	uint64_t curr = (uint32_t)cur, prev = atomic_load_explicit(&((struct stk_freq *)f)->prev,
	                                                           memory_order_relaxed);

	if (!cur || period == 0)
		return 0;
	if (elapsed >= 2 * period)
		return 0;
	if (elapsed >= period) { /* the current period is over, nobody rolled it */
		prev = curr;
		curr = 0;
		elapsed -= period;
	}
	return curr + prev * (period - elapsed) / period; /* truncated, as HAProxy */
}

/* ---- keys ---- */

int stk_key(const struct stktable *t, const struct sockaddr *sa, uint8_t key[STK_KEY_LEN])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *a4 = NULL, *a6 = NULL;

	memset(key, 0, STK_KEY_LEN);
	if (sa->sa_family == AF_INET)
		a4 = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	else
		return 0;
	if (a6 && memcmp(a6, mapped, 12) == 0) {
		a4 = a6 + 12;
		a6 = NULL;
	}
	if (t->type == STK_TYPE_IP) {
		if (!a4)
			return 0;
		memcpy(key, a4, 4);
		return 1;
	}
	if (a4) {
		memcpy(key, mapped, 12);
		memcpy(key + 12, a4, 4);
	} else {
		memcpy(key, a6, 16);
	}
	return 1;
}

void stk_key_format(const struct stktable *t, const uint8_t *key, char *buf, size_t len)
{
	if (!inet_ntop(t->type == STK_TYPE_IP ? AF_INET : AF_INET6, key, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

int stk_key_parse(const struct stktable *t, const char *text, uint8_t key[STK_KEY_LEN])
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		return 0;
	return stk_key(t, (struct sockaddr *)&ss, key);
}

/* A keyed mix (murmur's finaliser over the two halves): a client cannot
 * aim its addresses at one bucket without the process's seed. */
static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t key_hash(const struct stktable *t, const uint8_t *key)
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	return mix64(mix64(a ^ t->seed) ^ b);
}

/* ---- the table ---- */

static unsigned pow2_at_least(unsigned n)
{
	unsigned p = 16;

	while (p < n && p < (1u << 24))
		p <<= 1;
	return p;
}

struct stktable *stk_new(const char *name, enum stk_type type, unsigned size, unsigned expire_ms,
                         unsigned store, const unsigned *period_ms)
{
	struct stktable *t = calloc(1, sizeof(*t));
	struct timespec ts;

	if (!t || !(t->name = strdup(name)))
		abort();
	t->type = type;
	t->size = size;
	t->expire_ms = expire_ms;
	t->store = store;
	for (int d = 0; d < STK_NDATA; d++)
		t->period_ms[d] = (store & (1u << d)) && stk_data_kws[d].is_rate ? period_ms[d] : 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	t->seed = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uintptr_t)t);
	for (int i = 0; i < STK_SHARDS; i++) {
		struct stk_shard *sh = &t->shards[i];
		sh->lock = malloc(sizeof(pthread_mutex_t));
		sh->nbuckets = pow2_at_least(size / STK_SHARDS + 1);
		sh->buckets = calloc(sh->nbuckets, sizeof(*sh->buckets));
		if (!sh->lock || !sh->buckets)
			abort();
		pthread_mutex_init(sh->lock, NULL);
	}
	return t;
}

void stk_free(struct stktable *t)
{
	if (!t)
		return;
	for (int i = 0; i < STK_SHARDS; i++) {
		struct stk_shard *sh = &t->shards[i];
		for (unsigned b = 0; b < sh->nbuckets; b++)
			for (struct stksess *e = sh->buckets[b], *n; e; e = n) {
				n = e->hnext;
				free(e);
			}
		free(sh->buckets);
		pthread_mutex_destroy(sh->lock);
		free(sh->lock);
	}
	free(t->name);
	free(t);
}

static void lock(struct stk_shard *sh)
{
	pthread_mutex_lock(sh->lock);
}

static void unlock(struct stk_shard *sh)
{
	pthread_mutex_unlock(sh->lock);
}

static void lru_unlink(struct stk_shard *sh, struct stksess *e)
{
	if (e->lprev)
		e->lprev->lnext = e->lnext;
	else
		sh->lru_head = e->lnext;
	if (e->lnext)
		e->lnext->lprev = e->lprev;
	else
		sh->lru_tail = e->lprev;
	e->lprev = e->lnext = NULL;
	sh->unused--;
}

static void lru_push(struct stk_shard *sh, struct stksess *e)
{
	e->lprev = NULL;
	e->lnext = sh->lru_head;
	if (sh->lru_head)
		sh->lru_head->lprev = e;
	else
		sh->lru_tail = e;
	sh->lru_head = e;
	sh->unused++;
}

static struct stksess **bucket_of(struct stk_shard *sh, uint64_t h)
{
	return &sh->buckets[h & (sh->nbuckets - 1)];
}

static struct stksess *find(struct stk_shard *sh, uint64_t h, const uint8_t *key)
{
	for (struct stksess *e = *bucket_of(sh, h); e; e = e->hnext)
		if (memcmp(e->key, key, STK_KEY_LEN) == 0)
			return e;
	return NULL;
}

/* Unlink an unused entry from its shard (locked) and free it. */
static void drop(struct stktable *t, struct stk_shard *sh, struct stksess *e)
{
	uint64_t h = key_hash(t, e->key);
	struct stksess **pp = bucket_of(sh, h);

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(sh, e);
	atomic_fetch_sub(&t->used, 1);
	free(e);
}

static int expired(const struct stktable *t, const struct stksess *e, uint32_t now)
{
	return t->expire_ms && (int32_t)(now - atomic_load(&e->expire)) >= 0;
}

/* Make room for one entry: evict the unused entry let go first in the
 * whole table (HAProxy evicts in expiry order, which is the same), found
 * at the tails of the shards' unused lists (each in release order). Only
 * a full table pays for the walk over the shards, one lock at a time. */
static int evict_one(struct stktable *t)
{
	for (int tries = 0; tries < 4; tries++) {
		struct stk_shard *oldest = NULL;
		uint64_t first = 0;
		for (unsigned i = 0; i < STK_SHARDS; i++) {
			struct stk_shard *sh = &t->shards[i];
			lock(sh);
			if (sh->lru_tail && (!oldest || sh->lru_tail->released < first)) {
				oldest = sh;
				first = sh->lru_tail->released;
			}
			unlock(sh);
		}
		if (!oldest)
			return 0;
		lock(oldest);
		if (oldest->lru_tail) { /* maybe another one by now: still an unused one */
			drop(t, oldest, oldest->lru_tail);
			unlock(oldest);
			atomic_fetch_add(&t->evicted, 1);
			return 1;
		}
		unlock(oldest);
	}
	return 0;
}

/* Reserve a slot for a new entry; 0 when every entry is in use. */
static int reserve(struct stktable *t)
{
	for (int tries = 0; tries < 4; tries++) {
		unsigned used = atomic_load(&t->used);
		while (used < t->size)
			if (atomic_compare_exchange_weak(&t->used, &used, used + 1))
				return 1;
		if (!evict_one(t))
			return 0;
	}
	return 0;
}

/* HAProxy's touch: an entry expires `expire` after its last use. */
static void touch(const struct stktable *t, struct stksess *e, uint32_t now)
{
	atomic_store_explicit(&e->expire, now + t->expire_ms, memory_order_relaxed);
}

/* Count a new tracker on an entry whose reference the caller holds. */
static void count_track(struct stktable *t, struct stksess *e, uint32_t now)
{
	touch(t, e, now);
	atomic_fetch_add(&e->conn_cur, 1);
	atomic_fetch_add(&e->cnt[0], 1);
	freq_add(&e->rate[0], 1, now, t->period_ms[STK_CONN_RATE]);
}

static void reset_data(struct stksess *e)
{
	atomic_store(&e->conn_cur, 0);
	for (int i = 0; i < 4; i++)
		atomic_store(&e->cnt[i], 0);
	atomic_store(&e->bytes_in, 0);
	for (int i = 0; i < 5; i++) {
		atomic_store(&e->rate[i].cur, 0);
		atomic_store(&e->rate[i].prev, 0);
	}
}

/* A found entry in the shard (locked): take a reference. */
static void hold(struct stktable *t, struct stk_shard *sh, struct stksess *e, uint32_t now)
{
	if (atomic_fetch_add(&e->refs, 1) == 0) {
		if (expired(t, e, now)) { /* dead, not yet purged: a fresh start */
			reset_data(e);
			atomic_fetch_add(&t->expired, 1);
		}
		lru_unlink(sh, e);
	}
}

struct stksess *stk_track(struct stktable *t, const uint8_t *key, uint32_t now)
{
	uint64_t h = key_hash(t, key);
	unsigned shard = (unsigned)(h >> 60) % STK_SHARDS;
	struct stk_shard *sh = &t->shards[shard];
	struct stksess *e;

	lock(sh);
	e = find(sh, h, key);
	if (e) {
		hold(t, sh, e, now);
		unlock(sh);
		count_track(t, e, now);
		return e;
	}
	unlock(sh);
	if (!reserve(t)) {
		atomic_fetch_add(&t->untracked, 1);
		return NULL;
	}
	lock(sh);
	if ((e = find(sh, h, key))) { /* another thread created it meanwhile */
		atomic_fetch_sub(&t->used, 1);
		hold(t, sh, e, now);
	} else {
		if (!(e = calloc(1, sizeof(*e))))
			abort();
		memcpy(e->key, key, STK_KEY_LEN);
		e->shard = shard;
		atomic_store(&e->refs, 1);
		e->hnext = *bucket_of(sh, h);
		*bucket_of(sh, h) = e;
	}
	unlock(sh);
	count_track(t, e, now);
	return e;
}

void stk_release(struct stktable *t, struct stksess *e, uint32_t now)
{
	struct stk_shard *sh = &t->shards[e->shard];

	atomic_fetch_sub(&e->conn_cur, 1);
	lock(sh);
	if (atomic_fetch_sub(&e->refs, 1) == 1) {
		touch(t, e, now);
		e->released = atomic_fetch_add_explicit(&t->releases, 1, memory_order_relaxed);
		lru_push(sh, e);
	}
	unlock(sh);
}

void stk_count(struct stktable *t, struct stksess *e, enum stk_event ev, uint64_t n, uint32_t now)
{
	int c = ev_slots[ev].cnt;

	if (c >= 0)
		atomic_fetch_add_explicit(&e->cnt[c], n, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&e->bytes_in, n, memory_order_relaxed);
	if (t->store & (1u << ev_slots[ev].rate_data))
		freq_add(&e->rate[ev_slots[ev].rate], n, now, t->period_ms[ev_slots[ev].rate_data]);
	if (ev != STK_EV_BYTES_IN) /* bytes: on every read, the request touched it already */
		touch(t, e, now);
}

int64_t stk_value(const struct stktable *t, struct stksess *e, enum stk_data d, uint32_t now)
{
	if (!(t->store & (1u << d)))
		return -1;
	switch (d) {
	case STK_CONN_CUR:
		return atomic_load(&e->conn_cur);
	case STK_CONN_CNT:
		return (int64_t)atomic_load(&e->cnt[0]);
	case STK_CONN_RATE:
		return (int64_t)freq_read(&e->rate[0], now, t->period_ms[d]);
	case STK_BYTES_IN_CNT:
		return (int64_t)atomic_load(&e->bytes_in);
	default:
		break;
	}
	for (size_t ev = 0; ev < sizeof(ev_slots) / sizeof(ev_slots[0]); ev++) {
		if (ev_slots[ev].cnt_data == d && ev_slots[ev].cnt >= 0)
			return (int64_t)atomic_load(&e->cnt[ev_slots[ev].cnt]);
		if (ev_slots[ev].rate_data == d)
			return (int64_t)freq_read(&e->rate[ev_slots[ev].rate], now, t->period_ms[d]);
	}
	return -1;
}

int64_t stk_lookup_value(struct stktable *t, const uint8_t *key, enum stk_data d, uint32_t now)
{
	uint64_t h = key_hash(t, key);
	struct stk_shard *sh = &t->shards[(unsigned)(h >> 60) % STK_SHARDS];
	struct stksess *e;
	int64_t v = 0;

	if (!(t->store & (1u << d)))
		return -1;
	lock(sh);
	e = find(sh, h, key);
	if (e && !(atomic_load(&e->refs) == 0 && expired(t, e, now)))
		v = stk_value(t, e, d, now);
	unlock(sh);
	return v;
}

unsigned stk_purge(struct stktable *t, uint32_t now)
{
	unsigned n = 0;

	for (int i = 0; i < STK_SHARDS; i++) {
		struct stk_shard *sh = &t->shards[i];
		lock(sh);
		/* the unused list is in release order, so in expiry order */
		while (sh->lru_tail && expired(t, sh->lru_tail, now)) {
			drop(t, sh, sh->lru_tail);
			n++;
		}
		unlock(sh);
	}
	atomic_fetch_add(&t->expired, n);
	return n;
}

unsigned stk_clear(struct stktable *t, const uint8_t *key, uint32_t now)
{
	unsigned n = 0;

	(void)now;
	for (int i = 0; i < STK_SHARDS; i++) {
		struct stk_shard *sh = &t->shards[i];
		lock(sh);
		for (struct stksess *e = sh->lru_head, *next; e; e = next) {
			next = e->lnext;
			if (key && memcmp(e->key, key, STK_KEY_LEN) != 0)
				continue;
			drop(t, sh, e);
			n++;
		}
		unlock(sh);
	}
	return n;
}

void stk_view_of(const struct stktable *t, struct stksess *e, uint32_t now, struct stk_view *v)
{
	long exp = t->expire_ms ? (long)(int32_t)(atomic_load(&e->expire) - now) : 0;

	v->id = e;
	memcpy(v->key, e->key, STK_KEY_LEN);
	v->refs = atomic_load(&e->refs);
	v->exp = exp < 0 ? 0 : exp;
	for (int d = 0; d < STK_NDATA; d++)
		v->v[d] = stk_value(t, e, (enum stk_data)d, now);
}

#define WALK_BATCH 64

static int live(const struct stktable *t, struct stksess *e, uint32_t now)
{
	return atomic_load(&e->refs) > 0 || !expired(t, e, now);
}

/* One entry by key: its shard only. */
static int walk_key(struct stktable *t, const uint8_t *key, uint32_t now,
                    int (*fn)(void *arg, const struct stktable *t, const struct stk_view *v),
                    void *arg)
{
	uint64_t h = key_hash(t, key);
	struct stk_shard *sh = &t->shards[(unsigned)(h >> 60) % STK_SHARDS];
	struct stksess *e;
	struct stk_view v;
	int found;

	lock(sh);
	e = find(sh, h, key);
	if ((found = e && live(t, e, now)))
		stk_view_of(t, e, now, &v);
	unlock(sh);
	return found ? fn(arg, t, &v) : 0;
}

int stk_walk(struct stktable *t, const uint8_t *key, uint32_t now,
             int (*fn)(void *arg, const struct stktable *t, const struct stk_view *v),
             void *arg)
{
	struct stk_view batch[WALK_BATCH];

	if (key)
		return walk_key(t, key, now, fn, arg);
	for (int i = 0; i < STK_SHARDS; i++) {
		struct stk_shard *sh = &t->shards[i];
		unsigned b = 0;
		while (b < sh->nbuckets) {
			int n = 0, rc = 0;
			lock(sh);
			/* whole buckets, until the batch is nearly full (a seeded
			 * hash keeps chains short; a longer one is cut to fit) */
			for (; b < sh->nbuckets && n < WALK_BATCH / 2; b++)
				for (struct stksess *e = sh->buckets[b]; e && n < WALK_BATCH; e = e->hnext)
					if (live(t, e, now))
						stk_view_of(t, e, now, &batch[n++]);
			unlock(sh);
			for (int k = 0; k < n && !rc; k++)
				rc = fn(arg, t, &batch[k]);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int stk_format_view(const struct stktable *t, const struct stk_view *v, char *buf, size_t len)
{
	char key[64];
	int n;

	stk_key_format(t, v->key, key, sizeof(key));
	n = snprintf(buf, len, "%p: key=%s use=%d exp=%ld", v->id, key, v->refs, v->exp);
	for (int d = 0; d < STK_NDATA && n >= 0 && (size_t)n < len; d++) {
		if (!(t->store & (1u << d)))
			continue;
		if (stk_data_kws[d].is_rate)
			n += snprintf(buf + n, len - (size_t)n, " %s(%u)=%lld", stk_data_kws[d].name,
			              t->period_ms[d], (long long)v->v[d]);
		else
			n += snprintf(buf + n, len - (size_t)n, " %s=%lld", stk_data_kws[d].name,
			              (long long)v->v[d]);
	}
	return n;
}

int stk_format_entry(const struct stktable *t, struct stksess *e, uint32_t now, char *buf,
                     size_t len)
{
	struct stk_view v;

	stk_view_of(t, e, now, &v);
	return stk_format_view(t, &v, buf, len);
}
