/* The script commands (see script_cmd.h): AI.SCRIPTSTORE, AI.SCRIPTSET,
 * AI.SCRIPTGET, AI.SCRIPTDEL, AI.SCRIPTEXECUTE and AI.SCRIPTRUN, and the
 * registration of the SB_SCRIPT data type (defined in script_rdb.c). */
#include "script_cmd.h"

#include "args.h"
#include "command.h"
#include "refcount.h"
#include "reply.h"
#include "script_exec.h"
#include "script_rdb.h"
#include "torch_backend.h"

#include <stdio.h>
#include <string.h>

/* ---- AI.SCRIPTSTORE / AI.SCRIPTSET ------------------------------------------------- */

static int script_store_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int store)
{
  const char *cmd = store ? "AI.SCRIPTSTORE" : "AI.SCRIPTSET";
  const char *tag = NULL, *source = NULL;
  const char *entry[SBAI_SCRIPT_MAX_ENTRY];
  size_t entry_len[SBAI_SCRIPT_MAX_ENTRY], tag_len = 0, source_len = 0;
  int nentry = -1, i;
  char err[512], q[SBAI_QUOTE_LEN];
  sbai_script_t *s, *old;
  RedisModuleKey *key;

  /* Replayed from the AOF or sent by the primary: a TorchScript source this
   * server cannot compile is kept (runs refused), as on an RDB load. */
  int held = (RedisModule_GetContextFlags(ctx)
              & (REDISMODULE_CTX_FLAGS_LOADING | REDISMODULE_CTX_FLAGS_REPLICATED)) != 0;

  if (argc < 5)
    return RedisModule_WrongArity(ctx);
  if (sbai_parse_device(ctx, argv[2]) != REDISMODULE_OK)
    return REDISMODULE_OK;

  for (i = 3; i < argc && !sbai_arg_is(argv[i], "SOURCE");) {
    if (sbai_arg_is(argv[i], "TAG")) {
      if (tag)
        return sbai_reply_error(ctx, "TAG given twice");
      if (i + 1 >= argc)
        return sbai_reply_error(ctx, "TAG needs a value");
      tag = RedisModule_StringPtrLen(argv[i + 1], &tag_len);
      i += 2;
    } else if (store && sbai_arg_is(argv[i], "ENTRY_POINTS")) {
      if (nentry >= 0)
        return sbai_reply_error(ctx, "ENTRY_POINTS given twice");
      if (i + 1 >= argc)
        return sbai_reply_error(ctx, "ENTRY_POINTS needs a count and names");
      if (sbai_parse_count(ctx, argv[i + 1], "ENTRY_POINTS", 1, argc - i - 2, &nentry)
          != REDISMODULE_OK)
        return REDISMODULE_OK;
      if (nentry > SBAI_SCRIPT_MAX_ENTRY)
        return sbai_reply_error(ctx, "too many ENTRY_POINTS (at most %d)", SBAI_SCRIPT_MAX_ENTRY);
      for (int e = 0; e < nentry; e++)
        entry[e] = RedisModule_StringPtrLen(argv[i + 2 + e], &entry_len[e]);
      i += 2 + nentry;
    } else {
      return sbai_reply_error(ctx, "unknown %s argument '%s' (expected TAG, %sSOURCE)", cmd,
                              sbai_quote(argv[i], q), store ? "ENTRY_POINTS or " : "or ");
    }
  }
  if (i >= argc)
    return sbai_reply_error(ctx, "missing SOURCE: %s needs the script's text after SOURCE", cmd);
  if (i + 2 != argc)
    return sbai_reply_error(ctx, "SOURCE takes exactly one argument, the script's text, and must "
                                 "come last");
  source = RedisModule_StringPtrLen(argv[i + 1], &source_len);
  if (store && nentry < 0)
    return sbai_reply_error(ctx, "AI.SCRIPTSTORE needs ENTRY_POINTS n name.. before SOURCE");
  if (nentry < 0)
    nentry = 0;

  switch (sbai_script_lookup(ctx, argv[1], &old)) {
  case SBAI_KEY_WRONGTYPE:
    return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
  default:
    break;
  }
  s = sbai_script_create(source, source_len, tag, tag_len, nentry, entry, entry_len, held, err,
                         sizeof err);
  if (!s)
    return sbai_reply_error(ctx, "%s", err);

  key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
  if (!key || RedisModule_ModuleTypeSetValue(key, sbai_type(SBAI_TYPE_SCRIPT), s) != REDISMODULE_OK) {
    if (key)
      RedisModule_CloseKey(key);
    sbai_ref_release(s);
    return sbai_reply_error(ctx, "could not write the script key");
  }
  RedisModule_CloseKey(key);
  if (RedisModule_ReplicateVerbatim(ctx) != REDISMODULE_OK)
    RedisModule_Log(ctx, "warning", "sbai: %s could not be queued for replication", cmd);
  return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

static int scriptstore_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  return script_store_command(ctx, argv, argc, 1);
}

