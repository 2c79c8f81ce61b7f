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

#ifdef __cplusplus
extern "C" { /* sb_resnet_cuda.cu includes this header */
#endif

typedef struct sb_resnet sb_resnet_t;

/* Parses and checks a safetensors blob (the bytes are copied; blob may be
 * freed afterwards). Refuses: a header length past the end or absurd, bad
 * JSON, a dtype other than F32, data offsets out of range or overlapping,
 * missing, extra or mis-shaped tensors, an unknown layout. */
int sb_resnet_load(const void *blob, size_t len, sb_resnet_t **model, char *err, size_t errlen);

void sb_resnet_free(sb_resnet_t *model);

/* "resnet18", "resnet34", "resnet50" or "tiny". */
const char *sb_resnet_arch(const sb_resnet_t *model);

/* A ResNet layout: what sb_resnet_make writes and what sb_resnet_load names.
 * Stage s has blocks[s] blocks of `planes[s]` inner channels; a block outputs
 * planes[s] × 4 channels (Bottleneck) or planes[s] (BasicBlock). The first
 * block of stages 2..4 has stride 2. */
typedef struct sb_resnet_layout {
  const char *arch;   /* "resnet18", "resnet34", "resnet50", "tiny" */
  int bottleneck;     /* 1: Bottleneck blocks (expansion 4); 0: BasicBlock */
  int blocks[4];      /* blocks per stage */
  int64_t stem;       /* output channels of conv1 */
  int64_t planes[4];  /* inner width per stage */
  int64_t classes;    /* what sb_resnet_make writes (loading takes any) */
  int64_t image_size; /* 224, or 32 for tiny */
} sb_resnet_layout_t;

/* The known layouts: a table of *count entries, static. */
const sb_resnet_layout_t *sb_resnet_layouts(size_t *count);

/* The known layout called arch, or NULL. */
const sb_resnet_layout_t *sb_resnet_layout_find(const char *arch);

/* Trainable parameters as torchvision counts them (conv weights, batch-norm
 * weight and bias, fc weight and bias; not running statistics): 11689512 for
 * resnet18, 21797672 for resnet34, 25557032 for resnet50. */
int64_t sb_resnet_parameters(const sb_resnet_t *model);

/* Number of output classes (rows of fc.weight). */
int64_t sb_resnet_classes(const sb_resnet_t *model);

/* Input image size the model is meant for (224 for the torchvision ones,
 * 32 for tiny). Any h, w >= 32 works (global pooling). */
int64_t sb_resnet_image_size(const sb_resnet_t *model);

/* Multiply-adds × 2 of one forward pass at batch n and input h×w: all
 * convolutions and the fc layer (pooling, adds and relu not counted). 0 for
 * invalid arguments. */
double sb_resnet_flops(const sb_resnet_t *model, int64_t n, int64_t h, int64_t w);

/* Scratch bytes sb_resnet_forward needs at batch n, input h×w, `threads`:
 * three activation buffers (each the largest activation) and the largest
 * convolution workspace, plus alignment slack. 0 for invalid arguments
 * (n, h or w < 1, or sizes beyond 2^40 elements). */
size_t sb_resnet_workspace_bytes(const sb_resnet_t *model, int64_t n, int64_t h, int64_t w,
                                 int threads);

/* logits[n][classes] of in[n][3][h][w] (already normalised, NCHW).
 * The model is only read: several threads may run the same model at once,
 * each with its own workspace. No allocation: all scratch comes from
 * workspace (any alignment), which must hold sb_resnet_workspace_bytes.
 * A large batch runs 8 images at a time (its activations then stay in the
 * caches): the logits are the same bits as those of its passes of 8 run as
 * batches of their own. */
int sb_resnet_forward(const sb_resnet_t *model, const float *in, int64_t n, int64_t h, int64_t w,
                      float *logits, void *workspace, size_t workspace_bytes, int threads,
                      char *err, size_t errlen);

/* Writes a model file: deterministic He-initialised (kaiming normal, fan_out)
 * conv weights from `seed`, batch-norm gamma 1 / beta 0 / mean 0 / var 1
 * perturbed slightly by the seed (so folding is exercised), fc uniform in
 * ±1/sqrt(k). arch: "resnet18", "resnet34", "resnet50" or "tiny".
 * Precisely: a splitmix64 stream seeded with `seed`, consumed in state_dict
 * order; conv weights normal(0, sqrt(2 / (cout·kh·kw))) by Box-Muller; per
 * batch-norm channel gamma 1 ± 0.1, beta ± 0.1, running_mean ± 0.1,
 * running_var 1 ± 0.2 (uniform); fc weight and bias uniform ± 1/sqrt(k);
 * num_batches_tracked I64 scalars (0) as torchvision has them. The same seed
 * gives the same bytes. *blob is malloc'd; the caller frees it. */
int sb_resnet_make(const char *arch, uint64_t seed, void **blob, size_t *len, char *err,
                   size_t errlen);

/* Flags of sb_resnet_make_flags. */
enum {
  /* Batch-norm statistics far from identity, so that folding them into the
   * convolutions at load is really exercised: per channel, uniform, gamma
   * 1 ± 0.25, beta ± 0.2, running_mean ± 0.2, running_var in [0.5, 1.5]
   * (instead of 1 ± 0.1, ± 0.1, ± 0.1, 1 ± 0.2). Everything else, and the
   * order in which the stream is consumed, is as without it; the file's
   * __metadata__ has "batchnorm": "random". */
  SB_RESNET_MAKE_RANDOM_BN = 1u << 0,
};

/* sb_resnet_make with flags (0: exactly sb_resnet_make). An unknown flag is
 * refused. */
int sb_resnet_make_flags(const char *arch, uint64_t seed, unsigned flags, void **blob,
                         size_t *len, char *err, size_t errlen);

/* The folded network, read-only, for other back ends (the CUDA forward pass
 * of sb_resnet_cuda.h): each convolution with its batch-norm already folded
 * into weight and bias, in the order sb_resnet_forward runs them. The
 * pointers stay valid until sb_resnet_free. */
typedef struct sb_resnet_conv_view {
  const char *name;          /* the weight's prefix, e.g. "layer1.0.conv1" */
  int64_t cin, cout, k, stride, pad;
  const float *weight;       /* [cout][cin][k][k] (host memory) */
  const float *bias;         /* [cout] */
} sb_resnet_conv_view_t;

typedef struct sb_resnet_block_view {
  int nconv;                       /* 2 (BasicBlock) or 3 (Bottleneck) */
  sb_resnet_conv_view_t conv[3];   /* relu after each; the last adds the shortcut first */
  int has_down;                    /* 1: the shortcut is the projection `down` */
  sb_resnet_conv_view_t down;      /* no relu */
} sb_resnet_block_view_t;

/* The stem (conv1 + bn1, 7x7/2, relu; max-pool 3x3/2 pad 1 follows). */
void sb_resnet_stem_view(const sb_resnet_t *model, sb_resnet_conv_view_t *view);

/* Number of residual blocks (all stages), and block b of them; -1 when b is
 * out of range. */
int sb_resnet_block_count(const sb_resnet_t *model);
int sb_resnet_block_view(const sb_resnet_t *model, int b, sb_resnet_block_view_t *view);

/* The classifier after global average pooling: weight [classes][features],
 * bias [classes]. */
void sb_resnet_fc_view(const sb_resnet_t *model, const float **weight, const float **bias,
                       int64_t *features, int64_t *classes);

#ifdef __cplusplus
}
#endif

#endif
