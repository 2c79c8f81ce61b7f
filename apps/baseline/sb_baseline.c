/* sb-baseline: the same tensor sizes between ranks over MPI (or NCCL with
 * --device gpu), no database;
 * the interconnect's own figure beside the database's.
 *
 * --pattern pingpong: ranks paired (0,1), (2,3), ...; per iteration the
 *   even rank sends tensor-bytes to its partner and receives them back, the
 *   odd rank receives and sends (MPI_Send/MPI_Recv). One sample is the round
 *   trip. An odd rank count is refused (no rank idles silently).
 * --pattern ring: per iteration every rank sends tensor-bytes to rank+1 and
 *   receives from rank-1 in one MPI_Sendrecv. One sample is that call.
 *
 * Bytes per sample (pingpong, ring): tensor-bytes, the bytes this rank sends, so that the
 * table's aggregate GB/s is every byte on the wire counted once per
 * second. nccl-tests' algorithm bandwidth follows from the same samples:
 * pingpong algbw = bytes / (round trip / 2), ring (sendrecv) algbw =
 * bytes / time; busbw = algbw for both. Every received buffer is checked
 * against the pattern of (sender's rank, iteration), outside the timed part.
 * --pattern allgather: every rank contributes tensor-bytes and gets every
 *   rank's (MPI_Allgather). Bytes per sample: (nranks-1) x tensor-bytes,
 *   what each rank must send so the others have its tensor; nccl-tests'
 *   algbw = nranks x bytes / time, busbw = algbw x (nranks-1)/nranks.
 *
 * --device gpu: the same three patterns over NCCL between GPUs (bl_nccl.h),
 *   one GPU per rank (device = local rank mod visible devices), buffers in
 *   device memory, the pattern written and checked by kernels on the GPU;
 *   ping-pong is ncclSend/ncclRecv, ring one ncclSend + ncclRecv group,
 *   all-gather ncclAllGather. Same phases and file as over MPI.
 * Phases: pingpong, ring or allgather, loop_time.
 */
#include "sb_app.h"
#include "bl_nccl.h"
#include "sb_error.h"
#include "sb_gpu.h"
#include "sb_log.h"
#include "sb_pattern.h"
#include "sb_size.h"
#include "sb_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  unsigned char *send, *recv; /* recv: nranks x bytes for allgather */
  int pingpong;   /* else ring or allgather */
  int allgather;
  int to, from;   /* partner ranks (the same one in pingpong) */
  int first;      /* pingpong: this rank sends first (even rank) */
  int phase;
  /* --device gpu: send/recv are device memory, moved by NCCL. */
  int gpu;
  bl_nccl_t *nccl;
  void *stream, *scratch;
} bl_state_t;

static uint64_t opt_bytes;
static const char *opt_pattern, *opt_device;

static const sb_opt_t bl_opts[] = {
  {"tensor-bytes", SB_OPT_SIZE, &opt_bytes, "1M", "bytes per message (one size per run)", NULL, 0,
   0},
  {"pattern", SB_OPT_CHOICE, &opt_pattern, "pingpong",
   "pingpong: ranks paired (0,1),(2,3).., even sends then receives (even rank count); ring: "
   "MPI_Sendrecv to rank+1 from rank-1; allgather: every rank's tensor to every rank",
   "pingpong|ring|allgather", 0, 0},
  {"device", SB_OPT_CHOICE, &opt_device, "cpu",
   "cpu: host buffers over MPI; gpu: device buffers over NCCL, one GPU per rank (local rank mod "
   "visible devices)",
   "cpu|gpu", 0, 0},
};

/* --device gpu, before anything else: a build with CUDA and NCCL, one
 * visible GPU per rank on every node (agreed by all ranks), the rank's
 * device made current, and rank 0's GPU and NCCL recorded for /system. */
