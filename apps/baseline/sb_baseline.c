/* sb-baseline: the same tensor sizes between ranks over MPI, no database;
 * the interconnect's own figure beside the database's.
 *
 * --pattern pingpong: ranks paired (0,1), (2,3), ...; per iteration the
 *   even rank sends tensor-bytes to its partner and receives them back, the
 *   odd rank receives and sends (MPI_Send/MPI_Recv). One sample is the round
 *   trip. An odd rank count is refused (no rank idles silently).
 * --pattern ring: per iteration every rank sends tensor-bytes to rank+1 and
 *   receives from rank-1 in one MPI_Sendrecv. One sample is that call.
 *
 * Bytes per sample: tensor-bytes, the bytes this rank sends, so that the
 * table's aggregate GB/s is every byte on the wire counted once per
 * second. nccl-tests' algorithm bandwidth follows from the same samples:
 * pingpong algbw = bytes / (round trip / 2), ring (sendrecv) algbw =
 * bytes / time; busbw = algbw for both. Every received buffer is checked
 * against the pattern of (sender's rank, iteration), outside the timed part.
 * Phases: pingpong or ring, loop_time.
 */
#include "sb_app.h"
#include "sb_error.h"
#include "sb_log.h"
#include "sb_pattern.h"
#include "sb_size.h"
#include "sb_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  unsigned char *send, *recv;
  int pingpong;   /* else ring */
  int to, from;   /* partner ranks (the same one in pingpong) */
  int first;      /* pingpong: this rank sends first (even rank) */
  int phase;
} bl_state_t;

static uint64_t opt_bytes;
static const char *opt_pattern, *opt_device;

static const sb_opt_t bl_opts[] = {
  {"tensor-bytes", SB_OPT_SIZE, &opt_bytes, "1M", "bytes per message (one size per run)", NULL, 0,
   0},
  {"pattern", SB_OPT_CHOICE, &opt_pattern, "pingpong",
   "pingpong: ranks paired (0,1),(2,3).., even sends then receives (even rank count); ring: "
   "MPI_Sendrecv to rank+1 from rank-1",
   "pingpong|ring", 0, 0},
  {"device", SB_OPT_CHOICE, &opt_device, "cpu",
   "where the buffers live (gpu: MPI from device memory and NCCL, not built yet)", "cpu|gpu", 0,
   0},
};

