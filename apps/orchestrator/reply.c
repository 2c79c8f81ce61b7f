/* The one-line error reply of the module's commands (reply.h). */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>

int sbai_reply_error(RedisModuleCtx *ctx, const char *fmt, ...)
{
  char msg[512] = "ERR ";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg + 4, sizeof msg - 4, fmt, ap);
  va_end(ap);
  /* An error reply is one line: never let client text break it. */
  for (char *p = msg; *p; p++)
    if (*p == '\r' || *p == '\n')
      *p = ' ';
  return RedisModule_ReplyWithError(ctx, msg);
}
