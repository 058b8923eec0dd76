#ifndef PPB_WORKER_H
#define PPB_WORKER_H
#endif
