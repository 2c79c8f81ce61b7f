/* sb-agg-consumer: takes each iteration's aggregation list whole (the seeds'
 * aggregation consumer), in SmartRedis's dataset layout (sb_dataset.h).
 *
 * Iteration seq: poll until list iteration_<seq> (--list-prefix) holds
 * --list-length entries (bounded by --timeout), fetch every dataset it
 * names with --client-threads threads (each with its own connection),
 * delete the list and its datasets — which lets the producer go on. A
 * dataset that is absent or incomplete (no .COMPLETE, a listed tensor
 * missing) fails the iteration before anything is deleted: its keys and the
 * list stay as they were. Every tensor byte is then checked against what
 * its producer rank must have written (outside the timed part). Runs as one MPI rank. A producer rank's failure
 * notice (iteration_abort, sb_agg_abort.h) ends the wait at once.
 * Phases: poll_list, get_list, delete_list, loop_time.
 * Moves list-length × K × tensor-bytes per iteration.
 */
#include "sb_agg_abort.h"
#include "sb_agg_common.h"
#include "sb_app.h"
#include "sb_db_ai.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_size.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds between two looks at iteration_abort while a list fills. */
#define ABORT_CHECK_S 0.1

static uint64_t opt_bytes;
static int64_t opt_tensors, opt_length, opt_threads, opt_timeout, opt_poll_ms;
static const char *opt_list_prefix, *opt_dataset_prefix;

static const sb_opt_t cons_opts[] = {
  {"list-length", SB_OPT_INT, &opt_length, NULL,
   "datasets per list: the producer's number of ranks (required)", NULL, 1, 1000000},
  {"client-threads", SB_OPT_INT, &opt_threads, "1", "threads (connections) fetching datasets",
   NULL, 1, 1024},
  {"timeout", SB_OPT_INT, &opt_timeout, "60", "seconds to wait for a list to fill", NULL, 1,
   86400},
  SB_AGG_SHARED_OPTS,
};

/* What one fetched dataset left for the check. */
typedef struct {
  char *name;
  int complete;
  char *rank_txt, *iter_txt;
  sb_dataset_tensor_t *tensors; /* opt_tensors, buffers preallocated */
} slot_t;

typedef struct {
  slot_t *slots;
  char (*tnames)[24];
  char **names;
  size_t nnames;
  sb_dataset_pool_t *pool;
  int poll_phase, get_phase, del_phase;
  double since; /* the server's clock at setup: older failure notices are an earlier run's */
} cons_state_t;

static int cons_configure(sb_app_ctx_t *ctx)
{
  if (opt_length == 0)
    return sb_error("--list-length is required (the producer's number of ranks)");
  if (ctx->nranks != 1)
    return sb_error("sb-agg-consumer runs as one rank (got %d); use --client-threads for "
                    "parallel fetches",
                    ctx->nranks);
  return sb_agg_check_prefixes(opt_list_prefix, opt_dataset_prefix);
}

