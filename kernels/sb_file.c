/* Whole files into memory (sb_file.h). */
#include "sb_file.h"

#include "sb_err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_file_read(const char *path, void **data, size_t *len, char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  size_t cap = 1 << 20, n = 0;
  unsigned char *buf = NULL;
  *data = NULL;
  *len = 0;
  if (!f)
    return sb_fail(err, errlen, -1, "cannot open %s: %s", path, strerror(errno));
  /* Grown as it comes, so that a pipe or /dev/stdin reads as well as a
   * file whose size is known. */
  for (;;) {
    if (!buf || n == cap) {
      unsigned char *nb;
      if (buf)
        cap *= 2;
      nb = realloc(buf, cap);
      if (!nb) {
        sb_set_err(err, errlen, "%s: out of memory at %zu bytes", path, cap);
        free(buf);
        fclose(f);
        return -1;
      }
      buf = nb;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    sb_set_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
    free(buf);
    fclose(f);
    return -1;
  }
  fclose(f);
  *data = buf;
  *len = n;
  return 0;
}
