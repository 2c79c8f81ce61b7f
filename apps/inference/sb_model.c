/* sb-model: write and inspect the ResNet model files (safetensors of a
 * torchvision state_dict) that sb-inference and the sbai module run.
 *
 *   sb-model make ARCH [--seed N] -o FILE    deterministic He-initialised model
 *   sb-model info FILE                        arch, classes, size, params, GFLOP
 *
 * Exit status: 0 done, 1 failed (I/O, a refused model), 2 usage error.
 */
#include "sb_file.h"
#include "sb_resnet.h"
#include "sb_safetensors.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

static const char usage[] =
  "usage: sb-model make ARCH [--seed N] -o FILE\n"
  "       sb-model info FILE\n"
  "       sb-model --help\n"
  "\n"
  "make  writes a ResNet state_dict (torchvision names, safetensors, F32) with\n"
  "      deterministic He-initialised weights: the same ARCH and seed give the\n"
  "      same bytes. ARCH: tiny, resnet18, resnet34, resnet50. --seed N\n"
  "      (unsigned 64-bit, default 0). -o FILE (\"-\" for standard output).\n"
  "info  loads FILE as the inference path does (all checks, batch-norm folded)\n"
  "      and prints its architecture, classes, image size, trainable\n"
  "      parameters and GFLOP per image at that image size.\n"
  "\n"
  "exit status: 0 done, 1 failed, 2 usage error\n";

static int usage_error(const char *fmt, const char *arg)
{
  fprintf(stderr, "sb-model: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n(sb-model --help for usage)\n");
  return EXIT_USAGE;
}

static int parse_seed(const char *s, uint64_t *out)
{
  char *end;
  if (!s || !*s || *s == '-' || *s == '+')
    return -1;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || *end)
    return -1;
  *out = (uint64_t)v;
  return 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
  int to_stdout = strcmp(path, "-") == 0;
  FILE *f = to_stdout ? stdout : fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "sb-model: cannot create %s: %s\n", path, strerror(errno));
    return -1;
  }
  int bad = fwrite(data, 1, len, f) != len;
  bad |= to_stdout ? fflush(f) != 0 : fclose(f) != 0;
  if (bad) {
    fprintf(stderr, "sb-model: cannot write %s: %s\n", path, strerror(errno));
    if (!to_stdout)
      remove(path);
    return -1;
  }
  return 0;
}

static int cmd_make(int argc, char **argv)
{
  const char *arch = NULL, *out = NULL;
  uint64_t seed = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--seed") == 0 || strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) {
      if (i + 1 >= argc)
        return usage_error("make: %s needs a value", a);
      const char *v = argv[++i];
      if (strcmp(a, "--seed") == 0) {
        if (parse_seed(v, &seed) != 0)
          return usage_error("make: --seed %s is not an unsigned 64-bit integer", v);
      } else {
        out = v;
      }
    } else if (strncmp(a, "--seed=", 7) == 0) {
      if (parse_seed(a + 7, &seed) != 0)
        return usage_error("make: %s is not an unsigned 64-bit integer", a);
    } else if (strncmp(a, "--out=", 6) == 0) {
      out = a + 6;
    } else if (a[0] == '-' && a[1] != '\0') {
      return usage_error("make: unknown option %s", a);
    } else if (!arch) {
      arch = a;
    } else {
      return usage_error("make: unexpected argument %s", a);
    }
  }
  if (!arch)
    return usage_error("make: %s", "no ARCH given (tiny, resnet18, resnet34, resnet50)");
  if (!sb_resnet_layout_find(arch))
    return usage_error("make: unknown ARCH %s (tiny, resnet18, resnet34, resnet50)", arch);
  if (!out || !*out)
    return usage_error("make: %s", "no output file (-o FILE)");

  void *blob;
  size_t len;
  char err[512];
  if (sb_resnet_make(arch, seed, &blob, &len, err, sizeof err) != 0) {
    fprintf(stderr, "sb-model: make: %s\n", err);
    return 1;
  }
  int rc = write_file(out, blob, len) == 0 ? 0 : 1;
  free(blob);
  if (rc == 0 && strcmp(out, "-") != 0)
    fprintf(stderr, "sb-model: wrote %s (%s, seed %" PRIu64 ", %zu bytes)\n", out, arch, seed,
            len);
  return rc;
}

static int cmd_info(int argc, char **argv)
{
  if (argc < 1)
    return usage_error("info: %s", "no FILE given");
  if (argc > 1)
    return usage_error("info: unexpected argument %s", argv[1]);
  const char *path = argv[0];
  void *blob;
  size_t len;
  sb_resnet_t *m;
  char err[512];
  if (sb_file_read(path, &blob, &len, err, sizeof err) != 0) {
    fprintf(stderr, "sb-model: %s\n", err);
    return 1;
  }
  if (sb_resnet_load(blob, len, &m, err, sizeof err) != 0) {
    fprintf(stderr, "sb-model: %s: %s\n", path, err);
    free(blob);
    return 1;
  }
  /* The generator's metadata, when the file has it (torch's does not). */
  sb_st_file_t st;
  const char *seed = NULL;
  if (sb_st_parse(blob, len, &st, err, sizeof err) == 0)
    seed = sb_st_meta(&st, "seed");
  const sb_resnet_layout_t *l = sb_resnet_layout_find(sb_resnet_arch(m));
  int64_t hw = sb_resnet_image_size(m);
  printf("file        %s\n", path);
  printf("bytes       %zu\n", len);
  printf("arch        %s\n", sb_resnet_arch(m));
  printf("blocks      %s [%d,%d,%d,%d]\n", l->bottleneck ? "Bottleneck" : "BasicBlock",
         l->blocks[0], l->blocks[1], l->blocks[2], l->blocks[3]);
  printf("classes     %" PRId64 "\n", sb_resnet_classes(m));
  printf("image_size  %" PRId64 "\n", hw);
  printf("parameters  %" PRId64 "\n", sb_resnet_parameters(m));
  printf("gflop       %.3f (per image at %" PRId64 "x%" PRId64 ", 2 x multiply-adds)\n",
         sb_resnet_flops(m, 1, hw, hw) / 1e9, hw, hw);
  if (seed)
    printf("seed        %s\n", seed);
  sb_st_free(&st);
  sb_resnet_free(m);
  free(blob);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 2)
    return usage_error("%s", "expected a command: make or info");
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
    fputs(usage, stdout);
    return 0;
  }
  for (int i = 2; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      fputs(usage, stdout);
      return 0;
    }
  if (strcmp(cmd, "make") == 0)
    return cmd_make(argc - 2, argv + 2);
  if (strcmp(cmd, "info") == 0)
    return cmd_info(argc - 2, argv + 2);
  return usage_error("unknown command %s (make, info)", cmd);
}
