/* app.h - the daemon's start-up, main loop, signals and shutdown. */
#ifndef PPB_APP_H
#define PPB_APP_H

/* Everything main() does; returns the process exit status. */
int app_main(int argc, char **argv);

#endif
