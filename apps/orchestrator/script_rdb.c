/* RDB and AOF persistence of scripts, and their data type (script_rdb.h). */
#include "script_rdb.h"

#include "refcount.h"
#include "script.h"

#include <string.h>

/* Exactly 9 characters, part of every RDB file holding a script. */
#define SCRIPT_TYPE_NAME "SB_SCRIPT"

/* RDB layout version 1: device, tag, source (strings); the entry point
 * count and names. The runnable functions are found again on load. */
#define SCRIPT_ENCVER 1

/* The data type's rdb_save callback. */
static void script_rdb_save(RedisModuleIO *io, void *value)
{
  const sbai_script_t *s = value;
  RedisModule_SaveStringBuffer(io, "CPU", 3);
  RedisModule_SaveStringBuffer(io, s->tag, s->tag_len);
  RedisModule_SaveStringBuffer(io, s->source, s->source_len);
  RedisModule_SaveUnsigned(io, (uint64_t)s->nentry);
  for (int i = 0; i < s->nentry; i++)
    RedisModule_SaveStringBuffer(io, s->entry[i], strlen(s->entry[i]));
}

/* Loads what script_rdb_save wrote and makes the script again from it; a
 * script that sbai_script_create refuses fails the load. */
static void *script_rdb_load(RedisModuleIO *io, int encver)
{
  char *parts[3] = {NULL, NULL, NULL}, *entry[SBAI_SCRIPT_MAX_ENTRY], err[512];
  size_t lens[3] = {0, 0, 0}, entry_len[SBAI_SCRIPT_MAX_ENTRY];
  sbai_script_t *s = NULL;
  uint64_t nentry = 0, loaded = 0;

  if (encver != SCRIPT_ENCVER) {
    RedisModule_LogIOError(io, "warning", "sbai: script encoding version %d is not known (this "
                           "build reads %d)", encver, SCRIPT_ENCVER);
    return NULL;
  }
  for (int i = 0; i < 3; i++) {
    parts[i] = RedisModule_LoadStringBuffer(io, &lens[i]);
    if (RedisModule_IsIOError(io) || !parts[i])
      goto out;
  }
  nentry = RedisModule_LoadUnsigned(io);
  if (RedisModule_IsIOError(io) || nentry > SBAI_SCRIPT_MAX_ENTRY) {
    RedisModule_LogIOError(io, "warning", "sbai: corrupt script entry points");
    goto out;
  }
  for (; loaded < nentry; loaded++) {
    entry[loaded] = RedisModule_LoadStringBuffer(io, &entry_len[loaded]);
    if (RedisModule_IsIOError(io) || !entry[loaded])
      goto out;
  }
  s = sbai_script_create(parts[2], lens[2], parts[1], lens[1], (int)nentry,
                    (const char *const *)entry, entry_len, 1, err, sizeof err);
  if (!s)
    RedisModule_LogIOError(io, "warning", "sbai: a stored script is refused: %s", err);
  else if (s->load_error)
    RedisModule_LogIOError(io, "warning", "sbai: a TORCH script is kept, but its TorchScript "
                           "functions will be refused: %s", s->load_error);

out:
  for (int i = 0; i < 3; i++)
    if (parts[i])
      RedisModule_Free(parts[i]);
  for (uint64_t i = 0; i < loaded; i++)
    if (entry[i])
      RedisModule_Free(entry[i]);
  return s;
}

/* AI.SCRIPTSTORE key CPU TAG t ENTRY_POINTS n fn.. SOURCE src, or
 * AI.SCRIPTSET key CPU TAG t SOURCE src for a script stored without entry
 * points. */
static void script_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value)
{
  const sbai_script_t *s = value;
  RedisModuleString **args = RedisModule_Calloc((size_t)s->nentry + 8, sizeof *args);
  size_t n = 0, key_len;
  const char *key_ptr = RedisModule_StringPtrLen(key, &key_len);

  args[n++] = RedisModule_CreateString(NULL, key_ptr, key_len);
  args[n++] = RedisModule_CreateString(NULL, "CPU", 3);
  args[n++] = RedisModule_CreateString(NULL, "TAG", 3);
  args[n++] = RedisModule_CreateString(NULL, s->tag, s->tag_len);
  if (s->nentry > 0) {
    args[n++] = RedisModule_CreateString(NULL, "ENTRY_POINTS", 12);
    args[n++] = RedisModule_CreateStringFromLongLong(NULL, s->nentry);
    for (int i = 0; i < s->nentry; i++)
      args[n++] = RedisModule_CreateString(NULL, s->entry[i], strlen(s->entry[i]));
  }
  args[n++] = RedisModule_CreateString(NULL, "SOURCE", 6);
  args[n++] = RedisModule_CreateString(NULL, s->source, s->source_len);
  RedisModule_EmitAOF(aof, s->nentry > 0 ? "AI.SCRIPTSTORE" : "AI.SCRIPTSET", "v", args, n);
  for (size_t i = 0; i < n; i++)
    RedisModule_FreeString(NULL, args[i]);
  RedisModule_Free(args);
}

const sbai_type_def_t sbai_script_type_def = {
  .id = SBAI_TYPE_SCRIPT,
  .name = SCRIPT_TYPE_NAME,
  .encver = SCRIPT_ENCVER,
  .methods = {
    .rdb_load = script_rdb_load,
    .rdb_save = script_rdb_save,
    .aof_rewrite = script_aof_rewrite,
    .mem_usage = sbai_script_mem_usage,
    .digest = sbai_script_digest,
    .free = sbai_ref_release,
  },
};
