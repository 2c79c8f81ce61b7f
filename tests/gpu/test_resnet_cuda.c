/* The ResNet forward pass on the GPU (kernels/sb_resnet_cuda.h) against the
 * CPU one (sb_resnet_forward), and its kernel-only speed.
 *
 *   test_resnet_cuda api                  argument checks; runs without a GPU
 *   test_resnet_cuda check [ARCH..]       CUDA vs CPU forward on the same random
 *                                         weights and input, FP32 and TF32
 *                                         (default: tiny resnet50)
 *   test_resnet_cuda bench FILE fp32|tf32 B1,B2,.. [ITERS]
 *                                         images/s of the forward pass alone
 *                                         (input already on the GPU, CUDA events)
 *   test_resnet_cuda make ARCH SEED FILE  writes a model file (sb_resnet_make, like
 *                                         `sb-model make`), for an nvcc-only build
 *   test_resnet_cuda logits FILE IN N H W OUT
 *                                         FP32 GPU logits of a raw float32 NCHW
 *                                         input (tests/gpu/torch_compare.py
 *                                         compares them with torchvision's)
 *
 * check: error = max|gpu - cpu| / max(max|cpu|, 1); logits are set to NaN
 * before the run, so an element never written fails. Bounds: FP32 1e-3
 * (summation order over the network), TF32 3e-2 (inputs of every
 * convolution rounded to 10 mantissa bits). Seed printed; SB_SEED=n repeats.
 * Exit: 0 pass, 1 fail, 2 usage or setup error, 77 no CUDA device visible.
 */
#include "sb_kernels_cuda.h"
#include "sb_resnet.h"
#include "sb_resnet_cuda.h"

#include <cuda_runtime_api.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SKIP 77

static uint64_t rng_state;

