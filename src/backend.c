/* backend.c - backends, server runtime state, and server selection. */
#include <config.h>

#include "backend.h"

#include "cfg.h"
#include "log.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Points per unit of weight on the consistent-hash ring: enough for an even
 * spread with a handful of servers, small enough to build instantly. */
#define RING_POINTS_PER_WEIGHT 40

/* A fixed 32-bit avalanche (murmur3's finaliser): no seed, so every
 * ppbridge instance and every restart maps a client the same way. */
static uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t hash_bytes(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a, then mixed */

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return mix32(h);
}

uint32_t be_hash_addr(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		return hash_bytes((const uint8_t *)&sin->sin_addr, 4);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			return hash_bytes(sin6->sin6_addr.s6_addr + 12, 4);
		return hash_bytes(sin6->sin6_addr.s6_addr, 16);
	}
	return 0;
}

static int ring_cmp(const void *a, const void *b)
{
	const struct be_ring_point *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->srv_index - y->srv_index;
}

/* Ring points derive from the server's name, not its position, so adding
 * a server moves only the clients that land on its new points. */
static int build_ring(struct be *be)
{
	int total = 0;

	for (int i = 0; i < be->nsrv; i++)
		total += be->srvs[i].conf->weight * RING_POINTS_PER_WEIGHT;
	if (total == 0)
		return 0;
	be->ring = calloc((size_t)total, sizeof(*be->ring));
	if (!be->ring)
		return -1;
	for (int i = 0; i < be->nsrv; i++) {
		const char *name = be->srvs[i].conf->name;
		uint32_t base = hash_bytes((const uint8_t *)name, strlen(name));
		int points = be->srvs[i].conf->weight * RING_POINTS_PER_WEIGHT;
		for (int k = 0; k < points; k++) {
			struct be_ring_point *pt = &be->ring[be->nring++];
			pt->hash = mix32(base ^ mix32((uint32_t)k + 0x9e3779b9u));
			pt->srv_index = i;
		}
	}
	qsort(be->ring, (size_t)be->nring, sizeof(*be->ring), ring_cmp);
	return 0;
}

int be_init(struct be *be, const struct cfg_proxy *conf)
{
	int i = 0;

	memset(be, 0, sizeof(*be));
	be->conf = conf;
	be->nsrv = conf->nservers;
	atomic_init(&be->check_pp, -1);
	atomic_init(&be->state_changes, 0);
	if (be->nsrv > 0) {
		be->srvs = calloc((size_t)be->nsrv, sizeof(*be->srvs));
		if (!be->srvs)
			return -1;
	}
	for (const struct cfg_server *cs = conf->servers; cs && i < be->nsrv; cs = cs->next, i++) {
		struct srv *srv = &be->srvs[i];
		srv->conf = cs;
		srv->be = be;
		atomic_init(&srv->up, 1);
		atomic_init(&srv->maint, cs->disabled ? 1 : 0);
		atomic_init(&srv->drain, 0);
		atomic_init(&srv->weight, cs->weight);
		atomic_init(&srv->pp_mode, SRV_PP_UNKNOWN);
		atomic_init(&srv->last_change, (long long)time(NULL));
		health_init(&srv->health, cs->rise, cs->fall);
	}
	if (conf->hash_type == CFG_HASH_CONSISTENT && build_ring(be) < 0)
		return -1;
	return 0;
}

void be_destroy(struct be *be)
{
	for (int i = 0; i < be->nsrv; i++)
		free(be->srvs[i].last_check);
	free(be->srvs);
	free(be->ring);
	memset(be, 0, sizeof(*be));
}

int srv_weight(const struct srv *srv)
{
	return atomic_load_explicit(&srv->weight, memory_order_relaxed);
}

int srv_usable(const struct srv *srv)
{
	int maxconn = srv->conf->maxconn;

	if (!atomic_load_explicit(&srv->up, memory_order_relaxed) ||
	    atomic_load_explicit(&srv->maint, memory_order_relaxed) ||
	    atomic_load_explicit(&srv->drain, memory_order_relaxed) || srv_weight(srv) == 0)
		return 0;
	if (maxconn > 0 &&
	    atomic_load_explicit(&srv->cur_conns, memory_order_relaxed) >= (unsigned)maxconn)
		return 0;
	return 1;
}

/* May this server serve in the tier we are choosing from right now? */
static int eligible(const struct srv *srv, int backup_tier, const unsigned char *tried, int index)
{
	if (tried && tried[index])
		return 0;
	if (srv->conf->backup != backup_tier)
		return 0;
	return srv_usable(srv);
}

/* Weighted pick of the `pos`-th unit of weight among eligible servers. */
static struct srv *pick_weighted(struct be *be, int backup_tier, const unsigned char *tried,
				 uint32_t pos)
{
	uint32_t total = 0;

	for (int i = 0; i < be->nsrv; i++)
		if (eligible(&be->srvs[i], backup_tier, tried, i))
			total += (uint32_t)srv_weight(&be->srvs[i]);
	if (total == 0)
		return NULL;
	pos %= total;
	for (int i = 0; i < be->nsrv; i++) {
		if (!eligible(&be->srvs[i], backup_tier, tried, i))
			continue;
		uint32_t w = (uint32_t)srv_weight(&be->srvs[i]);
		if (pos < w)
			return &be->srvs[i];
		pos -= w;
	}
	return NULL;
}

