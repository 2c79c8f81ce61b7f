#include "sb_app.h"

#include "sb_describe.h"

#include "sb_config.h"
#include "sb_error.h"
#include "sb_h5.h"
#include "sb_log.h"
#include "sb_metrics.h"
#include "sb_prov.h"
#include "sb_size.h"
#include "sb_stats.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t sb_app_stop_requested = 0;

/* Tag of the notices a rank sends every other one when it stops early
 * (error or signal), on ctx->ctrl; app tags for sb_app_send are below it. */
#define SB_TAG_NOTICE 32000
#define SB_NOTICE_LEN 200

static void on_signal(int sig)
{
  (void)sig;
  sb_app_stop_requested = 1;
}

/* ---- notices: a rank that stops early tells every other one ------------- */

/* The notice this rank sent; static because the sends are never waited for
 * (eager, fire and forget: the receivers may already be gone). */
static char notice_out[SB_NOTICE_LEN];
static int notice_sent;
/* The first notice received from another rank. */
static char notice_in[SB_NOTICE_LEN + 32];
static int notice_seen;
static int notices_received;

static void notify_peers(sb_app_ctx_t *ctx, const char *why)
{
  if (notice_sent)
    return;
  notice_sent = 1;
  snprintf(notice_out, sizeof notice_out, "%s", why && *why ? why : "stopped");
  for (int r = 0; r < ctx->nranks; r++) {
    MPI_Request req;
    if (r == ctx->rank)
      continue;
    if (MPI_Isend(notice_out, SB_NOTICE_LEN, MPI_CHAR, r, SB_TAG_NOTICE, ctx->ctrl, &req) ==
        MPI_SUCCESS)
      MPI_Request_free(&req);
  }
}

int sb_app_peer_failed(sb_app_ctx_t *ctx)
{
  int flag = 0;
  MPI_Status st;
  if (!notice_seen && ctx->nranks > 1 && ctx->ctrl != MPI_COMM_NULL &&
      MPI_Iprobe(MPI_ANY_SOURCE, SB_TAG_NOTICE, ctx->ctrl, &flag, &st) == MPI_SUCCESS && flag) {
    char buf[SB_NOTICE_LEN];
    if (MPI_Recv(buf, SB_NOTICE_LEN, MPI_CHAR, st.MPI_SOURCE, SB_TAG_NOTICE, ctx->ctrl,
                 MPI_STATUS_IGNORE) == MPI_SUCCESS) {
      buf[SB_NOTICE_LEN - 1] = '\0';
      snprintf(notice_in, sizeof notice_in, "rank %d stopped: %s", st.MPI_SOURCE, buf);
    } else {
      snprintf(notice_in, sizeof notice_in, "rank %d stopped", st.MPI_SOURCE);
    }
    notice_seen = 1;
    notices_received++;
  }
  if (notice_seen)
    sb_error("%s", notice_in);
  return notice_seen;
}

int sb_app_send(sb_app_ctx_t *ctx, const int *buf, int count, int dst, int tag)
{
  if (tag < 0 || tag >= SB_TAG_NOTICE)
    return sb_error("sb_app_send: tag %d out of range", tag);
  SB_MPI(MPI_Send(buf, count, MPI_INT, dst, tag, ctx->ctrl));
  return SB_OK;
fail:
  return SB_ERR;
}

int sb_app_recv(sb_app_ctx_t *ctx, int *buf, int count, int src, int tag, double timeout_s)
{
  MPI_Request req;
  double t0 = sb_now();
  int done = 0;
  if (tag < 0 || tag >= SB_TAG_NOTICE)
    return sb_error("sb_app_recv: tag %d out of range", tag);
  SB_MPI(MPI_Irecv(buf, count, MPI_INT, src, tag, ctx->ctrl, &req));
  for (;;) {
    SB_MPI(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
    if (done)
      return SB_OK;
    if (sb_app_peer_failed(ctx) || sb_app_stop_requested ||
        (timeout_s > 0 && sb_now() - t0 > timeout_s))
      break;
    sched_yield();
  }
  MPI_Cancel(&req);
  MPI_Wait(&req, MPI_STATUS_IGNORE);
  if (notice_seen)
    return sb_error("waiting for rank %d: %s", src, notice_in);
  if (sb_app_stop_requested)
    return sb_error("waiting for rank %d: stopped by a signal", src);
  return sb_error("waiting for rank %d: nothing came within %.1f s", src, timeout_s);
fail:
  return SB_ERR;
}

/* After the outcome is agreed: receives every notice still on its way here,
 * so that none is left unmatched at MPI_Finalize. */
static int drain_notices(sb_app_ctx_t *ctx)
{
  int sent = notice_sent, senders = 0;
  char buf[SB_NOTICE_LEN];
  SB_MPI(MPI_Allreduce(&sent, &senders, 1, MPI_INT, MPI_SUM, ctx->comm));
  for (int k = notices_received; k < senders - sent; k++)
    SB_MPI(MPI_Recv(buf, SB_NOTICE_LEN, MPI_CHAR, MPI_ANY_SOURCE, SB_TAG_NOTICE, ctx->ctrl,
                    MPI_STATUS_IGNORE));
  notices_received = senders - sent;
  return SB_OK;
fail:
  return SB_ERR;
}

static void install_signals(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  /* A server that goes away must be an error return, not a SIGPIPE death. */
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, NULL);
}

