# smartredis_venv DIR: makes (once) or reuses a Python venv at DIR holding
# SmartRedis's Python client and numpy from PyPI, and prints its python's
# path. Returns 77 (skip) with a message on stderr when PyPI cannot be
# reached or python3 cannot make a venv; 1 when the install fails otherwise.
# Tests that run at once share DIR: the first makes it, under a lock
# (DIR.lock), the others wait for it.
# Use: . "$SB_SOURCE_DIR/tests/lib/smartredis_venv.sh"
#      PY=$(smartredis_venv "$BUILD/venv-smartredis") || rc=$?
#
# smartredis_python: for a test (after tests/lib/sbtest.sh): sets build (the
# build tree) and PY from smartredis_venv on $build/venv-smartredis; skips
# the test (77) when that does, fails it on any other error.
SB_SMARTREDIS_VERSION=${SB_SMARTREDIS_VERSION:-0.6.1}

_smartredis_venv_ready() {
  [ -x "$1/bin/python" ] && [ -f "$1/.smartredis-$SB_SMARTREDIS_VERSION" ] &&
    "$1/bin/python" -c 'import smartredis, numpy' 2>/dev/null
}

_smartredis_venv_make() {
  local dir=$1 log
  _smartredis_venv_ready "$dir" && return 0
  command -v python3 >/dev/null 2>&1 || { echo "SKIP: no python3 to make a venv" >&2; return 77; }
  rm -rf "$dir"
  if ! python3 -m venv "$dir" >/dev/null 2>&1; then
    rm -rf "$dir"
    echo "SKIP: python3 -m venv failed (is python3-venv installed?)" >&2
    return 77
  fi
  log="$dir.install.log"
  if ! "$dir/bin/python" -m pip install --disable-pip-version-check -q \
      "smartredis==$SB_SMARTREDIS_VERSION" numpy > "$log" 2>&1; then
    rm -rf "$dir"
    if grep -qiE 'connection|resolve|network|timed out|unreachable|no matching distribution' "$log"; then
      echo "SKIP: PyPI cannot be reached to install smartredis==$SB_SMARTREDIS_VERSION: $(tail -1 "$log")" >&2
      return 77
    fi
    echo "smartredis_venv: pip install smartredis==$SB_SMARTREDIS_VERSION numpy failed:" >&2
    tail -20 "$log" >&2
    return 1
  fi
  touch "$dir/.smartredis-$SB_SMARTREDIS_VERSION"
}

smartredis_venv() {
  local dir=$1 rc=0
  [ -n "$dir" ] || { echo "smartredis_venv: no directory given" >&2; return 1; }
  if ! _smartredis_venv_ready "$dir"; then
    mkdir -p "$(dirname "$dir")" || return 1
    if command -v flock >/dev/null 2>&1; then
      ( flock 9 && _smartredis_venv_make "$dir" ) 9> "$dir.lock" || rc=$?
    else
      _smartredis_venv_make "$dir" || rc=$?
    fi
    [ $rc = 0 ] || return $rc
  fi
  echo "$dir/bin/python"
}

smartredis_python() {
  local rc=0
  build=$(dirname "$SB_BIN_DIR")
  PY=$(smartredis_venv "$build/venv-smartredis") || rc=$?
  [ $rc = 77 ] && sb_skip "no SmartRedis client (see above)"
  [ $rc = 0 ] || sb_fail "cannot make the SmartRedis venv in $build/venv-smartredis"
}
