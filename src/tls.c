/* tls.c - placeholder */
#include <config.h>