static char *join_argv(int argc, char **argv)
{
  size_t len = 1;
  char *s;
  for (int k = 0; k < argc; k++)
    len += strlen(argv[k]) + 1;
  s = calloc(len, 1);
  if (!s)
    return NULL;
  for (int k = 0; k < argc; k++) {
    strcat(s, argv[k]);
    if (k + 1 < argc)
      strcat(s, " ");
  }
  return s;
}

/* Per phase statistics over all ranks' samples, computed on rank 0 only for
 * the printed table (the HDF5 file is written collectively elsewhere). */
typedef struct {
  sb_stats_t st;
  double agg_bytes_s, agg_ops_s; /* sum over ranks of each rank's own rate */
} phase_summary_t;

static int summarise(const sb_app_ctx_t *ctx, const sb_phase_t *p, phase_summary_t *out)
{
  int n = (int)p->n, *counts = NULL, *displs = NULL, total = 0;
  double *all = NULL, rate[2] = {0, 0}, sum_rate[2] = {0, 0}, busy = 0;
  int rc = SB_ERR;
  for (int64_t k = 0; k < p->n; k++)
    busy += p->samples[k];
  if (busy > 0) {
    rate[0] = (double)p->bytes_per_sample * (double)p->n / busy;
    rate[1] = (double)(p->items_per_sample ? p->items_per_sample : 1) * (double)p->n / busy;
  }
  SB_MPI(MPI_Reduce(rate, sum_rate, 2, MPI_DOUBLE, MPI_SUM, 0, ctx->comm));
  if (ctx->rank == 0) {
    counts = calloc((size_t)ctx->nranks, sizeof *counts);
    displs = calloc((size_t)ctx->nranks, sizeof *displs);
    if (!counts || !displs) {
      sb_error("out of memory");
      n = -1;
    }
  }
  SB_MPI(MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, ctx->comm));
  if (ctx->rank == 0) {
    for (int r = 0; r < ctx->nranks; r++) {
      displs[r] = total;
      total += counts[r] > 0 ? counts[r] : 0;
    }
    all = malloc((size_t)(total ? total : 1) * sizeof *all);
  }
  SB_MPI(MPI_Gatherv(p->samples, n > 0 ? n : 0, MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, 0,
                     ctx->comm));
  if (ctx->rank == 0) {
    sb_stats_compute(all, (size_t)total, &out->st);
    out->agg_bytes_s = sum_rate[0];
    out->agg_ops_s = sum_rate[1];
  }
  rc = SB_OK;
fail:
  free(all);
  free(counts);
  free(displs);
  return rc;
}

static void print_header(const sb_app_t *app, sb_app_ctx_t *ctx)
{
  const sb_kv_item_t *it;
  printf("# %s %s (git %.12s)\n", app->name, SB_VERSION, SB_GIT_COMMIT);
  if (app->no_database) {
    printf("# ranks: %d; database: none (not used by this app)\n#", ctx->nranks);
    goto params;
  }
  printf("# ranks: %d; database: %s", ctx->nranks, ctx->opts.db);
  if ((it = sb_kv_get(&ctx->system, "db_redis_version")) && it->type == SB_KV_STR)
    printf(" (redis %s, ", it->s);
  else
    printf(" (redis version unknown, ");
  if ((it = sb_kv_get(&ctx->system, "db_module_sbai_version")) && it->type == SB_KV_INT)
    printf("sbai %lld", (long long)it->i);
  else
    printf("no sbai module");
  printf(")\n#");
params:
  for (size_t k = 0; k < ctx->params.n; k++) {
    const sb_kv_item_t *p = &ctx->params.items[k];
    if (strcmp(p->name, "db") == 0)
      continue;
    if (p->type == SB_KV_STR)
      printf(" %s=%s", p->name, p->s);
    else if (p->type == SB_KV_INT)
      printf(" %s=%lld", p->name, (long long)p->i);
    else
      printf(" %s=%g", p->name, p->d);
  }
  printf("\n");
  fflush(stdout);
}

static void print_table(sb_app_ctx_t *ctx, const phase_summary_t *sum)
{
  printf("#\n# %-16s %9s %10s %10s %10s %10s %10s %12s\n", "phase", "samples", "min", "p50",
         "p99", "max", "agg", "agg");
  printf("# %-16s %9s %10s %10s %10s %10s %10s %12s\n", "", "", "(ms)", "(ms)", "(ms)", "(ms)",
         "(GB/s)", "(ops/s)");
  for (int k = 0; k < ctx->timings.n; k++) {
    const sb_phase_t *p = &ctx->timings.phases[k];
    const sb_stats_t *s = &sum[k].st;
    printf("  %-16s %9zu %10.4f %10.4f %10.4f %10.4f ", p->name, s->count, 1e3 * s->min,
           1e3 * s->p50, 1e3 * s->p99, 1e3 * s->max);
    if (p->bytes_per_sample)
      printf("%10.3f ", sum[k].agg_bytes_s / 1e9);
    else
      printf("%10s ", "-");
    printf("%12.1f\n", sum[k].agg_ops_s);
  }
}

static int count_hosts(sb_app_ctx_t *ctx, const char *host, int *nhosts)
{
  char *all = NULL;
  char mine[256];
  int rc = SB_ERR;
  memset(mine, 0, sizeof mine);
  snprintf(mine, sizeof mine, "%s", host);
  if (ctx->rank == 0 && !(all = calloc((size_t)ctx->nranks, sizeof mine)))
    return sb_error("out of memory");
  SB_MPI(MPI_Gather(mine, (int)sizeof mine, MPI_CHAR, all, (int)sizeof mine, MPI_CHAR, 0,
                    ctx->comm));
  if (ctx->rank == 0) {
    *nhosts = 0;
    for (int r = 0; r < ctx->nranks; r++) {
      int seen = 0;
      for (int q = 0; q < r && !seen; q++)
        seen = strcmp(all + (size_t)q * sizeof mine, all + (size_t)r * sizeof mine) == 0;
      *nhosts += !seen;
    }
  }
  rc = SB_OK;
fail:
  free(all);
  return rc;
}

