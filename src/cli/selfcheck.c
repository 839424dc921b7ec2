/* selfcheck.c: filled in once the core modules land. */
#include "selfcheck.h"

#include <stdio.h>

int ws_cli_selfcheck(int argc, char **argv) {
  (void)argc;
  (void)argv;
  puts("selfcheck: core modules pending");
  return 1;
}
