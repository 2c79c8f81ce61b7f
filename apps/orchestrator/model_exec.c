/* Model runs on the worker side, and the model's run ops (model_exec.h). */
#include "model_exec.h"

#include "clock.h"
#include "gpu.h"
#include "model.h"
#include "refcount.h"
#include "torch_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- execution (worker thread) ------------------------------------------------------- */

static void fail_all(sbai_run_t **runs, int n, const char *msg)
{
  for (int i = 0; i < n; i++) {
    runs[i]->status = SBAI_RUN_FAILED;
    snprintf(runs[i]->err, sizeof runs[i]->err, "%s", msg);
  }
}

/* Worker side: one forward pass over the runs' inputs concatenated on dim 0
 * (all runs of the same model, inputs [n_i][3][H][W] with equal H and W),
 * on the CPU with ex->threads kernel threads or on the model's GPU with the
 * worker's stream. The workspace and the concatenated inputs are the
 * worker's scratch (ex), reused from run to run: a run of a size seen before
 * allocates nothing large and faults no fresh pages in. A single run's
 * logits go straight into its output tensor. */
static void model_execute(sbai_run_t **runs, int n, const sbai_exec_t *ex)
{
  const sbai_model_t *m = runs[0]->target;
  const int threads = ex->threads;
  const int64_t h = runs[0]->in_desc[0].dims[2], w = runs[0]->in_desc[0].dims[3];
  const size_t image = (size_t)(3 * h * w), classes = (size_t)m->classes;
  int64_t total = 0;
  float *cat = NULL, *logits = NULL, *own_logits = NULL;
  sbai_tensor_t *single_out = NULL;
  const float *in;
  void *workspace;
  size_t ws_bytes;
  char err[256] = "";
  uint64_t t0, t1;
  int rc;

  if (m->torchscript) {
    /* TorchScript models do not batch: each run alone, by the plugin. */
    for (int i = 0; i < n; i++)
      sbai_torch_execute(runs[i], m->torch, NULL);
    return;
  }
  for (int i = 0; i < n; i++)
    total += runs[i]->batch;
  if (n == 1) {
    in = runs[0]->in_data[0];
  } else {
    /* The batch: inputs concatenated on dim 0. */
    size_t off = 0;
    cat = sbai_scratch_reserve(ex->batch_input, (size_t)total * image * sizeof(float));
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
  if (n == 1) {
    /* One run: its output tensor takes the logits directly. */
    single_out = sbai_tensor_new_zeros(&runs[0]->out_desc[0]);
    logits = single_out->owned;
  } else {
    logits = own_logits = malloc((size_t)total * classes * sizeof(float));
    if (!logits) {
      fail_all(runs, n, "out of memory for the model's output");
      goto done;
    }
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
    workspace = sbai_scratch_reserve(ex->workspace, ws_bytes);
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
  } else if (single_out) {
    runs[0]->out[0] = single_out;
    single_out = NULL;
    runs[0]->status = SBAI_RUN_DONE;
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
  /* The scratch (workspace, cat) stays with the worker for its next run. */
  sbai_tensor_free(single_out);
  free(own_logits);
}

/* ---- the ops ------------------------------------------------------------------------- */

static void model_describe(void *target, sbai_run_info_t *info)
{
  sbai_model_t *m = target;
  info->stats = &m->stats;
  info->device = m->device;
  info->batching.batchsize = m->batchsize;
  info->batching.minbatchsize = m->minbatchsize;
  info->batching.minbatchtimeout = m->minbatchtimeout;
  info->counts_samples = 1;
}

const sbai_run_ops_t sbai_model_run_ops = {
  .execute = model_execute,
  .release = sbai_ref_release,
  .retain = sbai_ref_retain,
  .describe = model_describe,
};
