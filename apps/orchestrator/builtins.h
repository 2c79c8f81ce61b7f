/* The built-in script functions: what AI.SCRIPTEXECUTE / AI.SCRIPTRUN can run.
 *
 * sbai does not interpret TorchScript. A stored script's source is scanned
 * for `def NAME(` (script_source.h) and every NAME found in this table is
 * registered for the script; running a function executes the table's C code.
 *
 * Plain C with no Redis dependency (like tensor.h): the functions return 0 or
 * -1 and write a one-line message into err[errlen] on failure.
 *
 * To add a built-in: write its check and run functions in builtins.c and add
 * one row to the table there.
 */
#ifndef SBAI_BUILTINS_H
#define SBAI_BUILTINS_H

#include "tensor.h"

#include <stddef.h>

/* Most inputs or outputs one run of a built-in takes or makes. */
#define SBAI_BUILTIN_MAX_IO 8

typedef struct sbai_builtin {
  /* The function name scripts define and clients run, e.g. "pre_process_3ch". */
  const char *name;
  /* On the main thread, before a run is queued: checks the number of inputs,
   * outputs and ARGS and the inputs' dtypes and shapes, and fills out[0..nout)
   * with the outputs' descriptions. */
  int (*check)(const sb_tensor_desc_t *in, int nin, int nargs, sb_tensor_desc_t *out, int nout,
               char *err, size_t errlen);
  /* On a worker thread: computes the outputs (buffers of out[i].nbytes,
   * zero-filled) from the inputs, with up to `threads` kernel threads. Only
   * called after check() accepted the same descriptions. */
  int (*run)(const sb_tensor_desc_t *in, const void *const *in_data, int nin,
             const sb_tensor_desc_t *out, void *const *out_data, int nout, int threads, char *err,
             size_t errlen);
  /* One line for the documentation and error messages. */
  const char *doc;
} sbai_builtin_t;

/* Number of built-ins, and the i-th (NULL when i is out of range). */
size_t sbai_builtin_count(void);
const sbai_builtin_t *sbai_builtin_at(size_t i);

/* The built-in called exactly `name` (len bytes, case-sensitive as in
 * Python), or NULL. */
const sbai_builtin_t *sbai_builtin_find(const char *name, size_t len);

/* Writes "pre_process_3ch, ..." (every built-in's name) into buf. */
void sbai_builtin_names(char *buf, size_t len);

#endif
