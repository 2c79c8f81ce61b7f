/* The SB_TENSOR data type and the tensor commands, with RedisAI's syntax and
 * reply layout so that RedisAI clients (SmartRedis) work unchanged:
 *
 *   AI.TENSORSET key type d1 [d2 ...] [BLOB data | VALUES v1 v2 ...]
 *   AI.TENSORGET key [META] [BLOB | VALUES]
 */
#include "tensor_cmd.h"

#include "args.h"
#include "command.h"
#include "module_options.h"
#include "reply.h"
#include "tensor_value.h"

#include <string.h>

/* The type's name is part of every RDB file that holds a tensor (Redis
 * derives the type id from it): exactly 9 characters, never to change. */
#define TENSOR_TYPE_NAME "SB_TENSOR"
/* RDB layout version 1: dtype code, ndims, each dim, the data as one string. */
#define TENSOR_ENCVER 1

/* Replies for the failed statuses of lookup and store. */
static int reply_key_status(RedisModuleCtx *ctx, sbai_key_status_t status)
{
  switch (status) {
  case SBAI_KEY_EMPTY:
    return sbai_reply_error(ctx, "tensor key is empty");
  case SBAI_KEY_WRONGTYPE:
    return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
  default:
    return sbai_reply_error(ctx, "could not write the tensor key");
  }
}

/* ---- AI.TENSORSET ------------------------------------------------------------
 *
 * argv: [0] AI.TENSORSET [1] key [2] type [3..k-1] dims [k] BLOB|VALUES [k+1..]
 * Everything is checked before the keyspace is touched, so a refused command
 * changes nothing.
 */
static int tensorset_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  char err[SB_TENSOR_ERRLEN];
  int64_t dims[SB_TENSOR_RANK_CAP];
  sb_tensor_desc_t desc;
  sb_dtype_t dtype;
  sbai_tensor_t *t;
  sbai_key_status_t status;
  size_t len;
  const char *text;
  int k, ndims;
  /* The limits are for clients. A command replayed from the AOF, or sent by
   * this server's primary, carries data the dataset already accepted
   * (perhaps under higher limits): like an RDB load, it is applied, never
   * dropped; only the format's own bounds apply. */
  int held = (RedisModule_GetContextFlags(ctx)
              & (REDISMODULE_CTX_FLAGS_LOADING | REDISMODULE_CTX_FLAGS_REPLICATED)) != 0;
  int max_rank = held ? SB_TENSOR_RANK_CAP : (int)sbai_options.max_tensor_rank;
  uint64_t max_bytes = held ? UINT64_MAX : (uint64_t)sbai_options.max_tensor_bytes;

  if (argc < 4)
    return RedisModule_WrongArity(ctx);

  text = RedisModule_StringPtrLen(argv[2], &len);
  if (sb_dtype_parse(text, len, &dtype, err, sizeof err) != 0)
    return sbai_reply_error(ctx, "%s", err);

  for (k = 3; k < argc; k++)
    if (sbai_arg_is(argv[k], "BLOB") || sbai_arg_is(argv[k], "VALUES"))
      break;
  ndims = k - 3;
  if (sb_tensor_rank_check(ndims, max_rank, err, sizeof err) != 0)
    return sbai_reply_error(ctx, "%s", err);
  for (int i = 0; i < ndims; i++) {
    text = RedisModule_StringPtrLen(argv[3 + i], &len);
    if (sb_tensor_dim_parse(text, len, &dims[i], err, sizeof err) != 0)
      return sbai_reply_error(ctx, "%s", err);
  }
  if (sb_tensor_desc_init(&desc, dtype, dims, ndims, max_rank, max_bytes, err, sizeof err) != 0)
    return sbai_reply_error(ctx, "%s", err);

  if (k == argc) {
    /* No data: a tensor of zeros, as RedisAI does. */
    t = sbai_tensor_new_zeros(&desc);
  } else if (sbai_arg_is(argv[k], "BLOB")) {
    if (argc - k != 2)
      return sbai_reply_error(ctx, "BLOB takes exactly one argument, the tensor's bytes "
                                   "(got %d)", argc - k - 1);
    RedisModule_StringPtrLen(argv[k + 1], &len);
    if (sb_tensor_blob_check(&desc, len, err, sizeof err) != 0)
      return sbai_reply_error(ctx, "%s", err);
    t = RedisModule_Calloc(1, sizeof *t);
    t->desc = desc;
    /* Zero-copy: keep the argument itself rather than copy its bytes. */
    t->held = RedisModule_HoldString(ctx, argv[k + 1]);
  } else {
    int nvalues = argc - k - 1;
    if (sb_tensor_values_check(&desc, (uint64_t)nvalues, err, sizeof err) != 0)
      return sbai_reply_error(ctx, "%s", err);
    t = RedisModule_Calloc(1, sizeof *t);
    t->desc = desc;
    t->owned = RedisModule_Alloc((size_t)desc.nbytes);
    size_t esize = sb_dtype_info(dtype)->size;
    for (int i = 0; i < nvalues; i++) {
      text = RedisModule_StringPtrLen(argv[k + 1 + i], &len);
      if (sb_tensor_value_parse(dtype, text, len, (char *)t->owned + (size_t)i * esize, err,
                                sizeof err) != 0) {
        sbai_tensor_free(t);
        return sbai_reply_error(ctx, "%s", err);
      }
    }
  }

  status = sbai_tensor_store(ctx, argv[1], &t);
  if (status != SBAI_KEY_OK) {
    sbai_tensor_free(t);
    return reply_key_status(ctx, status);
  }
  if (RedisModule_ReplicateVerbatim(ctx) != REDISMODULE_OK)
    RedisModule_Log(ctx, "warning", "sbai: AI.TENSORSET could not be queued for replication");
  return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* ---- AI.TENSORGET ------------------------------------------------------------ */

