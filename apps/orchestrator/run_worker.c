/* A run on the worker's side: executed through its ops, then handed back
 * (run_worker.h). */
#include "run_worker.h"

void sbai_run_execute(sbai_run_t **runs, int n, const sbai_exec_t *ex)
{
  runs[0]->ops->execute(runs, n, ex);
}

void sbai_run_finish(sbai_run_t *run)
{
  /* From here on the run belongs to the main thread: the reply callback,
   * then the free callback. */
  RedisModule_UnblockClient(run->bc, run);
}