static int bl_configure_gpu(sb_app_ctx_t *ctx)
{
  sb_gpu_place_t place;
  char name[256], rt[32], drv[32], nv[32];
  if (!sb_gpu_built()) {
    int n;
    sb_gpu_count(&n); /* sets the "built without CUDA" message */
    return sb_error_prefix("--device gpu");
  }
  if (!bl_nccl_built()) {
    bl_nccl_version(nv, sizeof nv); /* sets the "NCCL was not found" message */
    return sb_error_prefix("--device gpu");
  }
  if (sb_gpu_place(ctx->comm, ctx->local_rank, ctx->local_size, 1, &place) != SB_OK)
    return sb_error_prefix("--device gpu");
  ctx->device = place.device;
  if (ctx->rank == 0) {
    if (sb_gpu_name(place.device, name, sizeof name) != SB_OK ||
        sb_gpu_versions(rt, sizeof rt, drv, sizeof drv) != SB_OK ||
        bl_nccl_version(nv, sizeof nv) != SB_OK) {
      sb_log(SB_LOG_WARN, "GPU provenance: %s", sb_error_msg());
      sb_error_clear();
      snprintf(name, sizeof name, "unavailable");
      snprintf(rt, sizeof rt, "unavailable");
      snprintf(drv, sizeof drv, "unavailable");
      snprintf(nv, sizeof nv, "unavailable");
    }
    sb_kv_set_str(&ctx->system, "gpu_rank0_name", name);
    sb_kv_set_int(&ctx->system, "gpu_rank0_visible_devices", place.count);
    sb_kv_set_str(&ctx->system, "cuda_runtime_version", rt);
    sb_kv_set_str(&ctx->system, "cuda_driver_version", drv);
    sb_kv_set_str(&ctx->system, "nccl_version", nv);
  }
  return SB_OK;
}

static int bl_configure(sb_app_ctx_t *ctx)
{
  if (strcmp(opt_pattern, "pingpong") == 0 && ctx->nranks % 2 != 0)
    return sb_error("--pattern pingpong needs an even number of ranks (pairs (0,1),(2,3)..), "
                    "got %d; use --pattern ring or an even -n",
                    ctx->nranks);
  if (opt_bytes > (uint64_t)2147483647)
    return sb_error("--tensor-bytes: at most 2G-1 bytes (one MPI message of MPI_BYTE)");
  if (strcmp(opt_device, "gpu") == 0)
    return bl_configure_gpu(ctx);
  return SB_OK;
}

/* Bytes one sample moves out of this rank (see the top of the file). */
static uint64_t bl_sample_bytes(const sb_app_ctx_t *ctx)
{
  if (strcmp(opt_pattern, "allgather") == 0)
    return (uint64_t)(ctx->nranks - 1) * opt_bytes;
  return opt_bytes;
}

/* Device buffers (recv zeroed), the stream, the check's scratch, and the
 * NCCL communicator. The communicator is collective: every rank reaches it,
 * and only if every rank's buffers were allocated (an agreed outcome),
 * so no rank waits in ncclCommInitRank for one that already gave up. */
static int bl_setup_gpu(sb_app_ctx_t *ctx, bl_state_t *s, size_t recv_bytes)
{
  int ok = 1, all = 0, rc;
  s->gpu = 1;
  if (sb_gpu_alloc((void **)&s->send, opt_bytes) != SB_OK ||
      sb_gpu_alloc((void **)&s->recv, recv_bytes) != SB_OK ||
      sb_gpu_alloc(&s->scratch, 16) != SB_OK || sb_gpu_stream_create(&s->stream) != SB_OK ||
      sb_gpu_memset(s->send, 0, opt_bytes, s->stream) != SB_OK ||
      sb_gpu_memset(s->recv, 0, recv_bytes, s->stream) != SB_OK ||
      sb_gpu_sync(s->stream) != SB_OK) {
    sb_error_prefix("device buffers (%llu + %llu bytes) on device %d",
                    (unsigned long long)opt_bytes, (unsigned long long)recv_bytes, ctx->device);
    ok = 0;
  }
  if ((rc = MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, ctx->comm)) != MPI_SUCCESS)
    return sb_error_mpi(__FILE__, __LINE__, "MPI_Allreduce(ok)", rc);
  if (!ok)
    return SB_ERR;
  if (!all)
    return sb_error("another rank could not allocate its device buffers (see its message)");
  if (bl_nccl_open(ctx->comm, &s->nccl) != SB_OK)
    return sb_error_prefix("NCCL communicator over %d ranks", ctx->nranks);
  return SB_OK;
}

