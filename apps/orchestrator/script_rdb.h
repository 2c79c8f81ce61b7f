/* Persistence of scripts: the SB_SCRIPT data type's RDB save and load and
 * its AOF rewrite (as AI.SCRIPTSTORE or AI.SCRIPTSET commands). A script
 * loaded back is made again from its parts (sbai_script_create), which
 * finds its runnable functions anew.
 */
#ifndef SBAI_SCRIPT_RDB_H
#define SBAI_SCRIPT_RDB_H

#include "redismodule_api.h"

/* RDB layout version 1: device, tag, source (strings); the entry point
 * count and names. The runnable functions are found again on load. */
#define SBAI_SCRIPT_ENCVER 1

/* The data type's rdb_save and rdb_load callbacks. */
void sbai_script_rdb_save(RedisModuleIO *io, void *value);
void *sbai_script_rdb_load(RedisModuleIO *io, int encver);

/* AI.SCRIPTSTORE key CPU TAG t ENTRY_POINTS n fn.. SOURCE src, or
 * AI.SCRIPTSET key CPU TAG t SOURCE src for a script stored without entry
 * points. */
void sbai_script_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value);

#endif
