/* AI.CONFIG, the command that reads the module's options (and changes
 * MODEL_CHUNK_SIZE on a running server, as RedisAI does).
 */
#ifndef SBAI_CONFIG_CMD_H
#define SBAI_CONFIG_CMD_H

#include "redismodule_api.h"

/* Creates AI.CONFIG. Returns REDISMODULE_OK, or REDISMODULE_ERR after
 * logging what failed. */
int sbai_config_register(RedisModuleCtx *ctx);

#endif