static float next_uniform(void) /* in [-1, 1) */
{
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static int need_gpu(void)
{
  int n = 0;
  if (sb_k_cuda_device_count(&n) != SB_K_CUDA_OK || n == 0) {
    fprintf(stderr, "SKIP: no CUDA device visible\n");
    return 0;
  }
  return 1;
}

#define CU(EXPR)                                                                            \
  do {                                                                                      \
    cudaError_t e_ = (EXPR);                                                                \
    if (e_ != cudaSuccess) {                                                                \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #EXPR, cudaGetErrorString(e_)); \
      return 2;                                                                             \
    }                                                                                       \
  } while (0)

/* ---- api: what must hold without a GPU ------------------------------------------- */

static int cmd_api(void)
{
  char err[256] = "";
  sb_resnet_cuda_t *g = (sb_resnet_cuda_t *)1;
  void *blob;
  size_t len;
  sb_resnet_t *m;
  int n = -1, fails = 0;

  if (sb_k_cuda_device_count(&n) != SB_K_CUDA_OK) {
    fprintf(stderr, "FAIL: device count: %s\n", sb_k_cuda_last_error());
    return 1;
  }
  if (sb_resnet_cuda_upload(NULL, 0, &g, err, sizeof err) != SB_K_CUDA_EINVAL || g != NULL)
    fprintf(stderr, "FAIL: upload of NULL not refused\n"), fails++;
  if (sb_resnet_make("tiny", 1, &blob, &len, err, sizeof err) != 0 ||
      sb_resnet_load(blob, len, &m, err, sizeof err) != 0) {
    fprintf(stderr, "FAIL: tiny model: %s\n", err);
    return 1;
  }
  free(blob);
  if (sb_resnet_cuda_upload(m, -1, &g, err, sizeof err) != SB_K_CUDA_EINVAL)
    fprintf(stderr, "FAIL: device -1 not refused\n"), fails++;
  if (sb_resnet_cuda_upload(m, n, &g, err, sizeof err) == SB_K_CUDA_OK || g != NULL)
    fprintf(stderr, "FAIL: device %d of %d accepted\n", n, n), fails++;
  else
    printf("upload to device %d of %d refused: %s\n", n, n, err);
  if (sb_resnet_cuda_workspace_bytes(NULL, 1, 32, 32) != 0 ||
      sb_resnet_cuda_infer_bytes(NULL, 1, 32, 32) != 0)
    fprintf(stderr, "FAIL: sizes of a NULL model not 0\n"), fails++;
  sb_resnet_cuda_free(NULL);
  sb_resnet_free(m);
  printf("gpu_resnet_api: %s (%d device(s) visible)\n", fails ? "FAIL" : "PASS", n);
  return fails ? 1 : 0;
}

/* ---- check: CUDA vs CPU forward ----------------------------------------------------- */

static int check_arch(const char *arch, uint64_t seed, int tf32_ok, int *failed)
{
  char err[256];
  void *blob = NULL;
  size_t len;
  sb_resnet_t *m = NULL;
  sb_resnet_cuda_t *g = NULL;
  int64_t hw, n = 2, classes;
  int threads = omp_get_max_threads();

  if (sb_resnet_make(arch, seed, &blob, &len, err, sizeof err) != 0 ||
      sb_resnet_load(blob, len, &m, err, sizeof err) != 0) {
    fprintf(stderr, "%s: %s\n", arch, err);
    return 2;
  }
  free(blob);
  hw = sb_resnet_image_size(m);
  classes = sb_resnet_classes(m);
  size_t in_count = (size_t)(n * 3 * hw * hw), out_count = (size_t)(n * classes);
  float *in = malloc(in_count * sizeof(float));
  float *ref = malloc(out_count * sizeof(float));
  float *got = malloc(out_count * sizeof(float));
  size_t cws = sb_resnet_workspace_bytes(m, n, hw, hw, threads);
  void *cpu_ws = malloc(cws);
  if (!in || !ref || !got || !cpu_ws)
    return 2;
  for (size_t i = 0; i < in_count; i++)
    in[i] = 2.0f * next_uniform();
  if (sb_resnet_forward(m, in, n, hw, hw, ref, cpu_ws, cws, threads, err, sizeof err) != 0) {
    fprintf(stderr, "%s: CPU forward: %s\n", arch, err);
    return 2;
  }
  if (sb_resnet_cuda_upload(m, 0, &g, err, sizeof err) != SB_K_CUDA_OK) {
    fprintf(stderr, "%s: upload: %s\n", arch, err);
    return 2;
  }
  for (int p = 0; p < 2; p++) {
    sb_k_cuda_precision_t prec = p ? SB_K_CUDA_TF32 : SB_K_CUDA_FP32;
    /* The bounds and floor of sb_resnet_cuda.h, set from a CPU simulation of
     * FP32, TF32 and BF16 (tests/model/test_precision_bounds.c). */
    double bound = p ? SB_RESNET_CUDA_RTOL_TF32 : SB_RESNET_CUDA_RTOL_FP32;
    double maxref = SB_RESNET_CUDA_RTOL_FLOOR, maxdiff = 0;
    size_t nan = 0;
    if (p && !tf32_ok) {
      printf("  %-9s %-5s %5lld %10s %10s %8s  n/a (GPU older than sm_80)\n", arch, "tf32",
             (long long)n, "-", "-", "-");
      continue;
    }
    for (size_t i = 0; i < out_count; i++)
      got[i] = NAN;
    if (sb_resnet_cuda_infer(g, in, n, hw, hw, got, prec, NULL, err, sizeof err) != SB_K_CUDA_OK) {
      fprintf(stderr, "%s %s: infer: %s\n", arch, p ? "tf32" : "fp32", err);
      *failed = 1;
      continue;
    }
    for (size_t i = 0; i < out_count; i++) {
      double d = fabs((double)got[i] - ref[i]);
      if (isnan(got[i]))
        nan++;
      if (fabs(ref[i]) > maxref)
        maxref = fabs(ref[i]);
      if (d > maxdiff)
        maxdiff = d;
    }
    double rel = maxdiff / maxref;
    int ok = nan == 0 && rel <= bound;
    printf("  %-9s %-5s %5lld %10zu %10.3g %8.0e  %s\n", arch, p ? "tf32" : "fp32", (long long)n,
           nan, rel, bound, ok ? "PASS" : "FAIL");
    if (!ok)
      *failed = 1;
  }
  sb_resnet_cuda_free(g);
  sb_resnet_free(m);
  free(in), free(ref), free(got), free(cpu_ws);
  return 0;
}

static int cmd_check(int argc, char **argv)
{
  static const char *const dflt[] = {"tiny", "resnet50"};
  const char *const *archs = argc > 0 ? (const char *const *)argv : dflt;
  int narch = argc > 0 ? argc : 2, failed = 0, major = 0;
  uint64_t seed = getenv("SB_SEED") ? strtoull(getenv("SB_SEED"), NULL, 10)
                                    : (uint64_t)time(NULL);
  if (!need_gpu())
    return SKIP;
  CU(cudaSetDevice(0));
  CU(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0));
  rng_state = seed * 2654435761u + 1;
  printf("# seed %llu (SB_SEED to repeat); CPU reference with %d threads\n",
         (unsigned long long)seed, omp_get_max_threads());
  printf("  %-9s %-5s %5s %10s %10s %8s  %s\n", "model", "prec", "batch", "unwritten", "rel_err",
         "bound", "result");
  for (int a = 0; a < narch; a++) {
    int rc = check_arch(archs[a], seed, major >= 8, &failed);
    if (rc)
      return rc;
  }
  return failed ? 1 : 0;
}

