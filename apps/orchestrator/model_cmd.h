/* Models in the keyspace: the SB_MODEL_ data type and the commands
 *
 *   AI.MODELSTORE key backend device [TAG tag]
 *       [BATCHSIZE n [MINBATCHSIZE m [MINBATCHTIMEOUT ms]]]
 *       [INPUTS n name.. OUTPUTS n name..] BLOB chunk [chunk ...]
 *   AI.MODELGET key [META] [BLOB]
 *   AI.MODELDEL key
 *   AI.MODELEXECUTE key INPUTS n in.. OUTPUTS n out.. [TIMEOUT ms]
 *   AI.MODELRUN key [TIMEOUT ms] INPUTS in.. OUTPUTS out..
 *
 * The model itself (devices, the value's callbacks) is in model.h, running
 * one in model_exec.h, its RDB and AOF persistence and the data type's
 * definition in model_rdb.h.
 */
#ifndef SBAI_MODEL_CMD_H
#define SBAI_MODEL_CMD_H

#include "model.h"
#include "redismodule_api.h"

/* Creates the SB_MODEL_ data type (sbai_model_type_def, model_rdb.h) and
 * the model commands. Returns REDISMODULE_OK, or REDISMODULE_ERR after logging what
 * failed. */
int sbai_model_register(RedisModuleCtx *ctx);

#endif
