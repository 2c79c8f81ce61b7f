/* Stand-ins for the parts of kernels/ the module uses while they are being
 * written (kernels/sb_resnet.c, kernels/sb_kernels_cpu.c): every model load
 * fails with a clear message, and pre_process_3ch is computed plainly, so the
 * module builds, loads and runs scripts meanwhile.
 *
 * They live in a static library linked after sb_kernels: the linker takes a
 * definition from sb_kernels when it has one and only falls back to these
 * for what is still missing (they are weak, so a mix never clashes).
 * Delete this file once the kernels have landed.
 */
#include "sb_kernels.h"
#include "sb_resnet.h"

#include <stdio.h>

#define FALLBACK __attribute__((weak))

FALLBACK int sb_resnet_load(const void *blob, size_t len, sb_resnet_t **model, char *err,
                            size_t errlen)
{
  (void)blob, (void)len;
  *model = NULL;
  snprintf(err, errlen, "the ResNet loader (kernels/sb_resnet.c) is not built yet");
  return -1;
}

FALLBACK void sb_resnet_free(sb_resnet_t *model)
{
  (void)model;
}

FALLBACK int64_t sb_resnet_classes(const sb_resnet_t *model)
{
  (void)model;
  return 0;
}

FALLBACK size_t sb_resnet_workspace_bytes(const sb_resnet_t *model, int64_t n, int64_t h,
                                          int64_t w, int threads)
{
  (void)model, (void)n, (void)h, (void)w, (void)threads;
  return 0;
}

FALLBACK int sb_resnet_forward(const sb_resnet_t *model, const float *in, int64_t n, int64_t h,
                               int64_t w, float *logits, void *workspace, size_t workspace_bytes,
                               int threads, char *err, size_t errlen)
{
  (void)model, (void)in, (void)n, (void)h, (void)w, (void)logits, (void)workspace;
  (void)workspace_bytes, (void)threads;
  snprintf(err, errlen, "the ResNet runner (kernels/sb_resnet.c) is not built yet");
  return -1;
}

FALLBACK void sb_k_pre_process_3ch(const float *in, int64_t n, int64_t h, int64_t w, float *out,
                                   int threads)
{
  static const float mean[3] = {SB_IMAGENET_MEAN_R, SB_IMAGENET_MEAN_G, SB_IMAGENET_MEAN_B};
  static const float stdv[3] = {SB_IMAGENET_STD_R, SB_IMAGENET_STD_G, SB_IMAGENET_STD_B};
  (void)threads;
  for (int64_t b = 0; b < n; b++)
    for (int64_t c = 0; c < 3; c++)
      for (int64_t i = 0; i < h * w; i++)
        out[(b * 3 + c) * h * w + i] = (in[(b * h * w + i) * 3 + c] / 255.0f - mean[c]) / stdv[c];
}
