/* The worker's side of a run request (run.h): executing queued runs through
 * their target's ops, and handing a run back to the main thread.
 *
 * Below the queues (run_queue.c calls it) and above nothing of the module:
 * it reaches models and scripts only through run->ops.
 */
#ifndef SBAI_RUN_WORKER_H
#define SBAI_RUN_WORKER_H

#include "run.h"

/* Worker side: runs `n` queued requests as one execution (n > 1 only for a
 * batch of the same model, inputs of equal shape but for dim 0) where `ex`
 * says, setting each run's status and outputs. */
void sbai_run_execute(sbai_run_t **runs, int n, const sbai_exec_t *ex);

/* Worker side: hands a finished (or timed-out) run back to the main thread.
 * The run must not be touched afterwards. */
void sbai_run_finish(sbai_run_t *run);

#endif
