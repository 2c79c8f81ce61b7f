/* Whole files into memory: a model file is read this way by the program
 * that stores it (sb-inference --model-file) and by sb-model info. Errors
 * follow the kernel layer's convention (sb_err.h).
 */
#ifndef SB_FILE_H
#define SB_FILE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Reads the whole of path (a regular file or a stream) into a malloc'ed
 * buffer: *data (free() it) and *len. Returns 0, or -1 with the reason in
 * err (naming the path) and *data NULL. */
int sb_file_read(const char *path, void **data, size_t *len, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
