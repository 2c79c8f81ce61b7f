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
 * The file lives for the whole run (docs/hdf5-schema.md, "Checkpoints"):
 * sb_h5_create makes it collectively before the first iteration, with
 * every dataset at its full size (samples NaN, counters 0) and status
 * "running", so that a bad path, a full disk or an oversized attribute is
 * an error before any time is spent; sb_h5_checkpoint writes a rank's
 * samples recorded since the last one into that space (independent I/O, no
 * metadata change), so that a killed run leaves a readable file;
 * sb_h5_finish writes the rest, cuts /timings to the longest row, adds
 * /metrics and sets end_utc and status. Every rank passes its own row
 * through MPI-IO; no rank gathers the others' samples. After any local
 * failure the ranks agree before the next collective call, so no rank is
 * ever left in one alone: every collective function returns the same
 * result on every rank.
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
  /* The headline phases (sb_app_t): whose p99 and whose aggregate rate the
   * app's last line and the report quote. NULL: not written. */
  const char *latency_phase, *rate_phase;
  const char *command_line;
  const char *start_utc, *end_utc;
  const char *status;       /* "running" | "complete" | "partial" | "failed" */
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

/* An open timings file. */
typedef struct sb_h5_file sb_h5_file_t;

/* Creates (truncates) path collectively over comm and writes everything
 * known before the loop: root attributes (status "running", end_utc
 * empty), /params, /system, /ranks, and /timings/<phase> for each phase of
 * run->timings at [nranks][capacity], allocated now and filled with NaN.
 * run->metrics and run->end_utc are not used. The phases must not change
 * afterwards. Returns SB_OK with *out set, or SB_ERR naming the problem
 * (the same result on every rank; on SB_ERR nothing stays open). */
int sb_h5_create(const char *path, MPI_Comm comm, const sb_h5_run_t *run, sb_h5_file_t **out);

/* A checkpoint, local to the rank: writes its samples recorded since the
 * last one and its counters (run->rank_counters, as many as at creation)
 * with independent I/O into space allocated at creation -- no collective
 * call, no metadata change. Returns SB_OK, or SB_H5_RETRY when the write
 * failed (message set): those samples are written again by the next
 * checkpoint or by sb_h5_finish, which agrees on the outcome. */
#define SB_H5_RETRY 1
int sb_h5_checkpoint(sb_h5_file_t *f, const sb_h5_run_t *run);

/* Collective: a last checkpoint, /timings cut to the longest row of any
 * rank, /metrics (run->metrics, if any), end_utc and status; then closes
 * the file and frees f. On SB_ERR the file keeps what the last successful
 * checkpoint wrote (status "running") and is left open (sb_h5_unclosed). */
int sb_h5_finish(sb_h5_file_t *f, const sb_h5_run_t *run);

/* Gives up a file after a failed step (status stays "running") and frees
 * f; NULL is allowed. The file is not closed: after a failed write (a full
 * disk) HDF5's close flushes again and its ranks can part ways inside it
 * and hang; the file keeps what the last flush and the raw writes before
 * it put there. See sb_h5_unclosed. */
void sb_h5_abandon(sb_h5_file_t *f);

/* Nonzero once a file was left open by sb_h5_abandon or a failed
 * sb_h5_finish. HDF5 would close it at MPI_Finalize (and could hang there
 * the same way), so the program must then end with MPI_Abort instead. */
int sb_h5_unclosed(void);

/* The path given to sb_h5_create. */
const char *sb_h5_path(const sb_h5_file_t *f);

/* create + finish in one step, for a run whose samples are all taken. */
int sb_h5_write(const char *path, MPI_Comm comm, const sb_h5_run_t *run);

/* Checks, before any time is spent, that path could be created: not empty,
 * not a directory, its directory exists and is writable. Local (call it on
 * one rank and share the verdict). Returns SB_OK or SB_ERR with a message
 * that names the path. */
int sb_h5_check_path(const char *path);

/* Formats the current UTC time as ISO 8601 ("2026-11-23T09:15:02Z"). */
void sb_utc_now(char *buf, size_t len);

#endif