static int scriptset_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  return script_store_command(ctx, argv, argc, 0);
}

/* ---- AI.SCRIPTGET / AI.SCRIPTDEL ------------------------------------------------------ */

static int scriptget_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  int meta = 0, source = 0;
  char q[SBAI_QUOTE_LEN];
  sbai_key_status_t status;
  sbai_script_t *s;

  if (argc < 2 || argc > 4)
    return RedisModule_WrongArity(ctx);
  for (int i = 2; i < argc; i++) {
    int *flag = sbai_arg_is(argv[i], "META")     ? &meta
                : sbai_arg_is(argv[i], "SOURCE") ? &source
                                                 : NULL;
    if (!flag)
      return sbai_reply_error(ctx, "unknown AI.SCRIPTGET argument '%s' (expected META or SOURCE)",
                              sbai_quote(argv[i], q));
    if (*flag)
      return sbai_reply_error(ctx, "%s given twice", sbai_quote(argv[i], q));
    *flag = 1;
  }
  if (!meta && !source)
    meta = source = 1;
  status = sbai_script_lookup(ctx, argv[1], &s);
  if (status != SBAI_KEY_OK)
    return sbai_reply_lookup_error(ctx, status, "script");

  if (!meta)
    return RedisModule_ReplyWithStringBuffer(ctx, s->source, s->source_len);
  RedisModule_ReplyWithArray(ctx, source ? 8 : 6);
  RedisModule_ReplyWithCString(ctx, "device");
  RedisModule_ReplyWithCString(ctx, "CPU");
  RedisModule_ReplyWithCString(ctx, "tag");
  RedisModule_ReplyWithStringBuffer(ctx, s->tag, s->tag_len);
  if (source) {
    RedisModule_ReplyWithCString(ctx, "source");
    RedisModule_ReplyWithStringBuffer(ctx, s->source, s->source_len);
  }
  /* The functions that can run: the entry points, or the built-ins an
   * AI.SCRIPTSET source defines. */
  RedisModule_ReplyWithCString(ctx, "Entry Points");
  RedisModule_ReplyWithArray(ctx, s->nfuncs + s->ntorch);
  for (int i = 0; i < s->nfuncs; i++)
    RedisModule_ReplyWithCString(ctx, s->funcs[i]->name);
  for (int i = 0; i < s->ntorch; i++)
    RedisModule_ReplyWithCString(ctx, s->torch_names[i]);
  return REDISMODULE_OK;
}

static int scriptdel_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  return sbai_value_del_command(ctx, argv, argc, sbai_type(SBAI_TYPE_SCRIPT), "script");
}

/* ---- AI.SCRIPTEXECUTE / AI.SCRIPTRUN ------------------------------------------------ */

/* The function `name` of script s: a built-in (*builtin) or a TorchScript
 * function (*torch_fn), 0; or an error reply and -1. */
static int find_function(RedisModuleCtx *ctx, const sbai_script_t *s, RedisModuleString *name,
                         const sbai_builtin_t **builtin, const char **torch_fn)
{
  size_t len;
  const char *text = RedisModule_StringPtrLen(name, &len);
  const sbai_builtin_t *b = sbai_builtin_find(text, len);
  char q[SBAI_QUOTE_LEN], names[256];

  *builtin = NULL;
  *torch_fn = NULL;
  for (int i = 0; b && i < s->nfuncs; i++)
    if (s->funcs[i] == b)
      return *builtin = b, 0;
  *torch_fn = sbai_script_torch_function(s, text, len);
  if (*torch_fn)
    return 0;
  if (s->load_error) {
    sbai_reply_error(ctx, "the " SBAI_TORCH_BACKEND " script is not usable on this server: %s",
                     s->load_error);
    return -1;
  }
  if (s->torch) {
    size_t used = 0;
    names[0] = '\0';
    for (int i = 0; i < s->nfuncs + s->ntorch && used < sizeof names; i++)
      used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                               i < s->nfuncs ? s->funcs[i]->name : s->torch_names[i - s->nfuncs]);
    sbai_reply_error(ctx, "function '%s' is not a function of this script (it has: %s)",
                     sbai_quote(name, q), names);
    return -1;
  }
  if (!b) {
    sbai_builtin_names(names, sizeof names);
    sbai_reply_error(ctx, "function '%s' is not a built-in (sbai does not interpret TorchScript; "
                          "built-ins: %s)",
                     sbai_quote(name, q), names);
  } else {
    size_t used = 0;
    names[0] = '\0';
    for (int i = 0; i < s->nfuncs && used < sizeof names; i++)
      used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                               s->funcs[i]->name);
    sbai_reply_error(ctx, "function '%s' is not an entry point of this script (it has: %s)",
                     sbai_quote(name, q), names);
  }
  return -1;
}

