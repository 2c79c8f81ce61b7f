/* The model value and the value side of the SB_MODEL_ data type
 * (model.h). */
#include "model.h"

#include "alloc.h"
#include "command.h"
#include "device.h"
#include "gpu.h"
#include "run_queue.h"
#include "torch_backend.h"

#include <stdio.h>
#include <string.h>

/* ---- the value ---------------------------------------------------------------- */

/* Frees the model (its last reference is gone, or it was never stored). */
static void model_destroy(void *value)
{
  sbai_model_t *m = value;
  if (m->net) {
    sb_resnet_free(m->net);
    /* The CPU workers keep their largest workspace from run to run: let it
     * go with the model (they allocate again for the next run). */
    sbai_queue_trim(SBAI_DEVICE_CPU);
  }
  if (m->gpu_net)
    sbai_gpu_model_free(m->gpu_net);
  if (m->torch && sbai_torch())
    sbai_torch()->model_free(m->torch);
  RedisModule_Free(m->load_error);
  RedisModule_Free(m->gpu_error);
  RedisModule_Free(m->blob);
  RedisModule_Free(m->tag);
  for (int i = 0; i < m->ninputs; i++)
    RedisModule_Free(m->inputs[i]);
  for (int i = 0; i < m->noutputs; i++)
    RedisModule_Free(m->outputs[i]);
  RedisModule_Free(m);
}

static void set_options(sbai_model_t *m, const sbai_model_spec_t *spec, char *blob,
                        size_t blob_len);

/* A TorchScript module (a zip blob), loaded by the TORCH plugin. Without the
 * plugin, or where it refuses a blob it once took, a model being reloaded
 * (keep_failed) is kept with the reason, its runs refused. */
static sbai_model_t *torch_model_create(const sbai_model_spec_t *spec, char *blob,
                                        size_t blob_len, char *err, size_t errlen)
{
  const sbai_torch_api_t *api = sbai_torch();
  void *handle = NULL;
  char why[256] = "";
  sbai_model_t *m;

  if (spec->sbresnet) {
    snprintf(err, errlen, "this blob is a TorchScript module (a zip archive): store it with "
             "backend " SBAI_TORCH_BACKEND ", not " SBAI_MODEL_BACKEND);
    RedisModule_Free(blob);
    return NULL;
  }
  if (spec->device >= 0) {
    snprintf(err, errlen, SBAI_TORCH_BACKEND " models run on the CPU only");
    RedisModule_Free(blob);
    return NULL;
  }
  if (spec->batchsize > 0) {
    snprintf(err, errlen, "BATCHSIZE is not supported for " SBAI_TORCH_BACKEND " models (each "
             "run goes alone); store it without BATCHSIZE");
    RedisModule_Free(blob);
    return NULL;
  }
  if (!api)
    snprintf(why, sizeof why, "%s", SBAI_TORCH_MISSING);
  else if (api->model_load(blob, blob_len, spec->device, &handle, why, sizeof why) != 0)
    handle = NULL;
  if (!handle && !spec->keep_failed) {
    snprintf(err, errlen, "%s", why);
    RedisModule_Free(blob);
    return NULL;
  }
  m = RedisModule_Calloc(1, sizeof *m);
  sbai_ref_init(&m->ref, model_destroy);
  m->device = spec->device;
  m->torchscript = 1;
  m->torch = handle;
  if (!handle)
    m->load_error = sbai_dup(why, strlen(why));
  set_options(m, spec, blob, blob_len);
  return m;
}

/* Loads the blob (taking ownership of it in every case) and makes a model
 * with one reference. NULL with err set when the blob is refused. */
sbai_model_t *sbai_model_create(const sbai_model_spec_t *spec, char *blob, size_t blob_len,
                                char *err, size_t errlen)
{
  sb_resnet_t *net = NULL;
  sbai_model_t *m;

  if (sbai_torch_is_zip(blob, blob_len))
    return torch_model_create(spec, blob, blob_len, err, errlen);
  if (sb_resnet_load(blob, blob_len, &net, err, errlen) != 0) {
    RedisModule_Free(blob);
    return NULL;
  }
  m = RedisModule_Calloc(1, sizeof *m);
  sbai_ref_init(&m->ref, model_destroy);
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
  set_options(m, spec, blob, blob_len);
  return m;
}

/* The options and the blob, as given. */
static void set_options(sbai_model_t *m, const sbai_model_spec_t *spec, char *blob,
                        size_t blob_len)
{
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
}

const char *sbai_model_backend(const sbai_model_t *m)
{
  return m->torchscript ? SBAI_TORCH_BACKEND : SBAI_MODEL_BACKEND;
}

sbai_key_status_t sbai_model_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                    sbai_model_t **model)
{
  /* The value stays valid after closing: the key (or a run) holds it. */
  return sbai_value_lookup(ctx, keyname, sbai_type(SBAI_TYPE_MODEL), (void **)model);
}

/* ---- introspection ---------------------------------------------------------------- */

size_t sbai_model_mem_usage(const void *value)
{
  const sbai_model_t *m = value;
  /* The blob, and about as much again for the loaded (folded) weights. */
  return sizeof *m + 2 * m->blob_len + m->tag_len;
}

void sbai_model_digest(RedisModuleDigest *md, void *value)
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
