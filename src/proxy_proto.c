/* proxy_proto.c - placeholder */
#include <config.h>
