/* The tensor value behind an SB_TENSOR key, and reading and writing tensor
 * keys: what the tensor commands, and the runs of models and scripts (input
 * tensors read from keys, outputs stored into keys), build on.
 *
 * The data type itself is created by tensor_cmd.c (with its persistence
 * callbacks); keys are looked up with sbai_type(SBAI_TYPE_TENSOR)
 * (command.h), the only call into the rest of the module.
 */
#ifndef SBAI_TENSOR_VALUE_H
#define SBAI_TENSOR_VALUE_H

#include "redismodule_api.h"
#include "tensor.h"
#include "value.h"

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

/* Stores *tensor under keyname, replacing a tensor already there. On
 * SBAI_KEY_OK the key owns it and *tensor is set to the value now under the
 * key (valid while the key is unchanged: the caller may still read it, e.g.
 * to replicate it, but never frees it); otherwise the caller still owns
 * *tensor, unchanged. A tensor already under the key is replaced in place:
 * that value takes *tensor's dtype, shape and data (its own released), and
 * *tensor's now empty shell is freed. The result is the same as deleting
 * the key and adding a new one (its TTL is dropped), without the keyspace's
 * delete and add. */
sbai_key_status_t sbai_tensor_store(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                    sbai_tensor_t **tensor);

#endif