/* prepare (untimed), the iteration (timed into loop when given), check
 * (untimed, skipped with --no-verify). */
static int one_iteration(const sb_app_t *app, sb_app_ctx_t *ctx, int64_t seq, int timed,
                         sb_phase_t *loop)
{
  double t0;
  if (app->prepare && app->prepare(ctx, seq) != SB_OK)
    return SB_ERR;
  t0 = sb_now();
  if (app->iteration(ctx, seq, timed) != SB_OK)
    return SB_ERR;
  if (loop)
    sb_phase_record(loop, sb_now() - t0);
  if (!ctx->opts.no_verify && app->check && app->check(ctx, seq) != SB_OK)
    return SB_ERR;
  return SB_OK;
}

/* The driver's own options, appended to every app's table so that --help
 * lists them and /params records them: --metrics-interval MS (the samplers
 * of /metrics) and --checkpoint-interval S (how often the file gets every
 * rank's samples). */
static int64_t opt_metrics_ms, opt_checkpoint_s;
static const sb_opt_t driver_opts[] = {
    {"metrics-interval", SB_OPT_INT, &opt_metrics_ms, "100",
     "ms between samples of CPU, network and GPU (NVML) during the timed loop, one sampler per "
     "node, written to /metrics; 0: off",
     NULL, 0, 3600000},
    {"checkpoint-interval", SB_OPT_INT, &opt_checkpoint_s, "10",
     "seconds between checkpoints of --out (every rank's samples so far, flushed to the file, "
     "so that a killed run keeps them); 0: only at the end",
     NULL, 0, 86400},
};
#define N_DRIVER_OPTS ((int)(sizeof driver_opts / sizeof driver_opts[0]))

#define SB_APP_MAX_OPTS 64

/* The app's options followed by the driver's own: out[SB_APP_MAX_OPTS]. */
static int all_options(const sb_app_t *app, sb_opt_t *out, int *n)
{
  if (app->n_opts < 0 || app->n_opts + N_DRIVER_OPTS > SB_APP_MAX_OPTS)
    return sb_error("%s declares too many options", app->name);
  if (app->n_opts > 0)
    memcpy(out, app->opts, (size_t)app->n_opts * sizeof *out);
  memcpy(out + app->n_opts, driver_opts, sizeof driver_opts);
  *n = app->n_opts + N_DRIVER_OPTS;
  return SB_OK;
}

/* ---- the run, in steps ---------------------------------------------------
 *
 * options -> connect -> setup -> open the file -> warm-up -> loop -> agree
 * -> summarise -> write, then one cleanup. Each step that can fail on one
 * rank ends with an agreement among ranks (or leaves the rank "stopped",
 * which the loop's agreements carry), so that no rank enters a collective
 * alone. */

typedef struct {
  const sb_app_t *app;
  int argc;
  char **argv;
  sb_app_ctx_t ctx;
  sb_opt_t all_opts[SB_APP_MAX_OPTS];
  int n_opts;
  sb_db_config_t dbcfg;
  char start_utc[32], end_utc[32], host[256];
  char *cmdline;
  int init_phase, loop_phase;
  int setup_done;
  int ok;           /* this rank has had no error */
  int ok_all;       /* no rank has had one (as last agreed) */
  int interrupted;  /* stopped by a signal, here or (agreed) on any rank */
  int any_error;    /* agreed: some rank had an error */
  int64_t done;     /* timed iterations this rank completed */
  int64_t verify_total;
  const char *status;
  int exit_code;
  sb_metrics_t *metrics;
  sb_h5_file_t *h5;
  int64_t counters[3];
  int checkpoints;
  double warmup_pace_s; /* this rank's seconds per warm-up iteration (0: none) */
  double checkpoint_s; /* this rank's time in checkpoints */
  double loop_s;       /* this rank's loop wall time */
  phase_summary_t *sum;
} run_t;

static const char *const counter_names[] = {"verify_errors", "iterations_completed", "redirects"};

/* This rank stops early: say why (once) and tell the others. */
static void stop_local(run_t *r, int error, const char *what)
{
  char why[SB_NOTICE_LEN];
  if (error) {
    if (r->ok)
      sb_log(SB_LOG_ERROR, "%s: %s", what, sb_error_msg());
    r->ok = 0;
  }
  snprintf(why, sizeof why, "%s%s%s", what, error ? ": " : "", error ? sb_error_msg() : "");
  notify_peers(&r->ctx, why);
}

/* Between iterations: a signal here, or another rank's notice. */
static int should_stop(run_t *r)
{
  if (sb_app_stop_requested) {
    r->interrupted = 1;
    stop_local(r, 0, "stopped by a signal");
    return 1;
  }
  if (sb_app_peer_failed(&r->ctx)) {
    sb_log(SB_LOG_WARN, "%s; stopping", sb_error_msg());
    sb_error_clear();
    return 1;
  }
  return 0;
}

/* The phase whose p99 the last line quotes: the app's latency_phase, else
 * the first phase the app added itself (not client_init or loop_time). */
