/* AI.CONFIG: reading the module's options, and changing those that may
 * change after loading (see the command's description below). */
#include "config_cmd.h"

#include "args.h"
#include "command.h"
#include "module_options.h"
#include "reply.h"

/* ---- AI.CONFIG -------------------------------------------------------------
 *
 * AI.CONFIG GET <option>     ->  the option's value as an integer.
 * AI.CONFIG <option> <value> ->  OK: changes an option that may change after
 *                                loading (MODEL_CHUNK_SIZE, as in RedisAI).
 *
 * RedisAI's BACKENDSPATH and LOADBACKEND set things this module does not
 * have; they are refused with an error rather than accepted and ignored.
 */
static int config_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  size_t len, vlen;
  const char *text, *value;
  char err[256];
  long long v;

  if (argc < 2)
    return RedisModule_WrongArity(ctx);
  text = RedisModule_StringPtrLen(argv[1], &len);
  if (sbai_arg_is(argv[1], "GET")) {
    if (argc != 3)
      return RedisModule_WrongArity(ctx);
    text = RedisModule_StringPtrLen(argv[2], &len);
    if (sb_options_get(&sbai_options, text, len, &v, err, sizeof err) != 0)
      return sbai_reply_error(ctx, "%s", err);
    return RedisModule_ReplyWithLongLong(ctx, v);
  }
  /* AI.CONFIG NAME VALUE, for a NAME that is an option of ours. */
  if (sb_options_get(&sbai_options, text, len, &v, NULL, 0) == 0) {
    if (argc != 3)
      return RedisModule_WrongArity(ctx);
    value = RedisModule_StringPtrLen(argv[2], &vlen);
    if (sb_options_set_runtime(&sbai_options, text, len, value, vlen, err, sizeof err) != 0)
      return sbai_reply_error(ctx, "%s", err);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
  }
  return sbai_reply_error(ctx, "unsupported AI.CONFIG subcommand '%.*s' (this server has GET "
                          "<option> and MODEL_CHUNK_SIZE <bytes>; it loads no backends)",
                          len > 32 ? 32 : (int)len, text);
}

int sbai_config_register(RedisModuleCtx *ctx)
{
  return sbai_create_command(ctx, "AI.CONFIG", config_command, "readonly fast", 0, 0, 0);
}
