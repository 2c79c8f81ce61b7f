/* The model commands (see model_cmd.h): AI.MODELSTORE, AI.MODELGET,
 * AI.MODELDEL, AI.MODELEXECUTE and AI.MODELRUN, and the registration of the
 * SB_MODEL_ data type (defined in model_rdb.c). */
#include "model_cmd.h"

#include "args.h"
#include "command.h"
#include "device.h"
#include "gpu.h"
#include "model_exec.h"
#include "model_rdb.h"
#include "module_options.h"
#include "refcount.h"
#include "reply.h"
#include "torch_backend.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- AI.MODELSTORE ------------------------------------------------------------ */

static int parse_batch_value(RedisModuleCtx *ctx, RedisModuleString *arg, const char *what,
                             long long *value)
{
  char q[SBAI_QUOTE_LEN];
  if (RedisModule_StringToLongLong(arg, value) != REDISMODULE_OK || *value < 0
      || *value > SBAI_MODEL_BATCH_MAX) {
    sbai_reply_error(ctx, "invalid %s '%s': expected an integer from 0 to %lld", what,
                     sbai_quote(arg, q), SBAI_MODEL_BATCH_MAX);
    return REDISMODULE_ERR;
  }
  return REDISMODULE_OK;
}

/* INPUTS n name.. or OUTPUTS n name.. at argv[*i]; advances *i past it. */
static int parse_names(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int *i,
                       const char *what, int *count, const char **names, size_t *lens)
{
  int n;
  if (*i + 1 >= argc) {
    sbai_reply_error(ctx, "%s needs a count and names", what);
    return REDISMODULE_ERR;
  }
  if (*count >= 0) {
    sbai_reply_error(ctx, "%s given twice", what);
    return REDISMODULE_ERR;
  }
  if (sbai_parse_count(ctx, argv[*i + 1], what, 1, argc - *i - 2, &n) != REDISMODULE_OK)
    return REDISMODULE_ERR;
  if (n != 1) {
    sbai_reply_error(ctx, "an " SBAI_MODEL_BACKEND " model has 1 input and 1 output; %s names %d",
                     what, n);
    return REDISMODULE_ERR;
  }
  names[0] = RedisModule_StringPtrLen(argv[*i + 2], &lens[0]);
  *count = n;
  *i += 2 + n;
  return REDISMODULE_OK;
}

