/* The tensor value and tensor keys (tensor_value.h). */
#include "tensor_value.h"

#include "command.h"

const void *sbai_tensor_data(const sbai_tensor_t *t)
{
  if (t->held) {
    size_t len;
    return RedisModule_StringPtrLen(t->held, &len);
  }
  return t->owned;
}

sbai_tensor_t *sbai_tensor_new_zeros(const sb_tensor_desc_t *desc)
{
  sbai_tensor_t *t = RedisModule_Calloc(1, sizeof *t);
  t->desc = *desc;
  t->owned = RedisModule_Calloc(1, (size_t)desc->nbytes);
  return t;
}

void sbai_tensor_free(void *value)
{
  sbai_tensor_t *t = value;
  if (!t)
    return;
  if (t->held)
    RedisModule_FreeString(NULL, t->held);
  RedisModule_Free(t->owned);
  RedisModule_Free(t);
}

sbai_key_status_t sbai_tensor_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                     RedisModuleKey **key, sbai_tensor_t **tensor)
{
  RedisModuleKey *k = RedisModule_OpenKey(ctx, keyname, REDISMODULE_READ);
  int type;

  /* Opened for reading only, a missing key gives NULL. */
  if (!k)
    return SBAI_KEY_EMPTY;
  type = RedisModule_KeyType(k);
  if (type == REDISMODULE_KEYTYPE_EMPTY) {
    RedisModule_CloseKey(k);
    return SBAI_KEY_EMPTY;
  }
  if (type != REDISMODULE_KEYTYPE_MODULE
      || RedisModule_ModuleTypeGetType(k) != sbai_type(SBAI_TYPE_TENSOR)) {
    RedisModule_CloseKey(k);
    return SBAI_KEY_WRONGTYPE;
  }
  *key = k;
  *tensor = RedisModule_ModuleTypeGetValue(k);
  return SBAI_KEY_OK;
}

sbai_key_status_t sbai_tensor_store(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                    sbai_tensor_t **tensor)
{
  RedisModuleKey *k = RedisModule_OpenKey(ctx, keyname, REDISMODULE_READ | REDISMODULE_WRITE);
  sbai_key_status_t status = SBAI_KEY_OK;
  int type;

  if (!k)
    return SBAI_KEY_FAILED;
  type = RedisModule_KeyType(k);
  if (type == REDISMODULE_KEYTYPE_EMPTY) {
    if (RedisModule_ModuleTypeSetValue(k, sbai_type(SBAI_TYPE_TENSOR), *tensor) != REDISMODULE_OK)
      status = SBAI_KEY_FAILED;
  } else if (type != REDISMODULE_KEYTYPE_MODULE
             || RedisModule_ModuleTypeGetType(k) != sbai_type(SBAI_TYPE_TENSOR)) {
    status = SBAI_KEY_WRONGTYPE;
  } else {
    /* A tensor is there: it takes the new contents in place (its old bytes
     * released), which spares the keyspace a delete and an add. Like a new
     * key, it has no TTL. Closing the key signals the change (WATCH). */
    sbai_tensor_t *old = RedisModule_ModuleTypeGetValue(k);
    if (RedisModule_GetExpire(k) != REDISMODULE_NO_EXPIRE
        && RedisModule_SetExpire(k, REDISMODULE_NO_EXPIRE) != REDISMODULE_OK) {
      status = SBAI_KEY_FAILED;
    } else {
      if (old->held)
        RedisModule_FreeString(NULL, old->held);
      RedisModule_Free(old->owned);
      *old = **tensor;
      RedisModule_Free(*tensor);
      *tensor = old;
    }
  }
  RedisModule_CloseKey(k);
  return status;
}
