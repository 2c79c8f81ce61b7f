/* The optional TORCH backend: the plugin sbai_torch.so (torch/, C++ against
 * libtorch) loaded with dlopen when the module is given the load option
 * BACKEND_TORCH <path>, and what the model and script code need of it.
 *
 * Without the plugin nothing here does anything but answer "not loaded":
 * the module then behaves exactly as a build without libtorch.
 *
 * The blob rule (AI.MODELSTORE): a TorchScript module saved with
 * torch.jit.save is a zip archive, its first four bytes "PK\3\4"; our
 * safetensors blobs begin with an 8-byte little-endian header length and
 * then '{', so the two never meet.
 *
 * Calls nothing of the module above tensor_value.c (the outputs it makes)
 * and alloc.c.
 */
#ifndef SBAI_TORCH_BACKEND_H
#define SBAI_TORCH_BACKEND_H

#include "run.h"
#include "torch/sbai_torch_abi.h"

#include <stddef.h>

/* The name AI.MODELGET, AI.INFO and the RDB/AOF give TorchScript models and
 * scripts. */
#define SBAI_TORCH_BACKEND "TORCH"

/* The reply to a TorchScript model or script where no plugin is loaded. */
#define SBAI_TORCH_MISSING                                                                        \
  "TorchScript models need the TORCH backend: load sbai_torch.so with BACKEND_TORCH"
#define SBAI_TORCH_MISSING_SCRIPT                                                                 \
  "TorchScript scripts need the TORCH backend: load sbai_torch.so with BACKEND_TORCH"

/* Loads the plugin at path (dlopen, dlsym), checks its ABI version and
 * sets libtorch's intra-op threads. Main thread, once, while the module
 * loads; fails with err (nothing loaded). */
int sbai_torch_load(const char *path, int threads, char *err, size_t errlen);

/* The loaded plugin's functions, or NULL when none is loaded. */
const sbai_torch_api_t *sbai_torch(void);

/* "libtorch 2.x.y" of the loaded plugin, or NULL. */
const char *sbai_torch_version(void);

/* True when blob[0..len) is a zip archive (a torch.jit.save'd module). */
int sbai_torch_is_zip(const void *blob, size_t len);

/* Worker side: runs a TorchScript model (fn NULL) or the script function fn
 * of handle on the run's inputs (and, for a function, its KEYS and ARGS
 * texts), and stores its outputs (their shapes are the function's) into
 * run->out[], setting status, err, duration, leader and batch_total. */
void sbai_torch_execute(sbai_run_t *run, void *handle, const char *fn);

#endif
