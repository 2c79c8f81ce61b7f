/* Registering commands and their ACL categories (command.h). */
#include "command.h"

#include <stdio.h>
#include <string.h>

int sbai_create_command(RedisModuleCtx *ctx, const char *name, RedisModuleCmdFunc fn,
                        const char *flags, int firstkey, int lastkey, int keystep)
{
  if (RedisModule_CreateCommand(ctx, name, fn, flags, firstkey, lastkey, keystep)
      != REDISMODULE_OK) {
    RedisModule_Log(ctx, "warning", "sbai: cannot register command %s (name taken by another module?)",
                    name);
    return REDISMODULE_ERR;
  }
  if (RedisModule_SetCommandACLCategories != NULL && RedisModule_GetCommand != NULL) {
    char categories[64];
    RedisModuleCommand *cmd = RedisModule_GetCommand(ctx, name);
    sbai_acl_categories(flags, categories, sizeof categories);
    if (cmd == NULL || RedisModule_SetCommandACLCategories(cmd, categories) != REDISMODULE_OK) {
      RedisModule_Log(ctx, "warning", "sbai: cannot put %s into ACL categories '%s'", name,
                      categories);
      return REDISMODULE_ERR;
    }
  }
  return REDISMODULE_OK;
}

RedisModuleType *sbai_create_type(RedisModuleCtx *ctx, const char *name, int encver,
                                  RedisModuleTypeMethods *methods)
{
  RedisModuleType *type = RedisModule_CreateDataType(ctx, name, encver, methods);
  if (!type)
    RedisModule_Log(ctx, "warning", "sbai: cannot create data type %s", name);
  return type;
}

/* Whether the space-separated list `flags` holds the word `word`. */
static int has_word(const char *flags, const char *word)
{
  size_t n = strlen(word);
  for (const char *p = flags; (p = strstr(p, word)) != NULL; p += n)
    if ((p == flags || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
      return 1;
  return 0;
}

void sbai_acl_categories(const char *flags, char *out, size_t len)
{
  snprintf(out, len, "%s%s%s", has_word(flags, "write") ? "write " : "",
           has_word(flags, "readonly") ? "read " : "", has_word(flags, "fast") ? "fast" : "slow");
}