static const char *latency_phase(const run_t *r)
{
  const sb_timings_t *t = &r->ctx.timings;
  if (r->app->latency_phase)
    return r->app->latency_phase;
  for (int k = 0; k < t->n; k++)
    if (k != r->init_phase && k != r->loop_phase)
      return t->phases[k].name;
  return NULL;
}

static void fill_h5_run(run_t *r, sb_h5_run_t *h5, const char *status)
{
  sb_app_ctx_t *ctx = &r->ctx;
  memset(h5, 0, sizeof *h5);
  r->counters[0] = ctx->verify_errors;
  r->counters[1] = r->done;
  /* redirects: MOVED/ASK followed by this rank's client (0 standalone). */
  r->counters[2] = (int64_t)sb_db_redirects(ctx->db);
  h5->app = r->app->name;
  h5->latency_phase = latency_phase(r);
  h5->rate_phase = r->app->rate_phase ? r->app->rate_phase : "loop_time";
  h5->command_line = r->cmdline ? r->cmdline : r->argv[0];
  h5->start_utc = r->start_utc;
  h5->end_utc = r->end_utc;
  h5->status = status;
  h5->params = &ctx->params;
  h5->system = &ctx->system;
  h5->hostname = r->host;
  h5->device = ctx->device;
  h5->timings = &ctx->timings;
  h5->n_rank_counters = 3;
  h5->rank_counter_names = counter_names;
  h5->rank_counters = r->counters;
}

/* Options; returns 0 to go on, 1 when the run ends here (usage error,
 * --help, --version) with r->exit_code set. */
static int step_options(run_t *r)
{
  const sb_app_t *app = r->app;
  sb_app_ctx_t *ctx = &r->ctx;
  int ok = 1, all = 1;
  if (sb_opts_parse(r->argc, r->argv, r->all_opts, r->n_opts, &ctx->opts, &ctx->params) !=
      SB_OK) {
    if (ctx->rank == 0)
      fprintf(stderr, "%s: %s\n(see %s --help)\n", app->name, sb_error_msg(), app->name);
    r->exit_code = 2;
    return 1;
  }
  if (ctx->opts.help || ctx->opts.version) {
    if (ctx->rank == 0) {
      if (ctx->opts.help)
        sb_opts_usage(stdout, app->name, app->summary, r->all_opts, r->n_opts);
      else
        printf("%s %s (git %s, CUDA %s)\n", app->name, SB_VERSION, SB_GIT_COMMIT,
               HAVE_CUDA ? "yes" : "no");
    }
    r->exit_code = 0;
    return 1;
  }
  sb_log_init(ctx->rank, ctx->opts.log_level);
  /* Usage errors found before anything is spent: the app's combinations,
   * the database settings, the output path (rank 0 looks, all hear). */
  if (app->configure && app->configure(ctx) != SB_OK)
    ok = 0;
  else if (!app->no_database && sb_db_config_from_env(&r->dbcfg) != SB_OK)
    ok = 0;
  else if (ctx->opts.out && ctx->rank == 0 && sb_h5_check_path(ctx->opts.out) != SB_OK)
    ok = 0;
  if (ok && ctx->opts.out) {
    int rank0_ok = ok;
    if (MPI_Bcast(&rank0_ok, 1, MPI_INT, 0, ctx->comm) != MPI_SUCCESS)
      rank0_ok = 0;
    if (!rank0_ok && ctx->rank != 0)
      sb_error("--out %s refused on rank 0", ctx->opts.out);
    ok = rank0_ok;
  }
  if (MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, ctx->comm) != MPI_SUCCESS)
    all = 0;
  if (!all) {
    if (ctx->rank == 0)
      fprintf(stderr, "%s: %s\n(see %s --help)\n", app->name,
              ok ? "another rank refused the options" : sb_error_msg(), app->name);
    r->exit_code = 2;
    return 1;
  }
  if (!app->no_database) {
    sb_kv_set_real(&ctx->params, "db-connect-timeout", r->dbcfg.connect_timeout_s);
    sb_kv_set_real(&ctx->params, "db-command-timeout", r->dbcfg.command_timeout_s);
  }
  return 0;
}

/* Every rank learns whether any has failed: r->ok_all from every r->ok.
 * SB_ERR only when MPI fails. */
static int agree_ok(run_t *r)
{
  SB_MPI(MPI_Allreduce(&r->ok, &r->ok_all, 1, MPI_INT, MPI_MIN, r->ctx.comm));
  return SB_OK;
fail:
  return SB_ERR;
}

/* client_init: connect and authenticate, timed per rank; provenance; the
 * header. SB_ERR only for what leaves ranks out of step (MPI). */
static int step_connect(run_t *r)
{
  sb_app_ctx_t *ctx = &r->ctx;
  if (sb_timings_init(&ctx->timings, 16) != SB_OK)
    return SB_ERR;
  if (!r->app->no_database) {
    double t0;
    if ((r->init_phase = sb_timings_add(&ctx->timings, "client_init", 1, 0, 1)) < 0)
      return SB_ERR;
    t0 = sb_now();
    sb_db_set_interrupt(&sb_app_stop_requested);
    if (sb_db_open(ctx->opts.db, &r->dbcfg, &ctx->db) != SB_OK) {
      sb_log(SB_LOG_ERROR, "%s", sb_error_msg());
      r->ok = 0;
      if (sb_app_stop_requested)
        r->interrupted = 1;
    } else {
      sb_phase_record(&ctx->timings.phases[r->init_phase], sb_now() - t0);
    }
  }
  if (agree_ok(r) != SB_OK)
    return SB_ERR;
  if (sb_prov_collect(ctx->comm, r->ok ? ctx->db : NULL, &ctx->system) != SB_OK) {
    sb_log(SB_LOG_WARN, "provenance incomplete: %s", sb_error_msg());
    sb_error_clear();
  }
  if (ctx->rank == 0)
    print_header(r->app, ctx);
  return SB_OK;
}