static int modelstore_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  sbai_model_spec_t spec = {.ninputs = -1, .noutputs = -1};
  int have_batch = 0, have_min = 0, have_timeout = 0, i;
  const char *dev_text;
  size_t dev_len;
  char err[256], q[SBAI_QUOTE_LEN];
  sbai_model_t *m, *old;
  RedisModuleKey *key;
  size_t blob_len = 0;
  char *blob;
  /* Replayed from the AOF or sent by the primary: the dataset already holds
   * this model, so, as on an RDB load, a GPU this server cannot use keeps
   * the model (its runs are refused) and MAX_BATCH bounds its batches
   * instead of refusing it. */
  int held = (RedisModule_GetContextFlags(ctx)
              & (REDISMODULE_CTX_FLAGS_LOADING | REDISMODULE_CTX_FLAGS_REPLICATED)) != 0;

  if (argc < 6)
    return RedisModule_WrongArity(ctx);
  if (!sbai_arg_is(argv[2], SBAI_MODEL_BACKEND) && !sbai_arg_is(argv[2], "TORCH"))
    return sbai_reply_error(ctx, "unknown backend '%s' (this server runs " SBAI_MODEL_BACKEND
                                 " models; TORCH is accepted as an alias)",
                            sbai_quote(argv[2], q));
  /* TORCH takes both blobs (the blob decides, model.h); SBRESNET only ours. */
  spec.sbresnet = sbai_arg_is(argv[2], SBAI_MODEL_BACKEND);
  /* The device: spelled right, and for a GPU one the server can use (its
   * pool and queue made ready), before the blob is looked at. */
  dev_text = RedisModule_StringPtrLen(argv[3], &dev_len);
  if (sbai_device_parse(dev_text, dev_len, &spec.device, err, sizeof err) != 0
      || (!held && spec.device >= 0 && sbai_gpu_prepare(spec.device, err, sizeof err) != 0))
    return sbai_reply_error(ctx, "%s", err);
  spec.keep_failed = held;

  for (i = 4; i < argc && !sbai_arg_is(argv[i], "BLOB");) {
    if (sbai_arg_is(argv[i], "TAG")) {
      if (spec.tag)
        return sbai_reply_error(ctx, "TAG given twice");
      if (i + 1 >= argc)
        return sbai_reply_error(ctx, "TAG needs a value");
      spec.tag = RedisModule_StringPtrLen(argv[i + 1], &spec.tag_len);
      i += 2;
    } else if (sbai_arg_is(argv[i], "BATCHSIZE") || sbai_arg_is(argv[i], "MINBATCHSIZE")
               || sbai_arg_is(argv[i], "MINBATCHTIMEOUT")) {
      static const char *const words[] = {"BATCHSIZE", "MINBATCHSIZE", "MINBATCHTIMEOUT"};
      int *seen_of[] = {&have_batch, &have_min, &have_timeout};
      long long *value_of[] = {&spec.batchsize, &spec.minbatchsize, &spec.minbatchtimeout};
      int w = sbai_arg_is(argv[i], words[0]) ? 0 : sbai_arg_is(argv[i], words[1]) ? 1 : 2;
      const char *what = words[w];
      int *seen = seen_of[w];
      long long *value = value_of[w];
      if (*seen)
        return sbai_reply_error(ctx, "%s given twice", what);
      if (i + 1 >= argc)
        return sbai_reply_error(ctx, "%s needs a value", what);
      if (parse_batch_value(ctx, argv[i + 1], what, value) != REDISMODULE_OK)
        return REDISMODULE_OK;
      if (w < 2 && *value > sbai_options.max_batch) {
        if (!held)
          return sbai_reply_error(ctx, "%s %lld exceeds the module's MAX_BATCH (%lld)", what,
                                  *value, sbai_options.max_batch);
        RedisModule_Log(ctx, "notice", "sbai: a replayed model's %s %lld is above MAX_BATCH; "
                        "batched up to %lld", what, *value, sbai_options.max_batch);
        *value = sbai_options.max_batch;
      }
      *seen = 1;
      i += 2;
    } else if (sbai_arg_is(argv[i], "INPUTS")) {
      if (parse_names(ctx, argv, argc, &i, "INPUTS", &spec.ninputs, spec.inputs, spec.inputs_len)
          != REDISMODULE_OK)
        return REDISMODULE_OK;
    } else if (sbai_arg_is(argv[i], "OUTPUTS")) {
      if (parse_names(ctx, argv, argc, &i, "OUTPUTS", &spec.noutputs, spec.outputs,
                      spec.outputs_len)
          != REDISMODULE_OK)
        return REDISMODULE_OK;
    } else {
      return sbai_reply_error(ctx, "unknown AI.MODELSTORE argument '%s' (expected TAG, "
                                   "BATCHSIZE, MINBATCHSIZE, MINBATCHTIMEOUT, INPUTS, OUTPUTS "
                                   "or BLOB)",
                              sbai_quote(argv[i], q));
    }
  }
  if (spec.ninputs < 0)
    spec.ninputs = 0;
  if (spec.noutputs < 0)
    spec.noutputs = 0;
  if (i >= argc)
    return sbai_reply_error(ctx, "missing BLOB: AI.MODELSTORE needs the model's bytes after BLOB");
  if (i + 1 >= argc)
    return sbai_reply_error(ctx, "BLOB needs at least one chunk of the model's bytes");
  if (spec.minbatchsize > 0 && spec.batchsize == 0)
    return sbai_reply_error(ctx, "MINBATCHSIZE needs a BATCHSIZE greater than 0");
  if (spec.minbatchsize > spec.batchsize)
    return sbai_reply_error(ctx, "MINBATCHSIZE (%lld) exceeds BATCHSIZE (%lld)", spec.minbatchsize,
                            spec.batchsize);
  if (spec.minbatchtimeout > 0 && spec.minbatchsize == 0)
    return sbai_reply_error(ctx, "MINBATCHTIMEOUT needs a MINBATCHSIZE greater than 0");

  /* The key's type before the (possibly long) load. */
  switch (sbai_model_lookup(ctx, argv[1], &old)) {
  case SBAI_KEY_WRONGTYPE:
    return RedisModule_ReplyWithError(ctx, REDISMODULE_ERRORMSG_WRONGTYPE);
  default:
    break;
  }

  /* Several BLOB chunks are one blob (clients split big models). */
  for (int c = i + 1; c < argc; c++) {
    size_t len;
    RedisModule_StringPtrLen(argv[c], &len);
    blob_len += len;
  }
  if (blob_len == 0)
    return sbai_reply_error(ctx, "the model blob is empty");
  blob = RedisModule_Alloc(blob_len);
  for (size_t off = 0, c = (size_t)i + 1; c < (size_t)argc; c++) {
    size_t len;
    const char *p = RedisModule_StringPtrLen(argv[c], &len);
    memcpy(blob + off, p, len);
    off += len;
  }
  if (sbai_torch_is_zip(blob, blob_len) && !spec.sbresnet && !sbai_torch() && !held) {
    RedisModule_Free(blob);
    return sbai_reply_error(ctx, "%s", SBAI_TORCH_MISSING);
  }
  m = sbai_model_create(&spec, blob, blob_len, err, sizeof err);
  if (!m)
    return sbai_reply_error(ctx, "cannot load the model: %s", err);

  key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
  if (!key || RedisModule_ModuleTypeSetValue(key, sbai_type(SBAI_TYPE_MODEL), m) != REDISMODULE_OK) {
    if (key)
      RedisModule_CloseKey(key);
    sbai_ref_release(m);
    return sbai_reply_error(ctx, "could not write the model key");
  }
  RedisModule_CloseKey(key);
  if (RedisModule_ReplicateVerbatim(ctx) != REDISMODULE_OK)
    RedisModule_Log(ctx, "warning", "sbai: AI.MODELSTORE could not be queued for replication");
  return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* ---- AI.MODELGET / AI.MODELDEL ------------------------------------------------------ */