enum tensor_format { FORMAT_NONE, FORMAT_BLOB, FORMAT_VALUES };

static void reply_shape(RedisModuleCtx *ctx, const sbai_tensor_t *t)
{
  RedisModule_ReplyWithArray(ctx, t->desc.ndims);
  for (int i = 0; i < t->desc.ndims; i++)
    RedisModule_ReplyWithLongLong(ctx, t->desc.dims[i]);
}

static void reply_values(RedisModuleCtx *ctx, const sbai_tensor_t *t)
{
  const void *data = sbai_tensor_data(t);
  RedisModule_ReplyWithArray(ctx, (long)t->desc.count);
  for (uint64_t i = 0; i < t->desc.count; i++) {
    sb_scalar_t v = sb_tensor_value_get(t->desc.dtype, data, i);
    if (v.is_float)
      RedisModule_ReplyWithDouble(ctx, v.d);
    else
      RedisModule_ReplyWithLongLong(ctx, v.i);
  }
}

static int tensorget_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  enum tensor_format format = FORMAT_NONE;
  int meta = 0;
  RedisModuleKey *key;
  sbai_tensor_t *t;
  sbai_key_status_t status;

  if (argc < 2 || argc > 4)
    return RedisModule_WrongArity(ctx);
  for (int i = 2; i < argc; i++) {
    size_t len;
    const char *text = RedisModule_StringPtrLen(argv[i], &len);
    if (sbai_arg_is(argv[i], "META")) {
      if (meta)
        return sbai_reply_error(ctx, "META given twice");
      meta = 1;
    } else if (sbai_arg_is(argv[i], "BLOB") || sbai_arg_is(argv[i], "VALUES")) {
      if (format != FORMAT_NONE)
        return sbai_reply_error(ctx, "give at most one of BLOB and VALUES");
      format = sbai_arg_is(argv[i], "BLOB") ? FORMAT_BLOB : FORMAT_VALUES;
    } else {
      return sbai_reply_error(ctx, "unknown AI.TENSORGET argument '%.*s' (expected META, BLOB "
                                   "or VALUES)",
                              len > 32 ? 32 : (int)len, text);
    }
  }
  /* No arguments: RedisAI's default, metadata and values. */
  if (!meta && format == FORMAT_NONE)
    meta = 1, format = FORMAT_VALUES;

  status = sbai_tensor_lookup(ctx, argv[1], &key, &t);
  if (status != SBAI_KEY_OK)
    return reply_key_status(ctx, status);

  if (meta) {
    RedisModule_ReplyWithArray(ctx, format == FORMAT_NONE ? 4 : 6);
    RedisModule_ReplyWithCString(ctx, "dtype");
    RedisModule_ReplyWithCString(ctx, sb_dtype_info(t->desc.dtype)->name);
    RedisModule_ReplyWithCString(ctx, "shape");
    reply_shape(ctx, t);
    if (format == FORMAT_BLOB)
      RedisModule_ReplyWithCString(ctx, "blob");
    else if (format == FORMAT_VALUES)
      RedisModule_ReplyWithCString(ctx, "values");
  }
  if (format == FORMAT_BLOB)
    RedisModule_ReplyWithStringBuffer(ctx, sbai_tensor_data(t), (size_t)t->desc.nbytes);
  else if (format == FORMAT_VALUES)
    reply_values(ctx, t);
  RedisModule_CloseKey(key);
  return REDISMODULE_OK;
}

/* ---- persistence and introspection callbacks ----------------------------------- */

static void tensor_rdb_save(RedisModuleIO *io, void *value)
{
  const sbai_tensor_t *t = value;
  RedisModule_SaveUnsigned(io, (uint64_t)t->desc.dtype);
  RedisModule_SaveUnsigned(io, (uint64_t)t->desc.ndims);
  for (int i = 0; i < t->desc.ndims; i++)
    RedisModule_SaveUnsigned(io, (uint64_t)t->desc.dims[i]);
  RedisModule_SaveStringBuffer(io, sbai_tensor_data(t), (size_t)t->desc.nbytes);
}

/* Loads what tensor_rdb_save wrote. The limits of this run (MAX_TENSOR_*) do
 * not apply: data the server already accepted is never dropped on reload.
 * Anything inconsistent fails the load rather than making a bad tensor. */
