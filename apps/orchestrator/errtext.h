/* Error text shared by the module's plain-C rules (tensor.c, options.c,
 * builtins.c, device.c, gpu.c) and its commands: a message into a caller's
 * buffer, and client text made safe to quote inside a one-line error reply. */
#ifndef SBAI_ERRTEXT_H
#define SBAI_ERRTEXT_H

#include <stddef.h>

/* Size of sbai_printable's buffer: 48 bytes of text, "..." and the NUL. */
#define SBAI_TEXT_LEN 56

/* printf-formats the message into err (when err is not NULL and errlen > 0)
 * and returns -1, so a rule can `return sbai_errf(err, errlen, ...)`. */
int sbai_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Copies at most 48 bytes of client text into out, NUL-terminated, with
 * every byte outside printable ASCII as '?' (a reply never carries a
 * newline or binary data back) and "..." when the text was longer.
 * Returns out. */
const char *sbai_printable(const char *text, size_t len, char out[SBAI_TEXT_LEN]);

#endif
