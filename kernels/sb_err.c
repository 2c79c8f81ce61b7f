/* sb_set_err: see sb_err.h. */
#include "sb_err.h"

#include <stdio.h>

void sb_set_errv(char *err, size_t errlen, const char *fmt, va_list ap)
{
  if (!err || errlen == 0)
    return;
  vsnprintf(err, errlen, fmt, ap);
}

void sb_set_err(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  sb_set_errv(err, errlen, fmt, ap);
  va_end(ap);
}

int sb_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  sb_set_errv(err, errlen, fmt, ap);
  va_end(ap);
  return rc;
}
