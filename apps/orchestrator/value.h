/* The module's values in the keyspace, whatever their type: looking one up
 * by key name, the reply for a lookup that failed, and deleting one
 * (AI.MODELDEL, AI.SCRIPTDEL).
 *
 * Depends on nothing of the module above reply.c: the tensor, model and
 * script files all build on it.
 */
#ifndef SBAI_VALUE_H
#define SBAI_VALUE_H

#include "redismodule_api.h"

/* Outcome of looking up or storing a key (tensor_value.h stores tensors). */
typedef enum sbai_key_status {
  SBAI_KEY_OK = 0,
  SBAI_KEY_EMPTY,     /* no such key (lookup only) */
  SBAI_KEY_WRONGTYPE, /* the key holds a value of another type */
  SBAI_KEY_FAILED     /* the server refused the write */
} sbai_key_status_t;

/* The value of module type `type` under keyname, for values that outlive
 * the key being closed (reference-counted models and scripts): OK with
 * *value set, EMPTY, or WRONGTYPE. The key is closed before returning. */
sbai_key_status_t sbai_value_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                    RedisModuleType *type, void **value);

/* The reply for a failed lookup: WRONGTYPE, or "ERR <what> key is empty". */
int sbai_reply_lookup_error(RedisModuleCtx *ctx, sbai_key_status_t status, const char *what);

/* AI.MODELDEL / AI.SCRIPTDEL: deletes argv[1], which must hold a value of
 * module type `type` (else the lookup error above), replicates the command
 * and replies OK. Runs queued or in flight hold their own reference to the
 * value and finish with it. */
int sbai_value_del_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                           RedisModuleType *type, const char *what);

#endif
