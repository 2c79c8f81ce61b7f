/* Unit test of the cluster client's pure parts: CRC16-XMODEM, the hash slot
 * of a key (with and without hash tags), which argument is a command's key,
 * and how an error reply is read as a redirect. The slots of many random
 * keys against a live server's CLUSTER KEYSLOT: key_slot_vs_server.sh. */
#include "sb_check.h"
#include "sb_cluster.h"
#include "sb_crc16.h"
#include "sb_db.h"

#include <string.h>

static int slot_of(const char *k) { return sb_key_slot(k, strlen(k)); }

int main(void)
{
  /* The check value of CRC16-XMODEM, and the slot Redis documents for it. */
  CHECK(sb_crc16("123456789", 9) == 0x31C3, "crc16 = 0x%04X", sb_crc16("123456789", 9));
  CHECK(sb_crc16("", 0) == 0, "crc16 of nothing");
  CHECK(slot_of("123456789") == 12739, "slot %d", slot_of("123456789"));
  /* Published by the Redis Cluster specification's examples. */
  CHECK(slot_of("{user1000}.following") == slot_of("{user1000}.followers"), "tag");
  CHECK(slot_of("{user1000}.following") == slot_of("user1000"), "tag = the tag's own slot");
  CHECK(slot_of("foo{}{bar}") == sb_crc16("foo{}{bar}", 10) % 16384,
        "an empty first tag: the whole key is hashed");
  CHECK(slot_of("foo{{bar}}zap") == slot_of("{bar"), "tag is '{bar'");
  CHECK(slot_of("foo{bar}{zap}") == slot_of("bar"), "first tag only");
  CHECK(slot_of("{a") == (int)(sb_crc16("{a", 2) % 16384), "unclosed tag: whole key");
  CHECK(slot_of("a}b{") == (int)(sb_crc16("a}b{", 4) % 16384), "'}' before '{': whole key");
  /* Dataset keys of one dataset share its slot (docs/aggregation.md). */
  CHECK(slot_of("{agg_r0_i3}.meta") == slot_of("{agg_r0_i3}.t0"), "dataset keys");
  /* Binary-safe: a NUL inside the key counts. */
  CHECK(sb_key_slot("a\0b", 3) == sb_crc16("a\0b", 3) % 16384, "binary key");
  for (int k = 0; k < 1000; k++) {
    char key[32];
    snprintf(key, sizeof key, "sb:tp:rank%d", k);
    int s = slot_of(key);
    CHECK(s >= 0 && s < 16384, "slot %d out of range", s);
  }

  /* The key argument of the commands the suite sends. */
  {
    const char *set[3] = {"SET", "k", "v"}, *info[2] = {"INFO", "server"},
               *mod[2] = {"module", "list"}, *ping[1] = {"PING"},
               *tget[4] = {"AI.TENSORGET", "k", "META", "BLOB"};
    size_t setl[3] = {3, 1, 1}, infol[2] = {4, 6}, modl[2] = {6, 4}, pingl[1] = {4},
           tgetl[4] = {12, 1, 4, 4};
    CHECK(sb_db_key_arg(3, set, setl) == 1, "SET");
    CHECK(sb_db_key_arg(4, tget, tgetl) == 1, "AI.TENSORGET");
    CHECK(sb_db_key_arg(2, info, infol) == -1, "INFO");
    CHECK(sb_db_key_arg(2, mod, modl) == -1, "MODULE (any case)");
    CHECK(sb_db_key_arg(1, ping, pingl) == -1, "PING");
  }

  /* Redirects. */
  {
    char target[128];
    int slot = -1;
    CHECK(sb_cluster_parse_redirect("MOVED 3999 127.0.0.1:6381", &slot, target, sizeof target) ==
              SB_REDIRECT_MOVED && slot == 3999 && strcmp(target, "127.0.0.1:6381") == 0,
          "MOVED: slot %d target %s", slot, target);
    CHECK(sb_cluster_parse_redirect("ASK 12 10.0.0.2:7000", &slot, target, sizeof target) ==
              SB_REDIRECT_ASK && slot == 12 && strcmp(target, "10.0.0.2:7000") == 0,
          "ASK: slot %d target %s", slot, target);
    CHECK(sb_cluster_parse_redirect("MOVED 7 :7001", &slot, target, sizeof target) ==
              SB_REDIRECT_MOVED && strcmp(target, ":7001") == 0, "MOVED without a host");
    CHECK(sb_cluster_parse_redirect("TRYAGAIN Multiple keys request during rehashing of slot",
                                    &slot, target, sizeof target) == SB_REDIRECT_TRYAGAIN,
          "TRYAGAIN");
    CHECK(sb_cluster_parse_redirect("CLUSTERDOWN The cluster is down", &slot, target,
                                    sizeof target) == SB_REDIRECT_CLUSTERDOWN, "CLUSTERDOWN");
    CHECK(sb_cluster_parse_redirect("ERR wrong number of arguments", &slot, target,
                                    sizeof target) == SB_REDIRECT_NONE, "ERR");
    CHECK(sb_cluster_parse_redirect("MOVED 99999 h:1", &slot, target, sizeof target) ==
              SB_REDIRECT_NONE, "slot out of range");
    CHECK(sb_cluster_parse_redirect("MOVEDX 1 h:1", &slot, target, sizeof target) ==
              SB_REDIRECT_NONE, "not MOVED");
  }
  return CHECK_DONE();
}
