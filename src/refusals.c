/* refusals.c - a small ring of refusals that any thread writes.
 *
 * A mutex, not a lock-free ring: a refusal is already the slow path (it
 * logs a line too), and a reader must never see a half-written entry.
 */
#include <config.h>

#include "refusals.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct {
	pthread_mutex_t lock;
	struct refusal ring[REFUSALS_KEEP];
	unsigned long long total; /* ever noted; ring[total % REFUSALS_KEEP] is next */
} refusals = {.lock = PTHREAD_MUTEX_INITIALIZER};

void refusals_note(const char *frontend, const char *client, const char *reason)
{
	struct refusal r;

	gettimeofday(&r.when, NULL);
	snprintf(r.frontend, sizeof(r.frontend), "%s", frontend ? frontend : "-");
	snprintf(r.client, sizeof(r.client), "%s", client ? client : "-");
	snprintf(r.reason, sizeof(r.reason), "%s", reason ? reason : "-");
	pthread_mutex_lock(&refusals.lock);
	refusals.ring[refusals.total % REFUSALS_KEEP] = r;
	refusals.total++;
	pthread_mutex_unlock(&refusals.lock);
}

size_t refusals_read(struct refusal out[REFUSALS_KEEP], unsigned long long *total)
{
	unsigned long long first;
	size_t n = 0;

	pthread_mutex_lock(&refusals.lock);
	*total = refusals.total;
	first = refusals.total > REFUSALS_KEEP ? refusals.total - REFUSALS_KEEP : 0;
	for (unsigned long long i = first; i < refusals.total; i++)
		out[n++] = refusals.ring[i % REFUSALS_KEEP];
	pthread_mutex_unlock(&refusals.lock);
	return n;
}
