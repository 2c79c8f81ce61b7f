# The TORCH backend (sbai_torch.so, docs/module.md): TorchScript models and
# scripts made by torch in Python run in the server and give torch's own
# answers (1e-5 relative); they survive DEBUG RELOAD and an AOF rewrite and
# reload; a malformed TorchScript blob and a bad source get one-line errors
# and the server stays up; without the plugin a TorchScript blob gets the
# error that names BACKEND_TORCH, and the built-in pre_process_3ch still runs.
#
# Needs a Python with torch and numpy: $SB_TORCH_VENV, else
# build-peers/peers-venv or <build>/peers-venv; else, only with
# SB_TORCH_INSTALL=1, a venv made in <build>/torch-venv (pip, over 1 GB);
# otherwise the test is skipped (exit 77) and says why.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/module/module_lib.sh"

HERE=$SB_SOURCE_DIR/tests/torch

. "$HERE/torch_venv.sh"
sb_torch_need_plugin
has_torch() { sb_torch_has "$1" torch numpy; }
if ! sb_torch_find_venv torch numpy; then
  [ "${SB_TORCH_INSTALL:-0}" = 1 ] ||
    sb_skip "no venv with torch and numpy (set SB_TORCH_VENV, or SB_TORCH_INSTALL=1 to pip-install torch, over 1 GB)"
  VENV=${SB_BUILD_DIR:?}/torch-venv
  /usr/bin/python3 -m venv "$VENV" || sb_fail "cannot make $VENV"
  # torch without its CUDA wheels (the plugin loads libtorch_cpu), and the
  # small pure-Python packages `import torch` needs.
  "$VENV/bin/pip" install --no-deps torch numpy typing_extensions sympy mpmath filelock networkx \
    jinja2 MarkupSafe fsspec >"$SB_TMP/pip.log" 2>&1 || { tail -n 20 "$SB_TMP/pip.log"; sb_fail "pip install failed"; }
  has_torch "$VENV" || sb_fail "torch does not import from $VENV"
fi
PY=$VENV/bin/python
echo "torch from $VENV: $("$PY" -c 'import torch; print(torch.__version__)')"

"$PY" "$HERE/make_torch_cases.py" "$SB_TMP" || sb_fail "cannot make the TorchScript test cases"
close() { # KEY WANT_FILE: tensor KEY matches WANT_FILE (raw float32)
  get_blob "$1" "$SB_TMP/got.bin"
  "$PY" "$HERE/compare.py" "$SB_TMP/got.bin" "$2" || sb_fail "$1 differs from torch's answer"
}
PRE_SRC=$'def pre_process_3ch(image):\n    return image\n'

# ---- without the plugin ---------------------------------------------------------------
sb_start_redis
expect_error "ERR TorchScript models need the TORCH backend: load sbai_torch.so with BACKEND_TORCH" \
  -x AI.MODELSTORE m TORCH CPU BLOB <"$SB_TMP/model.pt"
expect_error "ERR the script defines no built-in function" \
  AI.SCRIPTSET s CPU SOURCE "$(cat "$SB_TMP/script.txt")"
expect_reply OK AI.SCRIPTSET pre CPU SOURCE "$PRE_SRC"
expect_reply OK AI.TENSORSET img FLOAT 1 4 4 3
expect_reply OK AI.SCRIPTEXECUTE pre pre_process_3ch INPUTS 1 img OUTPUTS 1 out
sb_cli SHUTDOWN NOSAVE >/dev/null 2>&1
for _ in $(seq 100); do kill -0 "$SB_PID" 2>/dev/null || break; sleep 0.05; done

# A plugin path that is not one fails the module's load.
! timeout 30 "$SB_REDIS_SERVER" --port "$(sb_free_port)" --bind 127.0.0.1 --save '' --loadmodule "$SB_MODULE" BACKEND_TORCH /nonexistent/sbai_torch.so \
  >"$SB_TMP/bad_load.log" 2>&1 || sb_fail "the module loaded with a missing TORCH plugin"
grep -q "cannot load the TORCH backend" "$SB_TMP/bad_load.log" || sb_fail "no reason logged: $(tail -n 3 "$SB_TMP/bad_load.log")"

