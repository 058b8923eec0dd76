/* gen.c - placeholder */
#include <config.h>
