/* The shared driver of every stagebench app (nccl-tests' common.cu in
 * spirit): an app states its options, what it moves per sample and what one
 * iteration does; the driver does MPI start-up, options, the database
 * connection, warm-up, the timed loop, signals, statistics, the printed
 * table and the HDF5 file.
 *
 * Exit codes of sb_app_main: 0 complete; 1 run error (the file, if any, says
 * partial or failed); 2 usage error; 3 verification errors.
 */
#ifndef SB_APP_H
#define SB_APP_H

#include "sb_db.h"
#include "sb_opts.h"
#include "sb_timer.h"

#include <mpi.h>
#include <signal.h>
#include <stdint.h>

typedef struct sb_app_ctx {
  MPI_Comm comm;
  int rank, nranks;
  /* This rank's number among the ranks of its node in comm, and their
   * count (set once by the driver; GPUs and node-local work use them). */
  int local_rank, local_size;
  sb_common_opts_t opts;
  sb_kv_t params;        /* every option as resolved, for /params */
  sb_kv_t system;        /* provenance, for /system */
  sb_db_t *db;           /* this rank's connection */
  sb_timings_t timings;  /* this rank's samples */
  int64_t verify_errors; /* reads that did not match what was written */
  int device;            /* -1: CPU */
  void *state;           /* the app's own */
  /* The driver's own control communicator (a duplicate of comm): failure
   * notices and agreements travel on it, never mixed with the app's own
   * collectives. Apps may use it only through the functions below. */
  MPI_Comm ctrl;
  /* Set by the driver before teardown: "complete", "partial" or "failed"
   * (NULL while the run is going on). An app may publish a failure in
   * teardown, e.g. a marker key for a peer outside this communicator. */
  const char *status;
} sb_app_ctx_t;

typedef struct {
  const char *name;     /* "sb-throughput" */
  const char *summary;  /* one line for --help */
  const sb_opt_t *opts; /* the app's own options */
  int n_opts;
  /* After option parsing, before the connection: may check option
   * combinations and change ctx->opts.db (e.g. to a node-local socket).
   * May be NULL. SB_ERR is a usage error (exit 2). */
  int (*configure)(sb_app_ctx_t *ctx);
  /* After the connection: allocate buffers, add phases (room for
   * ctx->opts.iterations samples each). The driver adds client_init (first)
   * and loop_time (last) itself. Return SB_OK or SB_ERR. */
  int (*setup)(sb_app_ctx_t *ctx);
  /* Untimed preparation of iteration seq (e.g. writing the pattern into
   * the send buffer). May be NULL. */
  int (*prepare)(sb_app_ctx_t *ctx, int64_t seq);
  /* One iteration, the part loop_time measures: seq numbers every
   * iteration of the run (warm-up ones first), timed says whether to record
   * samples. SB_ERR stops the run. */
  int (*iteration)(sb_app_ctx_t *ctx, int64_t seq, int timed);
  /* Untimed check of what iteration seq read back; mismatches are counted
   * in ctx->verify_errors (not an SB_ERR). Not called with --no-verify.
   * May be NULL. */
  int (*check)(sb_app_ctx_t *ctx, int64_t seq);
  /* Releases what setup allocated (also after a failed setup). */
  void (*teardown)(sb_app_ctx_t *ctx);
  /* Bytes and items one loop_time sample moves, for the aggregate figure. */
  uint64_t (*loop_bytes)(const sb_app_ctx_t *ctx);
  uint64_t (*loop_items)(const sb_app_ctx_t *ctx);
  /* Describes the case for the last line ("1M tensors, mode tensor"). */
  void (*describe)(const sb_app_ctx_t *ctx, char *buf, size_t len);
  /* Whose p99 the last line quotes and the report's headline shows (the
   * file's root attribute latency_phase); NULL: the first phase the app
   * adds in setup. */
  const char *latency_phase;
  /* The "# verification:" line: what passed, and what a counted mismatch
   * is. NULL: "every byte read back matched" / "reads did not match what
   * was written". */
  const char *verify_passed, *verify_failed;
  /* The figure of merit of the last line: NULL for aggregate GB/s, else
   * the loop's items per second, named by this ("images"). */
  const char *fom_items;
  /* The phase whose aggregate rate is that figure of merit; NULL:
   * loop_time (the whole iteration). sb-agg-consumer names get_list, the
   * fetch itself, since its loop_time is mostly waiting for producers.
   * `stagebench report` takes its headline rate from the same phase
   * (written to the file's root attribute rate_phase). */
  const char *rate_phase;
  /* 1: the app uses no database (sb-baseline). The driver then opens no
   * connection (ctx->db stays NULL), records no client_init phase, reads
   * no SB_DB_* settings and collects no database provenance; --db is
   * still accepted and recorded, but unused. */
  int no_database;
  /* What the front end learns from `APP --describe` (sb_describe.h): the
   * app's name in `stagebench run/sweep` (NULL: the binary's name without
   * "sb-"); its role when it is one half of an MPMD pair launched together
   * under that name (NULL: it runs alone; "producer" or "consumer"); and
   * the options a sweep may vary, NULL-terminated "OPTION=SHORT" entries,
   * SHORT being the option's tag in case folder names ("tensor-bytes=tb").
   * A new app needs nothing else to be swept and reported. */
  const char *sweep_name;
  const char *role;
  const char *const *sweep_params;
} sb_app_t;

/* Nonzero when another rank of this app has failed or was asked to stop
 * (its notice arrived on ctx->ctrl); the error is then set to say which
 * rank and why. Cheap (one MPI_Iprobe): call it in every poll of a long
 * wait inside an iteration, so that a dead peer ends the wait at once. */
int sb_app_peer_failed(sb_app_ctx_t *ctx);

/* Point-to-point messages inside an iteration that stay safe when a peer
 * fails: sb_app_send sends count ints to rank dst (tag >= 0) on ctx->ctrl;
 * sb_app_recv waits for them from rank src, and returns SB_ERR as soon as
 * sb_app_peer_failed() says a peer failed (the receive is cancelled), or
 * after timeout_s seconds (<= 0: no limit). Use these instead of a
 * collective (MPI_Bcast) that a failed rank would never join. */
int sb_app_send(sb_app_ctx_t *ctx, const int *buf, int count, int dst, int tag);
int sb_app_recv(sb_app_ctx_t *ctx, int *buf, int count, int src, int tag, double timeout_s);

/* Runs the app; returns the process exit code. Calls MPI_Init/Finalize.
 * `--describe` anywhere in argv prints the app's description (sb_describe.h)
 * and returns 0 before MPI starts. */
int sb_app_main(const sb_app_t *app, int argc, char **argv);

/* Set by SIGINT/SIGTERM/SIGUSR1: the loop stops after the current iteration
 * and the file is written with status=partial. */
extern volatile sig_atomic_t sb_app_stop_requested;

#endif
