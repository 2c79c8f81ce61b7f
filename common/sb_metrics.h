/* The metrics sampler: a thread that, during an app's timed loop, samples
 * the node every interval (100 ms by default, --metrics-interval MS):
 * CPU utilisation (/proc/stat), network bytes (/proc/net/dev, summed over
 * the non-loopback interfaces, loopback apart) and, where NVML can be
 * loaded at run time (dlopen libnvidia-ml.so.1) and sees a GPU, GPU
 * utilisation, memory used and power. One sampler per node: the lowest
 * rank of each node (MPI_Comm_split_type SHARED) runs it, the others only
 * take part in the collective calls. All sample arrays are allocated at
 * start; the sampling loop reads /proc into a preallocated buffer and
 * stores, never allocates. No MPI call is made from the thread.
 *
 * Absent NVML or GPU is not an error: the GPU series are left out (or NaN
 * on the nodes without) and the /metrics attribute nvml says why.
 * Layout in the file: docs/hdf5-schema.md, "/metrics".
 */
#ifndef SB_METRICS_H
#define SB_METRICS_H

#include "sb_h5.h"

#include <mpi.h>

typedef struct sb_metrics sb_metrics_t;

/* Collective over comm: each node's lowest rank (local_rank 0, the rank's
 * number among its node's ranks in comm: sb_app_ctx_t.local_rank) starts
 * its sampling thread (first reading now, a sample every interval_s). A
 * thread that cannot start is recorded (attribute sampler) and not an
 * error. Returns SB_OK with *m set on every rank, or SB_ERR (MPI, memory). */
int sb_metrics_start(MPI_Comm comm, int local_rank, double interval_s, sb_metrics_t **m);

/* Local: takes a last sample (so that the byte counters cover the whole
 * loop) and stops the thread. Safe to call twice and on a NULL handle. */
void sb_metrics_stop(sb_metrics_t *m);

/* Collective over the comm given to sb_metrics_start, after stop: gathers
 * every node's series on rank 0 into *out (data on rank 0 only; names,
 * shape and attributes on every rank), for sb_h5_write. Valid until
 * sb_metrics_free. Returns SB_OK or SB_ERR (MPI, memory). */
int sb_metrics_gather(sb_metrics_t *m, sb_h5_metrics_t *out);

/* Stops the thread if needed and frees everything. NULL is allowed. */
void sb_metrics_free(sb_metrics_t *m);

#endif
