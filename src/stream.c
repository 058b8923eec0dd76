/* stream.c - placeholder */
#include <config.h>
