/* sb-agg-producer: every rank appends one dataset per iteration to the
 * iteration's aggregation list (the seeds' aggregation producer, timed),
 * in SmartRedis's dataset layout (sb_dataset.h).
 *
 * Iteration seq: rank 0 waits until the consumer has deleted list
 * iteration_<seq-1> (bounded by --consume-timeout), then sends its verdict
 * to every other rank (point to point on the driver's control communicator,
 * which is also the barrier; a failed rank ends the wait of the others at
 * once), then every rank puts its dataset aggregation_rank_<rank> (K
 * tensors) and RPUSHes its key {aggregation_rank_<rank>} to iteration_<seq>
 * (prefixes: --list-prefix, --dataset-prefix). A rank that fails publishes the failure in
 * iteration_abort (sb_agg_abort.h) for the consumer.
 * Phases: wait_consumed, put_dataset, append_to_list, loop_time.
 * Moves K × tensor-bytes per rank and iteration.
 */
#include "sb_agg_abort.h"
#include "sb_agg_common.h"
#include "sb_app.h"
#include "sb_db_ai.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_size.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The tag of rank 0's verdict (sb_app_send). */
#define TAG_VERDICT 1

static uint64_t opt_bytes;
static int64_t opt_tensors, opt_timeout, opt_poll_ms;
static const char *opt_list_prefix, *opt_dataset_prefix;

static const sb_opt_t prod_opts[] = {
  {"consume-timeout", SB_OPT_INT, &opt_timeout, "60",
   "seconds rank 0 waits for the consumer to delete the previous list", NULL, 1, 86400},
  SB_AGG_SHARED_OPTS,
};

typedef struct {
  void **bufs;
  sb_dataset_tensor_t *tensors;
  char (*tnames)[24];
  int wait_phase, put_phase, append_phase;
  int64_t seq;   /* the iteration under way (-1: none yet) */
  int published; /* this rank's failure was written to iteration_abort (or tried) */
} prod_state_t;

/* Writes this rank's failure into iteration_abort (best effort: a failure
 * to do so is logged), keeping the thread's error message as it was. */
static void publish_failure(sb_app_ctx_t *ctx, int64_t seq, const char *message)
{
  prod_state_t *s = ctx->state;
  char saved[1024];
  snprintf(saved, sizeof saved, "%s", sb_error_msg());
  if ((s && s->published) || !ctx->db)
    return;
  /* Tried once only: a database that is gone costs one connect timeout. */
  if (s)
    s->published = 1;
  if (sb_agg_abort_publish(ctx->db, ctx->rank, seq, message) != SB_OK)
    sb_log(SB_LOG_WARN, "the consumer is not told of this rank's failure: %s", sb_error_msg());
  sb_error("%s", saved);
}

static int prod_configure(sb_app_ctx_t *ctx)
{
  (void)ctx;
  return sb_agg_check_prefixes(opt_list_prefix, opt_dataset_prefix);
}

static int prod_setup(sb_app_ctx_t *ctx)
{
  prod_state_t *s = calloc(1, sizeof *s);
  const char *dtype;
  int64_t dims[2];
  if (!s)
    return sb_error("out of memory");
  s->seq = -1;
  ctx->state = s;
  if (sb_ai_require_module(ctx->db, "datasets hold tensors") != SB_OK)
    return SB_ERR;
  /* Named, so that an operator (or a test) can tell the ranks' connections
   * apart in CLIENT LIST; a server that refuses it changes nothing else. */
  {
    char cname[48];
    snprintf(cname, sizeof cname, "sb-agg-producer-r%d", ctx->rank);
    const char *argv[3] = {"CLIENT", "SETNAME", cname};
    size_t argvlen[3] = {6, 7, strlen(cname)};
    if (sb_db_command_key(ctx->db, -1, 1, 3, argv, argvlen, NULL) != SB_OK)
      sb_log(SB_LOG_DEBUG, "CLIENT SETNAME %s: %s", cname, sb_error_msg());
  }
  /* An earlier run's notice goes (the consumer would ignore it anyway: it
   * heeds only notices written after its start). Rank 0 only, and before
   * any rank of this run can write one: every rank's first iteration waits
   * for rank 0's verdict. */
  if (ctx->rank == 0 && sb_agg_abort_clear(ctx->db) != SB_OK)
    return SB_ERR;
  s->bufs = calloc((size_t)opt_tensors, sizeof *s->bufs);
  s->tensors = calloc((size_t)opt_tensors, sizeof *s->tensors);
  s->tnames = calloc((size_t)opt_tensors, sizeof *s->tnames);
  if (!s->bufs || !s->tensors || !s->tnames)
    return sb_error("out of memory");
  sb_agg_tensor_shape(opt_bytes, &dtype, dims);
  for (int t = 0; t < opt_tensors; t++) {
    if (!(s->bufs[t] = malloc(opt_bytes)))
      return sb_error("cannot allocate %d tensors of %llu bytes", (int)opt_tensors,
                      (unsigned long long)opt_bytes);
    sb_agg_tensor_name(t, s->tnames[t], sizeof s->tnames[t]);
    s->tensors[t] = (sb_dataset_tensor_t){.name = s->tnames[t], .dtype = dtype, .ndims = 2,
                                          .dims = {dims[0], dims[1]}, .data = s->bufs[t],
                                          .bytes = opt_bytes};
  }
  s->wait_phase = sb_timings_add(&ctx->timings, "wait_consumed", ctx->opts.iterations, 0, 1);
  s->put_phase = sb_timings_add(&ctx->timings, "put_dataset", ctx->opts.iterations,
                                opt_bytes * (uint64_t)opt_tensors, 1);
  s->append_phase = sb_timings_add(&ctx->timings, "append_to_list", ctx->opts.iterations, 0, 1);
  if (s->wait_phase < 0 || s->put_phase < 0 || s->append_phase < 0)
    return SB_ERR;
  return SB_OK;
}

