/* A stored script: what it holds, how one is made from its source and entry
 * points (which built-ins it can run), and the value side of the SB_SCRIPT
 * data type (looking a script key up; the memory-usage and digest
 * callbacks).
 *
 * Without the TORCH plugin the source is kept but not interpreted: the
 * functions it defines that are built-ins (builtins.h) are what can be run.
 * With it, its other functions are compiled and run by libtorch
 * (sbai_script_create). Reference counted like models
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
  void *torch;             /* the source compiled by the TORCH plugin, or NULL */
  int ntorch;              /* runnable TorchScript functions (not built-ins' names) */
  char **torch_names;      /* their names */
  char *load_error;        /* a TorchScript script kept (RDB, AOF) that this server cannot
                              compile: why its runs are refused */
  sbai_stats_t stats;      /* main thread only */
};

/* Makes a script (one reference) from its parts, or fails with err.
 *
 * Without the TORCH plugin (torch_backend.h): entry points must be
 * built-ins the source defines; without entry points the source must define
 * at least one built-in.
 *
 * With it, the source is also compiled as TorchScript: a function whose
 * name is a built-in runs the built-in (as without the plugin), any other
 * function of the source runs in libtorch. A source that does not compile
 * is still taken if it defines built-ins (they run); otherwise libtorch's
 * error is the reply. Entry points must each be a built-in the source
 * defines or a compiled function.
 *
 * keep_failed (RDB load, AOF replay, replication): a source that defines no
 * built-in and cannot be compiled here (no plugin) is kept, its runs refused
 * with the reason. */
sbai_script_t *sbai_script_create(const char *source, size_t source_len, const char *tag,
                                  size_t tag_len, int nentry, const char *const *entry,
                                  const size_t *entry_len, int keep_failed, char *err,
                                  size_t errlen);

/* "TORCH" for a script with TorchScript functions, else "BUILTIN". */
const char *sbai_script_backend(const sbai_script_t *s);

/* The TorchScript function `name` of s (its stored name), or NULL. */
const char *sbai_script_torch_function(const sbai_script_t *s, const char *name, size_t len);

/* As sbai_model_lookup, for scripts. */
sbai_key_status_t sbai_script_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                     sbai_script_t **script);

/* The data type's callbacks on the value: MEMORY USAGE and DEBUG DIGEST
 * (its free is sbai_ref_release). */
size_t sbai_script_mem_usage(const void *value);
void sbai_script_digest(RedisModuleDigest *md, void *value);

#endif
