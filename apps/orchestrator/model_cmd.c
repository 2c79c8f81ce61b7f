/* The SB_MODEL_ data type and the model commands (see model_cmd.h). */
#include "model_cmd.h"

#include "gpu.h"
#include "sbai.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Redis derives the type id from this name, which every RDB file holding a
 * model carries: exactly 9 characters, never to change. */
#define MODEL_TYPE_NAME "SB_MODEL_"
/* RDB layout version 1: backend, device, tag (strings); batchsize,
 * minbatchsize, minbatchtimeout; ninputs + names, noutputs + names; the blob
 * as a chunk count and the chunks. */
#define MODEL_ENCVER 1
/* Largest piece of the blob in an RDB string or an AOF argument. */
#define BLOB_CHUNK (256u << 20)
/* Largest BATCHSIZE / MINBATCHSIZE / MINBATCHTIMEOUT. */
#define BATCH_MAX (1LL << 31)

static RedisModuleType *model_type;

/* ---- the value ---------------------------------------------------------------- */

static void model_destroy(sbai_model_t *m)
{
  if (m->net)
    sb_resnet_free(m->net);
  if (m->gpu_net)
    sbai_gpu_model_free(m->gpu_net);
  RedisModule_Free(m->gpu_error);
  RedisModule_Free(m->blob);
  RedisModule_Free(m->tag);
  for (int i = 0; i < m->ninputs; i++)
    RedisModule_Free(m->inputs[i]);
  for (int i = 0; i < m->noutputs; i++)
    RedisModule_Free(m->outputs[i]);
  RedisModule_Free(m);
}

void sbai_model_retain(sbai_model_t *model)
{
  atomic_fetch_add(&model->refs, 1);
}

void sbai_model_release(sbai_model_t *model)
{
  if (model && atomic_fetch_sub(&model->refs, 1) == 1)
    model_destroy(model);
}

/* The key's free callback: the key drops its reference; queued or running
 * requests keep theirs. */
static void model_type_free(void *value)
{
  sbai_model_release(value);
}

/* What a model is made from: options and the blob (owned, RedisModule_Alloc). */
typedef struct model_spec {
  int device;      /* SBAI_DEVICE_CPU or GPU:n */
  int keep_failed; /* RDB load, AOF replay, replication: keep a GPU model whose GPU is not
                      usable (runs refused) */
  const char *tag;
  size_t tag_len;
  long long batchsize, minbatchsize, minbatchtimeout;
  int ninputs, noutputs;
  const char *inputs[1], *outputs[1];
  size_t inputs_len[1], outputs_len[1];
} model_spec_t;

/* Loads the blob (taking ownership of it in every case) and makes a model
 * with one reference. NULL with err set when the blob is refused. */
static sbai_model_t *model_create(const model_spec_t *spec, char *blob, size_t blob_len, char *err,
                                  size_t errlen)
{
  sb_resnet_t *net = NULL;
  sbai_model_t *m;

  if (sb_resnet_load(blob, blob_len, &net, err, errlen) != 0) {
    RedisModule_Free(blob);
    return NULL;
  }
  m = RedisModule_Calloc(1, sizeof *m);
  atomic_init(&m->refs, 1);
  m->device = spec->device;
  m->net = net;
  m->classes = sb_resnet_classes(net);
  if (spec->device >= 0) {
    /* The weights go to the GPU once, now; the CPU copy is then dropped. */
    char why[256];
    if (sbai_gpu_prepare(spec->device, why, sizeof why) != 0
        || sbai_gpu_model_upload(net, spec->device, &m->gpu_net, why, sizeof why) != 0) {
      if (!spec->keep_failed) {
        snprintf(err, errlen, "%s", why);
        m->blob = blob; /* freed with the model */
        model_destroy(m);
        return NULL;
      }
      m->gpu_error = sbai_dup(why, strlen(why));
    } else {
      sb_resnet_free(m->net);
      m->net = NULL;
    }
  }
  m->blob = blob;
  m->blob_len = blob_len;
  m->tag = sbai_dup(spec->tag ? spec->tag : "", spec->tag ? spec->tag_len : 0);
  m->tag_len = spec->tag ? spec->tag_len : 0;
  m->batchsize = spec->batchsize;
  m->minbatchsize = spec->minbatchsize;
  m->minbatchtimeout = spec->minbatchtimeout;
  m->ninputs = spec->ninputs;
  m->noutputs = spec->noutputs;
  for (int i = 0; i < spec->ninputs; i++)
    m->inputs[i] = sbai_dup(spec->inputs[i], spec->inputs_len[i]);
  for (int i = 0; i < spec->noutputs; i++)
    m->outputs[i] = sbai_dup(spec->outputs[i], spec->outputs_len[i]);
  return m;
}