static int prod_prepare(sb_app_ctx_t *ctx, int64_t seq)
{
  prod_state_t *s = ctx->state;
  for (int t = 0; t < opt_tensors; t++)
    sb_pattern_fill(s->bufs[t], opt_bytes, (uint64_t)ctx->rank, sb_agg_stream(seq, t));
  return SB_OK;
}

/* Rank 0: polls until list prev is gone, at most --consume-timeout s.
 * *consumed: 1 gone, 0 timed out. SB_ERR: a failed look, another rank's
 * failure, or a signal. */
static int wait_consumed(sb_app_ctx_t *ctx, const char *prev, int *consumed)
{
  double deadline = sb_now() + (double)opt_timeout;
  struct timespec ts = {(time_t)(opt_poll_ms / 1000), (long)(opt_poll_ms % 1000) * 1000000L};
  *consumed = 0;
  for (;;) {
    int64_t len;
    if (sb_list_length(ctx->db, prev, &len) != SB_OK)
      return SB_ERR;
    if (len <= 0) {
      *consumed = 1;
      return SB_OK;
    }
    if (sb_app_peer_failed(ctx))
      return SB_ERR;
    if (sb_app_stop_requested)
      return sb_error("stopped by a signal");
    if (sb_now() >= deadline)
      return SB_OK;
    nanosleep(&ts, NULL);
  }
}

