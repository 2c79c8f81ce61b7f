/* RDB and AOF persistence of models, and their data type (model_rdb.h). */
#include "model_rdb.h"

#include "alloc.h"
#include "device.h"
#include "model.h"
#include "module_options.h"
#include "refcount.h"

#include <string.h>

/* Redis derives the type id from this name, which every RDB file holding a
 * model carries: exactly 9 characters, never to change. */
#define MODEL_TYPE_NAME "SB_MODEL_"

/* RDB layout version 1: backend (SBRESNET or TORCH; on load the blob decides,
 * model.h), device, tag (strings); batchsize,
 * minbatchsize, minbatchtimeout; ninputs + names, noutputs + names; the blob
 * as a chunk count and the chunks. */
#define MODEL_ENCVER 1

/* Largest piece of the blob in an RDB string or an AOF argument. */
#define BLOB_CHUNK (256u << 20)

static void save_buffer(RedisModuleIO *io, const char *s, size_t len)
{
  RedisModule_SaveStringBuffer(io, s, len);
}

/* The data type's rdb_save callback. */
static void model_rdb_save(RedisModuleIO *io, void *value)
{
  const sbai_model_t *m = value;
  uint64_t chunks = (m->blob_len + BLOB_CHUNK - 1) / BLOB_CHUNK;
  char dev[SBAI_DEVICE_NAME_LEN];

  save_buffer(io, sbai_model_backend(m), strlen(sbai_model_backend(m)));
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
  sbai_model_spec_t spec = {0};
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
  if (v[0] > SBAI_MODEL_BATCH_MAX || v[1] > v[0] || v[2] > SBAI_MODEL_BATCH_MAX) {
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
  m = sbai_model_create(&spec, blob, blob_len, err, sizeof err);
  blob = NULL; /* sbai_model_create owns it */
  if (!m)
    RedisModule_LogIOError(io, "warning", "sbai: a stored model does not load: %s", err);
  else if (m->load_error)
    RedisModule_LogIOError(io, "warning", "sbai: a TORCH model is kept, but its runs will be "
                           "refused: %s", m->load_error);
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

/* AOF rewrite: AI.MODELSTORE key SBRESNET|TORCH CPU TAG t BATCHSIZE b MINBATCHSIZE m
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
  ARG_C(sbai_model_backend(m));
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

const sbai_type_def_t sbai_model_type_def = {
  .id = SBAI_TYPE_MODEL,
  .name = MODEL_TYPE_NAME,
  .encver = MODEL_ENCVER,
  .methods = {
    .rdb_load = model_rdb_load,
    .rdb_save = model_rdb_save,
    .aof_rewrite = model_aof_rewrite,
    .mem_usage = sbai_model_mem_usage,
    .digest = sbai_model_digest,
    .free = sbai_ref_release,
  },
};
