/* A stored script: what it holds, how one is made from its source and entry
 * points (which built-ins it can run), and the value side of the SB_SCRIPT
 * data type (looking a script key up; the memory-usage and digest
 * callbacks).
 *
 * The source is kept but not interpreted: the functions it defines that are
 * built-ins (builtins.h) are what can be run. Reference counted like models
 * (model.h, refcount.h).
 *
 * The commands are in script_cmd.c, running a script's function in
 * script_exec.c, RDB and AOF persistence and the data type's definition in
 * script_rdb.c.
 */
#ifndef SBAI_SCRIPT_H
#define SBAI_SCRIPT_H

#include "builtins.h"
#include "redismodule_api.h"
#include "refcount.h"
#include "run.h"
#include "value.h"

#include <stddef.h>

/* What AI.INFO reports as a script's backend. */
#define SBAI_SCRIPT_BACKEND "BUILTIN"

/* Most entry points a script may list (more than there are built-ins is
 * never useful). */
#define SBAI_SCRIPT_MAX_ENTRY 64

typedef struct sbai_script sbai_script_t;

struct sbai_script {
  sbai_ref_t ref;          /* first: sbai_ref_retain / sbai_ref_release take the script */
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

/* Makes a script (one reference) from its parts, or fails with err:
 * entry points must be built-ins the source defines; without entry points
 * the source must define at least one built-in. */
sbai_script_t *sbai_script_create(const char *source, size_t source_len, const char *tag,
                                  size_t tag_len, int nentry, const char *const *entry,
                                  const size_t *entry_len, char *err, size_t errlen);

/* As sbai_model_lookup, for scripts. */
sbai_key_status_t sbai_script_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                     sbai_script_t **script);

/* The data type's callbacks on the value: MEMORY USAGE and DEBUG DIGEST
 * (its free is sbai_ref_release). */
size_t sbai_script_mem_usage(const void *value);
void sbai_script_digest(RedisModuleDigest *md, void *value);

#endif
