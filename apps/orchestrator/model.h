/* A stored model: what it holds, its reference count, how one is made from
 * a blob (AI.MODELSTORE, an RDB load), and the value side of the SB_MODEL_
 * data type (looking a model key up; the free, memory-usage and digest
 * callbacks).
 *
 * A model is reference counted: the key holds one reference and every queued
 * or running request one more, so replacing or deleting the key while runs
 * are pending leaves the old model alive until the last of them is done.
 * Everything in it but the statistics is immutable once stored, which is what
 * lets worker threads read it without locks.
 *
 * Devices: CPU, GPU (= GPU:0) or GPU:n. A GPU model's folded weights are
 * uploaded to its GPU once, when it is stored (or loaded from an RDB file),
 * and its runs go to that GPU's queue (gpu.h, run_queue.h).
 *
 * The commands are in model_cmd.c, running a model in model_exec.c, RDB and
 * AOF persistence in model_rdb.c.
 */
#ifndef SBAI_MODEL_H
#define SBAI_MODEL_H

#include "redismodule_api.h"
#include "run.h"
#include "sb_resnet.h"
#include "value.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The only backend: our own ResNet runner. "TORCH" (what SmartRedis sends)
 * is accepted as an alias. */
#define SBAI_MODEL_BACKEND "SBRESNET"

/* Redis derives the type id from this name, which every RDB file holding a
 * model carries: exactly 9 characters, never to change. */
#define SBAI_MODEL_TYPE_NAME "SB_MODEL_"

/* Largest BATCHSIZE / MINBATCHSIZE / MINBATCHTIMEOUT. */
#define SBAI_MODEL_BATCH_MAX (1LL << 31)

typedef struct sbai_model sbai_model_t;

struct sbai_model {
  atomic_int refs;
  int device;    /* SBAI_DEVICE_CPU (-1), or n for GPU:n */
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
                      usable (runs refused) */
  const char *tag;
  size_t tag_len;
  long long batchsize, minbatchsize, minbatchtimeout;
  int ninputs, noutputs;
  const char *inputs[1], *outputs[1];
  size_t inputs_len[1], outputs_len[1];
} sbai_model_spec_t;

/* Loads the blob (taking ownership of it in every case) and makes a model
 * with one reference. NULL with err set when the blob is refused. */
sbai_model_t *sbai_model_create(const sbai_model_spec_t *spec, char *blob, size_t blob_len,
                                char *err, size_t errlen);

/* Reference counting; the last release frees the model. Safe from any
 * thread (Redis may free values in a background thread). */
void sbai_model_retain(sbai_model_t *model);
void sbai_model_release(sbai_model_t *model);

/* The SB_MODEL_ data type: set once by sbai_model_register (model_cmd.c)
 * when it has created it, read by everything that opens model keys. */
void sbai_model_type_set(RedisModuleType *type);
RedisModuleType *sbai_model_type(void);

/* Looks keyname up: SBAI_KEY_OK with *model (valid until the command
 * returns; take a reference with sbai_model_retain to keep it longer), or
 * SBAI_KEY_EMPTY or SBAI_KEY_WRONGTYPE. */
sbai_key_status_t sbai_model_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                    sbai_model_t **model);

/* The data type's callbacks on the value: the key's free (it drops its
 * reference), MEMORY USAGE, and DEBUG DIGEST. */
void sbai_model_type_free(void *value);
size_t sbai_model_mem_usage(const void *value);
void sbai_model_digest(RedisModuleDigest *md, void *value);

#endif
