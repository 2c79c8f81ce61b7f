/* Byte sizes with binary suffixes: "512", "1K", "64k", "1M", "2G", "1KiB".
 * K = 1024, M = 1024^2, G = 1024^3 (also KB/MB/GB and KiB/MiB/GiB, all
 * binary: a benchmark's "1M" tensor is 1048576 bytes). */
#ifndef SB_SIZE_H
#define SB_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parses one size into *bytes. Refuses empty strings, signs, fractions,
 * unknown suffixes, zero (unless allow_zero) and values above 2^62.
 * Returns SB_OK or SB_ERR with a message naming the text. */
int sb_size_parse(const char *text, int allow_zero, uint64_t *bytes);

/* Parses a comma-separated list ("1K,64K,1M") into a malloc'd array.
 * Returns SB_OK or SB_ERR. */
int sb_size_list_parse(const char *text, uint64_t **sizes, size_t *count);

/* Formats a size the short way ("1M", "64K", "1000") into buf. */
void sb_size_format(uint64_t bytes, char *buf, size_t len);

#endif