static int step_setup(run_t *r)
{
  sb_app_ctx_t *ctx = &r->ctx;
  const sb_app_t *app = r->app;
  if (!r->ok_all)
    return SB_OK;
  r->ok = app->setup(ctx) == SB_OK;
  r->setup_done = 1;
  if (!r->ok)
    sb_log(SB_LOG_ERROR, "setup: %s", sb_error_msg());
  if (r->ok && (r->loop_phase = sb_timings_add(&ctx->timings, "loop_time", ctx->opts.iterations,
                                               app->loop_bytes ? app->loop_bytes(ctx) : 0,
                                               app->loop_items ? app->loop_items(ctx) : 1)) < 0)
    r->ok = 0;
  return agree_ok(r);
}

/* The file, before the first iteration, whatever happened so far (a run
 * that could not start still leaves a file that says failed). */
static int step_open_file(run_t *r)
{
  sb_h5_run_t h5;
  if (!r->ctx.opts.out)
    return SB_OK;
  fill_h5_run(r, &h5, "running");
  if (sb_h5_create(r->ctx.opts.out, r->ctx.comm, &h5, &r->h5) != SB_OK) {
    if (r->ctx.rank == 0)
      sb_log(SB_LOG_ERROR, "%s", sb_error_msg());
    r->ok = r->ok_all = 0;
    r->exit_code = 1;
    return SB_ERR; /* the same on every rank: nothing runs */
  }
  return SB_OK;
}

static void step_warmup(run_t *r)
{
  sb_app_ctx_t *ctx = &r->ctx;
  double t0 = sb_now();
  if (!r->ok_all)
    return;
  for (int64_t w = 0; w < ctx->opts.warmup && r->ok; w++) {
    if (should_stop(r))
      break;
    if (one_iteration(r->app, ctx, w, 0, NULL) != SB_OK) {
      char what[64];
      snprintf(what, sizeof what, "warm-up iteration %lld", (long long)w);
      stop_local(r, 1, what);
    }
  }
  if (ctx->opts.warmup > 0)
    r->warmup_pace_s = (sb_now() - t0) / (double)ctx->opts.warmup;
}

/* ---- the loop's agreements -------------------------------------------------
 *
 * With checkpoints on, every rank takes part in agreement k at the same
 * timed iteration a_k (a nonblocking allreduce on ctx->ctrl over: stopped,
 * not finished, elapsed seconds), waits for it at a_{k+1} and then acts on
 * it alike: stop, or checkpoint when the slowest rank's elapsed time passed
 * the interval. a_{k+1} - a_k is set from the agreed rates so that an
 * agreement comes every quarter interval (0.1..2.5 s). A rank that stopped
 * or finished keeps joining agreements at once until every rank has
 * stopped or finished; with checkpoints off that is the only agreement. */
typedef struct {
  MPI_Request req;
  /* stopped, not finished, elapsed wall s, s spent iterating (elapsed less
   * agreements and checkpoints: the pace the strides are set from) */
  double mine[4], res[4];
  double overhead_s;  /* this rank's time in agreements and checkpoints */
  int after_ckpt;     /* the pending post was made right after a checkpoint */
  int64_t next_at, stride;
  int64_t posted_at, last_at; /* the pending post's iteration, the one before */
  int have_last;
  double last_t, last_ckpt_t, period;
} agree_t;

enum { AG_GO_ON, AG_STOP, AG_ALL_DONE, AG_ERR };

/* This rank's part of an agreed checkpoint (local I/O; a failed write is
 * retried by the next checkpoint or the last write). */
static void checkpoint_now(run_t *r)
{
  sb_h5_run_t h5;
  double t0 = sb_now();
  fill_h5_run(r, &h5, "running");
  if (sb_h5_checkpoint(r->h5, &h5) == SB_H5_RETRY) {
    sb_log(SB_LOG_WARN, "%s; written again at the next checkpoint", sb_error_msg());
    sb_error_clear();
  }
  r->checkpoints++;
  r->checkpoint_s += sb_now() - t0;
  sb_log(SB_LOG_DEBUG, "checkpoint %d: %.3f ms", r->checkpoints, 1e3 * (sb_now() - t0));
}

/* Waits for the pending agreement (if any) and acts on it, then posts the
 * next one with this rank's state. i: the timed iteration about to run. */
