/* CRC16-XMODEM and the Redis Cluster key slot; see sb_crc16.h. */
#include "sb_crc16.h"

#include <pthread.h>
#include <string.h>

/* One table entry per byte value: the CRC of that byte shifted through the
 * polynomial eight times, computed once from the polynomial itself. */
static uint16_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void)
{
  for (unsigned b = 0; b < 256; b++) {
    uint16_t crc = (uint16_t)(b << 8);
    for (int k = 0; k < 8; k++)
      crc = (uint16_t)((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    table[b] = crc;
  }
}

uint16_t sb_crc16(const void *data, size_t len)
{
  const unsigned char *p = data;
  uint16_t crc = 0;
  pthread_once(&table_once, build_table);
  for (size_t k = 0; k < len; k++)
    crc = (uint16_t)((crc << 8) ^ table[((crc >> 8) ^ p[k]) & 0xff]);
  return crc;
}

int sb_key_slot(const void *key, size_t len)
{
  const char *k = key;
  const char *open = memchr(k, '{', len);
  if (open) {
    size_t rest = len - (size_t)(open - k) - 1;
    const char *close = memchr(open + 1, '}', rest);
    /* Only a non-empty tag counts: "{}x" hashes the whole key. */
    if (close && close > open + 1)
      return sb_crc16(open + 1, (size_t)(close - open - 1)) & (SB_CLUSTER_SLOTS - 1);
  }
  return sb_crc16(k, len) & (SB_CLUSTER_SLOTS - 1);
}