# ---- with the plugin --------------------------------------------------------------------
sb_start_redis BACKEND_TORCH "$SB_TORCH_PLUGIN" --enable-debug-command yes --appendonly yes \
  --aof-use-rdb-preamble no
grep -q "TORCH backend libtorch" "$SB_REDIS_LOG" || sb_fail "the plugin's version is not logged"

# A traced conv+relu+linear.
expect_reply OK -x AI.MODELSTORE m TORCH CPU BLOB <"$SB_TMP/model.pt"
expect_reply OK -x AI.TENSORSET x FLOAT 2 3 8 8 BLOB <"$SB_TMP/x.bin"
expect_reply OK AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y
expect_reply "$(printf 'dtype\nFLOAT\nshape\n2\n5')" AI.TENSORGET y META
close y "$SB_TMP/y.bin"
expect_reply OK AI.MODELRUN m INPUTS x OUTPUTS y_old
close y_old "$SB_TMP/y.bin"
sb_cli AI.MODELGET m META | head -n 2 | tr '\n' ' ' | grep -q "backend TORCH" ||
  sb_fail "AI.MODELGET does not report backend TORCH"
sb_cli AI.INFO m | tr '\n' ' ' | grep -q "calls 2 errors 0" || sb_fail "AI.INFO: $(sb_cli AI.INFO m | tr '\n' ' ')"
# The stored blob is given back as stored.
sb_cli AI.MODELGET m BLOB >"$SB_TMP/back.pt" && truncate -s -1 "$SB_TMP/back.pt"
cmp -s "$SB_TMP/back.pt" "$SB_TMP/model.pt" || sb_fail "AI.MODELGET BLOB differs from the stored blob"

# Two inputs, a tuple of two outputs.
expect_reply OK -x AI.MODELSTORE two TORCH CPU TAG v1 BLOB <"$SB_TMP/two.pt"
expect_reply OK -x AI.TENSORSET a FLOAT 4 3 BLOB <"$SB_TMP/a.bin"
expect_reply OK -x AI.TENSORSET b FLOAT 4 3 BLOB <"$SB_TMP/b.bin"
expect_reply OK AI.MODELEXECUTE two INPUTS 2 a b OUTPUTS 2 sum prod
close sum "$SB_TMP/ab_sum.bin"
close prod "$SB_TMP/ab_prod.bin"

# Run-time errors are one line, counted, and the server lives.
expect_error "ERR" AI.MODELEXECUTE two INPUTS 2 a b OUTPUTS 1 sum
expect_error "ERR" AI.MODELEXECUTE m INPUTS 1 a OUTPUTS 1 y
expect_error "ERR" AI.MODELEXECUTE two INPUTS 1 a OUTPUTS 2 sum prod
# Refused at store.
expect_error "ERR cannot load the model: libtorch cannot load the TorchScript module" \
  -x AI.MODELSTORE bad TORCH CPU BLOB <"$SB_TMP/bad.pt"
head -c 3000 "$SB_TMP/model.pt" >"$SB_TMP/cut.pt"
expect_error "ERR cannot load the model:" -x AI.MODELSTORE bad TORCH CPU BLOB <"$SB_TMP/cut.pt"
expect_error "ERR cannot load the model: this blob is a TorchScript module" \
  -x AI.MODELSTORE bad SBRESNET CPU BLOB <"$SB_TMP/model.pt"
expect_error "ERR cannot load the model: BATCHSIZE is not supported for TORCH models" \
  -x AI.MODELSTORE bad TORCH CPU BATCHSIZE 4 BLOB <"$SB_TMP/model.pt"
[ "$(sb_cli EXISTS bad)" = 0 ] || sb_fail "a refused model was stored"

