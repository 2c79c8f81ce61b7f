/* sb-throughput: every rank puts its own tensor and reads it back.
 *
 * Per iteration and rank: one put (AI.TENSORSET key FLOAT n BLOB, or SET in
 * raw mode) and one get (AI.TENSORGET key META BLOB unpacked into the
 * rank's buffer, or GET). Moves 2 x tensor-bytes per iteration; the pattern
 * written encodes rank and iteration, so every read is checked for a stale
 * or torn value (outside the timed part).
 * Phases: client_init, put_tensor, unpack_tensor, loop_time.
 *
 * --device gpu: the tensor is produced on the GPU (the pattern written by a
 * kernel, untimed), copied device -> pinned host memory before each put
 * (phase d2h) and host -> device after each get (phase h2d), and verified
 * on the GPU. Each rank drives device local rank mod visible devices.
 * Phases then: client_init, d2h, put_tensor, unpack_tensor, h2d, loop_time
 * (all four inside loop_time, whose bytes stay 2 x tensor-bytes).
 */
#include "sb_app.h"
#include "sb_db_ai.h"
#include "sb_error.h"
#include "sb_gpu.h"
#include "sb_log.h"
#include "sb_payload.h"
#include "sb_pattern.h"
#include "sb_size.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  unsigned char *send, *recv;
  char key[64];
  const char *dtype;
  int64_t dims[1];
  int raw;
  int put_phase, get_phase;
  /* --device gpu: send/recv above are pinned host memory, the tensor lives
   * in dev_send (written) and dev_recv (read back). */
  int gpu;
  void *dev_send, *dev_recv, *scratch, *stream;
  int d2h_phase, h2d_phase;
} tp_state_t;

static uint64_t opt_bytes;
static const char *opt_mode, *opt_device;

static const sb_opt_t tp_opts[] = {
  {"tensor-bytes", SB_OPT_SIZE, &opt_bytes, "1M", "bytes per tensor (one size per run)", NULL, 0, 0},
  {"mode", SB_OPT_CHOICE, &opt_mode, "tensor",
   "tensor: AI.TENSORSET/AI.TENSORGET through the module; raw: SET/GET on any Redis server",
   "tensor|raw", 0, 0},
  {"device", SB_OPT_CHOICE, &opt_device, "cpu",
   "where the tensor lives; gpu: made on the GPU, copied to pinned host memory before each put "
   "and back after each get (phases d2h, h2d); device = local rank mod visible devices",
   "cpu|gpu", 0, 0},
};

/* --device gpu, before any connection: a build with CUDA and a visible
 * device on every rank (agreed, so all ranks refuse together), the rank's
 * device made current, and rank 0's GPU recorded for /system. */
static int tp_configure(sb_app_ctx_t *ctx)
{
  sb_gpu_place_t place;
  char name[256], rt[32], drv[32];
  if (strcmp(opt_device, "gpu") != 0)
    return SB_OK;
  if (!sb_gpu_built()) {
    int n;
    sb_gpu_count(&n); /* sets the "built without CUDA" message */
    return sb_error_prefix("--device gpu");
  }
  if (sb_gpu_place(ctx->comm, ctx->local_rank, ctx->local_size, 0, &place) != SB_OK)
    return sb_error_prefix("--device gpu");
  ctx->device = place.device;
  if (ctx->rank == 0) {
    if (sb_gpu_name(place.device, name, sizeof name) != SB_OK ||
        sb_gpu_versions(rt, sizeof rt, drv, sizeof drv) != SB_OK) {
      sb_log(SB_LOG_WARN, "GPU provenance: %s", sb_error_msg());
      sb_error_clear();
      snprintf(name, sizeof name, "unavailable");
      snprintf(rt, sizeof rt, "unavailable");
      snprintf(drv, sizeof drv, "unavailable");
    }
    sb_kv_set_str(&ctx->system, "gpu_rank0_name", name);
    sb_kv_set_int(&ctx->system, "gpu_rank0_visible_devices", place.count);
    sb_kv_set_str(&ctx->system, "cuda_runtime_version", rt);
    sb_kv_set_str(&ctx->system, "cuda_driver_version", drv);
  }
  return SB_OK;
}

/* Pinned host buffers, the two device buffers, the check's scratch and the
 * stream of the copies; the d2h and h2d phases around the database ones. */
