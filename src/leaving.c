/* leaving.c - the process is "leaving" while a `monitor fail` holds
 * (leaving.h): evaluated on the main thread, read by the workers. */
#include <config.h>

#include "leaving.h"

#include "acl.h"
#include "cfg.h"
#include "gen.h"
#include "log.h"

#include <event2/event.h>
#include <stdatomic.h>
#include <string.h>

static atomic_int leaving;
static struct {
	struct event *timer;
	struct gen *(*current)(void);
} lv;

int leaving_cond_counts(const struct acl_cond *cond)
{
	return (acl_cond_fetches(cond) & ~ACL_NEEDS_STATE) == 0;
}

const struct cfg_proxy *leaving_eval(struct gen *gen)
{
	struct acl_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.nbsrv = gen_nbsrv;
	ctx.nbsrv_arg = gen;
	for (int i = 0; i < gen->nfe; i++) {
		const struct cfg_proxy *px = gen->fes[i].conf;
		if (!px->monitor_uri)
			continue; /* nobody is told: nothing moves the VIPs */
		for (const struct cfg_monitor_fail *m = px->monitor_fails; m; m = m->next)
			if (leaving_cond_counts(m->cond) && acl_cond_eval(m->cond, &ctx))
				return px;
	}
	return NULL;
}

int leaving_update(struct gen *gen)
{
	const struct cfg_proxy *px = gen ? leaving_eval(gen) : NULL;
	int now = px != NULL;

	if (atomic_exchange(&leaving, now) == now)
		return now;
	if (now)
		log_msg(LOG_WARNING,
		        "%s: monitor fail holds: keep-alive clients are closed after their "
		        "current response",
		        px->name);
	else
		log_msg(LOG_NOTICE,
		        "monitor fail no longer holds: keep-alive clients are kept again");
	return now;
}

int leaving_now(void)
{
	return atomic_load_explicit(&leaving, memory_order_relaxed);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	leaving_update(lv.current());
}

int leaving_start(struct event_base *base, struct gen *(*current)(void))
{
	struct timeval tv = {0, LEAVING_TICK_MS * 1000};

	lv.current = current;
	lv.timer = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	if (!lv.timer || event_add(lv.timer, &tv) != 0)
		return -1;
	leaving_update(current());
	return 0;
}

void leaving_stop(void)
{
	if (lv.timer)
		event_free(lv.timer);
	lv.timer = NULL;
	atomic_store(&leaving, 0);
}