static int bl_setup(sb_app_ctx_t *ctx)
{
  bl_state_t *s = calloc(1, sizeof *s);
  size_t recv_bytes;
  if (!s)
    return sb_error("out of memory");
  ctx->state = s;
  s->allgather = strcmp(opt_pattern, "allgather") == 0;
  recv_bytes = s->allgather ? (size_t)ctx->nranks * opt_bytes : opt_bytes;
  if (strcmp(opt_device, "gpu") == 0) {
    if (bl_setup_gpu(ctx, s, recv_bytes) != SB_OK)
      return SB_ERR;
  } else {
    s->send = malloc(opt_bytes);
    s->recv = malloc(recv_bytes);
    if (!s->send || !s->recv)
      return sb_error("cannot allocate buffers of %llu and %llu bytes",
                      (unsigned long long)opt_bytes, (unsigned long long)recv_bytes);
    memset(s->send, 0, opt_bytes);
    memset(s->recv, 0, recv_bytes);
  }
  s->pingpong = strcmp(opt_pattern, "pingpong") == 0;
  if (s->pingpong) {
    s->to = s->from = ctx->rank ^ 1;
    s->first = ctx->rank % 2 == 0;
  } else {
    s->to = (ctx->rank + 1) % ctx->nranks;
    s->from = (ctx->rank + ctx->nranks - 1) % ctx->nranks;
  }
  s->phase = sb_timings_add(&ctx->timings, opt_pattern, ctx->opts.iterations,
                            bl_sample_bytes(ctx), 1);
  return s->phase < 0 ? SB_ERR : SB_OK;
}

static int bl_prepare(sb_app_ctx_t *ctx, int64_t seq)
{
  bl_state_t *s = ctx->state;
  if (ctx->opts.no_verify && seq != 0)
    return SB_OK;
  if (s->gpu)
    return sb_gpu_pattern_fill(s->send, opt_bytes, (uint64_t)ctx->rank, (uint64_t)seq,
                               s->stream) == SB_OK
               ? SB_OK
               : sb_error_prefix("writing the pattern on device %d", ctx->device);
  sb_pattern_fill(s->send, opt_bytes, (uint64_t)ctx->rank, (uint64_t)seq);
  return SB_OK;
}

/* One NCCL operation, complete on return (bl_nccl.h). */
static int bl_iteration_gpu(bl_state_t *s)
{
  if (s->pingpong)
    return bl_nccl_pingpong(s->nccl, s->send, s->recv, opt_bytes, s->to, s->first, s->stream);
  if (s->allgather)
    return bl_nccl_allgather(s->nccl, s->send, s->recv, opt_bytes, s->stream);
  return bl_nccl_sendrecv(s->nccl, s->send, s->recv, opt_bytes, s->to, s->from, s->stream);
}

static int bl_iteration(sb_app_ctx_t *ctx, int64_t seq, int timed)
{
  bl_state_t *s = ctx->state;
  int n = (int)opt_bytes, tag = (int)(seq % 32768);
  double t0 = sb_now();
  if (s->gpu) {
    if (bl_iteration_gpu(s) != SB_OK)
      return sb_error_prefix("NCCL %s", opt_pattern);
  } else if (s->allgather) {
    SB_MPI(MPI_Allgather(s->send, n, MPI_BYTE, s->recv, n, MPI_BYTE, ctx->comm));
  } else if (s->pingpong && s->first) {
    SB_MPI(MPI_Send(s->send, n, MPI_BYTE, s->to, tag, ctx->comm));
    SB_MPI(MPI_Recv(s->recv, n, MPI_BYTE, s->from, tag, ctx->comm, MPI_STATUS_IGNORE));
  } else if (s->pingpong) {
    SB_MPI(MPI_Recv(s->recv, n, MPI_BYTE, s->from, tag, ctx->comm, MPI_STATUS_IGNORE));
    SB_MPI(MPI_Send(s->send, n, MPI_BYTE, s->to, tag, ctx->comm));
  } else {
    SB_MPI(MPI_Sendrecv(s->send, n, MPI_BYTE, s->to, tag, s->recv, n, MPI_BYTE, s->from, tag,
                        ctx->comm, MPI_STATUS_IGNORE));
  }
  if (timed)
    sb_phase_record(&ctx->timings.phases[s->phase], sb_now() - t0);
  return SB_OK;
fail: /* an MPI call failed: SB_MPI left the message */
  return SB_ERR;
}

/* Checks one received tensor, at buf, against sender's pattern of
 * iteration seq: on the GPU for --device gpu, else on the host. */