/* ---- bench: kernel-only images/s -------------------------------------------------------- */

static int read_all(const char *path, void **data, size_t *len)
{
  FILE *f = fopen(path, "rb");
  long size;
  if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    if (f)
      fclose(f);
    fprintf(stderr, "cannot read %s\n", path);
    return -1;
  }
  *data = malloc((size_t)size ? (size_t)size : 1);
  *len = (size_t)size;
  if (!*data || fread(*data, 1, (size_t)size, f) != (size_t)size) {
    fclose(f);
    fprintf(stderr, "cannot read %s\n", path);
    return -1;
  }
  fclose(f);
  return 0;
}

static int load_and_upload(const char *path, sb_resnet_t **m, sb_resnet_cuda_t **g)
{
  char err[256];
  void *blob;
  size_t len;
  if (read_all(path, &blob, &len) != 0)
    return 2;
  if (sb_resnet_load(blob, len, m, err, sizeof err) != 0) {
    fprintf(stderr, "%s: %s\n", path, err);
    return 2;
  }
  free(blob);
  if (sb_resnet_cuda_upload(*m, 0, g, err, sizeof err) != SB_K_CUDA_OK) {
    fprintf(stderr, "upload: %s\n", err);
    return 2;
  }
  return 0;
}

static int cmd_bench(const char *path, const char *prec_name, const char *batches, int iters)
{
  char err[256], list[256];
  sb_resnet_t *m = NULL;
  sb_resnet_cuda_t *g = NULL;
  sb_k_cuda_precision_t prec = strcmp(prec_name, "tf32") == 0 ? SB_K_CUDA_TF32 : SB_K_CUDA_FP32;
  cudaStream_t s;
  cudaEvent_t e0, e1;
  int rc;

  if (iters < 1) {
    fprintf(stderr, "ITERS must be at least 1\n");
    return 2;
  }
  if (!need_gpu())
    return SKIP;
  if ((rc = load_and_upload(path, &m, &g)) != 0)
    return rc;
  int64_t hw = sb_resnet_image_size(m);
  CU(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  CU(cudaEventCreate(&e0));
  CU(cudaEventCreate(&e1));
  snprintf(list, sizeof list, "%s", batches);
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    int64_t n = atoll(tok);
    size_t ws = sb_resnet_cuda_workspace_bytes(g, n, hw, hw);
    size_t in_bytes = (size_t)(n * 3 * hw * hw) * sizeof(float);
    void *d_in, *d_ws, *d_out;
    float ms = 0;
    if (n < 1 || ws == 0) {
      fprintf(stderr, "bad batch '%s'\n", tok);
      return 2;
    }
    CU(cudaMalloc(&d_in, in_bytes));
    CU(cudaMalloc(&d_ws, ws));
    CU(cudaMalloc(&d_out, (size_t)(n * sb_resnet_classes(m)) * sizeof(float)));
    CU(cudaMemset(d_in, 0, in_bytes)); /* the speed does not depend on the values */
    for (int i = 0; i < 3 + iters; i++) {
      if (i == 3)
        CU(cudaEventRecord(e0, s));
      if (sb_resnet_cuda_forward(g, d_in, n, hw, hw, d_out, d_ws, ws, prec, s, err, sizeof err) !=
          SB_K_CUDA_OK) {
        fprintf(stderr, "forward at batch %lld: %s\n", (long long)n, err);
        return 2;
      }
    }
    CU(cudaEventRecord(e1, s));
    CU(cudaEventSynchronize(e1));
    CU(cudaEventElapsedTime(&ms, e0, e1));
    printf("bench %s %s batch %lld images_per_s %.1f ms_per_batch %.3f\n", sb_resnet_arch(m),
           prec_name, (long long)n, (double)n * iters / (ms / 1e3), ms / iters);
    fflush(stdout);
    CU(cudaFree(d_in));
    CU(cudaFree(d_ws));
    CU(cudaFree(d_out));
  }
  sb_resnet_cuda_free(g);
  sb_resnet_free(m);
  return 0;
}

