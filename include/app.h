#ifndef PPB_APP_H
#define PPB_APP_H
#endif