static int iteration_body(sb_app_ctx_t *ctx, int64_t seq, int timed)
{
  prod_state_t *s = ctx->state;
  char list[SB_AGG_PREFIX_MAX + 24], name[SB_AGG_PREFIX_MAX + 24], prev[SB_AGG_PREFIX_MAX + 24];
  char rank_txt[24], seq_txt[24];
  int consumed = 1;
  double t0, t1, t2, t3;

  t0 = sb_now();
  if (ctx->rank == 0) {
    if (seq > 0) {
      sb_agg_list_name(opt_list_prefix, seq - 1, prev, sizeof prev);
      if (wait_consumed(ctx, prev, &consumed) != SB_OK)
        /* No verdict: the failure's notice (the driver's) reaches the
         * others, and a failed peer may be gone. */
        return sb_error_prefix("wait_consumed %s", prev);
      if (!consumed)
        sb_log(SB_LOG_ERROR,
               "wait_consumed: list %s was not consumed within %lld s (is sb-agg-consumer "
               "running against %s?)",
               prev, (long long)opt_timeout, sb_db_address(ctx->db));
    }
    /* Rank 0's verdict reaches everyone (also the barrier). */
    for (int r = 1; r < ctx->nranks; r++)
      if (sb_app_send(ctx, &consumed, 1, r, TAG_VERDICT) != SB_OK)
        return sb_error_prefix("sending the verdict of iteration %lld to rank %d",
                               (long long)seq, r);
  } else {
    /* Rank 0 waits at most --consume-timeout, then one command; the limit
     * here is a backstop, a failed rank 0 ends the wait at once. */
    const sb_db_config_t *cfg = sb_db_config(ctx->db);
    double limit = (double)opt_timeout + 2 * cfg->command_timeout_s + 10;
    if (sb_app_recv(ctx, &consumed, 1, 0, TAG_VERDICT, limit) != SB_OK)
      return sb_error_prefix("wait_consumed (rank 0's verdict of iteration %lld)",
                             (long long)seq);
  }
  if (consumed != 1)
    return sb_error("the consumer did not consume list %s%lld in time", opt_list_prefix,
                    (long long)(seq - 1));
  t1 = sb_now();
  sb_agg_list_name(opt_list_prefix, seq, list, sizeof list);
  sb_agg_dataset_name(opt_dataset_prefix, ctx->rank, name, sizeof name);
  snprintf(rank_txt, sizeof rank_txt, "%d", ctx->rank);
  snprintf(seq_txt, sizeof seq_txt, "%lld", (long long)seq);
  sb_dataset_field_t fields[2] = {{"producer_rank", rank_txt}, {"iteration", seq_txt}};
  if (sb_dataset_put(ctx->db, name, 2, fields, (int)opt_tensors, s->tensors) != SB_OK)
    return SB_ERR;
  t2 = sb_now();
  if (sb_list_append(ctx->db, list, name) != SB_OK)
    return sb_error_prefix("append_to_list %s", list);
  t3 = sb_now();
  if (timed) {
    sb_phase_record(&ctx->timings.phases[s->wait_phase], t1 - t0);
    sb_phase_record(&ctx->timings.phases[s->put_phase], t2 - t1);
    sb_phase_record(&ctx->timings.phases[s->append_phase], t3 - t2);
  }
  return SB_OK;
}

/* A failed iteration is published at once (the driver's teardown comes
 * only after the outcome is agreed and the file written). */
static int prod_iteration(sb_app_ctx_t *ctx, int64_t seq, int timed)
{
  prod_state_t *s = ctx->state;
  s->seq = seq;
  if (iteration_body(ctx, seq, timed) == SB_OK)
    return SB_OK;
  publish_failure(ctx, seq, sb_error_msg());
  return SB_ERR;
}

static void prod_teardown(sb_app_ctx_t *ctx)
{
  prod_state_t *s = ctx->state;
  /* Any end but a complete run (a signal, a failed setup or warm-up,
   * another rank's failure) is the consumer's to know: it would wait for
   * lists that never fill. */
  if (ctx->status && strcmp(ctx->status, "complete") != 0) {
    char why[768];
    const char *last = sb_error_msg();
    snprintf(why, sizeof why, "the run ended %s%s%s", ctx->status, *last ? ": " : "", last);
    publish_failure(ctx, s ? s->seq : -1, why);
  }
  if (!s)
    return;
  for (int t = 0; s->bufs && t < opt_tensors; t++)
    free(s->bufs[t]);
  free(s->bufs);
  free(s->tensors);
  free(s->tnames);
  free(s);
  ctx->state = NULL;
}

static uint64_t prod_loop_bytes(const sb_app_ctx_t *ctx)
{
  (void)ctx;
  return opt_bytes * (uint64_t)opt_tensors;
}

static void prod_describe(const sb_app_ctx_t *ctx, char *buf, size_t len)
{
  char sz[32];
  (void)ctx;
  sb_size_format(opt_bytes, sz, sizeof sz);
  snprintf(buf, len, "datasets of %lld x %s", (long long)opt_tensors, sz);
}

static const sb_app_t producer_app = {
  .name = "sb-agg-producer",
  .summary = "Every rank appends its dataset aggregation_rank_<rank> (SmartRedis's layout) to "
             "list iteration_<i> each iteration, after the consumer has taken list "
             "iteration_<i-1>.",
  .opts = prod_opts,
  .n_opts = (int)(sizeof prod_opts / sizeof prod_opts[0]),
  .configure = prod_configure,
  .setup = prod_setup,
  .prepare = prod_prepare,
  .iteration = prod_iteration,
  .teardown = prod_teardown,
  .loop_bytes = prod_loop_bytes,
  .describe = prod_describe,
  .latency_phase = "put_dataset",
  .verify_passed = "nothing to verify on this side (the consumer checks every byte)",
  .sweep_name = "aggregation",
  .role = "producer",
  .sweep_params = (const char *const[]){"tensor-bytes=tb", "tensors-per-dataset=tpd", NULL},
};

int main(int argc, char **argv) { return sb_app_main(&producer_app, argc, argv); }