static int cons_setup(sb_app_ctx_t *ctx)
{
  cons_state_t *s = calloc(1, sizeof *s);
  const char *dtype;
  int64_t dims[2];
  if (!s)
    return sb_error("out of memory");
  ctx->state = s;
  if (sb_ai_require_module(ctx->db, "datasets hold tensors") != SB_OK)
    return SB_ERR;
  sb_agg_tensor_shape(opt_bytes, &dtype, dims);
  s->slots = calloc((size_t)opt_length, sizeof *s->slots);
  s->tnames = calloc((size_t)opt_tensors, sizeof *s->tnames);
  if (!s->slots || !s->tnames)
    return sb_error("out of memory");
  for (int t = 0; t < opt_tensors; t++)
    sb_agg_tensor_name(t, s->tnames[t], sizeof s->tnames[t]);
  for (int64_t i = 0; i < opt_length; i++) {
    slot_t *sl = &s->slots[i];
    if (!(sl->tensors = calloc((size_t)opt_tensors, sizeof *sl->tensors)))
      return sb_error("out of memory");
    for (int t = 0; t < opt_tensors; t++) {
      void *buf = malloc(opt_bytes);
      if (!buf)
        return sb_error("cannot allocate %lld x %lld tensors of %llu bytes", (long long)opt_length,
                        (long long)opt_tensors, (unsigned long long)opt_bytes);
      sl->tensors[t] = (sb_dataset_tensor_t){.name = s->tnames[t], .dtype = dtype, .ndims = 2,
                                             .dims = {dims[0], dims[1]}, .buf = buf,
                                             .bytes = opt_bytes};
    }
  }
  if (sb_agg_server_time(ctx->db, &s->since) != SB_OK)
    return SB_ERR;
  /* The fetch connections are opened here, not inside the timed loop. */
  if (sb_dataset_pool_open(ctx->db, (int)opt_threads, &s->pool) != SB_OK)
    return SB_ERR;
  uint64_t list_bytes = opt_bytes * (uint64_t)opt_tensors * (uint64_t)opt_length;
  s->poll_phase = sb_timings_add(&ctx->timings, "poll_list", ctx->opts.iterations, 0, 1);
  s->get_phase = sb_timings_add(&ctx->timings, "get_list", ctx->opts.iterations, list_bytes,
                                (uint64_t)opt_length);
  s->del_phase = sb_timings_add(&ctx->timings, "delete_list", ctx->opts.iterations, 0, 1);
  if (s->poll_phase < 0 || s->get_phase < 0 || s->del_phase < 0)
    return SB_ERR;
  return SB_OK;
}

static void clear_slots(cons_state_t *s)
{
  for (int64_t i = 0; i < opt_length; i++) {
    slot_t *sl = &s->slots[i];
    free(sl->name), free(sl->rank_txt), free(sl->iter_txt);
    sl->name = sl->rank_txt = sl->iter_txt = NULL;
    sl->complete = 0;
  }
  sb_list_names_free(s->names, s->nnames);
  s->names = NULL;
  s->nnames = 0;
}

static int fetch_one(sb_db_t *conn, const char *name, size_t i, void *arg)
{
  cons_state_t *s = arg;
  slot_t *sl = &s->slots[i];
  const char *fields[2] = {"producer_rank", "iteration"};
  char *values[2] = {NULL, NULL};
  if (!(sl->name = strdup(name)))
    return sb_error("out of memory");
  if (sb_dataset_get(conn, name, 2, fields, values, (int)opt_tensors, sl->tensors,
                     &sl->complete) != SB_OK)
    return SB_ERR;
  sl->rank_txt = values[0];
  sl->iter_txt = values[1];
  /* Nothing is deleted after this: the dataset stays for a look. */
  if (!sl->complete) {
    int exists = 0;
    char meta[SB_DATASET_KEY_MAX];
    const char *argv[2] = {"EXISTS", meta};
    size_t argvlen[2] = {6, 0};
    sb_db_reply_t *r = NULL;
    if (sb_dataset_meta_key(name, meta, sizeof meta) == SB_OK) {
      argvlen[1] = strlen(meta);
      if (sb_db_command(conn, 1, 2, argv, argvlen, &r) == SB_OK)
        exists = sb_db_reply_int(r) == 1;
      sb_db_reply_free(r);
    }
    return sb_error("dataset %s is incomplete: %s (nothing of the list was deleted)", name,
                    exists ? "its meta hash has no .COMPLETE" : "it has no meta hash");
  }
  return SB_OK;
}

/* SB_ERR naming the producer rank when one published its failure. */
static int check_abort(sb_app_ctx_t *ctx, const char *list)
{
  cons_state_t *s = ctx->state;
  char msg[900];
  int found = 0;
  if (sb_agg_abort_check(ctx->db, s->since, 1, &found, msg, sizeof msg) != SB_OK)
    return sb_error_prefix("poll_list %s", list);
  if (!found)
    return SB_OK;
  if (found > 1)
    return sb_error("poll_list %s: %s (%d producer ranks reported a failure in %s)", list, msg,
                    found, SB_AGG_ABORT_KEY);
  return sb_error("poll_list %s: %s", list, msg);
}

/* Polls until the list holds --list-length names (*met = 1) or --timeout
 * passed (*met = 0); a producer's failure notice or a signal is SB_ERR. */