/* MPI calls inside an iteration: the library's message, then SB_ERR. */
#define BL_MPI(expr)                                                          \
  do {                                                                        \
    int bl_rc_ = (expr);                                                      \
    if (bl_rc_ != MPI_SUCCESS)                                                \
      return sb_error_mpi(__FILE__, __LINE__, #expr, bl_rc_);                 \
  } while (0)

static int bl_configure(sb_app_ctx_t *ctx)
{
  if (strcmp(opt_device, "gpu") == 0)
    return sb_error("--device gpu needs the GPU layer (device buffers and NCCL), not built yet; "
                    "use --device cpu");
  if (strcmp(opt_pattern, "pingpong") == 0 && ctx->nranks % 2 != 0)
    return sb_error("--pattern pingpong needs an even number of ranks (pairs (0,1),(2,3)..), "
                    "got %d; use --pattern ring or an even -n",
                    ctx->nranks);
  if (opt_bytes > (uint64_t)2147483647)
    return sb_error("--tensor-bytes: at most 2G-1 bytes (one MPI message of MPI_BYTE)");
  return SB_OK;
}

static int bl_setup(sb_app_ctx_t *ctx)
{
  bl_state_t *s = calloc(1, sizeof *s);
  if (!s)
    return sb_error("out of memory");
  ctx->state = s;
  s->send = malloc(opt_bytes);
  s->recv = malloc(opt_bytes);
  if (!s->send || !s->recv)
    return sb_error("cannot allocate two buffers of %llu bytes", (unsigned long long)opt_bytes);
  memset(s->send, 0, opt_bytes);
  memset(s->recv, 0, opt_bytes);
  s->pingpong = strcmp(opt_pattern, "pingpong") == 0;
  if (s->pingpong) {
    s->to = s->from = ctx->rank ^ 1;
    s->first = ctx->rank % 2 == 0;
  } else {
    s->to = (ctx->rank + 1) % ctx->nranks;
    s->from = (ctx->rank + ctx->nranks - 1) % ctx->nranks;
  }
  s->phase = sb_timings_add(&ctx->timings, opt_pattern, ctx->opts.iterations, opt_bytes, 1);
  return s->phase < 0 ? SB_ERR : SB_OK;
}

static int bl_prepare(sb_app_ctx_t *ctx, int64_t seq)
{
  bl_state_t *s = ctx->state;
  if (!ctx->opts.no_verify || seq == 0)
    sb_pattern_fill(s->send, opt_bytes, (uint64_t)ctx->rank, (uint64_t)seq);
  return SB_OK;
}

static int bl_iteration(sb_app_ctx_t *ctx, int64_t seq, int timed)
{
  bl_state_t *s = ctx->state;
  int n = (int)opt_bytes, tag = (int)(seq % 32768);
  double t0 = sb_now();
  if (s->pingpong && s->first) {
    BL_MPI(MPI_Send(s->send, n, MPI_BYTE, s->to, tag, ctx->comm));
    BL_MPI(MPI_Recv(s->recv, n, MPI_BYTE, s->from, tag, ctx->comm, MPI_STATUS_IGNORE));
  } else if (s->pingpong) {
    BL_MPI(MPI_Recv(s->recv, n, MPI_BYTE, s->from, tag, ctx->comm, MPI_STATUS_IGNORE));
    BL_MPI(MPI_Send(s->send, n, MPI_BYTE, s->to, tag, ctx->comm));
  } else {
    BL_MPI(MPI_Sendrecv(s->send, n, MPI_BYTE, s->to, tag, s->recv, n, MPI_BYTE, s->from, tag,
                        ctx->comm, MPI_STATUS_IGNORE));
  }
  if (timed)
    sb_phase_record(&ctx->timings.phases[s->phase], sb_now() - t0);
  return SB_OK;
}

/* What arrived came from s->from in iteration seq: its pattern. */
static int bl_check(sb_app_ctx_t *ctx, int64_t seq)
{
  bl_state_t *s = ctx->state;
  size_t first = 0;
  size_t bad = sb_pattern_check(s->recv, opt_bytes, (uint64_t)s->from, (uint64_t)seq, &first);
  if (bad) {
    if (ctx->verify_errors < 5)
      sb_log(SB_LOG_ERROR,
             "verification: rank %d iteration %lld: %zu of %llu words from rank %d differ, first "
             "at byte %zu",
             ctx->rank, (long long)seq, bad, (unsigned long long)((opt_bytes + 7) / 8), s->from,
             first);
    ctx->verify_errors++;
  }
  memset(s->recv, 0, opt_bytes); /* a message that never arrives must not pass next time */
  return SB_OK;
}

static void bl_teardown(sb_app_ctx_t *ctx)
{
  bl_state_t *s = ctx->state;
  if (!s)
    return;
  free(s->send);
  free(s->recv);
  free(s);
  ctx->state = NULL;
}

static uint64_t bl_loop_bytes(const sb_app_ctx_t *ctx)
{
  (void)ctx;
  return opt_bytes;
}

/* Rank 0's own median sample gives nccl-tests' algbw/busbw for the last
 * line (rank 0 is in pair (0,1) and in the ring like every other rank). */
static void bl_describe(const sb_app_ctx_t *ctx, char *buf, size_t len)
{
  const bl_state_t *s = ctx->state;
  char sz[32];
  double algbw = 0;
  sb_size_format(opt_bytes, sz, sizeof sz);
  if (s && s->phase >= 0 && ctx->timings.phases[s->phase].n > 0) {
    const sb_phase_t *p = &ctx->timings.phases[s->phase];
    sb_stats_t st;
    double *copy = malloc((size_t)p->n * sizeof *copy); /* the stats sort in place */
    if (!copy)
      return;
    memcpy(copy, p->samples, (size_t)p->n * sizeof *copy);
    sb_stats_compute(copy, (size_t)p->n, &st);
    free(copy);
    if (st.p50 > 0)
      algbw = (double)opt_bytes / (s->pingpong ? st.p50 / 2 : st.p50);
  }
  snprintf(buf, len, "%s MPI %s, rank 0 algbw %.3f GB/s busbw %.3f GB/s (p50, nccl-tests)", sz,
           opt_pattern, algbw / 1e9, algbw / 1e9);
}

static const sb_app_t baseline_app = {
  .name = "sb-baseline",
  .summary = "The same tensor sizes between ranks over MPI (ping-pong or ring), no database; "
             "every byte received is verified.",
  .opts = bl_opts,
  .n_opts = (int)(sizeof bl_opts / sizeof bl_opts[0]),
  .configure = bl_configure,
  .setup = bl_setup,
  .prepare = bl_prepare,
  .iteration = bl_iteration,
  .check = bl_check,
  .teardown = bl_teardown,
  .loop_bytes = bl_loop_bytes,
  .describe = bl_describe,
  .latency_phase = "loop_time",
  .verify_passed = "every byte received matched the sender's pattern",
  .verify_failed = "messages did not match the sender's pattern",
  .no_database = 1,
};

int main(int argc, char **argv) { return sb_app_main(&baseline_app, argc, argv); }
