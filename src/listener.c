/* listener.c - placeholder */
#include <config.h>
