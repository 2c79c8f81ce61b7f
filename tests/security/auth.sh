# A database with requirepass and an ACL user: sb-throughput authenticates
# with credentials from the environment (SB_DB_PASSWORD, SB_DB_USER) or from
# a file (SB_DB_PASSWORD_FILE, "password" or "user password"); a wrong or
# missing password is a clear error within the connect bound; credentials
# never reach stdout, stderr or the HDF5 file (/params, /system, anywhere).
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/security/security_lib.sh"
command -v h5dump >/dev/null || sb_skip "h5dump not found"
sb_secure_redis
export SB_DB_CONNECT_TIMEOUT=2 SB_DB_COMMAND_TIMEOUT=5
unset SB_DB_USER SB_DB_PASSWORD SB_DB_PASSWORD_FILE

complete_run() { # NAME: the run succeeded and its file is complete
  [ "$rc" = 0 ] || { sb_show "$1"; sb_fail "$1: exit $rc"; }
  grep -q "^# status: complete" "$SB_TMP/$1.out" || { sb_show "$1"; sb_fail "$1: not complete"; }
  "$SB_BIN_DIR/h5_expect" "$SB_TMP/$1.h5" --status complete --nranks 2 --phase put_tensor \
    >/dev/null || sb_fail "$1: HDF5 file not as expected"
  grep -q 'ATTRIBUTE "db-command-timeout"' "$SB_TMP/$1.dump" || sb_fail "$1: h5dump shows no /params"
}

# 1. The default user's password from the environment (both modes).
SB_DB_PASSWORD=$SB_ADMIN_PW sb_tp env_password
complete_run env_password
SB_DB_PASSWORD=$SB_ADMIN_PW sb_tp env_password_raw --mode raw
complete_run env_password_raw

# 2. An ACL user and its password from the environment.
SB_DB_USER=$SB_USER_NAME SB_DB_PASSWORD=$SB_USER_PW sb_tp env_user
complete_run env_user
# The commands run as that user: one whose keys are elsewhere gets NOPERM.
[ "$(sb_cli ACL SETUSER sbother on ">$SB_USER_PW" '~elsewhere:*' '&*' +@all)" = OK ] ||
  sb_fail "ACL SETUSER sbother failed"
SB_DB_USER=sbother SB_DB_PASSWORD=$SB_USER_PW sb_tp env_other_user
[ "$rc" != 0 ] && grep -q "NOPERM" "$SB_TMP/env_other_user.err" ||
  { sb_show env_other_user; sb_fail "the ACL of user sbother did not apply to the app's commands"; }

# 3. A password file: "password", then "user password" (CRLF too).
umask 077
printf '%s\n' "$SB_ADMIN_PW" >"$SB_TMP/pw1"
SB_DB_PASSWORD_FILE=$SB_TMP/pw1 sb_tp file_password
complete_run file_password
printf '%s %s\r\n' "$SB_USER_NAME" "$SB_USER_PW" >"$SB_TMP/pw2"
SB_DB_PASSWORD_FILE=$SB_TMP/pw2 sb_tp file_user
complete_run file_user

# 4. A wrong password: a clear error naming the address and the user, not
# the password, within the connect bound, no retry storm, exit non-zero.
wrong="wrong-9d2f44-pw"
check_refused() { # NAME USER
  local name=$1 user=$2
  [ "$rc" != 0 ] || { sb_show "$name"; sb_fail "$name: exit 0 with a wrong password"; }
  grep -q "authentication failed" "$SB_TMP/$name.err" ||
    { sb_show "$name"; sb_fail "$name: the error does not say authentication failed"; }
  grep -q "127.0.0.1:$SB_PORT" "$SB_TMP/$name.err" ||
    { sb_show "$name"; sb_fail "$name: the error does not name the database address"; }
  grep -q "'$user'" "$SB_TMP/$name.err" || { sb_show "$name"; sb_fail "$name: the error does not name user $user"; }
  if grep -a -q -e "$wrong" "$SB_TMP/$name.out" "$SB_TMP/$name.err" "$SB_TMP/$name.dump" "$SB_TMP/$name.h5"; then
    sb_fail "$name: the wrong password is printed or recorded"
  fi
  # Connect bound 2 s, plus MPI start-up and the HDF5 file: 15 s is generous.
  awk -v e="$elapsed" 'BEGIN { exit !(e < 15) }' || sb_fail "$name: took $elapsed s (bound 2 s + margin)"
  [ -f "$SB_TMP/$name.h5" ] && { "$SB_BIN_DIR/h5_expect" "$SB_TMP/$name.h5" --status failed >/dev/null ||
    sb_fail "$name: the file does not say failed"; }
  echo "$name: refused in $elapsed s: $(grep -m1 'authentication failed' "$SB_TMP/$name.err")"
}
SB_DB_PASSWORD=$wrong sb_tp wrong_default
check_refused wrong_default default
SB_DB_USER=$SB_USER_NAME SB_DB_PASSWORD=$wrong sb_tp wrong_user
check_refused wrong_user "$SB_USER_NAME"
printf '%s %s\n' "$SB_USER_NAME" "$wrong" >"$SB_TMP/pw3"
SB_DB_PASSWORD_FILE=$SB_TMP/pw3 sb_tp wrong_file
check_refused wrong_file "$SB_USER_NAME"

# 5. No password: a clear error (the server's NOAUTH), exit non-zero. Raw
# mode here; tensor mode is auth_no_password_tensor.sh.
sb_tp no_password --mode raw
[ "$rc" != 0 ] || { sb_show no_password; sb_fail "no password: exit 0"; }
grep -q "NOAUTH" "$SB_TMP/no_password.err" ||
  { sb_show no_password; sb_fail "no password: the error does not say NOAUTH"; }
grep -q "127.0.0.1:$SB_PORT" "$SB_TMP/no_password.err" ||
  { sb_show no_password; sb_fail "no password: the error does not name the address"; }
echo "no password: $(grep -m1 NOAUTH "$SB_TMP/no_password.err")"

# 6. A missing or empty password file is refused before connecting, by name.
SB_DB_PASSWORD_FILE=$SB_TMP/absent sb_tp absent_file
[ "$rc" != 0 ] && grep -q "SB_DB_PASSWORD_FILE" "$SB_TMP/absent_file.err" ||
  { sb_show absent_file; sb_fail "a missing password file is not a clear error"; }
: >"$SB_TMP/empty"
SB_DB_PASSWORD_FILE=$SB_TMP/empty sb_tp empty_file
[ "$rc" != 0 ] && grep -q "SB_DB_PASSWORD_FILE" "$SB_TMP/empty_file.err" ||
  { sb_show empty_file; sb_fail "an empty password file is not a clear error"; }

# 7. Never from the command line: no option takes a password.
for opt in --password --db-password --auth; do
  rc=0
  mpiexec -n 1 "$SB_BIN_DIR/sb-throughput" "$opt" "$SB_ADMIN_PW" --db "$SSDB_TCP" \
    >"$SB_TMP/cli.out" 2>&1 || rc=$?
  [ "$rc" = 2 ] || { cat "$SB_TMP/cli.out"; sb_fail "$opt accepted on the command line (exit $rc)"; }
done

sb_alive
echo PASS
