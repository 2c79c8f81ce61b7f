#include "sb_app.h"

#include "sb_config.h"
#include "sb_error.h"
#include "sb_h5.h"
#include "sb_log.h"
#include "sb_metrics.h"
#include "sb_prov.h"
#include "sb_size.h"
#include "sb_stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t sb_app_stop_requested = 0;

static void on_signal(int sig)
{
  (void)sig;
  sb_app_stop_requested = 1;
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

/* --metrics-interval MS: the driver's own option, appended to the app's
 * table so that --help lists it and /params records it. */
static int64_t opt_metrics_ms;
static const sb_opt_t metrics_opt = {
    "metrics-interval", SB_OPT_INT, &opt_metrics_ms, "100",
    "ms between samples of CPU, network and GPU (NVML) during the timed loop, one sampler per "
    "node, written to /metrics; 0: off",
    NULL, 0, 3600000};

static int run(const sb_app_t *app, int argc, char **argv, int *exit_code)
{
  sb_app_ctx_t ctx_, *ctx = &ctx_;
  char start_utc[32], end_utc[32], host[256] = "unknown", *cmdline = NULL;
  sb_db_config_t dbcfg;
  int ok_local, ok_all, loop_phase = -1, init_phase = -1, nhosts = 1, setup_done = 0;
  int64_t done = 0, min_done = 0, verify_total = 0;
  int interrupted = 0, any_error = 0;
  const char *status = "failed";
  phase_summary_t *sum = NULL;
  sb_metrics_t *metrics = NULL;
  sb_h5_metrics_t metrics_table;
  int have_metrics_table = 0;
  sb_opt_t all_opts[64];
  int n_opts = app->n_opts;

  memset(ctx, 0, sizeof *ctx);
  if (n_opts + 1 > (int)(sizeof all_opts / sizeof all_opts[0])) {
    *exit_code = 1;
    return sb_error("%s declares too many options", app->name);
  }
  if (n_opts > 0)
    memcpy(all_opts, app->opts, (size_t)n_opts * sizeof *all_opts);
  all_opts[n_opts++] = metrics_opt;
  ctx->comm = MPI_COMM_WORLD;
  ctx->device = -1;
  sb_utc_now(start_utc, sizeof start_utc);
  /* Launched MPMD (mpiexec -n P app1 : -n 1 app2), every app gets its own
   * communicator, so that each one's barriers, statistics and HDF5 file
   * are its own. A plain launch has one app number: the split changes
   * nothing. */
  {
    int *appnum = NULL, flag = 0, wrank = 0;
    if (MPI_Comm_rank(MPI_COMM_WORLD, &wrank) != MPI_SUCCESS ||
        MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_APPNUM, &appnum, &flag) != MPI_SUCCESS ||
        MPI_Comm_split(MPI_COMM_WORLD, flag && appnum ? *appnum : 0, wrank, &ctx->comm) !=
            MPI_SUCCESS) {
      *exit_code = 1;
      return sb_error("splitting MPI_COMM_WORLD by application number failed");
    }
  }
  if (MPI_Comm_rank(ctx->comm, &ctx->rank) != MPI_SUCCESS ||
      MPI_Comm_size(ctx->comm, &ctx->nranks) != MPI_SUCCESS) {
    *exit_code = 1;
    return sb_error("MPI_Comm_rank/size failed");
  }
  sb_log_init(ctx->rank, SB_LOG_INFO);

  /* Options: every rank parses the same argv; rank 0 speaks. */
  if (sb_opts_parse(argc, argv, all_opts, n_opts, &ctx->opts, &ctx->params) != SB_OK) {
    if (ctx->rank == 0)
      fprintf(stderr, "%s: %s\n(see %s --help)\n", app->name, sb_error_msg(), app->name);
    *exit_code = 2;
    sb_error_clear();
    goto done_early;
  }
  if (ctx->opts.help || ctx->opts.version) {
    if (ctx->rank == 0) {
      if (ctx->opts.help)
        sb_opts_usage(stdout, app->name, app->summary, all_opts, n_opts);
      else
        printf("%s %s (git %s, CUDA %s)\n", app->name, SB_VERSION, SB_GIT_COMMIT,
               HAVE_CUDA ? "yes" : "no");
    }
    *exit_code = 0;
    goto done_early;
  }
  sb_log_init(ctx->rank, ctx->opts.log_level);
  if (app->configure && app->configure(ctx) != SB_OK) {
    if (ctx->rank == 0)
      fprintf(stderr, "%s: %s\n(see %s --help)\n", app->name, sb_error_msg(), app->name);
    *exit_code = 2;
    sb_error_clear();
    goto done_early;
  }
  install_signals();
  gethostname(host, sizeof host - 1);
  cmdline = join_argv(argc, argv);

  *exit_code = 1;
  if (app->no_database) {
    ok_local = 1;
  } else if (sb_db_config_from_env(&dbcfg) != SB_OK) {
    sb_log(SB_LOG_ERROR, "%s", sb_error_msg());
    ok_local = 0;
  } else {
    sb_kv_set_real(&ctx->params, "db-connect-timeout", dbcfg.connect_timeout_s);
    sb_kv_set_real(&ctx->params, "db-command-timeout", dbcfg.command_timeout_s);
    ok_local = 1;
  }
  if (sb_timings_init(&ctx->timings, 16) != SB_OK ||
      (!app->no_database &&
       (init_phase = sb_timings_add(&ctx->timings, "client_init", 1, 0, 1)) < 0))
    goto fail;

  /* client_init: connect and authenticate, timed per rank. */
  if (ok_local && !app->no_database) {
    double t0 = sb_now();
    if (sb_db_open(ctx->opts.db, &dbcfg, &ctx->db) != SB_OK) {
      sb_log(SB_LOG_ERROR, "%s", sb_error_msg());
      ok_local = 0;
    } else {
      sb_phase_record(&ctx->timings.phases[init_phase], sb_now() - t0);
    }
  }
  if (MPI_Allreduce(&ok_local, &ok_all, 1, MPI_INT, MPI_MIN, ctx->comm) != MPI_SUCCESS)
    goto fail;
  if (sb_prov_collect(ctx->comm, ok_local ? ctx->db : NULL, &ctx->system) != SB_OK) {
    sb_log(SB_LOG_WARN, "provenance incomplete: %s", sb_error_msg());
    sb_error_clear();
  }
  if (ctx->rank == 0)
    print_header(app, ctx);

  if (ok_all) {
    ok_local = app->setup(ctx) == SB_OK;
    setup_done = 1;
    if (!ok_local)
      sb_log(SB_LOG_ERROR, "setup: %s", sb_error_msg());
    if (ok_local && (loop_phase = sb_timings_add(&ctx->timings, "loop_time",
                                                 ctx->opts.iterations,
                                                 app->loop_bytes ? app->loop_bytes(ctx) : 0,
                                                 app->loop_items ? app->loop_items(ctx) : 1)) < 0)
      ok_local = 0;
    if (MPI_Allreduce(&ok_local, &ok_all, 1, MPI_INT, MPI_MIN, ctx->comm) != MPI_SUCCESS)
      goto fail;
  }

  if (ok_all) {
    int64_t seq = 0;
    for (int64_t w = 0; w < ctx->opts.warmup && ok_local && !sb_app_stop_requested; w++, seq++)
      if (one_iteration(app, ctx, seq, 0, NULL) != SB_OK) {
        sb_log(SB_LOG_ERROR, "warm-up iteration %lld: %s", (long long)w, sb_error_msg());
        ok_local = 0;
      }
    /* The sampler runs for the timed loop only (collective start); its
     * first reading comes before the barrier that starts the loop, so no
     * rank's first iteration escapes it. */
    if (opt_metrics_ms > 0 && sb_metrics_start(ctx->comm, (double)opt_metrics_ms / 1e3,
                                               &metrics) != SB_OK)
      goto fail;
    if (MPI_Barrier(ctx->comm) != MPI_SUCCESS)
      goto fail;
    sb_log(SB_LOG_DEBUG, "timed loop: %lld iterations", (long long)ctx->opts.iterations);
    for (int64_t i = 0; i < ctx->opts.iterations && ok_local; i++, seq++) {
      if (sb_app_stop_requested) {
        interrupted = 1;
        break;
      }
      if (one_iteration(app, ctx, seq, 1, &ctx->timings.phases[loop_phase]) != SB_OK) {
        sb_log(SB_LOG_ERROR, "iteration %lld: %s", (long long)i, sb_error_msg());
        ok_local = 0;
        break;
      }
      done++;
    }
  }
  if (sb_app_stop_requested)
    interrupted = 1;

  /* Every rank arrives here, whatever happened: agree on the outcome. */
  {
    int64_t local[3] = {done, !ok_local, interrupted}, mins[3], maxs[3];
    if (MPI_Allreduce(local, mins, 3, MPI_INT64_T, MPI_MIN, ctx->comm) != MPI_SUCCESS ||
        MPI_Allreduce(local, maxs, 3, MPI_INT64_T, MPI_MAX, ctx->comm) != MPI_SUCCESS ||
        MPI_Allreduce(&ctx->verify_errors, &verify_total, 1, MPI_INT64_T, MPI_SUM, ctx->comm) !=
            MPI_SUCCESS)
      goto fail;
    min_done = mins[0];
    any_error = maxs[1] != 0;
    interrupted = maxs[2] != 0;
    (void)min_done;
    /* failed: wrong bytes were read, or nothing was measured at all;
     * partial: stopped early (error or signal) with samples to keep. */
    if (verify_total > 0 || (maxs[0] == 0 && (any_error || interrupted)))
      status = "failed";
    else if (any_error || interrupted)
      status = "partial";
    else
      status = "complete";
  }
  /* Every rank's loop has ended (the reductions above): the last sample
   * covers the slowest rank too. */
  sb_metrics_stop(metrics);
  *exit_code = strcmp(status, "complete") == 0 ? 0 : verify_total > 0 ? 3 : 1;

  /* Statistics and the table (rank 0), then the file (all ranks). */
  sum = calloc((size_t)ctx->timings.n, sizeof *sum);
  if (!sum)
    goto fail;
  for (int k = 0; k < ctx->timings.n; k++)
    if (summarise(ctx, &ctx->timings.phases[k], &sum[k]) != SB_OK)
      goto fail;
  if (count_hosts(ctx, host, &nhosts) != SB_OK)
    goto fail;
  if (ctx->rank == 0) {
    char desc[256] = "";
    print_table(ctx, sum);
    if (app->describe)
      app->describe(ctx, desc, sizeof desc);
    if (verify_total > 0)
      printf("# verification: %lld %s\n", (long long)verify_total,
             app->verify_failed ? app->verify_failed : "reads did not match what was written");
    else if (loop_phase < 0 || sum[loop_phase].st.count == 0)
      printf("# verification: nothing was read\n");
    else if (!ctx->opts.no_verify)
      printf("# verification: %s\n",
             app->verify_passed ? app->verify_passed : "every byte read back matched");
    else
      printf("# verification: skipped (--no-verify)\n");
    printf("# status: %s\n", status);
    double p99 = NAN;
    for (int k = 0; k < ctx->timings.n; k++)
      if (app->latency_phase && strcmp(ctx->timings.phases[k].name, app->latency_phase) == 0)
        p99 = sum[k].st.p99;
    char fom[64];
    if (app->fom_items)
      snprintf(fom, sizeof fom, "%.2f %s/s", loop_phase >= 0 ? sum[loop_phase].agg_ops_s : 0.0,
               app->fom_items);
    else if (loop_phase >= 0 && sum[loop_phase].agg_bytes_s < 1e7)
      snprintf(fom, sizeof fom, "%.3f MB/s", sum[loop_phase].agg_bytes_s / 1e6);
    else
      snprintf(fom, sizeof fom, "%.3f GB/s", loop_phase >= 0 ? sum[loop_phase].agg_bytes_s / 1e9 : 0.0);
    printf("# %s: %d ranks on %d host%s, %s, %s aggregate, p99 %s %.3f ms\n", app->name,
           ctx->nranks, nhosts, nhosts == 1 ? "" : "s", desc, fom,
           app->latency_phase ? app->latency_phase : "-", 1e3 * p99);
    fflush(stdout);
  }

  if (ctx->opts.out) {
    static const char *const counter_names[] = {"verify_errors", "iterations_completed",
                                                "redirects"};
    /* redirects: MOVED/ASK followed by this rank's client (0 standalone). */
    int64_t counters[3] = {ctx->verify_errors, done, (int64_t)sb_db_redirects(ctx->db)};
    sb_h5_run_t h5 = {0};
    if (metrics) {
      if (sb_metrics_gather(metrics, &metrics_table) != SB_OK)
        goto fail;
      have_metrics_table = 1;
    }
    sb_utc_now(end_utc, sizeof end_utc);
    h5.app = app->name;
    h5.command_line = cmdline ? cmdline : argv[0];
    h5.start_utc = start_utc;
    h5.end_utc = end_utc;
    h5.status = status;
    h5.params = &ctx->params;
    h5.system = &ctx->system;
    h5.hostname = host;
    h5.device = ctx->device;
    h5.timings = &ctx->timings;
    h5.n_rank_counters = 3;
    h5.rank_counter_names = counter_names;
    h5.rank_counters = counters;
    h5.metrics = have_metrics_table ? &metrics_table : NULL;
    /* Every rank must agree on the hostname of rank 0 for the attributes;
     * per-rank data goes to /ranks. */
    if (sb_h5_write(ctx->opts.out, ctx->comm, &h5) != SB_OK) {
      if (ctx->rank == 0)
        sb_log(SB_LOG_ERROR, "%s", sb_error_msg());
      if (*exit_code == 0)
        *exit_code = 1;
    } else if (ctx->rank == 0) {
      sb_log(SB_LOG_INFO, "wrote %s (status %s)", ctx->opts.out, status);
    }
  }

  if (setup_done && app->teardown)
    app->teardown(ctx);
  sb_db_close(ctx->db);
  sb_metrics_free(metrics);
  sb_timings_free(&ctx->timings);
  sb_kv_free(&ctx->params);
  sb_kv_free(&ctx->system);
  sb_opts_free(&ctx->opts);
  free(sum);
  free(cmdline);
  return SB_OK;
fail:
  if (setup_done && app->teardown)
    app->teardown(ctx);
  sb_db_close(ctx->db);
  sb_metrics_free(metrics);
  sb_timings_free(&ctx->timings);
  sb_kv_free(&ctx->params);
  sb_kv_free(&ctx->system);
  sb_opts_free(&ctx->opts);
  free(sum);
  free(cmdline);
  *exit_code = 1;
  return SB_ERR;
done_early: /* usage errors, --help, --version: nothing but the options exists */
  sb_kv_free(&ctx->params);
  sb_opts_free(&ctx->opts);
  return SB_OK;
}

int sb_app_main(const sb_app_t *app, int argc, char **argv)
{
  int code = 1, provided;
  if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    fprintf(stderr, "%s: MPI_Init_thread failed\n", app->name);
    return 1;
  }
  if (run(app, argc, argv, &code) != SB_OK) {
    fprintf(stderr, "%s: %s\n", app->name, sb_error_msg());
    /* A failure inside a collective step may leave other ranks waiting. */
    MPI_Abort(MPI_COMM_WORLD, code ? code : 1);
  }
  MPI_Finalize();
  return code;
}