static int poll_list(sb_app_ctx_t *ctx, const char *list, int *met)
{
  double start = sb_now(), next_check = start;
  struct timespec ts = {(time_t)(opt_poll_ms / 1000), (long)(opt_poll_ms % 1000) * 1000000L};
  *met = 0;
  for (;;) {
    int64_t len;
    double now;
    if (sb_list_length(ctx->db, list, &len) != SB_OK)
      return sb_error_prefix("poll_list %s", list);
    if (len >= opt_length) {
      *met = 1;
      return SB_OK;
    }
    now = sb_now();
    /* Also once more before a timeout is reported: a failure explains it. */
    if (now >= next_check || now - start >= (double)opt_timeout) {
      if (check_abort(ctx, list) != SB_OK)
        return SB_ERR;
      next_check = now + ABORT_CHECK_S;
    }
    if (sb_app_stop_requested)
      return sb_error("poll_list %s: stopped by a signal", list);
    if (now - start >= (double)opt_timeout)
      return SB_OK;
    nanosleep(&ts, NULL);
  }
}

static int cons_iteration(sb_app_ctx_t *ctx, int64_t seq, int timed)
{
  cons_state_t *s = ctx->state;
  char list[SB_AGG_PREFIX_MAX + 24];
  int met = 0;
  double t0, t1, t2, t3;

  clear_slots(s);
  sb_agg_list_name(opt_list_prefix, seq, list, sizeof list);
  t0 = sb_now();
  if (poll_list(ctx, list, &met) != SB_OK)
    return SB_ERR;
  if (!met) {
    int64_t len = -1;
    if (sb_list_length(ctx->db, list, &len) != SB_OK)
      len = -1;
    return sb_error("poll_list: list %s holds %lld of %lld datasets after %lld s (is "
                    "sb-agg-producer running against %s?)",
                    list, (long long)len, (long long)opt_length, (long long)opt_timeout,
                    sb_db_address(ctx->db));
  }
  t1 = sb_now();
  if (sb_list_range(ctx->db, list, &s->names, &s->nnames) != SB_OK)
    return sb_error_prefix("get_list %s", list);
  if ((int64_t)s->nnames != opt_length)
    return sb_error("get_list: list %s holds %zu datasets, expected %lld (--list-length)", list,
                    s->nnames, (long long)opt_length);
  if (sb_dataset_pool_run(s->pool, s->names, s->nnames, fetch_one, s) != SB_OK)
    return sb_error_prefix("get_list %s", list);
  t2 = sb_now();
  if (sb_list_delete(ctx->db, list, 1) != SB_OK)
    return sb_error_prefix("delete_list %s", list);
  t3 = sb_now();
  if (timed) {
    sb_phase_record(&ctx->timings.phases[s->poll_phase], t1 - t0);
    sb_phase_record(&ctx->timings.phases[s->get_phase], t2 - t1);
    sb_phase_record(&ctx->timings.phases[s->del_phase], t3 - t2);
  }
  return SB_OK;
}

static void verify_error(sb_app_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void verify_error(sb_app_ctx_t *ctx, const char *fmt, ...)
{
  if (ctx->verify_errors < 10) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sb_log(SB_LOG_ERROR, "verification: %s", msg);
  }
  ctx->verify_errors++;
}

/* Each producer rank 0..N-1 exactly once, its fields right, every tensor
 * present and holding its pattern. */
