/* check.c - placeholder */
#include <config.h>
