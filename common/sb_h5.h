/* The HDF5 timings file, schema "stagebench-timings" version 1 (see
 * docs/hdf5-schema.md):
 *
 *   /                 attrs: schema, schema_version, app, version, git_commit,
 *                            command_line, start_utc, end_utc, nranks, status
 *   /params           attrs: every option as resolved
 *   /system           attrs: provenance (library versions, database INFO ...)
 *   /ranks/hostname   [nranks] fixed-length strings
 *   /ranks/device     [nranks] int32
 *   /ranks/<name>     [nranks] int64, per-rank counters (e.g. verify_errors)
 *   /timings/<phase>  [nranks][samples] float64 seconds, NaN where a rank
 *                     completed fewer samples than the longest row; attrs
 *                     units, bytes_per_sample, items_per_sample
 *   /metrics/<series> [samples][1 + nnodes] float64: time, then one column
 *                     per node (sb_metrics.h); attrs on /metrics
 *
 * Every rank calls sb_h5_write with its own row; all data is written
 * collectively through MPI-IO, no rank gathers the others' samples. The
 * file is written under a temporary name and renamed when complete, so a
 * reader never sees a half-written file.
 */
#ifndef SB_H5_H
#define SB_H5_H

#include "sb_kv.h"
#include "sb_timer.h"

#include <mpi.h>
#include <stdint.h>

#define SB_H5_SCHEMA "stagebench-timings"
#define SB_H5_SCHEMA_VERSION 1

/* Time series for /metrics: nseries datasets /metrics/<name>, each
 * [nrows][ncols] float64 (row-major, series after series in data). */
typedef struct {
  int nseries;
  const char *const *names;  /* every rank */
  const char *const *units;  /* every rank; the dataset's units attribute */
  int64_t nrows, ncols;      /* every rank */
  const double *data;        /* rank 0 only: nseries * nrows * ncols */
  const sb_kv_t *attrs;      /* attributes of /metrics, identical on every rank */
} sb_h5_metrics_t;

typedef struct {
  const char *app;          /* "sb-throughput" */
  const char *command_line;
  const char *start_utc, *end_utc;
  const char *status;       /* "complete" | "partial" | "failed" */
  const sb_kv_t *params;    /* identical on every rank */
  const sb_kv_t *system;    /* identical on every rank */
  const char *hostname;     /* this rank's */
  int device;               /* this rank's device index (-1: CPU) */
  const sb_timings_t *timings; /* this rank's; same phases on every rank */
  int n_rank_counters;      /* per-rank int64 counters for /ranks */
  const char *const *rank_counter_names;
  const int64_t *rank_counters;
  const sb_h5_metrics_t *metrics; /* NULL: no /metrics group */
} sb_h5_run_t;

/* Writes the file collectively over comm. Returns SB_OK, or SB_ERR with the
 * failing call named (the same result on every rank). */
int sb_h5_write(const char *path, MPI_Comm comm, const sb_h5_run_t *run);

/* Formats the current UTC time as ISO 8601 ("2026-11-23T09:15:02Z"). */
void sb_utc_now(char *buf, size_t len);

#endif
