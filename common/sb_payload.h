/* How the apps' payloads travel as tensors: a payload of any byte count as
 * one tensor, the same bytes on the wire whatever its dtype.
 */
#ifndef SB_PAYLOAD_H
#define SB_PAYLOAD_H

#include <stdint.h>

/* The dtype that carries `bytes` bytes, and its element count: FLOAT (the
 * dtype of SmartSim's scaling tests) when bytes is a multiple of 4, else
 * UINT8. */
static inline const char *sb_payload_dtype(uint64_t bytes, int64_t *elements)
{
  if (bytes % 4 == 0) {
    *elements = (int64_t)(bytes / 4);
    return "FLOAT";
  }
  *elements = (int64_t)bytes;
  return "UINT8";
}

#endif
