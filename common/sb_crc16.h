/* CRC16-XMODEM (polynomial 0x1021, initial value 0, no reflection, no final
 * XOR) and the Redis Cluster hash slot of a key built on it.
 *
 * The slot of a key is CRC16(key) mod 16384, where key is replaced by the
 * part between the first '{' and the first '}' after it when that part is
 * non-empty (a hash tag): "{user1000}.following" and "{user1000}.followers"
 * share a slot. Check value: CRC16("123456789") = 0x31C3, slot 12739.
 */
#ifndef SB_CRC16_H
#define SB_CRC16_H

#include <stddef.h>
#include <stdint.h>

#define SB_CLUSTER_SLOTS 16384

/* CRC16-XMODEM of len bytes. */
uint16_t sb_crc16(const void *data, size_t len);

/* The cluster hash slot (0..16383) of a binary-safe key. */
int sb_key_slot(const void *key, size_t len);

#endif
