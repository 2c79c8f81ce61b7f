/* The built-in script functions (see builtins.h). */
#include "builtins.h"
#include "errtext.h"

#include "sb_kernels.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* "[2][224][224][3]" */
static const char *shape_text(const sb_tensor_desc_t *d, char *buf, size_t len)
{
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < d->ndims && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "[%" PRId64 "]", d->dims[i]);
  return buf;
}

/* ---- pre_process_3ch ----------------------------------------------------------
 *
 * in:  FLOAT [N][H][W][3] (or [H][W][3], taken as N = 1), HWC, RGB, 0..255
 * out: FLOAT [N][3][H][W], (x / 255 - mean[c]) / std[c] with ImageNet's
 *      mean and std (sb_k_pre_process_3ch).
 */
static int pre_process_3ch_check(const sb_tensor_desc_t *in, int nin, int nargs,
                                 sb_tensor_desc_t *out, int nout, char *err, size_t errlen)
{
  char shape[128];
  int64_t dims[4];

  if (nin != 1)
    return sbai_errf(err, errlen, "pre_process_3ch takes 1 input tensor, %d given", nin);
  if (nout != 1)
    return sbai_errf(err, errlen, "pre_process_3ch makes 1 output tensor, %d output keys given",
                     nout);
  if (nargs != 0)
    return sbai_errf(err, errlen, "pre_process_3ch takes no ARGS, %d given", nargs);
  if (in[0].dtype != SB_DTYPE_FLOAT)
    return sbai_errf(err, errlen, "pre_process_3ch needs a FLOAT input (HWC values 0..255), got %s",
                     sb_dtype_info(in[0].dtype)->name);
  if (in[0].ndims == 4 && in[0].dims[3] == 3) {
    dims[0] = in[0].dims[0], dims[2] = in[0].dims[1], dims[3] = in[0].dims[2];
  } else if (in[0].ndims == 3 && in[0].dims[2] == 3) {
    dims[0] = 1, dims[2] = in[0].dims[0], dims[3] = in[0].dims[1];
  } else {
    return sbai_errf(err, errlen,
                     "pre_process_3ch needs an input of shape [N][H][W][3] or [H][W][3], got %s",
                     shape_text(&in[0], shape, sizeof shape));
  }
  dims[1] = 3;
  /* Same element count as the input, which was accepted: cannot overflow. */
  return sb_tensor_desc_init(&out[0], SB_DTYPE_FLOAT, dims, 4, SB_TENSOR_RANK_CAP, UINT64_MAX,
                             err, errlen);
}

static int pre_process_3ch_run(const sb_tensor_desc_t *in, const void *const *in_data, int nin,
                               const sb_tensor_desc_t *out, void *const *out_data, int nout,
                               int threads, char *err, size_t errlen)
{
  (void)in, (void)nin, (void)nout, (void)err, (void)errlen;
  sb_k_pre_process_3ch((const float *)in_data[0], out[0].dims[0], out[0].dims[2], out[0].dims[3],
                       (float *)out_data[0], threads);
  return 0;
}

/* ---- the table ------------------------------------------------------------------ */

static const sbai_builtin_t builtin_table[] = {
  {.name = "pre_process_3ch",
   .check = pre_process_3ch_check,
   .run = pre_process_3ch_run,
   .doc = "FLOAT [N][H][W][3] (or [H][W][3]) HWC 0..255 -> FLOAT [N][3][H][W], "
          "/255 then ImageNet mean/std"},
};

#define BUILTIN_COUNT (sizeof builtin_table / sizeof builtin_table[0])

size_t sbai_builtin_count(void)
{
  return BUILTIN_COUNT;
}

const sbai_builtin_t *sbai_builtin_at(size_t i)
{
  return i < BUILTIN_COUNT ? &builtin_table[i] : NULL;
}

const sbai_builtin_t *sbai_builtin_find(const char *name, size_t len)
{
  for (size_t i = 0; i < BUILTIN_COUNT; i++)
    if (strlen(builtin_table[i].name) == len && memcmp(builtin_table[i].name, name, len) == 0)
      return &builtin_table[i];
  return NULL;
}

void sbai_builtin_names(char *buf, size_t len)
{
  size_t used = 0;
  if (len == 0)
    return;
  buf[0] = '\0';
  for (size_t i = 0; i < BUILTIN_COUNT && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", builtin_table[i].name);
}
