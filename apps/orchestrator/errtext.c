/* Error text for the module's messages (errtext.h). */
#include "errtext.h"

#include <stdarg.h>
#include <stdio.h>

int sbai_errf(char *err, size_t errlen, const char *fmt, ...)
{
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

const char *sbai_printable(const char *text, size_t len, char out[SBAI_TEXT_LEN])
{
  size_t n = len > 48 ? 48 : len, i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)text[i];
    out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  if (len > n)
    out[i++] = '.', out[i++] = '.', out[i++] = '.';
  out[i] = '\0';
  return out;
}
