# The module's commands declare their flags, and the server enforces them:
# AI.TENSORSET is "write deny-oom", AI.TENSORGET "readonly".
#  - COMMAND INFO shows them;
#  - a read-only script (EVAL_RO) may call AI.TENSORGET but not AI.TENSORSET;
#  - ACL: a user allowed only +@read (and +@connection) runs AI.TENSORGET and
#    gets NOPERM for AI.TENSORSET. Module commands enter ACL categories only
#    from Redis 7.2 on, and only where the module declares them
#    (RedisModule_SetCommandACLCategories); on an older server the category
#    check is reported as not applicable and the same rule is checked with
#    the command named explicitly;
#  - OOM: with maxmemory 1mb and noeviction a large AI.TENSORSET is refused
#    (deny-oom) while AI.TENSORGET and GET still answer.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
sb_start_redis

ver=$(sb_cli INFO server | tr -d '\r' | sed -n 's/^redis_version://p')
echo "redis $ver"

# COMMAND INFO: flags (the third element) of each command.
flags() { sb_cli COMMAND INFO "$1" | sed -n '3,/^[0-9-]*$/p' | grep -x '[a-z_-]*'; }
set_flags=$(flags AI.TENSORSET | tr '\n' ' ')
get_flags=$(flags AI.TENSORGET | tr '\n' ' ')
echo "AI.TENSORSET: $set_flags; AI.TENSORGET: $get_flags"
case " $set_flags " in *" write "*) ;; *) sb_fail "AI.TENSORSET is not flagged write: $set_flags" ;; esac
case " $set_flags " in *" denyoom "*) ;; *) sb_fail "AI.TENSORSET is not flagged deny-oom: $set_flags" ;; esac
case " $get_flags " in *" readonly "*) ;; *) sb_fail "AI.TENSORGET is not flagged readonly: $get_flags" ;; esac
case " $get_flags " in *" write "*|*" denyoom "*) sb_fail "AI.TENSORGET is flagged write/deny-oom: $get_flags" ;; esac

[ "$(sb_cli AI.TENSORSET t FLOAT 2 VALUES 1 2)" = OK ] || sb_fail "AI.TENSORSET t"

# Read-only scripts: the server refuses commands flagged write.
out=$(sb_cli EVAL_RO "return redis.call('AI.TENSORGET', KEYS[1], 'META')" 1 t 2>&1)
echo "$out" | grep -q FLOAT || sb_fail "EVAL_RO AI.TENSORGET: $out"
out=$(sb_cli EVAL_RO "return redis.call('AI.TENSORSET', KEYS[1], 'FLOAT', 2)" 1 t 2>&1)
echo "$out" | grep -qi "write commands are not allowed" || sb_fail "EVAL_RO AI.TENSORSET was not refused: $out"

# ACL.
user() { "$SB_REDIS_CLI" -p "$SB_PORT" --no-auth-warning --user "$1" --pass rpw "${@:2}" 2>&1; }
sb_cli ACL SETUSER reader on '>rpw' '~*' '&*' -@all +@read +@connection >/dev/null
if sb_cli ACL CAT read | grep -qix 'ai.tensorget'; then
  out=$(user reader AI.TENSORGET t META)
  echo "$out" | grep -q FLOAT || sb_fail "+@read user: AI.TENSORGET refused: $out"
  out=$(user reader AI.TENSORSET t FLOAT 2)
  echo "$out" | grep -q NOPERM || sb_fail "+@read user: AI.TENSORSET not refused: $out"
  echo "ACL +@read: AI.TENSORGET allowed, AI.TENSORSET NOPERM"
  sb_cli ACL CAT write | grep -qix 'ai.tensorset' ||
    sb_fail "AI.TENSORGET is in @read but AI.TENSORSET is not in @write"
  sb_cli ACL CAT write | grep -qix 'ai.tensorget' && sb_fail "AI.TENSORGET is in @write"
else
  case $ver in
    7.0.*|6.*) echo "NOTE: redis $ver puts no module command in an ACL category (7.2+ with" \
                    "RedisModule_SetCommandACLCategories): +@read checked with +ai.tensorget named" ;;
    *) sb_fail "redis $ver supports module ACL categories but AI.TENSORGET is not in @read" \
               "(the module must call RedisModule_SetCommandACLCategories)" ;;
  esac
  out=$(user reader AI.TENSORGET t META)
  echo "$out" | grep -q NOPERM || sb_fail "AI.TENSORGET in no category but allowed by +@read: $out"
  sb_cli ACL SETUSER reader +ai.tensorget >/dev/null
  out=$(user reader AI.TENSORGET t META)
  echo "$out" | grep -q FLOAT || sb_fail "+@read +ai.tensorget: AI.TENSORGET refused: $out"
fi
out=$(user reader AI.TENSORSET t FLOAT 2)
echo "$out" | grep -q NOPERM || sb_fail "read-only user: AI.TENSORSET not refused: $out"
[ "$(sb_cli AI.TENSORGET t VALUES | tr '\n' ' ')" = "1 2 " ] || sb_fail "the refused write changed t"

# OOM: deny-oom refuses the write, reads still answer.
sb_cli SET plain hello >/dev/null
sb_cli CONFIG SET maxmemory-policy noeviction >/dev/null
sb_cli CONFIG SET maxmemory 1mb >/dev/null
used=$(sb_cli INFO memory | tr -d '\r' | sed -n 's/^used_memory://p')
echo "used_memory $used with maxmemory 1mb"
head -c 2097152 /dev/zero >"$SB_TMP/big.bin"
out=$(sb_cli -x AI.TENSORSET big UINT8 2097152 BLOB <"$SB_TMP/big.bin" 2>&1)
echo "$out" | grep -q "^OOM" || sb_fail "a 2 MiB AI.TENSORSET over maxmemory was not refused with OOM: $out"
echo "deny-oom: $out"
[ "$(sb_cli EXISTS big)" = 0 ] || sb_fail "the refused tensor was stored"
out=$(sb_cli AI.TENSORGET t META 2>&1)
echo "$out" | grep -q FLOAT || sb_fail "AI.TENSORGET refused under maxmemory: $out"
[ "$(sb_cli GET plain)" = hello ] || sb_fail "GET refused under maxmemory"
sb_cli CONFIG SET maxmemory 0 >/dev/null
[ "$(sb_cli -x AI.TENSORSET big UINT8 2097152 BLOB <"$SB_TMP/big.bin")" = OK ] ||
  sb_fail "AI.TENSORSET refused after maxmemory was lifted"
sb_alive
echo PASS
