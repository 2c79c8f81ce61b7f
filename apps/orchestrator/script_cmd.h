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
 * The source is kept but not interpreted: the functions it defines that are
 * built-ins (builtins.h) are what can be run. Reference counted like models.
 */
#ifndef SBAI_SCRIPT_CMD_H
#define SBAI_SCRIPT_CMD_H

#include "builtins.h"
#include "redismodule_api.h"
#include "run.h"

#include <stdatomic.h>
#include <stddef.h>

/* What AI.INFO reports as a script's backend. */
#define SBAI_SCRIPT_BACKEND "BUILTIN"

/* Most entry points a script may list (more than there are built-ins is
 * never useful). */
#define SBAI_SCRIPT_MAX_ENTRY 64

struct sbai_script {
  atomic_int refs;
  char *source;
  size_t source_len;
  char *tag;
  size_t tag_len;
  int nentry;              /* ENTRY_POINTS given (AI.SCRIPTSTORE); 0 for AI.SCRIPTSET */
  char **entry;            /* their names, NUL-terminated */
  int nfuncs;              /* runnable functions: the entry points, or every */
  const sbai_builtin_t **funcs; /* built-in the source defines (AI.SCRIPTSET) */
  sbai_stats_t stats;      /* main thread only */
};

/* Reference counting, as for models (model_cmd.h). */
void sbai_script_retain(sbai_script_t *script);
void sbai_script_release(sbai_script_t *script);

/* As sbai_model_lookup, for scripts. */
sbai_key_status_t sbai_script_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                     sbai_script_t **script);

/* Worker side: runs the request's built-in function. */
void sbai_script_execute(sbai_run_t *run, int threads);

int sbai_script_register(RedisModuleCtx *ctx);

#endif