static int cons_check(sb_app_ctx_t *ctx, int64_t seq)
{
  cons_state_t *s = ctx->state;
  char *seen = calloc((size_t)opt_length, 1);
  if (!seen)
    return sb_error("out of memory");
  for (size_t i = 0; i < s->nnames; i++) {
    slot_t *sl = &s->slots[i];
    char *end = NULL;
    long r = sl->rank_txt ? strtol(sl->rank_txt, &end, 10) : -1;
    if (!sl->complete) {
      verify_error(ctx, "iteration %lld: dataset %s is missing or incomplete", (long long)seq,
                   sl->name ? sl->name : s->names[i]);
      continue;
    }
    if (!sl->rank_txt || !end || *end || r < 0 || r >= opt_length) {
      verify_error(ctx, "iteration %lld: dataset %s has producer_rank '%s'", (long long)seq,
                   sl->name, sl->rank_txt ? sl->rank_txt : "(none)");
      continue;
    }
    if (seen[r]++)
      verify_error(ctx, "iteration %lld: producer rank %ld appended twice", (long long)seq, r);
    {
      char want[SB_AGG_PREFIX_MAX + 24];
      sb_agg_dataset_name(opt_dataset_prefix, (int)r, want, sizeof want);
      if (strcmp(want, sl->name) != 0)
        verify_error(ctx, "producer rank %ld, iteration %lld: dataset is named %s, expected %s", r,
                     (long long)seq, sl->name, want);
    }
    if (!sl->iter_txt || strtoll(sl->iter_txt, NULL, 10) != seq)
      verify_error(ctx, "producer rank %ld, iteration %lld: dataset %s says iteration '%s'", r,
                   (long long)seq, sl->name, sl->iter_txt ? sl->iter_txt : "(none)");
    for (int t = 0; t < opt_tensors; t++) {
      sb_dataset_tensor_t *x = &sl->tensors[t];
      size_t first = 0, bad;
      if (!x->present) {
        verify_error(ctx, "producer rank %ld, iteration %lld, tensor %s: missing from dataset %s",
                     r, (long long)seq, x->name, sl->name);
        continue;
      }
      bad = sb_pattern_check(x->buf, opt_bytes, (uint64_t)r, sb_agg_stream(seq, t), &first);
      if (bad)
        verify_error(ctx,
                     "producer rank %ld, iteration %lld, tensor %s: %zu words differ, first at "
                     "byte %zu",
                     r, (long long)seq, x->name, bad, first);
    }
  }
  for (int64_t r = 0; r < opt_length; r++)
    if (!seen[r])
      verify_error(ctx, "iteration %lld: no dataset from producer rank %lld", (long long)seq,
                   (long long)r);
  free(seen);
  return SB_OK;
}

static void cons_teardown(sb_app_ctx_t *ctx)
{
  cons_state_t *s = ctx->state;
  if (!s)
    return;
  if (s->slots) {
    clear_slots(s);
    for (int64_t i = 0; i < opt_length; i++) {
      for (int t = 0; s->slots[i].tensors && t < opt_tensors; t++)
        free(s->slots[i].tensors[t].buf);
      free(s->slots[i].tensors);
    }
  }
  sb_dataset_pool_close(s->pool);
  free(s->slots);
  free(s->tnames);
  free(s);
  ctx->state = NULL;
}

static uint64_t cons_loop_bytes(const sb_app_ctx_t *ctx)
{
  (void)ctx;
  return opt_bytes * (uint64_t)opt_tensors * (uint64_t)opt_length;
}

static uint64_t cons_loop_items(const sb_app_ctx_t *ctx)
{
  (void)ctx;
  return (uint64_t)opt_length;
}

static void cons_describe(const sb_app_ctx_t *ctx, char *buf, size_t len)
{
  char sz[32];
  (void)ctx;
  sb_size_format(opt_bytes, sz, sizeof sz);
  snprintf(buf, len, "lists of %lld datasets of %lld x %s, %lld threads", (long long)opt_length,
           (long long)opt_tensors, sz, (long long)opt_threads);
}

static const sb_app_t consumer_app = {
  .name = "sb-agg-consumer",
  .summary = "Waits for each aggregation list iteration_<i> to fill, fetches its datasets "
             "(SmartRedis's layout) with several threads, verifies them and deletes the list "
             "and its datasets.",
  .opts = cons_opts,
  .n_opts = (int)(sizeof cons_opts / sizeof cons_opts[0]),
  .configure = cons_configure,
  .setup = cons_setup,
  .iteration = cons_iteration,
  .check = cons_check,
  .teardown = cons_teardown,
  .loop_bytes = cons_loop_bytes,
  .loop_items = cons_loop_items,
  .describe = cons_describe,
  .latency_phase = "get_list",
  .rate_phase = "get_list",
  .verify_passed = "every tensor of every dataset matched its producer's pattern",
  .verify_failed = "mismatches (missing datasets or tensors, or wrong bytes)",
  .sweep_name = "aggregation",
  .role = "consumer",
  .sweep_params = (const char *const[]){"tensor-bytes=tb", "tensors-per-dataset=tpd",
                                        "client-threads=ct", NULL},
};

int main(int argc, char **argv) { return sb_app_main(&consumer_app, argc, argv); }
