/* main.c - ppbridge's entry point; everything else lives in the library. */
#include <config.h>

#include "app.h"

int main(int argc, char **argv)
{
	return app_main(argc, argv);
}
