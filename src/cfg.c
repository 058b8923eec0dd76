/* cfg.c - placeholder */
#include <config.h>
