/* sbai's devices as numbers and names: SBAI_DEVICE_CPU (-1) or n >= 0 for
 * GPU:n, parsed from a client's device argument and printed back.
 *
 * Plain text rules, no CUDA (gpu.h has the GPUs themselves): every file that
 * names a device may use it. Functions return 0 / -1 and write a one-line
 * reason into err[errlen].
 */
#ifndef SBAI_DEVICE_H
#define SBAI_DEVICE_H

#include <stddef.h>

#define SBAI_DEVICE_CPU (-1)
/* Most GPUs one server drives (GPU:0 .. GPU:63). */
#define SBAI_MAX_GPUS 64

/* Parses a device argument: "CPU", "GPU" (which is GPU:0) or "GPU:n" (n
 * decimal, 0..SBAI_MAX_GPUS-1), any case. Checks the spelling only, not
 * whether the GPU exists (sbai_gpu_prepare does). -1 with a message for
 * anything else: "unknown device 'TPU' (expected CPU, GPU or GPU:<n>)",
 * "invalid device 'GPU:x': expected GPU:<n> with n a GPU number from 0". */
int sbai_device_parse(const char *text, size_t len, int *device, char *err, size_t errlen);

/* "CPU" or "GPU:n" into buf (16 bytes is enough); returns buf. */
#define SBAI_DEVICE_NAME_LEN 16
const char *sbai_device_name(int device, char buf[SBAI_DEVICE_NAME_LEN]);

#endif
