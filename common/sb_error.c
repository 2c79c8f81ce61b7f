#include "sb_error.h"
#include "sb_log.h"

#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char errmsg[SB_ERRMSG_MAX];

int sb_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errmsg, sizeof errmsg, fmt, ap);
  va_end(ap);
  return SB_ERR;
}

int sb_error_prefix(const char *fmt, ...)
{
  char old[SB_ERRMSG_MAX];
  char pre[SB_ERRMSG_MAX];
  va_list ap;
  memcpy(old, errmsg, sizeof old);
  va_start(ap, fmt);
  vsnprintf(pre, sizeof pre, fmt, ap);
  va_end(ap);
  /* pre, ": ", then as much of the old message as fits */
  size_t n = strlen(pre);
  if (n > sizeof errmsg - 3)
    n = sizeof errmsg - 3;
  memcpy(errmsg, pre, n);
  memcpy(errmsg + n, ": ", 2);
  n += 2;
  size_t m = strlen(old);
  if (m > sizeof errmsg - 1 - n)
    m = sizeof errmsg - 1 - n;
  memcpy(errmsg + n, old, m);
  errmsg[n + m] = '\0';
  return SB_ERR;
}

const char *sb_error_msg(void) { return errmsg; }

void sb_error_clear(void) { errmsg[0] = '\0'; }

char *sb_error_buffer(void) { return errmsg; }

int sb_error_mpi(const char *file, int line, const char *expr, int code)
{
  char str[MPI_MAX_ERROR_STRING] = "";
  int len = 0;
  if (MPI_Error_string(code, str, &len) != MPI_SUCCESS)
    snprintf(str, sizeof str, "MPI error %d", code);
  return sb_error("%s:%d: %s failed: %s", file, line, expr, str);
}

int sb_error_h5(const char *file, int line, const char *expr)
{
  return sb_error("%s:%d: HDF5 call %s failed", file, line, expr);
}

void sb_cleanup_step(int rc)
{
  if (rc != SB_OK)
    sb_log(SB_LOG_WARN, "cleanup: %s", sb_error_msg());
}
