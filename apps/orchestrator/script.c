/* The script value and the value side of the SB_SCRIPT data type
 * (script.h). */
#include "script.h"

#include "alloc.h"
#include "command.h"
#include "script_source.h"

#include <stdio.h>
#include <string.h>

/* ---- the value ------------------------------------------------------------------ */

/* Frees the script (its last reference is gone). */
static void script_destroy(void *value)
{
  sbai_script_t *s = value;
  RedisModule_Free(s->source);
  RedisModule_Free(s->tag);
  for (int i = 0; i < s->nentry; i++)
    RedisModule_Free(s->entry[i]);
  RedisModule_Free(s->entry);
  RedisModule_Free(s->funcs);
  RedisModule_Free(s);
}

sbai_key_status_t sbai_script_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                     sbai_script_t **script)
{
  return sbai_value_lookup(ctx, keyname, sbai_type(SBAI_TYPE_SCRIPT), (void **)script);
}

/* ---- making a script: which functions it can run --------------------------------- */

typedef struct found_builtins {
  const sbai_builtin_t **funcs; /* sbai_builtin_count() slots */
  int count;
} found_builtins_t;

static void add_if_builtin(const char *name, size_t len, void *arg)
{
  found_builtins_t *f = arg;
  const sbai_builtin_t *b = sbai_builtin_find(name, len);
  if (!b)
    return;
  for (int i = 0; i < f->count; i++)
    if (f->funcs[i] == b)
      return;
  f->funcs[f->count++] = b;
}

/* Makes a script (one reference) from its parts, or fails with err:
 * entry points must be built-ins the source defines; without entry points
 * the source must define at least one built-in. */
sbai_script_t *sbai_script_create(const char *source, size_t source_len, const char *tag,
                                  size_t tag_len, int nentry, const char *const *entry,
                                  const size_t *entry_len, char *err, size_t errlen)
{
  char names[256];
  found_builtins_t found;
  sbai_script_t *s;

  sbai_builtin_names(names, sizeof names);
  found.funcs = RedisModule_Calloc(sbai_builtin_count() + 1, sizeof *found.funcs);
  found.count = 0;
  if (nentry == 0) {
    sbai_script_each_def(source, source_len, add_if_builtin, &found);
    if (found.count == 0) {
      snprintf(err, errlen, "the script defines no built-in function (sbai does not interpret "
               "TorchScript; it runs only its built-ins: %s)", names);
      RedisModule_Free(found.funcs);
      return NULL;
    }
  } else {
    for (int i = 0; i < nentry; i++) {
      const sbai_builtin_t *b;
      int shown = entry_len[i] > 48 ? 48 : (int)entry_len[i];
      if (!sbai_script_is_identifier(entry[i], entry_len[i])) {
        snprintf(err, errlen, "entry point '%.*s' is not a valid function name", shown, entry[i]);
        goto refused;
      }
      if (!sbai_script_defines(source, source_len, entry[i], entry_len[i])) {
        snprintf(err, errlen, "entry point '%.*s' is not defined in the script's source (no "
                 "'def %.*s(')", shown, entry[i], shown, entry[i]);
        goto refused;
      }
      b = sbai_builtin_find(entry[i], entry_len[i]);
      if (!b) {
        snprintf(err, errlen, "entry point '%.*s' is not a built-in function (sbai does not "
                 "interpret TorchScript; built-ins: %s)", shown, entry[i], names);
        goto refused;
      }
      for (int j = 0; j <= found.count; j++)
        if (j == found.count) {
          if ((size_t)found.count < sbai_builtin_count())
            found.funcs[found.count++] = b;
          break;
        } else if (found.funcs[j] == b) {
          break;
        }
    }
  }

  s = RedisModule_Calloc(1, sizeof *s);
  sbai_ref_init(&s->ref, script_destroy);
  s->source = sbai_dup(source, source_len);
  s->source_len = source_len;
  s->tag = sbai_dup(tag ? tag : "", tag ? tag_len : 0);
  s->tag_len = tag ? tag_len : 0;
  s->nentry = nentry;
  s->entry = RedisModule_Calloc((size_t)nentry + 1, sizeof *s->entry);
  for (int i = 0; i < nentry; i++)
    s->entry[i] = sbai_dup(entry[i], entry_len[i]);
  s->nfuncs = found.count;
  s->funcs = found.funcs;
  return s;

refused:
  RedisModule_Free(found.funcs);
  return NULL;
}

/* ---- introspection ---------------------------------------------------------------- */

size_t sbai_script_mem_usage(const void *value)
{
  const sbai_script_t *s = value;
  return sizeof *s + s->source_len + s->tag_len;
}

void sbai_script_digest(RedisModuleDigest *md, void *value)
{
  const sbai_script_t *s = value;
  RedisModule_DigestAddStringBuffer(md, s->tag, s->tag_len);
  RedisModule_DigestAddStringBuffer(md, s->source, s->source_len);
  for (int i = 0; i < s->nentry; i++)
    RedisModule_DigestAddStringBuffer(md, s->entry[i], strlen(s->entry[i]));
  RedisModule_DigestEndSequence(md);
}