static struct srv *pick_consistent(struct be *be, int backup_tier, const unsigned char *tried,
				   uint32_t hash)
{
	int lo = 0, hi = be->nring;

	if (be->nring == 0)
		return NULL;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (be->ring[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int n = 0; n < be->nring; n++) {
		int idx = be->ring[(lo + n) % be->nring].srv_index;
		if (eligible(&be->srvs[idx], backup_tier, tried, idx))
			return &be->srvs[idx];
	}
	return NULL;
}

/* Fewest connections per unit of weight; ties go round-robin. */
static struct srv *pick_leastconn(struct be *be, int backup_tier, const unsigned char *tried,
				  uint32_t start)
{
	struct srv *best = NULL;
	unsigned long long best_load = 0, best_w = 1;

	for (int n = 0; n < be->nsrv; n++) {
		int i = (int)((start + (uint32_t)n) % (uint32_t)be->nsrv);
		struct srv *srv = &be->srvs[i];
		if (!eligible(srv, backup_tier, tried, i))
			continue;
		unsigned long long load = atomic_load_explicit(&srv->cur_conns, memory_order_relaxed);
		unsigned long long w = (unsigned long long)srv_weight(srv);
		if (!best || load * best_w < best_load * w) {
			best = srv;
			best_load = load;
			best_w = w;
		}
	}
	return best;
}

static struct srv *pick_tier(struct be *be, int backup_tier, const struct sockaddr *client,
			     const unsigned char *tried)
{
	switch (be->conf->balance) {
	case CFG_BALANCE_SOURCE: {
		uint32_t h = be_hash_addr(client);
		if (be->conf->hash_type == CFG_HASH_CONSISTENT)
			return pick_consistent(be, backup_tier, tried, h);
		return pick_weighted(be, backup_tier, tried, h);
	}
	case CFG_BALANCE_LEASTCONN:
		return pick_leastconn(be, backup_tier, tried,
				      atomic_fetch_add_explicit(&be->rr_cursor, 1,
								memory_order_relaxed));
	case CFG_BALANCE_ROUNDROBIN:
	default:
		return pick_weighted(be, backup_tier, tried,
				     atomic_fetch_add_explicit(&be->rr_cursor, 1,
							       memory_order_relaxed));
	}
}

/* As HAProxy: without `option allbackups` only the first usable backup
 * (in configuration order) takes over. */
static struct srv *first_backup(struct be *be, const unsigned char *tried)
{
	for (int i = 0; i < be->nsrv; i++)
		if (eligible(&be->srvs[i], 1, tried, i))
			return &be->srvs[i];
	return NULL;
}

struct srv *be_select(struct be *be, const struct sockaddr *client, const unsigned char *tried)
{
	struct srv *srv = pick_tier(be, 0, client, tried);

	if (srv)
		return srv;
	if (be->conf->options & CFG_OPT_ALLBACKUPS)
		return pick_tier(be, 1, client, tried);
	return first_backup(be, tried);
}

static void count_usable(const struct be *be, int *active, int *backup)
{
	*active = 0;
	*backup = 0;
	for (int i = 0; i < be->nsrv; i++) {
		if (!srv_usable(&be->srvs[i]))
			continue;
		if (be->srvs[i].conf->backup)
			(*backup)++;
		else
			(*active)++;
	}
}

int be_nbsrv(const struct be *be)
{
	int active, backup;

	count_usable(be, &active, &backup);
	return active ? active : backup;
}

void srv_state_changed(struct srv *srv)
{
	atomic_fetch_add_explicit(&srv->be->state_changes, 1, memory_order_relaxed);
	/* for the stats page's "last change"; time() is a vDSO read */
	atomic_store_explicit(&srv->last_change, (long long)time(NULL), memory_order_relaxed);
}

void srv_check_result(struct srv *srv, int success, const char *reason)
{
	enum health_change change = health_report(&srv->health, success);
	int active, backup;

	if (change == HEALTH_SAME)
		return;
	atomic_store(&srv->up, change == HEALTH_WENT_UP);
	srv_state_changed(srv);
	count_usable(srv->be, &active, &backup);
	log_msg(change == HEALTH_WENT_UP ? LOG_NOTICE : LOG_ALERT,
		"%sServer %s/%s is %s, reason: %s. %d active and %d backup servers left. "
		"%u sessions active.",
		srv->conf->backup ? "Backup " : "", srv->be->conf->name, srv->conf->name,
		change == HEALTH_WENT_UP ? "UP" : "DOWN", reason ? reason : "-", active, backup,
		atomic_load(&srv->cur_conns));
	if (active == 0 && backup == 0)
		log_msg(LOG_EMERG, "backend %s has no server available!", srv->be->conf->name);
}

const char *srv_pp_mode_name(enum srv_pp_mode mode)
{
	return mode == SRV_PP_PROXY ? "proxy" : mode == SRV_PP_PLAIN ? "plain" : "unknown";
}

enum srv_pp_mode srv_pp_mode(const struct srv *srv)
{
	return atomic_load_explicit((atomic_int *)&srv->pp_mode, memory_order_relaxed);
}

int srv_set_pp_mode(struct srv *srv, enum srv_pp_mode mode, const char *why)
{
	int was = atomic_exchange(&srv->pp_mode, mode);

	if (was == (int)mode)
		return 0;
	atomic_fetch_add(&srv->pp_mode_changes, 1);
	srv_state_changed(srv);
	log_msg(LOG_NOTICE,
		"Server %s/%s: PROXY protocol %s (%s); new connections take the %s path. "
		"Was: %s.",
		srv->be->conf->name, srv->conf->name,
		mode == SRV_PP_PROXY ? "accepted" : "refused", why ? why : "-",
		mode == SRV_PP_PROXY ? "PROXY passthrough" : "X-Forwarded-For/plain",
		srv_pp_mode_name(was));
	return 1;
}