# Scripts: user functions compiled by libtorch.
SRC=$(cat "$SB_TMP/script.txt")
expect_reply OK AI.SCRIPTSET s CPU SOURCE "$SRC"
expect_reply OK AI.SCRIPTEXECUTE s scale_add INPUTS 2 a b ARGS 1 2.5 OUTPUTS 1 r
close r "$SB_TMP/s_scale.bin"
expect_reply OK AI.SCRIPTEXECUTE s lists KEYS 1 a INPUTS 2 a b ARGS 1 3 OUTPUTS 2 r2 r2sum
close r2 "$SB_TMP/s_lists.bin"
close r2sum "$SB_TMP/s_lists_sum.bin"
expect_reply OK AI.SCRIPTEXECUTE s pick INPUTS 1 a ARGS 1 2 OUTPUTS 1 r3
expect_reply "$(printf 'dtype\nFLOAT\nshape\n2\n3')" AI.TENSORGET r3 META
expect_reply OK AI.SCRIPTSTORE s2 CPU ENTRY_POINTS 1 scale_add SOURCE "$SRC"
expect_reply OK AI.SCRIPTRUN s2 scale_add INPUTS a b OUTPUTS r4
close r4 "$SB_TMP/s_scale.bin" # factor's default, 2.5
expect_error "ERR" AI.SCRIPTEXECUTE s2 lists INPUTS 2 a b OUTPUTS 1 r5
expect_error "ERR" AI.SCRIPTEXECUTE s scale_add INPUTS 2 a b ARGS 1 notanumber OUTPUTS 1 r5
expect_error "ERR" AI.SCRIPTEXECUTE s scale_add INPUTS 1 a OUTPUTS 1 r5
sb_cli AI.SCRIPTGET s META | tr '\n' ' ' | grep -q "Entry Points scale_add lists pick" ||
  sb_fail "AI.SCRIPTGET: $(sb_cli AI.SCRIPTGET s META | tr '\n' ' ')"
# Bad sources: libtorch's reason, one line.
expect_error "ERR libtorch cannot compile the script" AI.SCRIPTSET bad CPU SOURCE $'def f(x):\n    return x +\n'
expect_error "ERR libtorch cannot compile the script" AI.SCRIPTSET bad CPU SOURCE $'def f(x):\n    return undefined_name(x)\n'
expect_error "ERR" AI.SCRIPTSTORE bad CPU ENTRY_POINTS 1 nosuch SOURCE "$SRC"
# The built-in keeps running, also from a source libtorch does not compile.
expect_reply OK AI.SCRIPTSET pre CPU SOURCE $'import torch\n\ndef pre_process_3ch(image):\n    return image\n'
expect_reply OK AI.TENSORSET img FLOAT 1 4 4 3
expect_reply OK AI.SCRIPTEXECUTE pre pre_process_3ch INPUTS 1 img OUTPUTS 1 out
expect_reply OK AI.SCRIPTSET pre2 CPU SOURCE "$PRE_SRC"
expect_reply OK AI.SCRIPTEXECUTE pre2 pre_process_3ch INPUTS 1 img OUTPUTS 1 out2
sb_cli AI.INFO pre2 | tr '\n' ' ' | grep -q "backend BUILTIN" || sb_fail "pre_process_3ch is not the built-in"

# ---- persistence: RDB (DEBUG RELOAD), then an AOF rewrite and reload ------------------
rerun() {
  expect_reply OK AI.MODELEXECUTE m INPUTS 1 x OUTPUTS 1 y
  close y "$SB_TMP/y.bin"
  expect_reply OK AI.MODELEXECUTE two INPUTS 2 a b OUTPUTS 2 sum prod
  close prod "$SB_TMP/ab_prod.bin"
  expect_reply OK AI.SCRIPTEXECUTE s scale_add INPUTS 2 a b ARGS 1 2.5 OUTPUTS 1 r
  close r "$SB_TMP/s_scale.bin"
  expect_reply OK AI.SCRIPTEXECUTE s2 scale_add INPUTS 2 a b ARGS 1 2.5 OUTPUTS 1 r
  close r "$SB_TMP/s_scale.bin"
}
expect_reply OK DEBUG RELOAD
rerun
expect_reply "Background append only file rewriting started" BGREWRITEAOF
for _ in $(seq 200); do
  [ "$(sb_cli INFO persistence | tr -d '\r' | grep '^aof_rewrite_in_progress:')" = "aof_rewrite_in_progress:0" ] && break
  sleep 0.05
done
grep -q "AI.MODELSTORE" "$SB_TMP"/appendonlydir/*.base.aof || sb_fail "the AOF rewrite holds no AI.MODELSTORE"
expect_reply OK DEBUG LOADAOF
rerun
sb_alive
echo "torch_backend: all checks passed"
