/* AI.INFO: run statistics of a model or script, or the module's state
 * (the reply layouts are described in info_cmd.c).
 */
#ifndef SBAI_INFO_CMD_H
#define SBAI_INFO_CMD_H

#include "redismodule_api.h"

/* Creates AI.INFO. Returns REDISMODULE_OK, or REDISMODULE_ERR after
 * logging what failed. */
int sbai_info_register(RedisModuleCtx *ctx);

#endif
