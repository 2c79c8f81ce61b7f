/* The forward pass against the naive reference of model_reference.h: direct
 * convolutions in double precision on the *unfolded* weights, with
 * batch-norm applied explicitly after each one (eps 1e-5), relu, the
 * residual add, max pooling, global average pooling and fc — the textbook
 * torchvision ResNet (BasicBlock and Bottleneck v1.5), with the layouts
 * written out there, sharing no code with sb_resnet.c or the kernels.
 *
 * Tolerance: max |logit - reference| <= 1e-4 × max(1, max |reference|)
 * (float32 against float64; observed ~1e-7 relative on tiny).
 *
 * tiny: batch 1 and 3 at 32x32, a non-square 40x24 input, 1 and 2 threads,
 * batch 11 (more than one pass of 8 images: bit-identical to its passes run
 * alone, each image within rounding of a batch of one),
 * an unaligned workspace of exactly the advertised size, a too-small
 * workspace refused, and three threads sharing one model at once giving
 * bit-identical logits to a serial run. resnet50 once at batch 1, 32x32
 * (the Bottleneck path: stride on conv2, a projection in every stage). */
#include "model_reference.h"
#include "model_test.h"
#include "sb_resnet.h"
#include "sb_safetensors.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>

static float *input(int n, int h, int w, unsigned long long seed)
{
  float *in = malloc((size_t)n * 3 * h * w * sizeof *in);
  MT_REQUIRE(in, "out of memory");
  for (size_t i = 0; i < (size_t)n * 3 * h * w; i++)
    in[i] = (float)(2.0 * mt_rand(&seed));
  return in;
}

static void check_forward(const ref_layout_t *L, const sb_resnet_t *m, int n, int h, int w,
                          int threads)
{
  char err[512] = "";
  const int classes = L->classes;
  float *in = input(n, h, w, 1000 + (unsigned)n);
  float *got = malloc((size_t)n * classes * sizeof *got);
  size_t ws = sb_resnet_workspace_bytes(m, n, h, w, threads);
  /* Exactly the advertised size, deliberately misaligned by one byte. */
  unsigned char *raw = malloc(ws + 1);
  MT_REQUIRE(got && raw && ws > 0, "setup");
  int rc = sb_resnet_forward(m, in, n, h, w, got, raw + 1, ws, threads, err, sizeof err);
  MT_CHECK(rc == 0, "%s forward n=%d %dx%d threads=%d: %s", L->arch, n, h, w, threads, err);
  double *ref = reference(L, in, n, h, w);
  double maxref = 0, maxdiff = 0;
  for (int i = 0; i < n * classes; i++) {
    maxref = fmax(maxref, fabs(ref[i]));
    maxdiff = fmax(maxdiff, fabs((double)got[i] - ref[i]));
  }
  double bound = TOL * fmax(1.0, maxref);
  printf("%s n=%d %dx%d threads=%d: max |ref| %.4f, max diff %.3g (bound %.3g)\n", L->arch, n,
         h, w, threads, maxref, maxdiff, bound);
  MT_CHECK(rc == 0 && maxdiff <= bound, "%s n=%d %dx%d: max diff %.3g > %.3g", L->arch, n, h, w,
           maxdiff, bound);
  MT_CHECK(maxref > 1e-3, "logits not all ~0 (max %.3g)", maxref);
  if (n > 1) { /* the images differ, so must their logits */
    double d = 0;
    for (int i = 0; i < classes; i++)
      d = fmax(d, fabs(got[i] - got[classes + i]));
    MT_CHECK(d > 1e-6, "images 0 and 1 have the same logits");
  }
  free(ref);
  free(raw);
  free(got);
  free(in);
}

typedef struct job {
  const sb_resnet_t *m;
  const float *in;
  float logits[3 * 10];
  int rc;
  char err[256];
} job_t;

static void *run_job(void *arg)
{
  job_t *j = arg;
  size_t ws = sb_resnet_workspace_bytes(j->m, 3, 32, 32, 1);
  void *work = malloc(ws);
  j->rc = -1;
  for (int it = 0; work && it < 20; it++)
    if ((j->rc = sb_resnet_forward(j->m, j->in, 3, 32, 32, j->logits, work, ws, 1, j->err,
                                   sizeof j->err)) != 0)
      break;
  free(work);
  return NULL;
}