static void reply_names(RedisModuleCtx *ctx, char *const *names, int count)
{
  RedisModule_ReplyWithArray(ctx, count);
  for (int i = 0; i < count; i++)
    RedisModule_ReplyWithCString(ctx, names[i]);
}

static int modelget_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  int meta = 0, blob = 0;
  char q[SBAI_QUOTE_LEN], dev[SBAI_DEVICE_NAME_LEN];
  sbai_key_status_t status;
  sbai_model_t *m;

  if (argc < 2 || argc > 4)
    return RedisModule_WrongArity(ctx);
  for (int i = 2; i < argc; i++) {
    int *flag = sbai_arg_is(argv[i], "META") ? &meta : sbai_arg_is(argv[i], "BLOB") ? &blob : NULL;
    if (!flag)
      return sbai_reply_error(ctx, "unknown AI.MODELGET argument '%s' (expected META or BLOB)",
                              sbai_quote(argv[i], q));
    if (*flag)
      return sbai_reply_error(ctx, "%s given twice", sbai_quote(argv[i], q));
    *flag = 1;
  }
  if (!meta && !blob)
    meta = blob = 1;
  status = sbai_model_lookup(ctx, argv[1], &m);
  if (status != SBAI_KEY_OK)
    return sbai_reply_lookup_error(ctx, status, "model");

  if (!meta)
    return RedisModule_ReplyWithStringBuffer(ctx, m->blob, m->blob_len);
  /* RedisAI's layout. */
  RedisModule_ReplyWithArray(ctx, blob ? 18 : 16);
  RedisModule_ReplyWithCString(ctx, "backend");
  RedisModule_ReplyWithCString(ctx, sbai_model_backend(m));
  RedisModule_ReplyWithCString(ctx, "device");
  RedisModule_ReplyWithCString(ctx, sbai_device_name(m->device, dev));
  RedisModule_ReplyWithCString(ctx, "tag");
  RedisModule_ReplyWithStringBuffer(ctx, m->tag, m->tag_len);
  RedisModule_ReplyWithCString(ctx, "batchsize");
  RedisModule_ReplyWithLongLong(ctx, m->batchsize);
  RedisModule_ReplyWithCString(ctx, "minbatchsize");
  RedisModule_ReplyWithLongLong(ctx, m->minbatchsize);
  RedisModule_ReplyWithCString(ctx, "inputs");
  reply_names(ctx, m->inputs, m->ninputs);
  RedisModule_ReplyWithCString(ctx, "outputs");
  reply_names(ctx, m->outputs, m->noutputs);
  RedisModule_ReplyWithCString(ctx, "minbatchtimeout");
  RedisModule_ReplyWithLongLong(ctx, m->minbatchtimeout);
  if (blob) {
    RedisModule_ReplyWithCString(ctx, "blob");
    RedisModule_ReplyWithStringBuffer(ctx, m->blob, m->blob_len);
  }
  return REDISMODULE_OK;
}

