#ifndef PPB_GEN_H
#define PPB_GEN_H
#endif
