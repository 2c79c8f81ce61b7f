/* keyslot: prints the cluster hash slot (sb_key_slot) of every line of
 * standard input, one per line, for key_slot_vs_server.sh. */
#include "sb_crc16.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    size_t n = strcspn(line, "\n");
    printf("%d\n", sb_key_slot(line, n));
  }
  return 0;
}