static int modeldel_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  return sbai_value_del_command(ctx, argv, argc, sbai_type(SBAI_TYPE_MODEL), "model");
}

/* ---- AI.MODELEXECUTE / AI.MODELRUN ------------------------------------------------- */

/* The model's requirements on its input, checked before queueing. */
static int check_model_io(RedisModuleCtx *ctx, sbai_run_t *run, const sbai_model_t *m)
{
  const sb_tensor_desc_t *in = &run->in_desc[0];
  char err[SB_TENSOR_ERRLEN];
  int64_t dims[2];

  if (run->nin != 1)
    return sbai_reply_error(ctx, "an " SBAI_MODEL_BACKEND " model takes 1 input tensor, %d given",
                            run->nin),
           REDISMODULE_ERR;
  if (run->nout != 1)
    return sbai_reply_error(ctx, "an " SBAI_MODEL_BACKEND " model makes 1 output tensor, %d "
                                 "output keys given",
                            run->nout),
           REDISMODULE_ERR;
  if (in->dtype != SB_DTYPE_FLOAT)
    return sbai_reply_error(ctx, "the model's input must be a FLOAT tensor, got %s",
                            sb_dtype_info(in->dtype)->name),
           REDISMODULE_ERR;
  if (in->ndims != 4 || in->dims[1] != 3) {
    char shape[160] = "";
    size_t used = 0;
    for (int i = 0; i < in->ndims && used < sizeof shape; i++)
      used += (size_t)snprintf(shape + used, sizeof shape - used, "[%" PRId64 "]", in->dims[i]);
    return sbai_reply_error(ctx, "the model's input must have shape [N][3][H][W] (NCHW, 3 "
                                 "channels), got %s",
                            shape),
           REDISMODULE_ERR;
  }
  if (in->dims[2] < 32 || in->dims[3] < 32)
    return sbai_reply_error(ctx, "the model's input height and width must be at least 32, got "
                                 "%" PRId64 "x%" PRId64,
                            in->dims[2], in->dims[3]),
           REDISMODULE_ERR;
  /* Activations grow with the batch far beyond the input tensor's bytes:
   * MAX_BATCH bounds what one request can make the server allocate. */
  if (in->dims[0] > sbai_options.max_batch)
    return sbai_reply_error(ctx, "the input's batch of %" PRId64 " exceeds the module's MAX_BATCH "
                                 "(%lld)",
                            in->dims[0], sbai_options.max_batch),
           REDISMODULE_ERR;
  dims[0] = in->dims[0];
  dims[1] = m->classes;
  if (sb_tensor_desc_init(&run->out_desc[0], SB_DTYPE_FLOAT, dims, 2, SB_TENSOR_RANK_CAP,
                          UINT64_MAX, err, sizeof err)
      != 0)
    return sbai_reply_error(ctx, "%s", err), REDISMODULE_ERR;
  return REDISMODULE_OK;
}

/* Both syntaxes:
 *   AI.MODELEXECUTE key INPUTS n in.. OUTPUTS n out.. [TIMEOUT ms]
 *   AI.MODELRUN key [TIMEOUT ms] INPUTS in.. OUTPUTS out..             (old) */