static void *tensor_rdb_load(RedisModuleIO *io, int encver)
{
  char err[SB_TENSOR_ERRLEN];
  int64_t dims[SB_TENSOR_RANK_CAP];
  sb_tensor_desc_t desc;
  uint64_t dtype, ndims;
  sbai_tensor_t *t;
  char *buf;
  size_t len;

  if (encver != TENSOR_ENCVER) {
    RedisModule_LogIOError(io, "warning", "sbai: tensor encoding version %d is not known "
                           "(this build reads %d)", encver, TENSOR_ENCVER);
    return NULL;
  }
  dtype = RedisModule_LoadUnsigned(io);
  ndims = RedisModule_LoadUnsigned(io);
  if (RedisModule_IsIOError(io))
    return NULL;
  if (dtype >= SB_DTYPE_COUNT || ndims < 1 || ndims > SB_TENSOR_RANK_CAP) {
    RedisModule_LogIOError(io, "warning", "sbai: corrupt tensor header (dtype %llu, rank %llu)",
                           (unsigned long long)dtype, (unsigned long long)ndims);
    return NULL;
  }
  for (uint64_t i = 0; i < ndims; i++) {
    uint64_t d = RedisModule_LoadUnsigned(io);
    dims[i] = d > (uint64_t)INT64_MAX ? -1 : (int64_t)d;
  }
  if (RedisModule_IsIOError(io))
    return NULL;
  if (sb_tensor_desc_init(&desc, (sb_dtype_t)dtype, dims, (int)ndims, SB_TENSOR_RANK_CAP,
                          UINT64_MAX, err, sizeof err) != 0) {
    RedisModule_LogIOError(io, "warning", "sbai: corrupt tensor: %s", err);
    return NULL;
  }
  buf = RedisModule_LoadStringBuffer(io, &len);
  if (RedisModule_IsIOError(io) || !buf) {
    if (buf)
      RedisModule_Free(buf);
    return NULL;
  }
  if (sb_tensor_blob_check(&desc, len, err, sizeof err) != 0) {
    RedisModule_LogIOError(io, "warning", "sbai: corrupt tensor: %s", err);
    RedisModule_Free(buf);
    return NULL;
  }
  t = RedisModule_Calloc(1, sizeof *t);
  t->desc = desc;
  t->owned = buf; /* LoadStringBuffer allocates with RedisModule_Alloc */
  return t;
}

/* AOF rewrite without an RDB preamble: one AI.TENSORSET ... BLOB per key. */
static void tensor_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value)
{
  const sbai_tensor_t *t = value;
  RedisModuleString *dims[SB_TENSOR_RANK_CAP];

  for (int i = 0; i < t->desc.ndims; i++)
    dims[i] = RedisModule_CreateStringFromLongLong(NULL, t->desc.dims[i]);
  RedisModule_EmitAOF(aof, "AI.TENSORSET", "scvcb", key, sb_dtype_info(t->desc.dtype)->name,
                      dims, (size_t)t->desc.ndims, "BLOB", (const char *)sbai_tensor_data(t),
                      (size_t)t->desc.nbytes);
  for (int i = 0; i < t->desc.ndims; i++)
    RedisModule_FreeString(NULL, dims[i]);
}

static size_t tensor_mem_usage(const void *value)
{
  const sbai_tensor_t *t = value;
  return sizeof *t + (size_t)t->desc.nbytes;
}

/* DEBUG DIGEST / DIGEST-VALUE: dtype, shape and bytes, as one sequence. */
static void tensor_digest(RedisModuleDigest *md, void *value)
{
  const sbai_tensor_t *t = value;
  const char *name = sb_dtype_info(t->desc.dtype)->name;

  RedisModule_DigestAddStringBuffer(md, name, strlen(name));
  for (int i = 0; i < t->desc.ndims; i++)
    RedisModule_DigestAddLongLong(md, t->desc.dims[i]);
  RedisModule_DigestAddStringBuffer(md, sbai_tensor_data(t), (size_t)t->desc.nbytes);
  RedisModule_DigestEndSequence(md);
}

/* ---- registration ------------------------------------------------------------ */

int sbai_tensor_register(RedisModuleCtx *ctx)
{
  static const sbai_type_def_t type = {
    .id = SBAI_TYPE_TENSOR,
    .name = TENSOR_TYPE_NAME,
    .encver = TENSOR_ENCVER,
    .methods = {
      .rdb_load = tensor_rdb_load,
      .rdb_save = tensor_rdb_save,
      .aof_rewrite = tensor_aof_rewrite,
      .mem_usage = tensor_mem_usage,
      .digest = tensor_digest,
      .free = sbai_tensor_free,
    },
  };
  /* AI.TENSORGET is not "fast": its reply copies the whole tensor. */
  static const sbai_command_def_t commands[] = {
    {"AI.TENSORSET", tensorset_command, "write deny-oom"},
    {"AI.TENSORGET", tensorget_command, "readonly"},
  };

  if (sbai_create_type(ctx, &type) != REDISMODULE_OK)
    return REDISMODULE_ERR;
  return sbai_create_commands(ctx, commands, sizeof commands / sizeof commands[0]);
}
