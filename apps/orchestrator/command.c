/* Registering commands, their ACL categories and data types (command.h). */
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

int sbai_create_commands(RedisModuleCtx *ctx, const sbai_command_def_t *defs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (sbai_create_command(ctx, defs[i].name, defs[i].fn, defs[i].flags, 1, 1, 1)
        != REDISMODULE_OK)
      return REDISMODULE_ERR;
  return REDISMODULE_OK;
}

/* The data types created, by id. */
static RedisModuleType *types[SBAI_TYPE_COUNT];

int sbai_create_type(RedisModuleCtx *ctx, const sbai_type_def_t *def)
{
  RedisModuleTypeMethods methods = def->methods;
  RedisModuleType *type;

  methods.version = REDISMODULE_TYPE_METHOD_VERSION;
  type = RedisModule_CreateDataType(ctx, def->name, def->encver, &methods);
  if (!type) {
    RedisModule_Log(ctx, "warning", "sbai: cannot create data type %s", def->name);
    return REDISMODULE_ERR;
  }
  types[def->id] = type;
  return REDISMODULE_OK;
}

RedisModuleType *sbai_type(sbai_type_id_t id)
{
  return types[id];
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
