/* sb-memcpy: a test app that exists to prove that an app is its C file and
 * one CMake line. It is built only for the tests, into BUILD/test-apps/,
 * and nothing in the front end names it: `stagebench sweep memcpy` and
 * `stagebench report` learn it from `sb-memcpy --describe` alone
 * (tests/frontend/new_app.sh).
 *
 * Per iteration every rank copies --tensor-bytes within its memory (memcpy
 * from one buffer to another); --passes copies per sample. No database.
 * Phases: copy, loop_time. Every byte of the copy is checked.
 */
#include "sb_app.h"
#include "sb_error.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  unsigned char *src, *dst;
  int phase;
} mc_state_t;

static uint64_t opt_bytes;
static int64_t opt_passes;

static const sb_opt_t mc_opts[] = {
  {"tensor-bytes", SB_OPT_SIZE, &opt_bytes, "64K", "bytes copied per pass", NULL, 0, 0},
  {"passes", SB_OPT_INT, &opt_passes, "1", "copies per sample", NULL, 1, 1000},
};

static int mc_setup(sb_app_ctx_t *ctx)
{
  mc_state_t *s = calloc(1, sizeof *s);
  if (!s)
    return sb_error("out of memory");
  ctx->state = s;
  s->src = malloc(opt_bytes);
  s->dst = malloc(opt_bytes);
  if (!s->src || !s->dst)
    return sb_error("cannot allocate 2 x %llu bytes", (unsigned long long)opt_bytes);
  for (uint64_t k = 0; k < opt_bytes; k++)
    s->src[k] = (unsigned char)(k * 7 + (uint64_t)ctx->rank);
  s->phase = sb_timings_add(&ctx->timings, "copy", ctx->opts.iterations,
                            opt_bytes * (uint64_t)opt_passes, 1);
  return s->phase < 0 ? SB_ERR : SB_OK;
}

static int mc_iteration(sb_app_ctx_t *ctx, int64_t seq, int timed)
{
  mc_state_t *s = ctx->state;
  double t0 = sb_now();
  (void)seq;
  for (int64_t p = 0; p < opt_passes; p++)
    memcpy(s->dst, s->src, opt_bytes);
  if (timed)
    sb_phase_record(&ctx->timings.phases[s->phase], sb_now() - t0);
  return SB_OK;
}

static int mc_check(sb_app_ctx_t *ctx, int64_t seq)
{
  mc_state_t *s = ctx->state;
  (void)seq;
  if (memcmp(s->dst, s->src, opt_bytes) != 0)
    ctx->verify_errors++;
  return SB_OK;
}

static void mc_teardown(sb_app_ctx_t *ctx)
{
  mc_state_t *s = ctx->state;
  if (s) {
    free(s->src);
    free(s->dst);
    free(s);
  }
  ctx->state = NULL;
}

static uint64_t mc_loop_bytes(const sb_app_ctx_t *ctx)
{
  (void)ctx;
  return opt_bytes * (uint64_t)opt_passes;
}

static void mc_describe(const sb_app_ctx_t *ctx, char *buf, size_t len)
{
  (void)ctx;
  snprintf(buf, len, "%llu bytes x %lld passes", (unsigned long long)opt_bytes,
           (long long)opt_passes);
}

static const sb_app_t memcpy_app = {
  .name = "sb-memcpy",
  .summary = "Copies --tensor-bytes within each rank's memory per iteration (a test app).",
  .opts = mc_opts,
  .n_opts = (int)(sizeof mc_opts / sizeof mc_opts[0]),
  .setup = mc_setup,
  .iteration = mc_iteration,
  .check = mc_check,
  .teardown = mc_teardown,
  .loop_bytes = mc_loop_bytes,
  .describe = mc_describe,
  .no_database = 1,
  .sweep_params = (const char *const[]){"tensor-bytes=tb", "passes=ps", NULL},
};

int main(int argc, char **argv) { return sb_app_main(&memcpy_app, argc, argv); }
