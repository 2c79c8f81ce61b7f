/* A stored model: what it holds, how one is made from a blob (AI.MODELSTORE,
 * an RDB load), and the value side of the SB_MODEL_ data type (looking a
 * model key up; the memory-usage and digest callbacks).
 *
 * A model is reference counted (refcount.h): the key holds one reference and
 * every queued or running request one more, so replacing or deleting the key
 * while runs are pending leaves the old model alive until the last of them is
 * done. Everything in it but the statistics is immutable once stored, which
 * is what lets worker threads read it without locks.
 *
 * Devices: CPU, GPU (= GPU:0) or GPU:n. A GPU model's folded weights are
 * uploaded to its GPU once, when it is stored (or loaded from an RDB file),
 * and its runs go to that GPU's queue (gpu.h, run_queue.h).
 *
 * The commands are in model_cmd.c, running a model in model_exec.c, RDB and
 * AOF persistence and the data type's definition in model_rdb.c.
 */
#ifndef SBAI_MODEL_H
#define SBAI_MODEL_H

#include "redismodule_api.h"
#include "refcount.h"
#include "run.h"
#include "sb_resnet.h"
#include "value.h"

#include <stddef.h>
#include <stdint.h>

/* The only backend: our own ResNet runner. "TORCH" (what SmartRedis sends)
 * is accepted as an alias. */
#define SBAI_MODEL_BACKEND "SBRESNET"

/* Largest BATCHSIZE / MINBATCHSIZE / MINBATCHTIMEOUT. */
#define SBAI_MODEL_BATCH_MAX (1LL << 31)

typedef struct sbai_model sbai_model_t;

struct sbai_model {
  sbai_ref_t ref; /* first: sbai_ref_retain / sbai_ref_release take the model */
  int device;    /* SBAI_DEVICE_CPU (-1), or n for GPU:n */
  int torchscript;   /* 1: a TorchScript module (backend TORCH, run by the plugin) */
  void *torch;       /* its plugin handle (NULL where no plugin could load it) */
  char *load_error;  /* a TorchScript model kept (RDB, AOF) that this server cannot run: why */
  sb_resnet_t *net;  /* the CPU model (NULL for a model on a GPU, once uploaded) */
  void *gpu_net;     /* sb_resnet_cuda_t: the weights on GPU:device, or NULL */
  char *gpu_error;   /* a GPU model loaded (RDB) where its GPU is not usable: why */
  int64_t classes;
  char *blob; /* the stored bytes, as given (MODELGET BLOB, RDB, AOF) */
  size_t blob_len;
  char *tag;
  size_t tag_len;
  long long batchsize, minbatchsize, minbatchtimeout;
  int ninputs, noutputs; /* names given with INPUTS / OUTPUTS (0 or 1 each) */
  char *inputs[1], *outputs[1];
  sbai_stats_t stats; /* main thread only */
};

/* What a model is made from: options and the blob (owned, RedisModule_Alloc). */
typedef struct sbai_model_spec {
  int device;      /* SBAI_DEVICE_CPU or GPU:n */
  int keep_failed; /* RDB load, AOF replay, replication: keep a GPU model whose GPU is not
                      usable, or a TorchScript model with no plugin to load it (runs refused) */
  int sbresnet;    /* the backend was named SBRESNET: a TorchScript blob is refused */
  const char *tag;
  size_t tag_len;
  long long batchsize, minbatchsize, minbatchtimeout;
  int ninputs, noutputs;
  const char *inputs[1], *outputs[1];
  size_t inputs_len[1], outputs_len[1];
} sbai_model_spec_t;

/* Loads the blob (taking ownership of it in every case) and makes a model
 * with one reference. NULL with err set when the blob is refused. The blob
 * decides the backend (torch_backend.h): a zip archive is a TorchScript
 * module, run by the TORCH plugin (CPU only, no dynamic batching); anything
 * else goes to the SBRESNET loader. */
sbai_model_t *sbai_model_create(const sbai_model_spec_t *spec, char *blob, size_t blob_len,
                                char *err, size_t errlen);

/* "TORCH" or "SBRESNET": what AI.MODELGET, AI.INFO and persistence call the
 * model's backend. */
const char *sbai_model_backend(const sbai_model_t *m);

/* Looks keyname up: SBAI_KEY_OK with *model (valid until the command
 * returns; take a reference with sbai_ref_retain to keep it longer), or
 * SBAI_KEY_EMPTY or SBAI_KEY_WRONGTYPE. */
sbai_key_status_t sbai_model_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                    sbai_model_t **model);

/* The data type's callbacks on the value: MEMORY USAGE and DEBUG DIGEST
 * (its free is sbai_ref_release). */
size_t sbai_model_mem_usage(const void *value);
void sbai_model_digest(RedisModuleDigest *md, void *value);

#endif
