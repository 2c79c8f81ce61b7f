/* Reading client arguments (args.h). */
#include "args.h"

#include "reply.h"

#include <string.h>
#include <strings.h>

int sbai_arg_is(const RedisModuleString *arg, const char *word)
{
  size_t len;
  const char *s = RedisModule_StringPtrLen(arg, &len);
  return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

const char *sbai_quote(const RedisModuleString *arg, char out[SBAI_QUOTE_LEN])
{
  size_t len;
  const char *text = RedisModule_StringPtrLen(arg, &len);
  return sbai_printable(text, len, out);
}

int sbai_parse_count(RedisModuleCtx *ctx, RedisModuleString *arg, const char *what, long long min,
                     int left, int *count)
{
  long long n;
  char q[SBAI_QUOTE_LEN];
  if (RedisModule_StringToLongLong(arg, &n) != REDISMODULE_OK || n < min) {
    sbai_reply_error(ctx, "invalid %s count '%s': expected an integer >= %lld", what,
                     sbai_quote(arg, q), min);
    return REDISMODULE_ERR;
  }
  if (n > left) {
    sbai_reply_error(ctx, "%s count is %lld but only %d arguments follow", what, n, left);
    return REDISMODULE_ERR;
  }
  *count = (int)n;
  return REDISMODULE_OK;
}

int sbai_parse_device(RedisModuleCtx *ctx, const RedisModuleString *arg)
{
  size_t len;
  const char *s = RedisModule_StringPtrLen(arg, &len);
  char q[SBAI_QUOTE_LEN];

  if (len == 3 && strncasecmp(s, "CPU", 3) == 0)
    return REDISMODULE_OK;
  if ((len == 3 && strncasecmp(s, "GPU", 3) == 0) || (len > 4 && strncasecmp(s, "GPU:", 4) == 0))
    sbai_reply_error(ctx, "device '%s': scripts run on the CPU in sbai (store the script with "
                     "device CPU; models take GPU devices)", sbai_quote(arg, q));
  else
    sbai_reply_error(ctx, "unknown device '%s' (expected CPU)", sbai_quote(arg, q));
  return REDISMODULE_ERR;
}