int main(void)
{
  void *blob;
  size_t len;
  char err[512] = "";
  MT_REQUIRE(sb_resnet_make("tiny", 42, &blob, &len, err, sizeof err) == 0, "make: %s", err);
  MT_REQUIRE(sb_st_parse(blob, len, &st, err, sizeof err) == 0, "parse: %s", err);
  sb_resnet_t *m;
  MT_REQUIRE(sb_resnet_load(blob, len, &m, err, sizeof err) == 0, "load: %s", err);

  check_forward(&ref_tiny, m, 1, 32, 32, 1);
  check_forward(&ref_tiny, m, 3, 32, 32, 1);
  check_forward(&ref_tiny, m, 3, 32, 32, 2);
  check_forward(&ref_tiny, m, 2, 40, 24, 2);

  /* A batch larger than the forward's sub-batch (8 images per pass): the
   * reference; bit for bit the logits of its two passes run as batches of 8
   * and 3; each image within rounding of itself alone (a batch groups small
   * maps into one GEMM, where an image's last columns may fall in a full
   * micro-panel rather than a half one; gcc's builds give the same bits,
   * clang's AVX2 build may not); scratch no larger than a sub-batch's. */
  check_forward(&ref_tiny, m, 11, 32, 32, 2);
  {
    float *in11 = input(11, 32, 32, 11), big[110], parts[110], one[10];
    size_t ws11 = sb_resnet_workspace_bytes(m, 11, 32, 32, 2);
    void *w11 = malloc(ws11);
    MT_REQUIRE(in11 && w11, "setup");
    MT_CHECK(ws11 == sb_resnet_workspace_bytes(m, 8, 32, 32, 2),
             "batch 11 scratch %zu != a sub-batch's %zu", ws11,
             sb_resnet_workspace_bytes(m, 8, 32, 32, 2));
    MT_REQUIRE(sb_resnet_forward(m, in11, 11, 32, 32, big, w11, ws11, 2, err, sizeof err) == 0,
               "batch 11: %s", err);
    MT_REQUIRE(sb_resnet_forward(m, in11, 8, 32, 32, parts, w11, ws11, 2, err, sizeof err) == 0 &&
                   sb_resnet_forward(m, in11 + (size_t)8 * 3 * 32 * 32, 3, 32, 32, parts + 80, w11,
                                     ws11, 2, err, sizeof err) == 0,
               "batches of 8 and 3: %s", err);
    MT_CHECK(memcmp(big, parts, sizeof big) == 0,
             "batch 11 differs from its passes of 8 and 3 run alone");
    for (int i = 0; i < 11; i++) {
      MT_REQUIRE(sb_resnet_forward(m, in11 + (size_t)i * 3 * 32 * 32, 1, 32, 32, one, w11, ws11,
                                   2, err, sizeof err) == 0,
                 "image %d alone: %s", i, err);
      double d = 0.0, mx = 0.0;
      for (int c = 0; c < 10; c++) {
        d = fmax(d, fabs((double)one[c] - (double)big[10 * i + c]));
        mx = fmax(mx, fabs((double)one[c]));
      }
      MT_CHECK(d <= 1e-5 * fmax(1.0, mx), "image %d: batch of 11 vs alone differ by %.3g", i, d);
    }
    free(w11);
    free(in11);
  }

  /* Refusals, with the reason. */
  float logits[30], *in = input(3, 32, 32, 7);
  size_t ws = sb_resnet_workspace_bytes(m, 3, 32, 32, 1);
  void *work = malloc(ws);
  MT_REQUIRE(work && in, "setup");
  MT_CHECK(sb_resnet_forward(m, in, 3, 32, 32, logits, work, ws - 1, 1, err, sizeof err) != 0 &&
               strstr(err, "workspace"),
           "too small a workspace: '%s'", err);
  MT_CHECK(sb_resnet_forward(m, in, 0, 32, 32, logits, work, ws, 1, err, sizeof err) != 0 &&
               strstr(err, "invalid input"),
           "batch 0: '%s'", err);

  /* Three threads on one model, each with its own workspace. */
  float serial[30];
  MT_REQUIRE(sb_resnet_forward(m, in, 3, 32, 32, serial, work, ws, 1, err, sizeof err) == 0,
             "serial: %s", err);
  job_t jobs[3];
  pthread_t tid[3];
  for (int i = 0; i < 3; i++) {
    jobs[i] = (job_t){.m = m, .in = in};
    MT_REQUIRE(pthread_create(&tid[i], NULL, run_job, &jobs[i]) == 0, "pthread_create");
  }
  for (int i = 0; i < 3; i++) {
    pthread_join(tid[i], NULL);
    MT_CHECK(jobs[i].rc == 0, "thread %d: %s", i, jobs[i].err);
    MT_CHECK(memcmp(jobs[i].logits, serial, sizeof serial) == 0,
             "thread %d: logits differ from the serial run", i);
  }

  free(work);
  free(in);
  sb_resnet_free(m);
  sb_st_free(&st);
  free(blob);

  /* The Bottleneck path, once, small. */
  MT_REQUIRE(sb_resnet_make("resnet50", 9, &blob, &len, err, sizeof err) == 0, "make: %s", err);
  MT_REQUIRE(sb_st_parse(blob, len, &st, err, sizeof err) == 0, "parse: %s", err);
  MT_REQUIRE(sb_resnet_load(blob, len, &m, err, sizeof err) == 0, "load: %s", err);
  check_forward(&ref_resnet50, m, 1, 32, 32, 2);
  sb_resnet_free(m);
  sb_st_free(&st);
  free(blob);
  return mt_finish("forward vs naive reference");
}
