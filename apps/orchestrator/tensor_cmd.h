/* Tensors in the keyspace: the SB_TENSOR data type and the AI.TENSORSET /
 * AI.TENSORGET commands.
 *
 * The functions below are what later parts (model and script execution) need
 * to read input tensors from keys and store output tensors into keys.
 */
#ifndef SBAI_TENSOR_CMD_H
#define SBAI_TENSOR_CMD_H

#include "redismodule_api.h"
#include "tensor.h"

/* The value behind a tensor key. Its bytes live in exactly one of two places:
 * - held: the client's BLOB argument, kept alive with RedisModule_HoldString
 *   instead of copied (zero-copy AI.TENSORSET ... BLOB);
 * - owned: a RedisModule_Alloc'd buffer (VALUES, zeros, RDB load, outputs).
 * Use sbai_tensor_data() rather than either field: the server may move the
 * held string's buffer after the command returns (it trims spare capacity of
 * strings a module keeps), so its address must be asked for at each use. */
typedef struct sbai_tensor {
  sb_tensor_desc_t desc;
  RedisModuleString *held;
  void *owned;
} sbai_tensor_t;

/* Outcome of looking up or storing a tensor key. */
typedef enum sbai_key_status {
  SBAI_KEY_OK = 0,
  SBAI_KEY_EMPTY,     /* no such key (lookup only) */
  SBAI_KEY_WRONGTYPE, /* the key holds something other than a tensor */
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

/* The tensor's desc.nbytes bytes. */
const void *sbai_tensor_data(const sbai_tensor_t *t);

/* A new tensor owning a zero-filled buffer of desc->nbytes bytes. */
sbai_tensor_t *sbai_tensor_new_zeros(const sb_tensor_desc_t *desc);

/* Frees a tensor and releases its bytes (the data type's free callback). */
void sbai_tensor_free(void *value);

/* Opens keyname for reading. On SBAI_KEY_OK, *key is open and *tensor points
 * into it until RedisModule_CloseKey(*key); on any other status nothing is
 * left open. */
sbai_key_status_t sbai_tensor_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                     RedisModuleKey **key, sbai_tensor_t **tensor);

/* Stores tensor under keyname, replacing a tensor already there. The key
 * takes ownership on SBAI_KEY_OK; otherwise the caller still owns tensor. */
sbai_key_status_t sbai_tensor_store(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                    sbai_tensor_t *tensor);

#endif
