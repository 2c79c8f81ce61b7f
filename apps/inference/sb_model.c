/* sb-model: write, inspect and run the ResNet model files (safetensors of a
 * torchvision state_dict) that sb-inference and the sbai module run.
 *
 *   sb-model make ARCH [--seed N] [--random-bn] -o FILE   deterministic model
 *   sb-model info FILE                        arch, classes, size, params, GFLOP
 *   sb-model run FILE [--batch-size B] ...     the forward pass in-process, timed
 *
 * Exit status: 0 done, 1 failed (I/O, a refused model), 2 usage error.
 */
#include "sb_file.h"
#include "sb_kernels.h"
#include "sb_resnet.h"
#include "sb_safetensors.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2

static const char usage[] =
  "usage: sb-model make ARCH [--seed N] [--random-bn] -o FILE\n"
  "       sb-model info FILE\n"
  "       sb-model run FILE [--batch-size B] [--image-size S] [--threads T]\n"
  "                    [--iterations N] [--warmup W] [--input RAW] [--output RAW]\n"
  "       sb-model --help\n"
  "\n"
  "make  writes a ResNet state_dict (torchvision names, safetensors, F32) with\n"
  "      deterministic He-initialised weights: the same ARCH, seed and options\n"
  "      give the same bytes. ARCH: tiny, resnet18, resnet34, resnet50.\n"
  "      --seed N (unsigned 64-bit, default 0). -o FILE (\"-\" for standard\n"
  "      output). Batch-norm statistics are near identity (gamma 1 +- 0.1, beta,\n"
  "      mean +- 0.1, var 1 +- 0.2) unless --random-bn: gamma 1 +- 0.25,\n"
  "      beta and running_mean +- 0.2, running_var in [0.5, 1.5] (uniform, from\n"
  "      the seed), so that folding batch-norm at load changes the weights.\n"
  "info  loads FILE as the inference path does (all checks, batch-norm folded)\n"
  "      and prints its architecture, classes, image size, trainable\n"
  "      parameters and GFLOP per image at that image size.\n"
  "run   loads FILE as the inference path does and times pre_process_3ch +\n"
  "      forward, in-process (no database), on one batch of B images S x S\n"
  "      (NHWC float pixels in 0..255): W untimed then N timed passes. Prints\n"
  "      one line of key=value pairs:\n"
  "        arch=resnet50 batch=8 image_size=224 threads=2 iterations=5 warmup=1\n"
  "        seconds=.. images_per_s=.. gflop_per_s=..\n"
  "      --batch-size B   images per pass (default 1)\n"
  "      --image-size S   height = width, >= 32 (default: the model's, 224;\n"
  "                       tiny 32)\n"
  "      --threads T      kernel threads (default: the online CPUs)\n"
  "      --iterations N   timed passes, >= 1 (default 10)\n"
  "      --warmup W       untimed passes first (default 1)\n"
  "      --input RAW      read the batch from RAW: B x S x S x 3 float32 in the\n"
  "                       machine's byte order (NHWC, 0..255), exactly that many\n"
  "                       bytes (default: a fixed pseudo-random batch)\n"
  "      --output RAW     write the logits of the last pass to RAW: B x classes\n"
  "                       float32 in the machine's byte order (\"-\": standard\n"
  "                       output; the key=value line then goes to standard error)\n"
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
  unsigned flags = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--random-bn") == 0) {
      flags |= SB_RESNET_MAKE_RANDOM_BN;
    } else if (strcmp(a, "--seed") == 0 || strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) {
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
  if (sb_resnet_make_flags(arch, seed, flags, &blob, &len, err, sizeof err) != 0) {
    fprintf(stderr, "sb-model: make: %s\n", err);
    return 1;
  }
  int rc = write_file(out, blob, len) == 0 ? 0 : 1;
  free(blob);
  if (rc == 0 && strcmp(out, "-") != 0)
    fprintf(stderr, "sb-model: wrote %s (%s, seed %" PRIu64 "%s, %zu bytes)\n", out, arch, seed,
            (flags & SB_RESNET_MAKE_RANDOM_BN) ? ", random batch-norm" : "", len);
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
  const char *seed = NULL, *bn = NULL;
  int parsed = sb_st_parse(blob, len, &st, err, sizeof err) == 0;
  if (parsed) {
    seed = sb_st_meta(&st, "seed");
    bn = sb_st_meta(&st, "batchnorm");
  }
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
  if (bn)
    printf("batchnorm   %s\n", bn);
  if (parsed)
    sb_st_free(&st);
  sb_resnet_free(m);
  free(blob);
  return 0;
}

