/* The GPU verification bounds (SB_RESNET_CUDA_RTOL_*, kernels/sb_resnet_cuda.h)
 * against a CPU simulation of the precisions the GPU runs in, so that they
 * can tell a precision bug from rounding without a GPU to hand:
 *
 *   fp32  our CPU forward (sb_resnet_forward)        vs the double reference
 *   tf32  the reference with TF32 convolutions       vs the double reference
 *   bf16  the reference with BF16 convolutions       vs the double reference
 *
 * (model_reference.h: batch-norm folded, folded weights and convolution
 * inputs rounded to 10 or 7 mantissa bits, sums in double.) For tiny and
 * resnet50 at their own image size, on the inputs test_resnet_cuda uses
 * (uniform in [-2, 2), already normalised), it checks:
 *   fp32 error x 10 <= RTOL_FP32 < tf32 error   (FP32 passes with margin; TF32 would fail it)
 *   tf32 error x 2  <= RTOL_TF32 < bf16 error   (TF32 passes with margin; BF16 would fail it)
 * with errors measured as the bounds are: max |x - ref| / max(FLOOR, max |ref|).
 */
#include "model_reference.h"
#include "model_test.h"
#include "sb_resnet.h"
#include "sb_resnet_cuda.h"
#include "sb_safetensors.h"

#include <math.h>

static double rel_err(const double *ref, const double *x, size_t count)
{
  double maxref = 0, maxdiff = 0;
  for (size_t i = 0; i < count; i++) {
    maxref = fmax(maxref, fabs(ref[i]));
    maxdiff = fmax(maxdiff, fabs(x[i] - ref[i]));
  }
  return maxdiff / fmax(SB_RESNET_CUDA_RTOL_FLOOR, maxref);
}

static void check_arch(const ref_layout_t *L, int n)
{
  char err[512] = "";
  void *blob = NULL;
  size_t len = 0;
  sb_resnet_t *m = NULL;
  unsigned long long seed = 12345;

  MT_REQUIRE(sb_resnet_make(L->arch, 1, &blob, &len, err, sizeof err) == 0, "make: %s", err);
  MT_REQUIRE(sb_resnet_load(blob, len, &m, err, sizeof err) == 0, "load: %s", err);
  MT_REQUIRE(sb_st_parse(blob, len, &st, err, sizeof err) == 0, "parse: %s", err);
  const int hw = (int)sb_resnet_image_size(m), classes = L->classes;
  const size_t count = (size_t)n * classes, in_count = (size_t)n * 3 * hw * hw;
  float *in = malloc(in_count * sizeof *in), *logits = malloc(count * sizeof *logits);
  double *got = calloc(count, sizeof *got);
  size_t ws = sb_resnet_workspace_bytes(m, n, hw, hw, 2);
  void *work = malloc(ws ? ws : 1);
  MT_REQUIRE(in && logits && got && work, "out of memory");
  for (size_t i = 0; i < in_count; i++)
    in[i] = (float)(2.0 * mt_rand(&seed)); /* [-2, 2) */

  MT_REQUIRE(sb_resnet_forward(m, in, n, hw, hw, logits, work, ws, 2, err, sizeof err) == 0,
             "forward: %s", err);
  for (size_t i = 0; i < count; i++)
    got[i] = logits[i];
  ref_mantissa_bits = 0;
  double *exact = reference(L, in, n, hw, hw);
  ref_mantissa_bits = 10;
  double *tf32 = reference(L, in, n, hw, hw);
  ref_mantissa_bits = 7;
  double *bf16 = reference(L, in, n, hw, hw);
  ref_mantissa_bits = 0;

  double maxref = 0;
  for (size_t i = 0; i < count; i++)
    maxref = fmax(maxref, fabs(exact[i]));
  double e32 = rel_err(exact, got, count), etf = rel_err(exact, tf32, count),
         ebf = rel_err(exact, bf16, count);
  printf("%-9s n=%d %dx%d  max |logit| %8.4f   error fp32 %.2e  tf32 %.2e  bf16 %.2e   "
         "bounds fp32 %.0e tf32 %.0e\n",
         L->arch, n, hw, hw, maxref, e32, etf, ebf, SB_RESNET_CUDA_RTOL_FP32,
         SB_RESNET_CUDA_RTOL_TF32);
  MT_CHECK(maxref > SB_RESNET_CUDA_RTOL_FLOOR, "%s: logits all below the floor", L->arch);
  MT_CHECK(e32 * 10 <= SB_RESNET_CUDA_RTOL_FP32, "%s: FP32 error %.3g leaves no margin under %g",
           L->arch, e32, SB_RESNET_CUDA_RTOL_FP32);
  MT_CHECK(etf > SB_RESNET_CUDA_RTOL_FP32,
           "%s: TF32 error %.3g passes the FP32 bound %g: it cannot tell them apart", L->arch,
           etf, SB_RESNET_CUDA_RTOL_FP32);
  MT_CHECK(etf * 2 <= SB_RESNET_CUDA_RTOL_TF32, "%s: TF32 error %.3g leaves no margin under %g",
           L->arch, etf, SB_RESNET_CUDA_RTOL_TF32);
  MT_CHECK(ebf > SB_RESNET_CUDA_RTOL_TF32,
           "%s: BF16 error %.3g passes the TF32 bound %g: it cannot catch a lower precision",
           L->arch, ebf, SB_RESNET_CUDA_RTOL_TF32);
  free(exact), free(tf32), free(bf16), free(got), free(logits), free(in), free(work);
  sb_st_free(&st);
  sb_resnet_free(m);
  free(blob);
}

int main(void)
{
  check_arch(&ref_tiny, 2);
  check_arch(&ref_resnet50, 1);
  return CHECK_DONE();
}