/* AI.SCRIPTEXECUTE key fn [KEYS n k..] [INPUTS n in..] [ARGS n a..]
 *     [OUTPUTS n out..] [TIMEOUT ms]     (sections in any order, once each) */
static int parse_execute(RedisModuleCtx *ctx, sbai_run_t *run, RedisModuleString **argv, int argc)
{
  int seen_keys = 0, seen_in = 0, seen_args = 0, seen_out = 0, seen_timeout = 0, n;
  char q[SBAI_QUOTE_LEN];

  for (int i = 3; i < argc;) {
    if (sbai_arg_is(argv[i], "TIMEOUT")) {
      if (seen_timeout++)
        return sbai_reply_error(ctx, "TIMEOUT given twice"), REDISMODULE_ERR;
      if (i + 1 >= argc)
        return sbai_reply_error(ctx, "TIMEOUT needs a value in milliseconds"), REDISMODULE_ERR;
      if (sbai_run_set_timeout(ctx, run, argv[i + 1]) != REDISMODULE_OK)
        return REDISMODULE_ERR;
      i += 2;
      continue;
    }
    if (sbai_arg_is(argv[i], "LIST_INPUTS") && !run->torch_fn)
      return sbai_reply_error(ctx, "LIST_INPUTS is not supported: built-in functions take plain "
                                   "tensor INPUTS"),
             REDISMODULE_ERR;
    {
      static const char *const words[] = {"KEYS", "INPUTS", "ARGS", "OUTPUTS"};
      int *seen_of[] = {&seen_keys, &seen_in, &seen_args, &seen_out};
      int w = 0;
      while (w < 4 && !sbai_arg_is(argv[i], words[w]))
        w++;
      if (w == 4)
        return sbai_reply_error(ctx, "unknown AI.SCRIPTEXECUTE argument '%s' (expected KEYS, "
                                     "INPUTS, ARGS, OUTPUTS or TIMEOUT)",
                                sbai_quote(argv[i], q)),
               REDISMODULE_ERR;
      if ((*seen_of[w])++)
        return sbai_reply_error(ctx, "%s given twice", words[w]), REDISMODULE_ERR;
      if (i + 1 >= argc)
        return sbai_reply_error(ctx, "%s needs a count", words[w]), REDISMODULE_ERR;
      /* INPUTS and OUTPUTS need at least one key; KEYS and ARGS may be 0. */
      if (sbai_parse_count(ctx, argv[i + 1], words[w], (w == 1 || w == 3) ? 1 : 0, argc - i - 2,
                           &n)
          != REDISMODULE_OK)
        return REDISMODULE_ERR;
      /* KEYS only declare what a script may touch (cluster routing);
       * built-ins touch no keys. ARGS go to the function, which checks how
       * many it takes. */
      if ((w == 1 || w == 3) && sbai_run_add_keys(ctx, run, argv, i + 2, i + 2 + n, w == 3) != REDISMODULE_OK)
        return REDISMODULE_ERR;
      if (w == 2)
        run->nargs = n;
      /* A TorchScript function gets the ARGS and KEYS as strings. */
      if (run->torch_fn && (w == 0 || w == 2))
        sbai_run_set_strings(run, argv, i + 2, n, w == 0);
      i += 2 + n;
    }
  }
  if (!seen_in)
    return sbai_reply_error(ctx, "AI.SCRIPTEXECUTE: missing INPUTS"), REDISMODULE_ERR;
  if (!seen_out)
    return sbai_reply_error(ctx, "AI.SCRIPTEXECUTE: missing OUTPUTS"), REDISMODULE_ERR;
  return REDISMODULE_OK;
}

