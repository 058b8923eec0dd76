#ifndef PPB_LISTENER_H
#define PPB_LISTENER_H
#endif
