/* sb_resnet_make then sb_resnet_load for one architecture: the loader infers
 * the same layout back, with torchvision's parameter count and the known
 * cost of a forward pass.
 *
 *   test_model_roundtrip ARCH
 *
 * Reference figures (torchvision, 224x224, one image): resnet18 1.814 GMAC,
 * resnet34 3.664 GMAC, resnet50 4.089 GMAC (convolutions and fc); parameters
 * 11689512, 21797672, 25557032. */
#include "model_test.h"
#include "sb_resnet.h"
#include "sb_safetensors.h"

#include <math.h>
#include <stdint.h>

static const struct {
  const char *arch;
  int64_t classes, image, params;
  double gmac;   /* per image at `image` */
} known[] = {
  {"tiny", 10, 32, 78962, 0.0},
  {"resnet18", 1000, 224, 11689512, 1.814},
  {"resnet34", 1000, 224, 21797672, 3.664},
  {"resnet50", 1000, 224, 25557032, 4.089},
};

int main(int argc, char **argv)
{
  MT_REQUIRE(argc == 2, "usage: test_model_roundtrip ARCH");
  const char *arch = argv[1];
  size_t k = 0;
  while (k < sizeof known / sizeof known[0] && strcmp(known[k].arch, arch) != 0)
    k++;
  MT_REQUIRE(k < sizeof known / sizeof known[0], "no reference figures for %s", arch);

  void *blob;
  size_t len;
  char err[512] = "";
  MT_REQUIRE(sb_resnet_make(arch, 7, &blob, &len, err, sizeof err) == 0, "make: %s", err);

  /* The file itself: torchvision's names, F32 weights, I64 counters. */
  sb_st_file_t st;
  MT_REQUIRE(sb_st_parse(blob, len, &st, err, sizeof err) == 0, "parse: %s", err);
  MT_CHECK(sb_st_find(&st, "conv1.weight") && sb_st_find(&st, "fc.bias"), "names");
  const sb_st_tensor_t *nbt = sb_st_find(&st, "bn1.num_batches_tracked");
  MT_CHECK(nbt && nbt->dtype == SB_ST_I64 && nbt->ndim == 0, "bn1.num_batches_tracked I64 []");
  MT_CHECK(sb_st_meta(&st, "format") && strcmp(sb_st_meta(&st, "format"), "pt") == 0,
           "metadata format pt");
  if (strcmp(arch, "resnet50") == 0) {
    const sb_st_tensor_t *t = sb_st_find(&st, "layer2.0.conv2.weight");
    MT_CHECK(t && t->ndim == 4 && t->shape[0] == 128 && t->shape[1] == 128 && t->shape[2] == 3,
             "resnet50 layer2.0.conv2.weight [128,128,3,3]");
    t = sb_st_find(&st, "layer4.2.conv3.weight");
    MT_CHECK(t && t->shape[0] == 2048 && t->shape[1] == 512, "resnet50 layer4.2.conv3 [2048,512]");
    MT_CHECK(sb_st_find(&st, "layer1.0.downsample.0.weight") != NULL,
             "resnet50 layer1.0 has a projection (64 -> 256)");
    /* resnet50 has 53 batch-norms (1 + 16 blocks × 3 + 4 projections). */
    size_t counters = 0;
    for (size_t i = 0; i < st.ntensors; i++)
      counters += st.tensors[i].dtype == SB_ST_I64;
    MT_CHECK(counters == 53, "%zu num_batches_tracked, expected 53", counters);
  }
  if (strcmp(arch, "resnet18") == 0)
    MT_CHECK(sb_st_find(&st, "layer1.0.downsample.0.weight") == NULL &&
                 sb_st_find(&st, "layer2.0.downsample.0.weight") != NULL,
             "resnet18 projections on layers 2..4 only");
  sb_st_free(&st);

  sb_resnet_t *m = NULL;
  MT_REQUIRE(sb_resnet_load(blob, len, &m, err, sizeof err) == 0, "load: %s", err);
  MT_CHECK(strcmp(sb_resnet_arch(m), arch) == 0, "arch %s", sb_resnet_arch(m));
  MT_CHECK(sb_resnet_classes(m) == known[k].classes, "classes %lld",
           (long long)sb_resnet_classes(m));
  MT_CHECK(sb_resnet_image_size(m) == known[k].image, "image size %lld",
           (long long)sb_resnet_image_size(m));
  MT_CHECK(sb_resnet_parameters(m) == known[k].params, "parameters %lld, expected %lld",
           (long long)sb_resnet_parameters(m), (long long)known[k].params);

  int64_t hw = known[k].image;
  double f1 = sb_resnet_flops(m, 1, hw, hw);
  printf("%s: %lld parameters, %.4f GFLOP per image at %lld (%.4f GMAC)\n", arch,
         (long long)sb_resnet_parameters(m), f1 / 1e9, (long long)hw, f1 / 2e9);
  if (known[k].gmac > 0)
    MT_CHECK(fabs(f1 / 2e9 - known[k].gmac) < 0.01, "%.4f GMAC, expected %.3f", f1 / 2e9,
             known[k].gmac);
  MT_CHECK(f1 > 0, "flops positive");
  MT_CHECK(fabs(sb_resnet_flops(m, 4, hw, hw) - 4 * f1) <= 1e-9 * f1, "flops linear in batch");
  MT_CHECK(sb_resnet_flops(m, 0, hw, hw) == 0.0, "flops of batch 0");
  size_t ws1 = sb_resnet_workspace_bytes(m, 1, hw, hw, 1);
  size_t ws4 = sb_resnet_workspace_bytes(m, 4, hw, hw, 2);
  MT_CHECK(ws1 > 0 && ws4 > ws1, "workspace %zu (n=1), %zu (n=4)", ws1, ws4);
  MT_CHECK(sb_resnet_workspace_bytes(m, 1, 0, hw, 1) == 0, "workspace for h=0");
  printf("%s: workspace %.1f MiB at batch 1, %.1f MiB at batch 4\n", arch, ws1 / 1048576.0,
         ws4 / 1048576.0);

  sb_resnet_free(m);
  free(blob);
  return mt_finish(arch);
}
