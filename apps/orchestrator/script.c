/* The script value and the value side of the SB_SCRIPT data type
 * (script.h). */
#include "script.h"

#include "alloc.h"
#include "command.h"
#include "script_source.h"
#include "torch_backend.h"

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
  for (int i = 0; i < s->ntorch; i++)
    RedisModule_Free(s->torch_names[i]);
  RedisModule_Free(s->torch_names);
  if (s->torch && sbai_torch())
    sbai_torch()->script_free(s->torch);
  RedisModule_Free(s->load_error);
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

/* The compiled function called name[0..len) of handle, or NULL. */
static const char *compiled_function(void *handle, const char *name, size_t len)
{
  const sbai_torch_api_t *api = sbai_torch();
  int n = handle ? api->script_count(handle) : 0;
  for (int i = 0; i < n; i++) {
    const char *f = api->script_name(handle, i);
    if (f && strlen(f) == len && memcmp(f, name, len) == 0)
      return f;
  }
  return NULL;
}

/* Adds a TorchScript function name to the list (once). */
static void add_torch_name(char **names, int *count, const char *name, size_t len)
{
  for (int i = 0; i < *count; i++)
    if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
      return;
  names[(*count)++] = sbai_dup(name, len);
}

/* Which built-ins the script runs (found), as without the plugin: fails
 * with err unless every entry point is a built-in the source defines (or,
 * without entry points, the source defines one). With `torch` (the compiled
 * source), an entry point that is a compiled function is no failure: it
 * goes to torch_names instead. */
static int find_functions(const char *source, size_t source_len, int nentry,
                          const char *const *entry, const size_t *entry_len, void *torch,
                          found_builtins_t *found, char **torch_names, int *ntorch, char *err,
                          size_t errlen)
{
  char names[256];

  sbai_builtin_names(names, sizeof names);
  if (nentry == 0) {
    sbai_script_each_def(source, source_len, add_if_builtin, found);
    if (torch) {
      /* Every compiled function that is not a built-in's name. */
      const sbai_torch_api_t *api = sbai_torch();
      for (int i = 0; i < api->script_count(torch); i++) {
        const char *f = api->script_name(torch, i);
        if (f && !sbai_builtin_find(f, strlen(f)))
          add_torch_name(torch_names, ntorch, f, strlen(f));
      }
    }
    if (found->count == 0 && *ntorch == 0) {
      snprintf(err, errlen, "the script defines no built-in function (sbai does not interpret "
               "TorchScript; it runs only its built-ins: %s)", names);
      return -1;
    }
    return 0;
  }
  for (int i = 0; i < nentry; i++) {
    const sbai_builtin_t *b;
    int shown = entry_len[i] > 48 ? 48 : (int)entry_len[i];
    if (!sbai_script_is_identifier(entry[i], entry_len[i])) {
      snprintf(err, errlen, "entry point '%.*s' is not a valid function name", shown, entry[i]);
      return -1;
    }
    b = sbai_builtin_find(entry[i], entry_len[i]);
    if ((!b || !sbai_script_defines(source, source_len, entry[i], entry_len[i]))
        && compiled_function(torch, entry[i], entry_len[i])) {
      add_torch_name(torch_names, ntorch, entry[i], entry_len[i]);
      continue;
    }
    if (!sbai_script_defines(source, source_len, entry[i], entry_len[i])) {
      snprintf(err, errlen, "entry point '%.*s' is not defined in the script's source (no "
               "'def %.*s(')", shown, entry[i], shown, entry[i]);
      return -1;
    }
    if (!b) {
      if (torch)
        snprintf(err, errlen, "entry point '%.*s' is neither a built-in nor a function libtorch "
                 "compiled from the source", shown, entry[i]);
      else
        snprintf(err, errlen, "entry point '%.*s' is not a built-in function (sbai does not "
                 "interpret TorchScript; built-ins: %s)", shown, entry[i], names);
      return -1;
    }
    for (int j = 0; j <= found->count; j++)
      if (j == found->count) {
        if ((size_t)found->count < sbai_builtin_count())
          found->funcs[found->count++] = b;
        break;
      } else if (found->funcs[j] == b) {
        break;
      }
  }
  return 0;
}

sbai_script_t *sbai_script_create(const char *source, size_t source_len, const char *tag,
                                  size_t tag_len, int nentry, const char *const *entry,
                                  const size_t *entry_len, int keep_failed, char *err,
                                  size_t errlen)
{
  const sbai_torch_api_t *api = sbai_torch();
  found_builtins_t found;
  char compile_err[400] = "", **torch_names = NULL;
  void *torch = NULL;
  int ntorch = 0, rc;
  sbai_script_t *s;

  if (api && api->script_compile(source, source_len, &torch, compile_err, sizeof compile_err) != 0)
    torch = NULL;
  found.funcs = RedisModule_Calloc(sbai_builtin_count() + 1, sizeof *found.funcs);
  found.count = 0;
  if (torch) {
    int most = api->script_count(torch) + (nentry > 0 ? nentry : 0) + 1;
    torch_names = RedisModule_Calloc((size_t)most, sizeof *torch_names);
  }
  rc = find_functions(source, source_len, nentry, entry, entry_len, torch, &found, torch_names,
                      &ntorch, err, errlen);
  if (rc != 0 && api && !torch && compile_err[0])
    snprintf(err, errlen, "%s", compile_err); /* libtorch's reason is the better one */
  if (rc != 0 && keep_failed && !torch && found.count == 0) {
    /* Reloaded where it cannot compile: kept, runs refused. */
    char why[sizeof compile_err];
    snprintf(why, sizeof why, "%s", compile_err[0] ? compile_err : SBAI_TORCH_MISSING_SCRIPT);
    snprintf(err, errlen, "%s", why);
    rc = 1;
  }
  if (rc < 0) {
    for (int i = 0; i < ntorch; i++)
      RedisModule_Free(torch_names[i]);
    RedisModule_Free(torch_names);
    RedisModule_Free(found.funcs);
    if (torch)
      api->script_free(torch);
    return NULL;
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
  if (ntorch > 0) {
    s->torch = torch;
    s->ntorch = ntorch;
    s->torch_names = torch_names;
  } else {
    /* Compiled, but only built-ins run: the built-ins win. */
    RedisModule_Free(torch_names);
    if (torch)
      api->script_free(torch);
  }
  if (rc > 0)
    s->load_error = sbai_dup(err, strlen(err));
  return s;
}

const char *sbai_script_backend(const sbai_script_t *s)
{
  return s->torch || s->load_error ? SBAI_TORCH_BACKEND : SBAI_SCRIPT_BACKEND;
}

const char *sbai_script_torch_function(const sbai_script_t *s, const char *name, size_t len)
{
  for (int i = 0; i < s->ntorch; i++)
    if (strlen(s->torch_names[i]) == len && memcmp(s->torch_names[i], name, len) == 0)
      return s->torch_names[i];
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
