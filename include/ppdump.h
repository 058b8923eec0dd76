/* ppdump.h - `ppbridge pp-dump`: print the PROXY headers received on a port. */
#ifndef PPB_PPDUMP_H
#define PPB_PPDUMP_H

#include <stddef.h>
#include <stdio.h>

struct pp_header;

/* `ppbridge pp-dump [-n COUNT] ADDR:PORT`; returns the exit status. */
int ppdump_main(int argc, char **argv);

/* Describe a decoded header, one field per line, each line indented by
 * two spaces (pure; used by the tool and its tests). */
void ppdump_describe(FILE *out, const struct pp_header *h);

#endif
