/* Script runs on the worker side, and the script's run ops
 * (script_exec.h). */
#include "script_exec.h"

#include "clock.h"
#include "device.h"
#include "refcount.h"
#include "script.h"
#include "torch_backend.h"

#include <stdio.h>

/* ---- execution (worker thread) ------------------------------------------------------- */

/* Worker side: runs the request's built-in function. */
static void script_execute(sbai_run_t *run, int threads)
{
  void *out_data[SBAI_RUN_MAX_IO];
  char err[200] = "";
  uint64_t t0, t1;
  int rc;

  for (int i = 0; i < run->nout; i++) {
    run->out[i] = sbai_tensor_new_zeros(&run->out_desc[i]);
    out_data[i] = run->out[i]->owned;
  }
  t0 = sbai_now_ns();
  rc = run->fn->run(run->in_desc, (const void *const *)run->in_data, run->nin, run->out_desc,
                    out_data, run->nout, threads, err, sizeof err);
  t1 = sbai_now_ns();
  run->duration_us = (long long)((t1 - t0) / 1000u);
  run->leader = 1;
  run->batch_total = run->batch;
  if (rc != 0) {
    run->status = SBAI_RUN_FAILED;
    snprintf(run->err, sizeof run->err, "%s failed: %s", run->fn->name,
             err[0] ? err : "(no reason given)");
  } else {
    run->status = SBAI_RUN_DONE;
  }
}

/* ---- the ops ------------------------------------------------------------------------- */

/* Script runs never batch: each of the n runs (always 1) on its own. */
static void script_execute_runs(sbai_run_t **runs, int n, const sbai_exec_t *ex)
{
  for (int i = 0; i < n; i++)
    if (runs[i]->torch_fn)
      sbai_torch_execute(runs[i], ((sbai_script_t *)runs[i]->target)->torch, runs[i]->torch_fn);
    else
      script_execute(runs[i], ex->threads);
}

static void script_describe(void *target, sbai_run_info_t *info)
{
  sbai_script_t *s = target;
  info->stats = &s->stats;
  info->device = SBAI_DEVICE_CPU; /* scripts run on the CPU */
}

const sbai_run_ops_t sbai_script_run_ops = {
  .execute = script_execute_runs,
  .release = sbai_ref_release,
  .retain = sbai_ref_retain,
  .describe = script_describe,
};
