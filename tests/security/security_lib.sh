# Shared by the security tests: a test server (sbtest.sh) turned into a
# password-protected one after it started, and the checks on the apps.
# Source after tests/lib/sbtest.sh.

# Distinctive credentials, so that a leak is found by grep.
SB_ADMIN_PW="adm-3c9e71f0-pw"
SB_USER_NAME="sbuser"
SB_USER_PW="usr-5b1d8a2e-pw"

# sb_secure_redis [extra redis-server args]: starts the test server, adds the
# ACL user sbuser (everything allowed) and sets requirepass for 'default'.
# redis-cli authenticates from then on through REDISCLI_AUTH.
sb_secure_redis() {
  sb_start_redis "$@"
  [ "$(sb_cli ACL SETUSER "$SB_USER_NAME" on ">$SB_USER_PW" '~*' '&*' +@all)" = OK ] ||
    sb_fail "ACL SETUSER $SB_USER_NAME failed"
  [ "$(sb_cli CONFIG SET requirepass "$SB_ADMIN_PW")" = OK ] || sb_fail "CONFIG SET requirepass failed"
  export REDISCLI_AUTH=$SB_ADMIN_PW
  [ "$(sb_cli ping 2>/dev/null)" = PONG ] || sb_fail "redis-cli cannot authenticate"
  # Without the password the server refuses.
  case $(env -u REDISCLI_AUTH "$SB_REDIS_CLI" -p "$SB_PORT" ping 2>&1) in
    NOAUTH*) ;;
    *) sb_fail "the server answers without a password" ;;
  esac
}

# sb_no_secrets FILE...: none of the passwords appears in the files.
sb_no_secrets() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    if grep -a -q -e "$SB_ADMIN_PW" -e "$SB_USER_PW" "$f"; then
      grep -a -n -e "$SB_ADMIN_PW" -e "$SB_USER_PW" "$f" >&2
      sb_fail "a password appears in $f"
    fi
  done
}

# sb_tp NAME [app options]: sb-throughput with 2 ranks against the test
# server; stdout, stderr, the HDF5 file and its h5dump go to $SB_TMP/NAME.*,
# the exit code to $rc, the wall time (s) to $elapsed.
sb_tp() {
  local name=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  rc=0
  mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --db "$SSDB_TCP" --iterations 5 --tensor-bytes 1K \
    --out "$SB_TMP/$name.h5" "$@" >"$SB_TMP/$name.out" 2>"$SB_TMP/$name.err" || rc=$?
  t1=$(date +%s.%N)
  elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  h5dump "$SB_TMP/$name.h5" >"$SB_TMP/$name.dump" 2>&1 || true
  sb_no_secrets "$SB_TMP/$name.out" "$SB_TMP/$name.err" "$SB_TMP/$name.dump" "$SB_TMP/$name.h5"
}

sb_show() { cat "$SB_TMP/$1.out" "$SB_TMP/$1.err"; }
