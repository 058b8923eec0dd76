/* backend.c - placeholder */
#include <config.h>