/* ---- logits: for the comparison with torchvision ------------------------------------- */

static int cmd_logits(const char *path, const char *in_path, int64_t n, int64_t h, int64_t w,
                      const char *out_path)
{
  char err[256];
  sb_resnet_t *m = NULL;
  sb_resnet_cuda_t *g = NULL;
  void *in;
  size_t len;
  int rc;
  if (!need_gpu())
    return SKIP;
  if ((rc = load_and_upload(path, &m, &g)) != 0)
    return rc;
  if (read_all(in_path, &in, &len) != 0)
    return 2;
  if (len != (size_t)(n * 3 * h * w) * sizeof(float)) {
    fprintf(stderr, "%s: %zu bytes, expected %lld floats\n", in_path, len, (long long)(n * 3 * h * w));
    return 2;
  }
  size_t out_count = (size_t)(n * sb_resnet_classes(m));
  float *out = malloc(out_count * sizeof(float));
  if (!out ||
      sb_resnet_cuda_infer(g, in, n, h, w, out, SB_K_CUDA_FP32, NULL, err, sizeof err) != 0) {
    fprintf(stderr, "infer: %s\n", out ? err : "out of memory");
    return 2;
  }
  FILE *f = fopen(out_path, "wb");
  if (!f || fwrite(out, sizeof(float), out_count, f) != out_count || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", out_path);
    return 2;
  }
  sb_resnet_cuda_free(g);
  sb_resnet_free(m);
  free(in), free(out);
  return 0;
}

static int cmd_make(const char *arch, uint64_t seed, const char *path)
{
  char err[256];
  void *blob;
  size_t len;
  FILE *f;
  if (sb_resnet_make(arch, seed, &blob, &len, err, sizeof err) != 0) {
    fprintf(stderr, "make %s: %s\n", arch, err);
    return 2;
  }
  f = fopen(path, "wb");
  if (!f || fwrite(blob, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    return 2;
  }
  free(blob);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc == 5 && strcmp(argv[1], "make") == 0)
    return cmd_make(argv[2], strtoull(argv[3], NULL, 10), argv[4]);
  if (argc >= 2 && strcmp(argv[1], "api") == 0)
    return cmd_api();
  if (argc >= 2 && strcmp(argv[1], "check") == 0)
    return cmd_check(argc - 2, argv + 2);
  if ((argc == 5 || argc == 6) && strcmp(argv[1], "bench") == 0)
    return cmd_bench(argv[2], argv[3], argv[4], argc == 6 ? atoi(argv[5]) : 20);
  if (argc == 8 && strcmp(argv[1], "logits") == 0)
    return cmd_logits(argv[2], argv[3], atoll(argv[4]), atoll(argv[5]), atoll(argv[6]), argv[7]);
  fprintf(stderr, "usage: test_resnet_cuda api | check [ARCH..] | bench FILE fp32|tf32 B1,B2.. "
                  "[ITERS] | make ARCH SEED FILE | logits FILE IN N H W OUT\n");
  return 2;
}
