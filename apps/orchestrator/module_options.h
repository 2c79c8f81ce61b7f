/* The options this module was loaded with (`--loadmodule sbai.so NAME VALUE
 * ...`; options.h has their rules), and what derives from them alone.
 *
 * Calls nothing of the module: any file may read the options.
 */
#ifndef SBAI_MODULE_OPTIONS_H
#define SBAI_MODULE_OPTIONS_H

#include "options.h"

/* The options the module was loaded with. Written once in OnLoad, read-only
 * afterwards (and so safe to read from worker threads). */
extern sb_options_t sbai_options;

/* The number of kernel threads a worker uses: INTRA_OP_PARALLELISM, or when
 * that is 0, the online CPUs divided by THREADS_PER_QUEUE (at least 1). */
int sbai_kernel_threads(const sb_options_t *opts);

#endif
