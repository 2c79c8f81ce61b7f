/* Models in the keyspace: the SB_MODEL_ data type and the commands
 *
 *   AI.MODELSTORE key backend device [TAG tag]
 *       [BATCHSIZE n [MINBATCHSIZE m [MINBATCHTIMEOUT ms]]]
 *       [INPUTS n name.. OUTPUTS n name..] BLOB chunk [chunk ...]
 *   AI.MODELGET key [META] [BLOB]
 *   AI.MODELDEL key
 *   AI.MODELEXECUTE key INPUTS n in.. OUTPUTS n out.. [TIMEOUT ms]
 *   AI.MODELRUN key [TIMEOUT ms] INPUTS in.. OUTPUTS out..
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
 */
#ifndef SBAI_MODEL_CMD_H
#define SBAI_MODEL_CMD_H

#include "redismodule_api.h"
#include "run.h"
#include "sb_resnet.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The only backend: our own ResNet runner. "TORCH" (what SmartRedis sends)
 * is accepted as an alias. */
#define SBAI_MODEL_BACKEND "SBRESNET"

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

/* Reference counting; the last release frees the model. Safe from any
 * thread (Redis may free values in a background thread). */
void sbai_model_retain(sbai_model_t *model);
void sbai_model_release(sbai_model_t *model);

/* Looks keyname up: SBAI_KEY_OK with *model (valid until the command
 * returns; take a reference with sbai_model_retain to keep it longer), or
 * SBAI_KEY_EMPTY or SBAI_KEY_WRONGTYPE. */
sbai_key_status_t sbai_model_lookup(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                    sbai_model_t **model);

/* Worker side: one forward pass over the runs' inputs concatenated on dim 0
 * (all runs of the same model, inputs [n_i][3][H][W] with equal H and W),
 * on the CPU with ex->threads kernel threads or on the model's GPU with the
 * worker's stream. */
void sbai_model_execute(sbai_run_t **runs, int n, const sbai_exec_t *ex);

int sbai_model_register(RedisModuleCtx *ctx);

#endif