static int agree_step(run_t *r, agree_t *a, int64_t i, double loop_t0, int finished)
{
  sb_app_ctx_t *ctx = &r->ctx;
  double t_in = sb_now();
  if (a->req != MPI_REQUEST_NULL) {
    if (MPI_Wait(&a->req, MPI_STATUS_IGNORE) != MPI_SUCCESS)
      return sb_error("MPI_Wait (loop agreement) failed"), AG_ERR;
    if (a->res[0] > 0)
      return AG_STOP;
    if (a->res[1] == 0)
      return AG_ALL_DONE;
    /* The interval counts from the end of the last checkpoint (the post
     * that followed it), so a slow checkpoint never runs back to back. */
    if (a->after_ckpt)
      a->last_ckpt_t = a->res[2];
    a->after_ckpt = 0;
    if (r->h5 && opt_checkpoint_s > 0 && a->res[2] - a->last_ckpt_t >= (double)opt_checkpoint_s) {
      a->after_ckpt = 1;
      checkpoint_now(r);
    }
    /* Next stride from the slowest rank's pace between the last two posts
     * (agreed, so the same on every rank); it grows at most 8-fold a step. */
    {
      double dt = a->res[3] - a->last_t;
      int64_t di = a->posted_at - a->last_at, s = a->stride * 8;
      if (a->have_last && dt > 0 && di > 0) {
        double want = (double)di / dt * a->period;
        s = want < 1 ? 1 : want < (double)s ? (int64_t)want : s;
      } else if (!a->have_last) {
        s = a->stride;
      }
      a->stride = s < 1 ? 1 : s > 1000000000 ? 1000000000 : s;
      a->last_t = a->res[3];
      a->last_at = a->posted_at;
      a->have_last = 1;
    }
  }
  a->mine[0] = !r->ok || r->interrupted || notice_seen || notice_sent;
  a->mine[1] = !finished;
  a->overhead_s += sb_now() - t_in;
  a->mine[2] = sb_now() - loop_t0;
  a->mine[3] = a->mine[2] - a->overhead_s;
  if (MPI_Iallreduce(a->mine, a->res, 4, MPI_DOUBLE, MPI_MAX, ctx->ctrl, &a->req) !=
      MPI_SUCCESS)
    return sb_error("MPI_Iallreduce (loop agreement) failed"), AG_ERR;
  a->posted_at = i;
  a->next_at = i + a->stride;
  return AG_GO_ON;
}

static int step_loop(run_t *r)
{
  sb_app_ctx_t *ctx = &r->ctx;
  agree_t a = {.req = MPI_REQUEST_NULL, .stride = 1, .next_at = 0};
  int periodic = r->h5 && opt_checkpoint_s > 0, res = AG_GO_ON;
  double t0;
  int64_t i = 0, seq = ctx->opts.warmup;
  a.period = periodic ? (double)opt_checkpoint_s / 4 : 1;
  a.period = a.period < 0.1 ? 0.1 : a.period > 2.5 ? 2.5 : a.period;

  /* The sampler runs for the timed loop only (collective start); its
   * first reading comes before the barrier that starts the loop, so no
   * rank's first iteration escapes it. */
  if (r->ok_all && opt_metrics_ms > 0 &&
      sb_metrics_start(ctx->comm, ctx->local_rank, (double)opt_metrics_ms / 1e3, &r->metrics) !=
          SB_OK)
    return SB_ERR;
  /* The barrier that starts the loop also agrees on the slowest warm-up
   * pace, which sets the first stride (the loop start is the first point of
   * the pace: iteration 0 at time 0 on every rank). */
  {
    double pace = r->warmup_pace_s, slowest = 0;
    SB_MPI(MPI_Allreduce(&pace, &slowest, 1, MPI_DOUBLE, MPI_MAX, ctx->comm));
    if (slowest > 0) {
      double s0 = a.period / slowest;
      a.stride = s0 < 1 ? 1 : s0 > 1e6 ? 1000000 : (int64_t)s0;
    }
    a.next_at = a.stride;
    a.have_last = 1;
  }
  t0 = sb_now();
  if (r->ok_all) {
    sb_log(SB_LOG_DEBUG, "timed loop: %lld iterations", (long long)ctx->opts.iterations);
    for (; i < ctx->opts.iterations && r->ok; i++, seq++) {
      if (periodic && i == a.next_at) {
        res = agree_step(r, &a, i, t0, 0);
        if (res != AG_GO_ON)
          break;
      }
      if (should_stop(r))
        break;
      if (one_iteration(r->app, ctx, seq, 1, &ctx->timings.phases[r->loop_phase]) != SB_OK) {
        char what[64];
        snprintf(what, sizeof what, "iteration %lld", (long long)i);
        stop_local(r, 1, what);
        break;
      }
      r->done++;
    }
  }
  /* Finished or stopped: join agreements until every rank has. */
  while (res == AG_GO_ON)
    res = agree_step(r, &a, i, t0, 1);
  r->loop_s = sb_now() - t0;
  if (res == AG_ERR)
    return SB_ERR;
  if (sb_app_stop_requested)
    r->interrupted = 1;
  return SB_OK;
fail:
  return SB_ERR;
}

/* Every rank arrives here, whatever happened: agree on the outcome. */
static int step_agree(run_t *r)
{
  sb_app_ctx_t *ctx = &r->ctx;
  int64_t local[3] = {r->done, !r->ok, r->interrupted}, maxs[3];
  SB_MPI(MPI_Allreduce(local, maxs, 3, MPI_INT64_T, MPI_MAX, ctx->comm));
  SB_MPI(MPI_Allreduce(&ctx->verify_errors, &r->verify_total, 1, MPI_INT64_T, MPI_SUM,
                       ctx->comm));
  if (drain_notices(ctx) != SB_OK)
    goto fail;
  r->any_error = maxs[1] != 0;
  r->interrupted = maxs[2] != 0;
  /* failed: wrong bytes were read, or nothing was measured at all;
   * partial: stopped early (error or signal) with samples to keep. */
  if (r->verify_total > 0 || (maxs[0] == 0 && (r->any_error || r->interrupted)))
    r->status = "failed";
  else if (r->any_error || r->interrupted)
    r->status = "partial";
  else
    r->status = "complete";
  /* Every rank's loop has ended (the reductions above): the last sample
   * covers the slowest rank too. */
  sb_metrics_stop(r->metrics);
  r->exit_code = strcmp(r->status, "complete") == 0 ? 0 : r->verify_total > 0 ? 3 : 1;
  return SB_OK;
fail:
  return SB_ERR;
}

