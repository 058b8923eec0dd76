/* app.c - placeholder */
#include <config.h>