/* AI.SCRIPTRUN key fn [TIMEOUT ms] INPUTS in.. OUTPUTS out.. */
static int parse_run(RedisModuleCtx *ctx, sbai_run_t *run, RedisModuleString **argv, int argc)
{
  int i = 3, in_from, in_to;
  if (i < argc && sbai_arg_is(argv[i], "TIMEOUT")) {
    if (i + 1 >= argc)
      return sbai_reply_error(ctx, "TIMEOUT needs a value in milliseconds"), REDISMODULE_ERR;
    if (sbai_run_set_timeout(ctx, run, argv[i + 1]) != REDISMODULE_OK)
      return REDISMODULE_ERR;
    i += 2;
  }
  if (i >= argc || !sbai_arg_is(argv[i], "INPUTS"))
    return sbai_reply_error(ctx, "AI.SCRIPTRUN: expected INPUTS after the function name%s",
                            i > 3 ? " and TIMEOUT" : ""),
           REDISMODULE_ERR;
  in_from = ++i;
  while (i < argc && !sbai_arg_is(argv[i], "OUTPUTS")) {
    if (sbai_arg_is(argv[i], "$"))
      return sbai_reply_error(ctx, "variadic inputs ($) are not supported: built-in functions "
                                   "take plain tensor INPUTS"),
             REDISMODULE_ERR;
    i++;
  }
  in_to = i;
  if (i >= argc)
    return sbai_reply_error(ctx, "AI.SCRIPTRUN: missing OUTPUTS"), REDISMODULE_ERR;
  if (in_to == in_from || i + 1 >= argc)
    return sbai_reply_error(ctx, "AI.SCRIPTRUN: INPUTS and OUTPUTS each need at least one key"),
           REDISMODULE_ERR;
  if (sbai_run_add_keys(ctx, run, argv, in_from, in_to, 0) != REDISMODULE_OK
      || sbai_run_add_keys(ctx, run, argv, i + 1, argc, 1) != REDISMODULE_OK)
    return REDISMODULE_ERR;
  return REDISMODULE_OK;
}

static int script_run_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int old)
{
  char err[SB_TENSOR_ERRLEN + 64];
  sbai_key_status_t status;
  const sbai_builtin_t *fn;
  const char *torch_fn;
  sbai_script_t *s;
  sbai_run_t *run;
  int rc;

  if (RedisModule_IsKeysPositionRequest(ctx)) {
    sbai_run_report_keys(ctx, argv, argc, 3, old);
    return REDISMODULE_OK;
  }
  if (argc < (old ? 7 : 5))
    return RedisModule_WrongArity(ctx);
  status = sbai_script_lookup(ctx, argv[1], &s);
  if (status != SBAI_KEY_OK)
    return sbai_reply_lookup_error(ctx, status, "script");
  if (find_function(ctx, s, argv[2], &fn, &torch_fn) != 0)
    return REDISMODULE_OK;
  run = sbai_run_new(&sbai_script_run_ops, s);
  run->fn = fn;
  run->torch_fn = torch_fn;
  rc = old ? parse_run(ctx, run, argv, argc) : parse_execute(ctx, run, argv, argc);
  if (rc != REDISMODULE_OK) {
    sbai_run_free(run);
    return REDISMODULE_OK;
  }
  /* A TorchScript function's outputs are known once it ran. */
  if (fn && fn->check(run->in_desc, run->nin, run->nargs, run->out_desc, run->nout, err, sizeof err)
      != 0) {
    sbai_run_free(run);
    return sbai_reply_error(ctx, "%s", err);
  }
  return sbai_run_submit(ctx, run);
}

static int scriptexecute_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  return script_run_command(ctx, argv, argc, 0);
}

static int scriptrun_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  return script_run_command(ctx, argv, argc, 1);
}

/* ---- registration -------------------------------------------------------------- */

int sbai_script_register(RedisModuleCtx *ctx)
{
  static const sbai_command_def_t commands[] = {
    {"AI.SCRIPTSTORE", scriptstore_command, "write deny-oom"},
    {"AI.SCRIPTSET", scriptset_command, "write deny-oom"},
    {"AI.SCRIPTGET", scriptget_command, "readonly"},
    {"AI.SCRIPTDEL", scriptdel_command, "write"},
    {"AI.SCRIPTEXECUTE", scriptexecute_command, "write deny-oom getkeys-api"},
    {"AI.SCRIPTRUN", scriptrun_command, "write deny-oom getkeys-api"},
  };

  if (sbai_create_type(ctx, &sbai_script_type_def) != REDISMODULE_OK)
    return REDISMODULE_ERR;
  return sbai_create_commands(ctx, commands, sizeof commands / sizeof commands[0]);
}
