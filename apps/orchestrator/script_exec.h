/* Running a script's built-in function (worker side), and the ops table
 * (run.h) that script runs are made with, so that the run code and the
 * queues reach the script only through it.
 */
#ifndef SBAI_SCRIPT_EXEC_H
#define SBAI_SCRIPT_EXEC_H

#include "run.h"

/* A script run's ops: execute (each run's built-in function, run->fn),
 * release and retain (the script's reference count), describe (the
 * script's statistics; the CPU; no batching, no samples). Their target is
 * an sbai_script_t. */
extern const sbai_run_ops_t sbai_script_run_ops;

#endif
