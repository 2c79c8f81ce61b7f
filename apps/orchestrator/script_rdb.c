/* RDB and AOF persistence of scripts (script_rdb.h). */
#include "script_rdb.h"

#include "script.h"

#include <string.h>

void sbai_script_rdb_save(RedisModuleIO *io, void *value)
{
  const sbai_script_t *s = value;
  RedisModule_SaveStringBuffer(io, "CPU", 3);
  RedisModule_SaveStringBuffer(io, s->tag, s->tag_len);
  RedisModule_SaveStringBuffer(io, s->source, s->source_len);
  RedisModule_SaveUnsigned(io, (uint64_t)s->nentry);
  for (int i = 0; i < s->nentry; i++)
    RedisModule_SaveStringBuffer(io, s->entry[i], strlen(s->entry[i]));
}

void *sbai_script_rdb_load(RedisModuleIO *io, int encver)
{
  char *parts[3] = {NULL, NULL, NULL}, *entry[SBAI_SCRIPT_MAX_ENTRY], err[512];
  size_t lens[3] = {0, 0, 0}, entry_len[SBAI_SCRIPT_MAX_ENTRY];
  sbai_script_t *s = NULL;
  uint64_t nentry = 0, loaded = 0;

  if (encver != SBAI_SCRIPT_ENCVER) {
    RedisModule_LogIOError(io, "warning", "sbai: script encoding version %d is not known (this "
                           "build reads %d)", encver, SBAI_SCRIPT_ENCVER);
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
                    (const char *const *)entry, entry_len, err, sizeof err);
  if (!s)
    RedisModule_LogIOError(io, "warning", "sbai: a stored script is refused: %s", err);

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
void sbai_script_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value)
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