static int tp_setup_gpu(sb_app_ctx_t *ctx, tp_state_t *s)
{
  s->gpu = 1;
  if (sb_gpu_alloc_pinned((void **)&s->send, opt_bytes) != SB_OK ||
      sb_gpu_alloc_pinned((void **)&s->recv, opt_bytes) != SB_OK ||
      sb_gpu_alloc(&s->dev_send, opt_bytes) != SB_OK ||
      sb_gpu_alloc(&s->dev_recv, opt_bytes) != SB_OK ||
      sb_gpu_alloc(&s->scratch, 16) != SB_OK || sb_gpu_stream_create(&s->stream) != SB_OK ||
      sb_gpu_memset(s->dev_send, 0, opt_bytes, s->stream) != SB_OK ||
      sb_gpu_memset(s->dev_recv, 0, opt_bytes, s->stream) != SB_OK ||
      sb_gpu_sync(s->stream) != SB_OK)
    return sb_error_prefix("--device gpu: buffers of %llu bytes on device %d",
                           (unsigned long long)opt_bytes, ctx->device);
  memset(s->send, 0, opt_bytes);
  memset(s->recv, 0, opt_bytes);
  s->d2h_phase = sb_timings_add(&ctx->timings, "d2h", ctx->opts.iterations, opt_bytes, 1);
  return s->d2h_phase < 0 ? SB_ERR : SB_OK;
}

static int tp_setup(sb_app_ctx_t *ctx)
{
  tp_state_t *s;
  s = calloc(1, sizeof *s);
  if (!s)
    return sb_error("out of memory");
  ctx->state = s;
  if (strcmp(opt_device, "gpu") == 0) {
    if (tp_setup_gpu(ctx, s) != SB_OK)
      return SB_ERR;
  } else {
    s->send = malloc(opt_bytes);
    s->recv = malloc(opt_bytes);
    if (!s->send || !s->recv)
      return sb_error("cannot allocate two buffers of %llu bytes", (unsigned long long)opt_bytes);
    memset(s->send, 0, opt_bytes);
    memset(s->recv, 0, opt_bytes);
  }
  s->raw = strcmp(opt_mode, "raw") == 0;
  snprintf(s->key, sizeof s->key, "sb:tp:rank%d", ctx->rank);
  s->dtype = sb_payload_dtype(opt_bytes, &s->dims[0]);
  s->put_phase = sb_timings_add(&ctx->timings, "put_tensor", ctx->opts.iterations, opt_bytes, 1);
  s->get_phase =
      sb_timings_add(&ctx->timings, "unpack_tensor", ctx->opts.iterations, opt_bytes, 1);
  if (s->put_phase < 0 || s->get_phase < 0)
    return SB_ERR;
  if (s->gpu && (s->h2d_phase = sb_timings_add(&ctx->timings, "h2d", ctx->opts.iterations,
                                               opt_bytes, 1)) < 0)
    return SB_ERR;
  if (!s->raw && sb_ai_require_module(ctx->db, "--mode tensor needs it; --mode raw does not") != SB_OK)
    return SB_ERR;
  return SB_OK;
}

static int tp_prepare(sb_app_ctx_t *ctx, int64_t seq)
{
  tp_state_t *s = ctx->state;
  if (ctx->opts.no_verify && seq != 0)
    return SB_OK;
  if (s->gpu)
    return sb_gpu_pattern_fill(s->dev_send, opt_bytes, (uint64_t)ctx->rank, (uint64_t)seq,
                               s->stream) == SB_OK
               ? SB_OK
               : sb_error_prefix("writing the pattern on device %d", ctx->device);
  sb_pattern_fill(s->send, opt_bytes, (uint64_t)ctx->rank, (uint64_t)seq);
  return SB_OK;
}

static int tp_iteration(sb_app_ctx_t *ctx, int64_t seq, int timed)
{
  tp_state_t *s = ctx->state;
  size_t got = 0;
  double td, t0, t1, t2, th;
  (void)seq;
  td = sb_now();
  if (s->gpu && sb_gpu_copy_to_host(s->send, s->dev_send, opt_bytes, s->stream) != SB_OK)
    return sb_error_prefix("d2h");
  t0 = sb_now();
  if ((s->raw ? sb_db_set(ctx->db, s->key, s->send, opt_bytes)
              : sb_db_put_tensor(ctx->db, s->key, s->dtype, s->dims, 1, s->send, opt_bytes)) !=
      SB_OK)
    return sb_error_prefix("put_tensor");
  t1 = sb_now();
  if (s->raw) {
    if (sb_db_get(ctx->db, s->key, s->recv, opt_bytes, &got) != SB_OK)
      return sb_error_prefix("unpack_tensor");
    if (got != opt_bytes)
      return sb_error("unpack_tensor: GET returned %zu bytes, expected %llu", got,
                      (unsigned long long)opt_bytes);
  } else if (sb_db_get_tensor(ctx->db, s->key, s->dtype, s->dims, 1, s->recv, opt_bytes) !=
             SB_OK) {
    return sb_error_prefix("unpack_tensor");
  }
  t2 = sb_now();
  if (s->gpu && sb_gpu_copy_to_device(s->dev_recv, s->recv, opt_bytes, s->stream) != SB_OK)
    return sb_error_prefix("h2d");
  th = sb_now();
  if (timed) {
    sb_phase_record(&ctx->timings.phases[s->put_phase], t1 - t0);
    sb_phase_record(&ctx->timings.phases[s->get_phase], t2 - t1);
    if (s->gpu) {
      sb_phase_record(&ctx->timings.phases[s->d2h_phase], t0 - td);
      sb_phase_record(&ctx->timings.phases[s->h2d_phase], th - t2);
    }
  }
  return SB_OK;
}

