/* worker.c - placeholder */
#include <config.h>