/* Statistics and the table (rank 0). */
static int step_summarise(run_t *r)
{
  sb_app_ctx_t *ctx = &r->ctx;
  const sb_app_t *app = r->app;
  phase_summary_t *sum;
  int nhosts = 1, lp = r->loop_phase;
  if (!(sum = r->sum = calloc((size_t)ctx->timings.n + 1, sizeof *sum)))
    return sb_error("out of memory");
  for (int k = 0; k < ctx->timings.n; k++)
    if (summarise(ctx, &ctx->timings.phases[k], &sum[k]) != SB_OK)
      return SB_ERR;
  if (count_hosts(ctx, r->host, &nhosts) != SB_OK)
    return SB_ERR;
  if (ctx->rank != 0)
    return SB_OK;
  char desc[256] = "";
  print_table(ctx, sum);
  if (app->describe)
    app->describe(ctx, desc, sizeof desc);
  if (r->verify_total > 0)
    printf("# verification: %lld %s\n", (long long)r->verify_total,
           app->verify_failed ? app->verify_failed : "reads did not match what was written");
  else if (lp < 0 || sum[lp].st.count == 0)
    printf("# verification: nothing was read\n");
  else if (!ctx->opts.no_verify)
    printf("# verification: %s\n",
           app->verify_passed ? app->verify_passed : "every byte read back matched");
  else
    printf("# verification: skipped (--no-verify)\n");
  printf("# status: %s\n", r->status);
  double p99 = NAN;
  const char *lat = latency_phase(r);
  for (int k = 0; k < ctx->timings.n; k++)
    if (lat && strcmp(ctx->timings.phases[k].name, lat) == 0)
      p99 = sum[k].st.p99;
  /* The figure of merit: the aggregate rate of app->rate_phase (default
   * loop_time), the same phase the report's headline uses. */
  int fp = lp;
  if (app->rate_phase)
    for (int k = 0; k < ctx->timings.n; k++)
      if (strcmp(ctx->timings.phases[k].name, app->rate_phase) == 0)
        fp = k;
  char fom[64];
  if (app->fom_items)
    snprintf(fom, sizeof fom, "%.2f %s/s", fp >= 0 ? sum[fp].agg_ops_s : 0.0, app->fom_items);
  else if (fp >= 0 && sum[fp].agg_bytes_s < 1e7)
    snprintf(fom, sizeof fom, "%.3f MB/s", sum[fp].agg_bytes_s / 1e6);
  else
    snprintf(fom, sizeof fom, "%.3f GB/s", fp >= 0 ? sum[fp].agg_bytes_s / 1e9 : 0.0);
  printf("# %s: %d ranks on %d host%s, %s, %s aggregate, p99 %s %.3f ms\n", app->name,
         ctx->nranks, nhosts, nhosts == 1 ? "" : "s", desc, fom,
         lat ? lat : "-", 1e3 * p99);
  fflush(stdout);
  return SB_OK;
}

/* The file's last write: the rest of the samples, /metrics, the status. */
static int step_write(run_t *r)
{
  sb_app_ctx_t *ctx = &r->ctx;
  sb_h5_run_t h5;
  sb_h5_metrics_t metrics_table;
  sb_h5_file_t *f = r->h5;
  if (!f)
    return SB_OK;
  r->h5 = NULL;
  fill_h5_run(r, &h5, r->status);
  if (r->metrics) {
    if (sb_metrics_gather(r->metrics, &metrics_table) != SB_OK) {
      sb_h5_abandon(f);
      return SB_ERR;
    }
    h5.metrics = &metrics_table;
  }
  sb_utc_now(r->end_utc, sizeof r->end_utc);
  if (sb_h5_finish(f, &h5) != SB_OK) {
    if (ctx->rank == 0) {
      sb_log(SB_LOG_ERROR, "%s", sb_error_msg());
      if (r->checkpoints > 0)
        sb_log(SB_LOG_ERROR, "%s keeps the last of %d checkpoints (status running)",
               ctx->opts.out, r->checkpoints);
      else
        sb_log(SB_LOG_ERROR, "%s holds no samples (status running)", ctx->opts.out);
    }
    /* Every rank is here (the outcome was agreed): let rank 0 have said it
     * before any rank ends the job with MPI_Abort (sb_h5_unclosed). */
    MPI_Barrier(ctx->comm);
    if (r->exit_code == 0)
      r->exit_code = 1;
    return SB_OK;
  }
  if (ctx->rank == 0) {
    if (r->checkpoints > 0)
      sb_log(SB_LOG_INFO, "wrote %s (status %s; %d checkpoints, %.3f s, %.2f%% of the loop)",
             ctx->opts.out, r->status, r->checkpoints, r->checkpoint_s,
             r->loop_s > 0 ? 100 * r->checkpoint_s / r->loop_s : 0.0);
    else
      sb_log(SB_LOG_INFO, "wrote %s (status %s)", ctx->opts.out, r->status);
  }
  return SB_OK;
}