static int tp_check(sb_app_ctx_t *ctx, int64_t seq)
{
  tp_state_t *s = ctx->state;
  size_t first = 0, bad;
  if (s->gpu) {
    if (sb_gpu_pattern_check(s->dev_recv, opt_bytes, (uint64_t)ctx->rank, (uint64_t)seq,
                             s->scratch, s->stream, &bad, &first) != SB_OK)
      return sb_error_prefix("checking the tensor on device %d", ctx->device);
  } else {
    bad = sb_pattern_check(s->recv, opt_bytes, (uint64_t)ctx->rank, (uint64_t)seq, &first);
  }
  if (bad) {
    if (ctx->verify_errors < 5)
      sb_log(SB_LOG_ERROR,
             "verification: rank %d iteration %lld: %zu of %llu words differ, first at byte %zu "
             "(stale or torn read)",
             ctx->rank, (long long)seq, bad, (unsigned long long)((opt_bytes + 7) / 8), first);
    ctx->verify_errors++;
  }
  return SB_OK;
}

static void tp_teardown(sb_app_ctx_t *ctx)
{
  tp_state_t *s = ctx->state;
  if (!s)
    return;
  if (ctx->db && sb_db_del(ctx->db, s->key) != SB_OK)
    sb_log(SB_LOG_DEBUG, "cleanup: %s", sb_error_msg());
  if (s->gpu) {
    /* The stream first: nothing may still be running on the buffers. */
    if (s->stream)
      sb_cleanup_step(sb_gpu_sync(s->stream));
    sb_cleanup_step(sb_gpu_stream_destroy(s->stream));
    sb_cleanup_step(sb_gpu_free(s->dev_send));
    sb_cleanup_step(sb_gpu_free(s->dev_recv));
    sb_cleanup_step(sb_gpu_free(s->scratch));
    sb_cleanup_step(sb_gpu_free_pinned(s->send));
    sb_cleanup_step(sb_gpu_free_pinned(s->recv));
  } else {
    free(s->send);
    free(s->recv);
  }
  free(s);
  ctx->state = NULL;
}

static uint64_t tp_loop_bytes(const sb_app_ctx_t *ctx)
{
  (void)ctx;
  return 2 * opt_bytes;
}

static uint64_t tp_loop_items(const sb_app_ctx_t *ctx)
{
  (void)ctx;
  return 2;
}

static void tp_describe(const sb_app_ctx_t *ctx, char *buf, size_t len)
{
  char sz[32];
  (void)ctx;
  sb_size_format(opt_bytes, sz, sizeof sz);
  snprintf(buf, len, "%s %s%s", sz, strcmp(opt_mode, "raw") == 0 ? "raw SET/GET" : "tensors",
           strcmp(opt_device, "gpu") == 0 ? " from GPU memory (pinned copies)" : "");
}

static const sb_app_t throughput_app = {
  .name = "sb-throughput",
  .summary = "Put and get one tensor per rank per iteration; every byte read back is verified.",
  .opts = tp_opts,
  .n_opts = (int)(sizeof tp_opts / sizeof tp_opts[0]),
  .configure = tp_configure,
  .setup = tp_setup,
  .prepare = tp_prepare,
  .iteration = tp_iteration,
  .check = tp_check,
  .teardown = tp_teardown,
  .loop_bytes = tp_loop_bytes,
  .loop_items = tp_loop_items,
  .describe = tp_describe,
  .latency_phase = "put_tensor",
  .sweep_params = (const char *const[]){"tensor-bytes=tb", "mode=mode", "device=dev", NULL},
};

int main(int argc, char **argv) { return sb_app_main(&throughput_app, argc, argv); }
