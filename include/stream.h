#ifndef PPB_STREAM_H
#define PPB_STREAM_H
#endif
