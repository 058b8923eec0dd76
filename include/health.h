/* health.h - rise/fall arithmetic of health checks (pure).
 *
 * HAProxy's model: a counter `health` in [0, rise + fall - 1]. A server is
 * UP while health >= rise. A success counts up, a failure counts down;
 * crossing `rise` flips the state, and the counter then jumps to the end of
 * its range (rise + fall - 1 when going UP, 0 when going DOWN), so it takes
 * `fall` failures to bring an UP server down and `rise` successes to bring a
 * DOWN one up. At start a server is UP with health = rise, so the first
 * failed check takes it down at once (as HAProxy does).
 */
#ifndef PPB_HEALTH_H
#define PPB_HEALTH_H

enum health_change {
	HEALTH_SAME = 0,
	HEALTH_WENT_UP,
	HEALTH_WENT_DOWN,
};

struct health {
	int rise;
	int fall;
	int health;
	int up;
};

void health_init(struct health *h, int rise, int fall);
enum health_change health_report(struct health *h, int success);

#endif
