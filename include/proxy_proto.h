#ifndef PPB_PROXY_PROTO_H
#define PPB_PROXY_PROTO_H
#endif