static int bl_check_one(sb_app_ctx_t *ctx, const unsigned char *buf, int sender, int64_t seq)
{
  bl_state_t *s = ctx->state;
  size_t first = 0, bad;
  if (s->gpu) {
    if (sb_gpu_pattern_check(buf, opt_bytes, (uint64_t)sender, (uint64_t)seq, s->scratch,
                             s->stream, &bad, &first) != SB_OK)
      return sb_error_prefix("checking what arrived on device %d", ctx->device);
  } else {
    bad = sb_pattern_check(buf, opt_bytes, (uint64_t)sender, (uint64_t)seq, &first);
  }
  if (bad) {
    if (ctx->verify_errors < 5)
      sb_log(SB_LOG_ERROR,
             "verification: rank %d iteration %lld: %zu of %llu words from rank %d differ, first "
             "at byte %zu",
             ctx->rank, (long long)seq, bad, (unsigned long long)((opt_bytes + 7) / 8), sender,
             first);
    ctx->verify_errors++;
  }
  return SB_OK;
}

/* What arrived came from s->from in iteration seq (all-gather: rank r's
 * tensor at r x bytes): its pattern. The buffer is cleared afterwards, so a
 * message that never arrives cannot pass next time. */
static int bl_check(sb_app_ctx_t *ctx, int64_t seq)
{
  bl_state_t *s = ctx->state;
  int senders = s->allgather ? ctx->nranks : 1;
  size_t recv_bytes = (size_t)senders * opt_bytes;
  for (int k = 0; k < senders; k++)
    if (bl_check_one(ctx, s->recv + (size_t)k * opt_bytes, s->allgather ? k : s->from, seq) !=
        SB_OK)
      return SB_ERR;
  if (s->gpu)
    return sb_gpu_memset(s->recv, 0, recv_bytes, s->stream) == SB_OK && sb_gpu_sync(s->stream) == SB_OK
               ? SB_OK
               : sb_error_prefix("clearing the receive buffer");
  memset(s->recv, 0, recv_bytes);
  return SB_OK;
}

static void bl_teardown(sb_app_ctx_t *ctx)
{
  bl_state_t *s = ctx->state;
  if (!s)
    return;
  if (s->gpu) {
    if (s->stream)
      sb_cleanup_step(sb_gpu_sync(s->stream));
    sb_cleanup_step(bl_nccl_close(s->nccl));
    sb_cleanup_step(sb_gpu_stream_destroy(s->stream));
    sb_cleanup_step(sb_gpu_free(s->send));
    sb_cleanup_step(sb_gpu_free(s->recv));
    sb_cleanup_step(sb_gpu_free(s->scratch));
  } else {
    free(s->send);
    free(s->recv);
  }
  free(s);
  ctx->state = NULL;
}

static uint64_t bl_loop_bytes(const sb_app_ctx_t *ctx) { return bl_sample_bytes(ctx); }

/* Rank 0's own median sample gives nccl-tests' algbw/busbw for the last
 * line (rank 0 is in pair (0,1) and in the ring like every other rank). */
static void bl_describe(const sb_app_ctx_t *ctx, char *buf, size_t len)
{
  const bl_state_t *s = ctx->state;
  char sz[32];
  double algbw = 0, busbw;
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
    if (s->allgather)
      algbw *= ctx->nranks; /* the gathered buffer, nccl-tests' size */
  }
  /* nccl-tests' bus bandwidth factor: all-gather (n-1)/n, send/recv 1. */
  busbw = s && s->allgather ? algbw * (ctx->nranks - 1) / ctx->nranks : algbw;
  snprintf(buf, len, "%s %s %s, rank 0 algbw %.3f GB/s busbw %.3f GB/s (p50, nccl-tests)", sz,
           s && s->gpu ? "NCCL" : "MPI", opt_pattern, algbw / 1e9, busbw / 1e9);
}

static const sb_app_t baseline_app = {
  .name = "sb-baseline",
  .summary = "The same tensor sizes between ranks over MPI (host) or NCCL (GPU): ping-pong, "
             "ring or all-gather, no database; every byte received is verified.",
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
  .verify_passed = "every byte received matched the sender's pattern",
  .verify_failed = "messages did not match the sender's pattern",
  .no_database = 1,
  .sweep_params = (const char *const[]){"tensor-bytes=tb", "device=dev", "pattern=pat", NULL},
};

int main(int argc, char **argv) { return sb_app_main(&baseline_app, argc, argv); }
