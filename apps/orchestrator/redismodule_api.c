/* Definitions of the Redis module API pointers and their lookup. */
#include "redismodule_api.h"

#include <string.h>

#define SB_RM_DEFINE(ret, name, params, attrs) ret(*RedisModule_##name) params = NULL;
SB_RM_FUNCTIONS(SB_RM_DEFINE)
SB_RM_OPTIONAL_FUNCTIONS(SB_RM_DEFINE)
#undef SB_RM_DEFINE

/* The lookup function's documented shape: it stores the address of the
 * implementation of `name` into *target and returns REDISMODULE_OK, or
 * REDISMODULE_ERR for a name this server does not provide. */
typedef int (*sb_rm_getapi_fn)(const char *name, void *target);

int sb_rm_bind(RedisModuleCtx *ctx, const char *name, int version)
{
  sb_rm_getapi_fn getapi;

  /* The context is opaque except for its first field, the lookup function. */
  memcpy(&getapi, (const void *)ctx, sizeof getapi);
  if (getapi == NULL)
    return REDISMODULE_ERR;

#define SB_RM_LOOKUP(ret, fname, params, attrs)                                 \
  if (getapi("RedisModule_" #fname, (void *)&RedisModule_##fname) != REDISMODULE_OK \
      || RedisModule_##fname == NULL)                                          \
    return REDISMODULE_ERR;
  SB_RM_FUNCTIONS(SB_RM_LOOKUP)
#undef SB_RM_LOOKUP

#define SB_RM_LOOKUP_OPTIONAL(ret, fname, params, attrs)                        \
  if (getapi("RedisModule_" #fname, (void *)&RedisModule_##fname) != REDISMODULE_OK) \
    RedisModule_##fname = NULL;
  SB_RM_OPTIONAL_FUNCTIONS(SB_RM_LOOKUP_OPTIONAL)
#undef SB_RM_LOOKUP_OPTIONAL

  if (RedisModule_IsModuleNameBusy(name))
    return REDISMODULE_ERR;
  RedisModule_SetModuleAttribs(ctx, name, version, REDISMODULE_APIVER_1);
  return REDISMODULE_OK;
}