/* A decimal integer in [lo, hi], the whole string. */
static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
  char *end;
  if (!s || !*s)
    return -1;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The options of run, each a positive range. */
typedef struct run_opts {
  const char *file, *input, *output;
  long long batch, image, threads, iterations, warmup;
} run_opts_t;

static int parse_run(int argc, char **argv, run_opts_t *o)
{
  static const struct {
    const char *name;
    long long lo, hi;
    size_t off;
  } ints[] = {
    {"--batch-size", 1, 1 << 20, offsetof(run_opts_t, batch)},
    {"--image-size", 32, 1 << 15, offsetof(run_opts_t, image)},
    {"--threads", 1, 1024, offsetof(run_opts_t, threads)},
    {"--iterations", 1, 1000000000, offsetof(run_opts_t, iterations)},
    {"--warmup", 0, 1000000000, offsetof(run_opts_t, warmup)},
  };
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = NULL, *eq = strchr(a, '=');
    size_t nlen = eq && strncmp(a, "--", 2) == 0 ? (size_t)(eq - a) : strlen(a);
    int known = 0;
    for (size_t k = 0; k < sizeof ints / sizeof ints[0] && !known; k++) {
      if (strlen(ints[k].name) != nlen || strncmp(a, ints[k].name, nlen) != 0)
        continue;
      known = 1;
      if (a[nlen] == '=')
        v = a + nlen + 1;
      else if (i + 1 < argc)
        v = argv[++i];
      else
        return usage_error("run: %s needs a value", ints[k].name);
      long long *dst = (long long *)((char *)o + ints[k].off);
      if (parse_int(v, ints[k].lo, ints[k].hi, dst) != 0) {
        fprintf(stderr, "sb-model: run: %s %s is not an integer in [%lld, %lld]\n"
                        "(sb-model --help for usage)\n",
                ints[k].name, v, ints[k].lo, ints[k].hi);
        return EXIT_USAGE;
      }
    }
    if (known)
      continue;
    if ((nlen == 7 && strncmp(a, "--input", 7) == 0) ||
        (nlen == 8 && strncmp(a, "--output", 8) == 0)) {
      const char **dst = a[2] == 'i' ? &o->input : &o->output;
      if (a[nlen] == '=')
        v = a + nlen + 1;
      else if (i + 1 < argc)
        v = argv[++i];
      else
        return usage_error("run: %s needs a value", a);
      if (!*v)
        return usage_error("run: %s needs a non-empty value", a[2] == 'i' ? "--input" : "--output");
      *dst = v;
    } else if (a[0] == '-' && a[1] != '\0') {
      return usage_error("run: unknown option %s", a);
    } else if (!o->file) {
      o->file = a;
    } else {
      return usage_error("run: unexpected argument %s", a);
    }
  }
  if (!o->file)
    return usage_error("run: %s", "no FILE given");
  return 0;
}

