/* Values of the module's data types under keys (value.h). */
#include "value.h"

#include "reply.h"

sbai_key_status_t sbai_value_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                    RedisModuleType *type, void **value)
{
  RedisModuleKey *k = RedisModule_OpenKey(ctx, keyname, REDISMODULE_READ);
  sbai_key_status_t status = SBAI_KEY_OK;
  int kt;

  if (!k)
    return SBAI_KEY_EMPTY;
  kt = RedisModule_KeyType(k);
  if (kt == REDISMODULE_KEYTYPE_EMPTY)
    status = SBAI_KEY_EMPTY;
  else if (kt != REDISMODULE_KEYTYPE_MODULE || RedisModule_ModuleTypeGetType(k) != type)
    status = SBAI_KEY_WRONGTYPE;
  else
    *value = RedisModule_ModuleTypeGetValue(k);
  RedisModule_CloseKey(k);
  return status;
}

int sbai_reply_lookup_error(RedisModuleCtx *ctx, sbai_key_status_t status, const char *what)
{
  if (status == SBAI_KEY_WRONGTYPE)
    return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
  return sbai_reply_error(ctx, "%s key is empty", what);
}

int sbai_value_del_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                           RedisModuleType *type, const char *what)
{
  RedisModuleKey *key;
  sbai_key_status_t status;
  void *value;

  if (argc != 2)
    return RedisModule_WrongArity(ctx);
  status = sbai_value_lookup(ctx, argv[1], type, &value);
  if (status != SBAI_KEY_OK)
    return sbai_reply_lookup_error(ctx, status, what);
  key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
  RedisModule_DeleteKey(key);
  RedisModule_CloseKey(key);
  RedisModule_ReplicateVerbatim(ctx);
  return RedisModule_ReplyWithSimpleString(ctx, "OK");
}
