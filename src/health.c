/* health.c - rise/fall arithmetic of health checks. */
#include <config.h>

#include "health.h"

void health_init(struct health *h, int rise, int fall)
{
	h->rise = rise > 0 ? rise : 1;
	h->fall = fall > 0 ? fall : 1;
	h->health = h->rise;
	h->up = 1;
}

enum health_change health_report(struct health *h, int success)
{
	int top = h->rise + h->fall - 1;

	if (success) {
		if (h->health < top)
			h->health++;
		if (!h->up && h->health >= h->rise) {
			h->up = 1;
			h->health = top;
			return HEALTH_WENT_UP;
		}
		return HEALTH_SAME;
	}
	if (h->health > 0)
		h->health--;
	if (h->up && h->health < h->rise) {
		h->up = 0;
		h->health = 0;
		return HEALTH_WENT_DOWN;
	}
	return HEALTH_SAME;
}
