/* Tensors in the keyspace: the SB_TENSOR data type and the AI.TENSORSET /
 * AI.TENSORGET commands.
 *
 * The tensor value and the key helpers that model and script runs use to
 * read input tensors from keys and store output tensors into keys are in
 * tensor_value.h.
 */
#ifndef SBAI_TENSOR_CMD_H
#define SBAI_TENSOR_CMD_H

#include "redismodule_api.h"

/* Creates the SB_TENSOR data type (which tensor_value.c looks keys up with)
 * and the tensor commands. Returns REDISMODULE_OK, or REDISMODULE_ERR after logging what
 * failed. */
int sbai_tensor_register(RedisModuleCtx *ctx);

#endif
