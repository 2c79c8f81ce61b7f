/* The module's load-time options and the kernel thread count derived from
 * them (module_options.h). */
#include "module_options.h"

#include <unistd.h>

sb_options_t sbai_options;

int sbai_kernel_threads(const sb_options_t *opts)
{
  long cpus;
  if (opts->intra_op_parallelism > 0)
    return (int)opts->intra_op_parallelism;
  cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1)
    cpus = 1;
  cpus /= opts->threads_per_queue;
  return cpus < 1 ? 1 : (int)cpus;
}