static int cmd_run(int argc, char **argv)
{
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  run_opts_t o = {.batch = 1, .image = 0, .threads = ncpu > 0 ? ncpu : 1, .iterations = 10,
                  .warmup = 1};
  int urc = parse_run(argc, argv, &o);
  if (urc != 0)
    return urc;

  char err[512];
  void *blob = NULL, *work = NULL;
  float *image = NULL, *pre = NULL, *logits = NULL;
  size_t len = 0;
  sb_resnet_t *m = NULL;
  int rc = 1;
  if (sb_file_read(o.file, &blob, &len, err, sizeof err) != 0) {
    fprintf(stderr, "sb-model: %s\n", err);
    return 1;
  }
  if (sb_resnet_load(blob, len, &m, err, sizeof err) != 0) {
    fprintf(stderr, "sb-model: %s: %s\n", o.file, err);
    free(blob);
    return 1;
  }
  free(blob);
  blob = NULL;

  const int64_t n = o.batch, hw = o.image ? o.image : sb_resnet_image_size(m);
  const int threads = (int)o.threads;
  const int64_t classes = sb_resnet_classes(m);
  /* n <= 2^20 and hw <= 2^15: n·hw·hw·3 < 2^52 elements, no overflow. */
  const size_t count = (size_t)n * (size_t)hw * (size_t)hw * 3;
  const size_t out_count = (size_t)n * (size_t)classes;
  const size_t wbytes = sb_resnet_workspace_bytes(m, n, hw, hw, threads);
  if (wbytes == 0) {
    fprintf(stderr, "sb-model: run: batch %" PRId64 " of %" PRId64 "x%" PRId64
                    " images is too large for the model's workspace\n",
            n, hw, hw);
    goto out;
  }
  image = malloc(count * sizeof *image);
  pre = malloc(count * sizeof *pre);
  logits = malloc(out_count * sizeof *logits);
  work = malloc(wbytes);
  if (!image || !pre || !logits || !work) {
    fprintf(stderr,
            "sb-model: run: out of memory (batch %" PRId64 " of %" PRId64 "x%" PRId64
            ": %zu bytes of images twice, %zu bytes of workspace)\n",
            n, hw, hw, count * sizeof *image, wbytes);
    goto out;
  }
  if (o.input) {
    void *raw;
    size_t rlen;
    if (sb_file_read(o.input, &raw, &rlen, err, sizeof err) != 0) {
      fprintf(stderr, "sb-model: --input %s\n", err);
      goto out;
    }
    if (rlen != count * sizeof *image) {
      fprintf(stderr,
              "sb-model: --input %s holds %zu bytes, but %" PRId64 " image(s) of %" PRId64
              "x%" PRId64 "x3 float32 (--batch-size, --image-size) are %zu bytes\n",
              o.input, rlen, n, hw, hw, count * sizeof *image);
      free(raw);
      goto out;
    }
    memcpy(image, raw, rlen);
    free(raw);
  } else {
    for (size_t i = 0; i < count; i++) /* fixed pseudo-random pixels, 0..255 */
      image[i] = (float)((i * 2654435761u) % 256);
  }

  double t0 = 0;
  for (long long it = -o.warmup; it < o.iterations; it++) {
    if (it == 0)
      t0 = now_s();
    sb_k_pre_process_3ch(image, n, hw, hw, pre, threads);
    if (sb_resnet_forward(m, pre, n, hw, hw, logits, work, wbytes, threads, err, sizeof err) !=
        0) {
      fprintf(stderr, "sb-model: run: forward: %s\n", err);
      goto out;
    }
  }
  const double dt = now_s() - t0;
  if (o.output && write_file(o.output, logits, out_count * sizeof *logits) != 0)
    goto out;
  FILE *line = o.output && strcmp(o.output, "-") == 0 ? stderr : stdout;
  fprintf(line,
          "arch=%s batch=%" PRId64 " image_size=%" PRId64 " threads=%d iterations=%lld"
          " warmup=%lld seconds=%.6f images_per_s=%.4f gflop_per_s=%.3f\n",
          sb_resnet_arch(m), n, hw, threads, o.iterations, o.warmup, dt,
          dt > 0 ? (double)n * (double)o.iterations / dt : 0.0,
          dt > 0 ? sb_resnet_flops(m, n, hw, hw) * (double)o.iterations / dt / 1e9 : 0.0);
  if (fflush(line) != 0) {
    fprintf(stderr, "sb-model: run: cannot write the result: %s\n", strerror(errno));
    goto out;
  }
  rc = 0;
out:
  free(image);
  free(pre);
  free(logits);
  free(work);
  sb_resnet_free(m);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc < 2)
    return usage_error("%s", "expected a command: make, info or run");
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
  if (strcmp(cmd, "run") == 0)
    return cmd_run(argc - 2, argv + 2);
  return usage_error("unknown command %s (make, info, run)", cmd);
}