static int model_run_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int old)
{
  const char *cmd = old ? "AI.MODELRUN" : "AI.MODELEXECUTE";
  char q[SBAI_QUOTE_LEN];
  sbai_key_status_t status;
  sbai_model_t *m;
  sbai_run_t *run;
  int i = 2;

  if (RedisModule_IsKeysPositionRequest(ctx)) {
    sbai_run_report_keys(ctx, argv, argc, 2, old);
    return REDISMODULE_OK;
  }
  if (argc < (old ? 6 : 8))
    return RedisModule_WrongArity(ctx);
  status = sbai_model_lookup(ctx, argv[1], &m);
  if (status != SBAI_KEY_OK)
    return sbai_reply_lookup_error(ctx, status, "model");
  if (m->load_error)
    return sbai_reply_error(ctx, "the " SBAI_TORCH_BACKEND " model is not usable on this server: "
                                 "%s", m->load_error);
  if (m->gpu_error) {
    char dev[SBAI_DEVICE_NAME_LEN];
    return sbai_reply_error(ctx, "the model's device %s is not usable on this server: %s",
                            sbai_device_name(m->device, dev), m->gpu_error);
  }
  run = sbai_run_new(&sbai_model_run_ops, m);

  if (old) {
    int in_from, in_to, out_from;
    if (sbai_arg_is(argv[i], "TIMEOUT")) {
      if (sbai_run_set_timeout(ctx, run, argv[i + 1]) != REDISMODULE_OK)
        goto refused;
      i += 2;
    }
    if (i >= argc || !sbai_arg_is(argv[i], "INPUTS")) {
      sbai_reply_error(ctx, "%s: expected INPUTS after the model key%s", cmd,
                       i > 2 ? " and TIMEOUT" : "");
      goto refused;
    }
    in_from = ++i;
    while (i < argc && !sbai_arg_is(argv[i], "OUTPUTS"))
      i++;
    in_to = i;
    if (i >= argc) {
      sbai_reply_error(ctx, "%s: missing OUTPUTS", cmd);
      goto refused;
    }
    out_from = i + 1;
    if (in_to == in_from || out_from >= argc) {
      sbai_reply_error(ctx, "%s: INPUTS and OUTPUTS each need at least one key", cmd);
      goto refused;
    }
    if (sbai_run_add_keys(ctx, run, argv, in_from, in_to, 0) != REDISMODULE_OK
        || sbai_run_add_keys(ctx, run, argv, out_from, argc, 1) != REDISMODULE_OK)
      goto refused;
  } else {
    int n;
    if (!sbai_arg_is(argv[i], "INPUTS")) {
      sbai_reply_error(ctx, "%s: expected INPUTS after the model key, got '%s'", cmd,
                       sbai_quote(argv[i], q));
      goto refused;
    }
    if (sbai_parse_count(ctx, argv[i + 1], "INPUTS", 1, argc - i - 2, &n) != REDISMODULE_OK
        || sbai_run_add_keys(ctx, run, argv, i + 2, i + 2 + n, 0) != REDISMODULE_OK)
      goto refused;
    i += 2 + n;
    if (i >= argc || !sbai_arg_is(argv[i], "OUTPUTS")) {
      sbai_reply_error(ctx, "%s: expected OUTPUTS after the %d input key%s", cmd, n,
                       n == 1 ? "" : "s");
      goto refused;
    }
    if (i + 1 >= argc) {
      sbai_reply_error(ctx, "%s: OUTPUTS needs a count and keys", cmd);
      goto refused;
    }
    if (sbai_parse_count(ctx, argv[i + 1], "OUTPUTS", 1, argc - i - 2, &n) != REDISMODULE_OK
        || sbai_run_add_keys(ctx, run, argv, i + 2, i + 2 + n, 1) != REDISMODULE_OK)
      goto refused;
    i += 2 + n;
    if (i < argc) {
      if (!sbai_arg_is(argv[i], "TIMEOUT") || i + 2 != argc) {
        sbai_reply_error(ctx, "%s: unexpected argument '%s' after OUTPUTS (only TIMEOUT ms may "
                              "follow)",
                         cmd, sbai_quote(argv[i], q));
        goto refused;
      }
      if (sbai_run_set_timeout(ctx, run, argv[i + 1]) != REDISMODULE_OK)
        goto refused;
    }
  }
  /* A TorchScript module takes any tensors; its outputs' shapes are known
   * once it ran. */
  if (!m->torchscript && check_model_io(ctx, run, m) != REDISMODULE_OK)
    goto refused;
  return sbai_run_submit(ctx, run);

refused: /* an error reply was sent */
  sbai_run_free(run);
  return REDISMODULE_OK;
}

static int modelexecute_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  return model_run_command(ctx, argv, argc, 0);
}

static int modelrun_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc)
{
  return model_run_command(ctx, argv, argc, 1);
}

/* ---- registration -------------------------------------------------------------- */

int sbai_model_register(RedisModuleCtx *ctx)
{
  static const sbai_command_def_t commands[] = {
    {"AI.MODELSTORE", modelstore_command, "write deny-oom"},
    {"AI.MODELGET", modelget_command, "readonly"},
    {"AI.MODELDEL", modeldel_command, "write"},
    {"AI.MODELEXECUTE", modelexecute_command, "write deny-oom getkeys-api"},
    {"AI.MODELRUN", modelrun_command, "write deny-oom getkeys-api"},
  };

  if (sbai_create_type(ctx, &sbai_model_type_def) != REDISMODULE_OK)
    return REDISMODULE_ERR;
  return sbai_create_commands(ctx, commands, sizeof commands / sizeof commands[0]);
}
