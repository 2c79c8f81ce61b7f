/* libFuzzer target: the safetensors parser (kernels/sb_safetensors.c) and
 * the ResNet loader on top of it (kernels/sb_resnet.c).
 *
 * Input, two forms:
 *  - starting with '{': a JSON header. The harness puts the 8-byte length in
 *    front and the data area of a tiny model made by sb_resnet_make behind
 *    it, so the fuzzer edits names, shapes and offsets of a real model with
 *    readable seeds (the tiny model's header is about 6 KB of JSON);
 *  - anything else: a whole safetensors file, as given.
 * Each input goes through sb_st_parse (and every accessor on what it
 * returns) and sb_resnet_load; a model that loads also runs one forward pass
 * at 32x32, so shapes the loader accepts are checked against what the
 * kernels index (ASan sees any read or write out of the workspace).
 */
#include "sb_resnet.h"
#include "sb_safetensors.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *tiny_data; /* the tiny model's data area */
static size_t tiny_data_len;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  void *blob;
  size_t len;
  uint64_t n = 0;
  char err[256];
  (void)argc, (void)argv;
  if (sb_resnet_make("tiny", 1, &blob, &len, err, sizeof err) != 0) {
    fprintf(stderr, "fuzz_safetensors: cannot make the tiny model: %s\n", err);
    abort();
  }
  for (int i = 0; i < 8; i++)
    n |= (uint64_t)((unsigned char *)blob)[i] << (8 * i);
  tiny_data_len = len - 8 - (size_t)n;
  tiny_data = malloc(tiny_data_len);
  if (!tiny_data)
    abort();
  memcpy(tiny_data, (unsigned char *)blob + 8 + n, tiny_data_len);
  free(blob);
  return 0;
}

/* Reads every byte of a region, so ASan checks the pointer and length. */
static unsigned touch(const void *p, size_t n)
{
  const unsigned char *b = p;
  unsigned h = 0;
  for (size_t i = 0; i < n; i++)
    h = h * 31 + b[i];
  return h;
}

static void check_file(const unsigned char *blob, size_t len)
{
  sb_st_file_t f;
  char err[512], shape[128];
  volatile unsigned sink = 0;
  if (sb_st_parse(blob, len, &f, err, sizeof err) != 0) {
    if (strlen(err) >= sizeof err || !memchr(err, '\0', sizeof err))
      abort();
    return;
  }
  for (size_t i = 0; i < f.ntensors; i++) {
    const sb_st_tensor_t *t = &f.tensors[i];
    size_t bytes = (size_t)(t->end - t->begin);
    if (t->end < t->begin || t->end > f.data_bytes || t->ndim < 0 || t->ndim > SB_ST_MAX_DIMS)
      abort();
    if (sb_st_dtype_size(t->dtype) * t->count != bytes)
      abort(); /* the parser promised end - begin == count x size */
    sink += touch(t->data, bytes);
    sink += (unsigned)strlen(sb_st_dtype_name(t->dtype));
    sb_st_shape_str(t->shape, t->ndim, shape, sizeof shape);
    if (sb_st_find(&f, t->name) == NULL)
      abort();
  }
  for (size_t i = 0; i < f.nmeta; i++)
    if (sb_st_meta(&f, f.meta_keys[i]) == NULL)
      abort();
  (void)sink;
  sb_st_free(&f);
}

static void check_model(const unsigned char *blob, size_t len)
{
  sb_resnet_t *m = NULL;
  char err[512];
  int64_t n = 1, h = 32, w = 32;
  size_t ws_bytes;
  float *in, *logits;
  void *ws;
  if (sb_resnet_load(blob, len, &m, err, sizeof err) != 0)
    return;
  (void)sb_resnet_arch(m);
  (void)sb_resnet_parameters(m);
  (void)sb_resnet_image_size(m);
  (void)sb_resnet_flops(m, n, h, w);
  ws_bytes = sb_resnet_workspace_bytes(m, n, h, w, 1);
  if (ws_bytes == 0 || ws_bytes > (256u << 20) || sb_resnet_classes(m) < 1
      || sb_resnet_classes(m) > 100000) {
    sb_resnet_free(m);
    return;
  }
  in = calloc((size_t)(n * 3 * h * w), sizeof *in);
  logits = malloc((size_t)(n * sb_resnet_classes(m)) * sizeof *logits);
  ws = malloc(ws_bytes);
  if (in && logits && ws) {
    for (int64_t i = 0; i < n * 3 * h * w; i++)
      in[i] = (float)(i % 17) / 17.0f - 0.5f;
    (void)sb_resnet_forward(m, in, n, h, w, logits, ws, ws_bytes, 1, err, sizeof err);
  }
  free(in);
  free(logits);
  free(ws);
  sb_resnet_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  unsigned char *blob;
  size_t len;
  if (size > 0 && data[0] == '{') {
    len = 8 + size + tiny_data_len;
    blob = malloc(len);
    if (!blob)
      return 0;
    for (int i = 0; i < 8; i++)
      blob[i] = (unsigned char)((uint64_t)size >> (8 * i));
    memcpy(blob + 8, data, size);
    memcpy(blob + 8 + size, tiny_data, tiny_data_len);
  } else {
    /* An exact-size copy, so a read past the end is a heap overflow. */
    len = size;
    blob = malloc(size ? size : 1);
    if (!blob)
      return 0;
    if (size)
      memcpy(blob, data, size);
  }
  check_file(blob, len);
  check_model(blob, len);
  free(blob);
  return 0;
}