static void cleanup(run_t *r)
{
  sb_app_ctx_t *ctx = &r->ctx;
  /* An abandoned file (a failure before the last write) stays as the last
   * checkpoint left it. */
  sb_h5_abandon(r->h5);
  if (!ctx->status)
    ctx->status = r->status ? r->status : "failed";
  if (r->setup_done && r->app->teardown)
    r->app->teardown(ctx);
  sb_db_close(ctx->db);
  sb_metrics_free(r->metrics);
  sb_timings_free(&ctx->timings);
  sb_kv_free(&ctx->params);
  sb_kv_free(&ctx->system);
  sb_opts_free(&ctx->opts);
  free(r->sum);
  free(r->cmdline);
  if (ctx->ctrl != MPI_COMM_NULL && ctx->ctrl != MPI_COMM_WORLD)
    MPI_Comm_free(&ctx->ctrl);
}

static int run(const sb_app_t *app, int argc, char **argv, int *exit_code)
{
  run_t *r = calloc(1, sizeof *r);
  sb_app_ctx_t *ctx;
  int rc = SB_ERR;
  if (!r) {
    *exit_code = 1;
    return sb_error("out of memory");
  }
  ctx = &r->ctx;
  r->app = app;
  r->argc = argc;
  r->argv = argv;
  r->ok = 1;
  r->exit_code = 1;
  r->init_phase = r->loop_phase = -1;
  snprintf(r->host, sizeof r->host, "unknown");
  ctx->device = -1;
  ctx->ctrl = MPI_COMM_NULL;
  if (all_options(app, r->all_opts, &r->n_opts) != SB_OK)
    goto out;
  sb_utc_now(r->start_utc, sizeof r->start_utc);
  /* Launched MPMD (mpiexec -n P app1 : -n 1 app2), every app gets its own
   * communicator, so that each one's barriers, statistics and HDF5 file
   * are its own. A plain launch has one app number: the split changes
   * nothing. */
  {
    int *appnum = NULL, flag = 0, wrank = 0;
    if (MPI_Comm_rank(MPI_COMM_WORLD, &wrank) != MPI_SUCCESS ||
        MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_APPNUM, &appnum, &flag) != MPI_SUCCESS ||
        MPI_Comm_split(MPI_COMM_WORLD, flag && appnum ? *appnum : 0, wrank, &ctx->comm) !=
            MPI_SUCCESS ||
        MPI_Comm_dup(ctx->comm, &ctx->ctrl) != MPI_SUCCESS) {
      sb_error("splitting MPI_COMM_WORLD by application number failed");
      goto out;
    }
  }
  if (MPI_Comm_rank(ctx->comm, &ctx->rank) != MPI_SUCCESS ||
      MPI_Comm_size(ctx->comm, &ctx->nranks) != MPI_SUCCESS) {
    sb_error("MPI_Comm_rank/size failed");
    goto out;
  }
  {
    /* The node: this rank's number among the ranks of its node, once. */
    MPI_Comm node = MPI_COMM_NULL;
    int ok = MPI_Comm_split_type(ctx->comm, MPI_COMM_TYPE_SHARED, ctx->rank, MPI_INFO_NULL,
                                 &node) == MPI_SUCCESS &&
             MPI_Comm_rank(node, &ctx->local_rank) == MPI_SUCCESS &&
             MPI_Comm_size(node, &ctx->local_size) == MPI_SUCCESS;
    if (node != MPI_COMM_NULL && MPI_Comm_free(&node) != MPI_SUCCESS)
      ok = 0;
    if (!ok) {
      sb_error("finding the ranks of this node (MPI_Comm_split_type) failed");
      goto out;
    }
  }
  sb_log_init(ctx->rank, SB_LOG_INFO);

  if (step_options(r)) {
    sb_error_clear();
    rc = SB_OK;
    goto out;
  }
  install_signals();
  gethostname(r->host, sizeof r->host - 1);
  r->cmdline = join_argv(argc, argv);
  r->exit_code = 1;
  if (step_connect(r) != SB_OK || step_setup(r) != SB_OK)
    goto out;
  if (step_open_file(r) != SB_OK) {
    /* No file: nothing was spent yet, and nothing else runs. */
    r->status = "failed";
    rc = SB_OK;
    goto out;
  }
  step_warmup(r);
  if (step_loop(r) != SB_OK || step_agree(r) != SB_OK || step_summarise(r) != SB_OK ||
      step_write(r) != SB_OK)
    goto out;
  rc = SB_OK;
out:
  cleanup(r);
  *exit_code = rc == SB_OK ? r->exit_code : 1;
  free(r);
  return rc;
}

/* --describe: the description on stdout, before (and without) MPI. */
static int describe(const sb_app_t *app)
{
  sb_opt_t opts[SB_APP_MAX_OPTS];
  int n = 0;
  if (all_options(app, opts, &n) != SB_OK || sb_describe_app(stdout, app, opts, n) != SB_OK ||
      fflush(stdout) != 0) {
    fprintf(stderr, "%s --describe: %s\n", app->name, sb_error_msg());
    return 1;
  }
  return 0;
}

int sb_app_main(const sb_app_t *app, int argc, char **argv)
{
  int code = 1, provided;
  for (int k = 1; k < argc; k++)
    if (strcmp(argv[k], "--describe") == 0)
      return describe(app);
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    fprintf(stderr, "%s: MPI_Init_thread failed\n", app->name);
    return 1;
  }
  if (run(app, argc, argv, &code) != SB_OK) {
    fprintf(stderr, "%s: %s\n", app->name, sb_error_msg());
    /* A failure inside a collective step may leave other ranks waiting. */
    MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
  }
  if (sb_h5_unclosed()) {
    /* A file left open after a failed write: MPI_Finalize would have HDF5
     * close it, which can hang on a full disk. Everything is said already. */
    fflush(stdout);
    MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
  }
  MPI_Finalize();
  return code;
}