sbai_key_status_t sbai_model_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                    sbai_model_t **model)
{
  /* The value stays valid after closing: the key (or a run) holds it. */
  return sbai_value_lookup(ctx, keyname, model_type, (void **)model);
}

/* ---- AI.MODELSTORE ------------------------------------------------------------ */

static int parse_batch_value(RedisModuleCtx *ctx, RedisModuleString *arg, const char *what,
                             long long *value)
{
  char q[SBAI_QUOTE_LEN];
  if (RedisModule_StringToLongLong(arg, value) != REDISMODULE_OK || *value < 0
      || *value > BATCH_MAX) {
    sbai_reply_error(ctx, "invalid %s '%s': expected an integer from 0 to %lld", what,
                     sbai_quote(arg, q), BATCH_MAX);
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
  model_spec_t spec = {.ninputs = -1, .noutputs = -1};
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
  m = model_create(&spec, blob, blob_len, err, sizeof err);
  if (!m)
    return sbai_reply_error(ctx, "cannot load the model: %s", err);

  key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_READ | REDISMODULE_WRITE);
  if (!key || RedisModule_ModuleTypeSetValue(key, model_type, m) != REDISMODULE_OK) {
    if (key)
      RedisModule_CloseKey(key);
    sbai_model_release(m);
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
  RedisModule_ReplyWithCString(ctx, SBAI_MODEL_BACKEND);
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
  return sbai_value_del_command(ctx, argv, argc, model_type, "model");
}

/* ---- AI.MODELEXECUTE / AI.MODELRUN ------------------------------------------------- */

/* The model's requirements on its input, checked before queueing. */
static int check_model_io(RedisModuleCtx *ctx, sbai_run_t *run)
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
  dims[1] = run->model->classes;
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
  if (m->gpu_error) {
    char dev[SBAI_DEVICE_NAME_LEN];
    return sbai_reply_error(ctx, "the model's device %s is not usable on this server: %s",
                            sbai_device_name(m->device, dev), m->gpu_error);
  }
  run = sbai_run_new_model(m);

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
  if (check_model_io(ctx, run) != REDISMODULE_OK)
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

/* ---- execution (worker thread) ------------------------------------------------------- */

static void fail_all(sbai_run_t **runs, int n, const char *msg)
{
  for (int i = 0; i < n; i++) {
    runs[i]->status = SBAI_RUN_FAILED;
    snprintf(runs[i]->err, sizeof runs[i]->err, "%s", msg);
  }
}

void sbai_model_execute(sbai_run_t **runs, int n, const sbai_exec_t *ex)
{
  const sbai_model_t *m = runs[0]->model;
  const int threads = ex->threads;
  const int64_t h = runs[0]->in_desc[0].dims[2], w = runs[0]->in_desc[0].dims[3];
  const size_t image = (size_t)(3 * h * w), classes = (size_t)m->classes;
  int64_t total = 0;
  float *cat = NULL, *logits = NULL;
  const float *in;
  void *workspace = NULL;
  size_t ws_bytes;
  char err[256] = "";
  uint64_t t0, t1;
  int rc;

  for (int i = 0; i < n; i++)
    total += runs[i]->batch;
  if (n == 1) {
    in = runs[0]->in_data[0];
  } else {
    /* The batch: inputs concatenated on dim 0. */
    size_t off = 0;
    cat = malloc((size_t)total * image * sizeof(float));
    if (!cat) {
      fail_all(runs, n, "out of memory for the batched input");
      return;
    }
    for (int i = 0; i < n; i++) {
      size_t bytes = (size_t)runs[i]->in_desc[0].nbytes;
      memcpy((char *)cat + off, runs[i]->in_data[0], bytes);
      off += bytes;
    }
    in = cat;
  }
  logits = malloc((size_t)total * classes * sizeof(float));
  if (!logits) {
    fail_all(runs, n, "out of memory for the model's output");
    goto done;
  }
  if (m->device >= 0) {
    /* On the GPU: device memory from its pool, the worker's stream. */
    if (!m->gpu_net || ex->device != m->device) {
      fail_all(runs, n, "the model's GPU weights are not on this worker's device");
      goto done;
    }
    t0 = sbai_now_ns();
    rc = sbai_gpu_run(m->gpu_net, in, total, h, w, logits, ex->stream, err, sizeof err);
    t1 = sbai_now_ns();
  } else {
    ws_bytes = sb_resnet_workspace_bytes(m->net, total, h, w, threads);
    workspace = malloc(ws_bytes ? ws_bytes : 1);
    if (!workspace) {
      fail_all(runs, n, "out of memory for the model's workspace");
      goto done;
    }
    t0 = sbai_now_ns();
    rc = sb_resnet_forward(m->net, in, total, h, w, logits, workspace, ws_bytes, threads, err,
                           sizeof err);
    t1 = sbai_now_ns();
  }
  if (rc != 0) {
    char msg[sizeof runs[0]->err];
    snprintf(msg, sizeof msg, "the model failed: %.200s", err[0] ? err : "(no reason given)");
    fail_all(runs, n, msg);
  } else {
    /* Outputs split back: each run gets its own rows. */
    size_t row = 0;
    for (int i = 0; i < n; i++) {
      sbai_run_t *r = runs[i];
      sbai_tensor_t *out = sbai_tensor_new_zeros(&r->out_desc[0]);
      memcpy(out->owned, logits + row * classes, (size_t)r->out_desc[0].nbytes);
      row += (size_t)r->batch;
      r->out[0] = out;
      r->status = SBAI_RUN_DONE;
    }
  }
  for (int i = 0; i < n; i++) {
    runs[i]->duration_us = (long long)((t1 - t0) / 1000u);
    runs[i]->leader = i == 0;
    runs[i]->batch_total = total;
  }

done:
  free(workspace);
  free(logits);
  free(cat);
}

/* ---- persistence and introspection ------------------------------------------------- */

static void save_buffer(RedisModuleIO *io, const char *s, size_t len)
{
  RedisModule_SaveStringBuffer(io, s, len);
}

static void model_rdb_save(RedisModuleIO *io, void *value)
{
  const sbai_model_t *m = value;
  uint64_t chunks = (m->blob_len + BLOB_CHUNK - 1) / BLOB_CHUNK;
  char dev[SBAI_DEVICE_NAME_LEN];

  save_buffer(io, SBAI_MODEL_BACKEND, strlen(SBAI_MODEL_BACKEND));
  sbai_device_name(m->device, dev);
  save_buffer(io, dev, strlen(dev));
  save_buffer(io, m->tag, m->tag_len);
  RedisModule_SaveUnsigned(io, (uint64_t)m->batchsize);
  RedisModule_SaveUnsigned(io, (uint64_t)m->minbatchsize);
  RedisModule_SaveUnsigned(io, (uint64_t)m->minbatchtimeout);
  RedisModule_SaveUnsigned(io, (uint64_t)m->ninputs);
  for (int i = 0; i < m->ninputs; i++)
    save_buffer(io, m->inputs[i], strlen(m->inputs[i]));
  RedisModule_SaveUnsigned(io, (uint64_t)m->noutputs);
  for (int i = 0; i < m->noutputs; i++)
    save_buffer(io, m->outputs[i], strlen(m->outputs[i]));
  RedisModule_SaveUnsigned(io, chunks);
  for (uint64_t c = 0; c < chunks; c++) {
    size_t off = (size_t)c * BLOB_CHUNK;
    size_t len = m->blob_len - off < BLOB_CHUNK ? m->blob_len - off : BLOB_CHUNK;
    save_buffer(io, m->blob + off, len);
  }
}

/* A string saved by model_rdb_save, NUL-terminated, in RedisModule_Alloc
 * memory; NULL on a read error. */
static char *load_buffer(RedisModuleIO *io, size_t *len)
{
  size_t n = 0;
  char *s = RedisModule_LoadStringBuffer(io, &n);
  char *out;
  if (RedisModule_IsIOError(io) || !s) {
    if (s)
      RedisModule_Free(s);
    return NULL;
  }
  out = sbai_dup(s, n);
  RedisModule_Free(s);
  if (len)
    *len = n;
  return out;
}

/* Loads what model_rdb_save wrote and re-runs the model loader on the
 * blob. The blob is checked as on AI.MODELSTORE; anything inconsistent fails
 * the load. */
static void *model_rdb_load(RedisModuleIO *io, int encver)
{
  model_spec_t spec = {0};
  char *backend = NULL, *device = NULL, *tag = NULL, *names[2] = {NULL, NULL};
  char *blob = NULL, err[256];
  sbai_model_t *m = NULL;
  uint64_t v[3], count, chunks;
  size_t len, blob_len = 0;

  if (encver != MODEL_ENCVER) {
    RedisModule_LogIOError(io, "warning", "sbai: model encoding version %d is not known (this "
                           "build reads %d)", encver, MODEL_ENCVER);
    return NULL;
  }
  backend = load_buffer(io, NULL);
  device = load_buffer(io, NULL);
  tag = load_buffer(io, &spec.tag_len);
  if (!backend || !device || !tag)
    goto out;
  spec.tag = tag;
  if (sbai_device_parse(device, strlen(device), &spec.device, err, sizeof err) != 0) {
    RedisModule_LogIOError(io, "warning", "sbai: a stored model has a corrupt device: %s", err);
    goto out;
  }
  /* A GPU model where that GPU is not usable still loads (the data are
   * kept); its runs are refused with the reason. */
  spec.keep_failed = 1;
  for (int i = 0; i < 3; i++)
    v[i] = RedisModule_LoadUnsigned(io);
  if (RedisModule_IsIOError(io))
    goto out;
  if (v[0] > BATCH_MAX || v[1] > v[0] || v[2] > BATCH_MAX) {
    RedisModule_LogIOError(io, "warning", "sbai: corrupt model options");
    goto out;
  }
  spec.batchsize = (long long)v[0], spec.minbatchsize = (long long)v[1];
  spec.minbatchtimeout = (long long)v[2];
  if (spec.batchsize > sbai_options.max_batch) {
    /* Saved by a server with a higher MAX_BATCH: batches stay within this
     * server's limit. */
    RedisModule_LogIOError(io, "notice", "sbai: a model's BATCHSIZE %lld is above MAX_BATCH %lld; "
                           "its runs are batched up to %lld", spec.batchsize,
                           sbai_options.max_batch, sbai_options.max_batch);
    spec.batchsize = sbai_options.max_batch;
    if (spec.minbatchsize > spec.batchsize)
      spec.minbatchsize = spec.batchsize;
  }
  for (int io_dir = 0; io_dir < 2; io_dir++) {
    count = RedisModule_LoadUnsigned(io);
    if (RedisModule_IsIOError(io) || count > 1) {
      RedisModule_LogIOError(io, "warning", "sbai: corrupt model input/output names");
      goto out;
    }
    if (count == 1) {
      names[io_dir] = load_buffer(io, &len);
      if (!names[io_dir])
        goto out;
      if (io_dir == 0)
        spec.ninputs = 1, spec.inputs[0] = names[0], spec.inputs_len[0] = len;
      else
        spec.noutputs = 1, spec.outputs[0] = names[1], spec.outputs_len[0] = len;
    }
  }
  chunks = RedisModule_LoadUnsigned(io);
  if (RedisModule_IsIOError(io) || chunks == 0 || chunks > (1u << 20)) {
    RedisModule_LogIOError(io, "warning", "sbai: corrupt model blob header");
    goto out;
  }
  for (uint64_t c = 0; c < chunks; c++) {
    char *part = RedisModule_LoadStringBuffer(io, &len);
    if (RedisModule_IsIOError(io) || !part) {
      if (part)
        RedisModule_Free(part);
      goto out;
    }
    {
      char *grown = RedisModule_Alloc(blob_len + len);
      if (blob_len)
        memcpy(grown, blob, blob_len);
      memcpy(grown + blob_len, part, len);
      RedisModule_Free(blob);
      RedisModule_Free(part);
      blob = grown;
      blob_len += len;
    }
  }
  m = model_create(&spec, blob, blob_len, err, sizeof err);
  blob = NULL; /* model_create owns it */
  if (!m)
    RedisModule_LogIOError(io, "warning", "sbai: a stored model does not load: %s", err);
  else if (m->gpu_error)
    RedisModule_LogIOError(io, "warning", "sbai: a model stored on %s is kept, but its runs will "
                           "be refused: %s", device, m->gpu_error);

out:
  RedisModule_Free(backend);
  RedisModule_Free(device);
  RedisModule_Free(tag);
  RedisModule_Free(names[0]);
  RedisModule_Free(names[1]);
  RedisModule_Free(blob);
  return m;
}

/* AOF rewrite: AI.MODELSTORE key SBRESNET CPU TAG t BATCHSIZE b MINBATCHSIZE m
 * MINBATCHTIMEOUT ms [INPUTS 1 name] [OUTPUTS 1 name] BLOB chunk.. */
static void model_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value)
{
  const sbai_model_t *m = value;
  size_t chunks = (m->blob_len + BLOB_CHUNK - 1) / BLOB_CHUNK, n = 0;
  RedisModuleString **args = RedisModule_Calloc(18 + chunks, sizeof *args);
  char dev[SBAI_DEVICE_NAME_LEN];

#define ARG_C(s) (args[n++] = RedisModule_CreateString(NULL, (s), strlen(s)))
#define ARG_B(p, l) (args[n++] = RedisModule_CreateString(NULL, (p), (l)))
#define ARG_L(v) (args[n++] = RedisModule_CreateStringFromLongLong(NULL, (v)))
  size_t key_len;
  const char *key_ptr = RedisModule_StringPtrLen(key, &key_len);

  ARG_B(key_ptr, key_len);
  ARG_C(SBAI_MODEL_BACKEND);
  ARG_C(sbai_device_name(m->device, dev));
  ARG_C("TAG");
  ARG_B(m->tag, m->tag_len);
  ARG_C("BATCHSIZE");
  ARG_L(m->batchsize);
  ARG_C("MINBATCHSIZE");
  ARG_L(m->minbatchsize);
  ARG_C("MINBATCHTIMEOUT");
  ARG_L(m->minbatchtimeout);
  if (m->ninputs) {
    ARG_C("INPUTS");
    ARG_L(1);
    ARG_C(m->inputs[0]);
  }
  if (m->noutputs) {
    ARG_C("OUTPUTS");
    ARG_L(1);
    ARG_C(m->outputs[0]);
  }
  ARG_C("BLOB");
  for (size_t c = 0; c < chunks; c++) {
    size_t off = c * BLOB_CHUNK;
    ARG_B(m->blob + off, m->blob_len - off < BLOB_CHUNK ? m->blob_len - off : BLOB_CHUNK);
  }
#undef ARG_C
#undef ARG_B
#undef ARG_L
  RedisModule_EmitAOF(aof, "AI.MODELSTORE", "v", args, n);
  for (size_t i = 0; i < n; i++)
    RedisModule_FreeString(NULL, args[i]);
  RedisModule_Free(args);
}

