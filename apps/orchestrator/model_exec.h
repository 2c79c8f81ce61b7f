/* Running a model (worker side): one forward pass over a batch of runs, on
 * the CPU or on the model's GPU, and the ops table (run.h) that model runs
 * are made with, so that the run code and the queues reach the model only
 * through it.
 */
#ifndef SBAI_MODEL_EXEC_H
#define SBAI_MODEL_EXEC_H

#include "run.h"

/* A model run's ops: execute (the forward pass below), release and retain
 * (the model's reference count), describe (the model's statistics, device
 * and BATCHSIZE / MINBATCHSIZE / MINBATCHTIMEOUT; successful runs count
 * samples). Their target is an sbai_model_t. */
extern const sbai_run_ops_t sbai_model_run_ops;

#endif
