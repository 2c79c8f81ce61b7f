/* ResNet models: loaded from a safetensors blob of a torchvision-named
 * state_dict, run with the kernels of sb_kernels.h.
 *
 * The architecture follows from the tensor names and shapes alone:
 * BasicBlock (conv1, conv2) or Bottleneck (conv1..conv3) blocks, the number of
 * blocks per stage from layerS.B.* names, widths from the weight shapes, the
 * class count from fc.weight. Known layouts get their torchvision name
 * (resnet18, resnet34, resnet50) or "tiny" (the test variant that
 * sb_resnet_make writes); any other consistent ResNet is refused.
 * Batch-norm (eps 1e-5) is folded into the convolutions at load.
 *
 * Plain C with no dependency on common/ (the Redis module links it): every
 * function that can fail returns 0 / -1 and writes a one-line message that
 * names the offending tensor into err[errlen].
 */
#ifndef SB_RESNET_H
#define SB_RESNET_H

#include <stddef.h>
#include <stdint.h>

typedef struct sb_resnet sb_resnet_t;

/* Parses and checks a safetensors blob (the bytes are copied; blob may be
 * freed afterwards). Refuses: a header length past the end or absurd, bad
 * JSON, a dtype other than F32, data offsets out of range or overlapping,
 * missing, extra or mis-shaped tensors, an unknown layout. */
int sb_resnet_load(const void *blob, size_t len, sb_resnet_t **model, char *err, size_t errlen);

void sb_resnet_free(sb_resnet_t *model);

/* "resnet18", "resnet34", "resnet50" or "tiny". */
const char *sb_resnet_arch(const sb_resnet_t *model);

/* Number of output classes (rows of fc.weight). */
int64_t sb_resnet_classes(const sb_resnet_t *model);

/* Input image size the model is meant for (224 for the torchvision ones,
 * 32 for tiny). Any h, w >= 32 works (global pooling). */
int64_t sb_resnet_image_size(const sb_resnet_t *model);

/* Multiply-adds × 2 of one forward pass at batch n and input h×w: all
 * convolutions and the fc layer. */
double sb_resnet_flops(const sb_resnet_t *model, int64_t n, int64_t h, int64_t w);

/* Scratch bytes sb_resnet_forward needs at batch n, input h×w, `threads`. */
size_t sb_resnet_workspace_bytes(const sb_resnet_t *model, int64_t n, int64_t h, int64_t w,
                                 int threads);

/* logits[n][classes] of in[n][3][h][w] (already normalised, NCHW).
 * The model is only read: several threads may run the same model at once,
 * each with its own workspace. */
int sb_resnet_forward(const sb_resnet_t *model, const float *in, int64_t n, int64_t h, int64_t w,
                      float *logits, void *workspace, size_t workspace_bytes, int threads,
                      char *err, size_t errlen);

/* Writes a model file: deterministic He-initialised (kaiming normal, fan_out)
 * conv weights from `seed`, batch-norm gamma 1 / beta 0 / mean 0 / var 1
 * perturbed slightly by the seed (so folding is exercised), fc uniform in
 * ±1/sqrt(k). arch: "resnet18", "resnet34", "resnet50" or "tiny".
 * *blob is malloc'd; the caller frees it. */
int sb_resnet_make(const char *arch, uint64_t seed, void **blob, size_t *len, char *err,
                   size_t errlen);

#endif
