/* Scripts in the keyspace: the SB_SCRIPT data type and the commands
 *
 *   AI.SCRIPTSTORE key device [TAG tag] ENTRY_POINTS n fn.. SOURCE "text"
 *   AI.SCRIPTSET key device [TAG tag] SOURCE "text"
 *   AI.SCRIPTGET key [META] [SOURCE]
 *   AI.SCRIPTDEL key
 *   AI.SCRIPTEXECUTE key function [KEYS n k..] [INPUTS n in..] [ARGS n a..]
 *       [OUTPUTS n out..] [TIMEOUT ms]
 *   AI.SCRIPTRUN key function [TIMEOUT ms] INPUTS in.. OUTPUTS out..
 *
 * The script itself is in script.h, running one in script_exec.h, its RDB
 * and AOF persistence and the data type's definition in script_rdb.h.
 */
#ifndef SBAI_SCRIPT_CMD_H
#define SBAI_SCRIPT_CMD_H

#include "redismodule_api.h"
#include "script.h"

/* Creates the SB_SCRIPT data type (sbai_script_type_def, script_rdb.h) and
 * the script commands. Returns REDISMODULE_OK, or REDISMODULE_ERR after logging what
 * failed. */
int sbai_script_register(RedisModuleCtx *ctx);

#endif