static size_t model_mem_usage(const void *value)
{
  const sbai_model_t *m = value;
  /* The blob, and about as much again for the loaded (folded) weights. */
  return sizeof *m + 2 * m->blob_len + m->tag_len;
}

static void model_digest(RedisModuleDigest *md, void *value)
{
  const sbai_model_t *m = value;
  RedisModule_DigestAddStringBuffer(md, m->tag, m->tag_len);
  RedisModule_DigestAddLongLong(md, m->batchsize);
  RedisModule_DigestAddLongLong(md, m->minbatchsize);
  RedisModule_DigestAddLongLong(md, m->minbatchtimeout);
  if (m->device >= 0) /* CPU models digest as before devices existed */
    RedisModule_DigestAddLongLong(md, m->device);
  RedisModule_DigestAddStringBuffer(md, m->blob, m->blob_len);
  RedisModule_DigestEndSequence(md);
}

/* ---- registration -------------------------------------------------------------- */

int sbai_model_register(RedisModuleCtx *ctx)
{
  RedisModuleTypeMethods methods = {
    .version = REDISMODULE_TYPE_METHOD_VERSION,
    .rdb_load = model_rdb_load,
    .rdb_save = model_rdb_save,
    .aof_rewrite = model_aof_rewrite,
    .mem_usage = model_mem_usage,
    .digest = model_digest,
    .free = model_type_free,
  };

  model_type = RedisModule_CreateDataType(ctx, MODEL_TYPE_NAME, MODEL_ENCVER, &methods);
  if (!model_type) {
    RedisModule_Log(ctx, "warning", "sbai: cannot create data type %s", MODEL_TYPE_NAME);
    return REDISMODULE_ERR;
  }
  if (sbai_create_command(ctx, "AI.MODELSTORE", modelstore_command, "write deny-oom", 1, 1, 1)
          != REDISMODULE_OK
      || sbai_create_command(ctx, "AI.MODELGET", modelget_command, "readonly", 1, 1, 1)
             != REDISMODULE_OK
      || sbai_create_command(ctx, "AI.MODELDEL", modeldel_command, "write", 1, 1, 1)
             != REDISMODULE_OK
      || sbai_create_command(ctx, "AI.MODELEXECUTE", modelexecute_command,
                             "write deny-oom getkeys-api", 1, 1, 1)
             != REDISMODULE_OK
      || sbai_create_command(ctx, "AI.MODELRUN", modelrun_command, "write deny-oom getkeys-api", 1,
                             1, 1)
             != REDISMODULE_OK)
    return REDISMODULE_ERR;
  return REDISMODULE_OK;
}
