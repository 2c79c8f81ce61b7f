/* The C ABI between the sbai module and its optional TORCH backend plugin,
 * sbai_torch.so (apps/orchestrator/torch/sbai_torch.cpp, the only C++ of
 * the module). The module loads the plugin with dlopen when it is given the
 * load option BACKEND_TORCH <path> (torch_backend.c) and reaches it only
 * through the table below.
 *
 * The plugin exports two symbols:
 *
 *   int sbai_torch_abi_version(void);            SBAI_TORCH_ABI_VERSION
 *   const sbai_torch_api_t *sbai_torch_api(void);
 *
 * The module refuses a plugin whose version differs from its own.
 *
 * Rules of every function of the table:
 * - returns 0 on success, or -1 with a one-line, NUL-terminated message in
 *   err[errlen] (no C++ exception ever crosses it);
 * - tensors are plain descriptions: dtype, dims, row-major data. Input data
 *   belong to the caller and are only read. Output data are allocated by the
 *   plugin with malloc and belong to the caller once the call returned
 *   (free them with free()); on failure no output is left allocated;
 * - handles (models, scripts) are immutable once made: several threads may
 *   run the same handle at once; a handle is freed once, when no run uses it.
 */
#ifndef SBAI_TORCH_ABI_H
#define SBAI_TORCH_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "../tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SBAI_TORCH_ABI_VERSION 1

/* Most dimensions of a tensor crossing the ABI (the module's own cap). */
#define SBAI_TORCH_MAX_DIMS 16

/* Element types: the module's sb_dtype_t (tensor.h, SB_DTYPE_FLOAT ...),
 * whose numbering RDB files also keep; one definition for both sides. */
typedef sb_dtype_t sbai_torch_dtype_t;

typedef struct sbai_torch_tensor {
  int dtype; /* sbai_torch_dtype_t */
  int ndims; /* 0 (a scalar) .. SBAI_TORCH_MAX_DIMS */
  int64_t dims[SBAI_TORCH_MAX_DIMS];
  void *data;    /* ndims == 0 or product of dims elements, row-major */
  size_t nbytes; /* bytes at data */
} sbai_torch_tensor_t;

/* A string argument of a script function (ARGS and KEYS), not
 * NUL-terminated. */
typedef struct sbai_torch_str {
  const char *ptr;
  size_t len;
} sbai_torch_str_t;

typedef struct sbai_torch_api {
  /* The libtorch the plugin runs, e.g. "libtorch 2.15.0". */
  const char *(*version)(void);

  /* Sets the number of intra-op threads libtorch uses (at least 1). Called
   * once, before any model or script is made. */
  int (*init)(int threads, char *err, size_t errlen);

  /* Loads a torch.jit.save'd module from blob[0..len) (a zip archive) for
   * device: -1 for the CPU. *handle on success. */
  int (*model_load)(const void *blob, size_t len, int device, void **handle, char *err,
                    size_t errlen);
  /* Runs the module's forward on nin tensors; its result (a tensor, or a
   * tuple or list of tensors) must be exactly nout tensors, stored into
   * out[0..nout). */
  int (*model_run)(void *handle, const sbai_torch_tensor_t *in, int nin, sbai_torch_tensor_t *out,
                   int nout, char *err, size_t errlen);
  void (*model_free)(void *handle);

  /* Compiles TorchScript source text. *handle on success. */
  int (*script_compile)(const char *source, size_t len, void **handle, char *err, size_t errlen);
  /* The number of functions the script defines, and the name of the i-th
   * (valid as long as the handle), NULL when i is out of range. */
  int (*script_count)(void *handle);
  const char *(*script_name)(void *handle, int i);
  /* Runs function fn with the tensors in[0..nin), the key names keys[] and
   * the arguments args[]. A function declared
   *   def fn(tensors: List[Tensor], keys: List[str], args: List[str])
   * gets the three lists (RedisAI's AI.SCRIPTEXECUTE convention); any other
   * gets the tensors as its leading parameters and then the args, each
   * converted to the parameter's type (str, int, float or bool). Its result
   * must be exactly nout tensors. */
  int (*script_run)(void *handle, const char *fn, const sbai_torch_tensor_t *in, int nin,
                    const sbai_torch_str_t *keys, int nkeys, const sbai_torch_str_t *args,
                    int nargs, sbai_torch_tensor_t *out, int nout, char *err, size_t errlen);
  void (*script_free)(void *handle);
} sbai_torch_api_t;

/* What the plugin exports (the types of the two symbols, for dlsym). */
typedef int (*sbai_torch_abi_version_fn)(void);
typedef const sbai_torch_api_t *(*sbai_torch_api_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
