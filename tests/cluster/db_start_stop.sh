# `stagebench db start --nodes 3` forms a cluster (cluster_state:ok on every
# shard, all 16384 slots), records its addresses, options and pids; `db
# status` says what runs where; a second start is refused; `db stop` leaves
# no process and no listening port behind. --nodes 2 (formed without
# redis-cli --cluster, which wants 3 masters) works too. The allocation
# paths (Slurm srun, PBS mpiexec -hosts, colocated per node) are checked as
# far as this machine allows: their --print dry run.
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/cluster/cluster_lib.sh"

gone() { local st; st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || true); [ -z "$st" ] || [ "$st" = Z ]; }
listening() { grep -q "$(printf ':%04X 00000000:0000 0A' "$1")" /proc/net/tcp 2>/dev/null; }

sb_cluster_start 3
set -- $SB_CLUSTER_PORTS
base=$1
[ "$SSDB" = "tcp://127.0.0.1:$1,tcp://127.0.0.1:$2,tcp://127.0.0.1:$3" ] || sb_fail "SSDB is '$SSDB'"
[ "$(cat "$SB_STATE/ssdb")" = "$SSDB" ] || sb_fail "address file differs from the printed SSDB"
for p in $SB_CLUSTER_PORTS; do
  redis-cli -p "$p" cluster info | tr -d '\r' | grep -q '^cluster_state:ok' || sb_fail "shard $p: not cluster_state:ok"
  grep -q '^save ""' "$SB_STATE/redis-$p.conf" && grep -q '^appendonly no' "$SB_STATE/redis-$p.conf" &&
    grep -q '^maxclients ' "$SB_STATE/redis-$p.conf" && grep -q '^io-threads 1' "$SB_STATE/redis-$p.conf" &&
    grep -q '^protected-mode no' "$SB_STATE/redis-$p.conf" && grep -q '^cluster-node-timeout ' "$SB_STATE/redis-$p.conf" ||
    sb_fail "redis-$p.conf lacks an explicit option"
  [ "$(redis-cli -p "$p" config get io-threads | tail -1)" = 1 ] || sb_fail "io-threads not applied on $p"
  [ "$(redis-cli -p "$p" config get save | tail -1)" = "" ] || sb_fail "save not applied on $p"
done
[ "$(redis-cli -p "$base" cluster info | tr -d '\r' | awk -F: '/^cluster_slots_ok:/ { print $2 }')" = 16384 ] ||
  sb_fail "not every slot is served"
grep -q '^mode cluster of 3' "$SB_STATE/db.options" || sb_fail "db.options does not record the mode"
bash "$SB_FE" db status > "$SB_TMP/status" || { cat "$SB_TMP/status"; sb_fail "db status exit $?"; }
cat "$SB_TMP/status"
[ "$(grep -c 'running, cluster_state:ok' "$SB_TMP/status")" = 3 ] || sb_fail "db status does not show 3 shards ok"
bash "$SB_FE" db start --nodes 3 --port $((base + 20)) 2>"$SB_TMP/again" && sb_fail "a second db start was not refused"
grep -q "already runs" "$SB_TMP/again" || sb_fail "the refusal does not say why: $(cat "$SB_TMP/again")"
bash "$SB_FE" db stop || sb_fail "db stop failed"
for p in $SB_CLUSTER_PIDS; do gone "$p" || sb_fail "pid $p still runs after db stop"; done
for p in $SB_CLUSTER_PORTS; do
  listening "$p" && sb_fail "port $p still listening after db stop"
  listening $((p + 10000)) && sb_fail "cluster bus port $((p + 10000)) still listening after db stop"
done
ls "$SB_STATE"/*.nodes.conf >/dev/null 2>&1 && sb_fail "cluster config files left behind (a restart would reuse them)"
bash "$SB_FE" db status >/dev/null && sb_fail "db status exit 0 after stop"
echo "3 shards: started, ok, stopped clean"

# Two shards: formed by hand.
sb_cluster_start 2
mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --mode raw --tensor-bytes 1K --iterations 20 >/dev/null ||
  sb_fail "sb-throughput against 2 shards"
bash "$SB_FE" db stop || sb_fail "db stop (2 shards)"
for p in $SB_CLUSTER_PIDS; do gone "$p" || sb_fail "pid $p still runs after db stop"; done
echo "2 shards: started, used, stopped"

# Colocated on this machine: one server on the node-local socket (moved into
# the test's directory) plus a TCP port; SSDB names the socket.
export SB_COLOCATED_SOCKET=$SB_TMP/colo/db.sock
base=$(sb_cluster_ports 1) || sb_skip "no free port"
out=$(bash "$SB_FE" db start --colocated --port "$base") || sb_fail "db start --colocated"
[ "$out" = "export SSDB=unix://$SB_COLOCATED_SOCKET" ] || sb_fail "colocated: '$out'"
[ -S "$SB_COLOCATED_SOCKET" ] || sb_fail "no socket at $SB_COLOCATED_SOCKET"
[ "$(redis-cli -p "$base" ping)" = PONG ] || sb_fail "colocated: no TCP port $base"
SSDB=unix://$SB_COLOCATED_SOCKET mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --tensor-bytes 1K --iterations 20 >/dev/null ||
  sb_fail "sb-throughput through the colocated socket"
pid=$(cat "$SB_STATE/db.pid")
bash "$SB_FE" db stop || sb_fail "db stop (colocated)"
gone "$pid" || sb_fail "colocated server still runs"
[ ! -e "$SB_COLOCATED_SOCKET" ] || sb_fail "socket left behind"
unset SB_COLOCATED_SOCKET
echo "colocated: started, used through the socket, stopped"

# The allocation path for real, on this one host: the servers launched as one
# MPICH job (mpiexec -hosts localhost, three tasks on consecutive ports, each
# announcing itself in SB_STATE), the cluster formed from here.
base=$(sb_cluster_ports 3) || sb_skip "no free ports"
out=$(bash "$SB_FE" db start --nodes 3 --hosts localhost --launcher mpiexec --interface lo --port "$base") ||
  sb_fail "db start through mpiexec -hosts localhost"
SSDB=${out#export SSDB=}
[ "$(tr ',' '\n' <<< "$SSDB" | grep -c '^tcp://127.0.0.1:')" = 3 ] || sb_fail "SSDB is '$SSDB'"
launcher=$(cat "$SB_STATE/db.pid")
grep -q "^launch mpiexec -n 3 -ppn 3 -hosts localhost " "$SB_STATE/db.options" || sb_fail "db.options lacks the launch line"
bash "$SB_FE" db status > "$SB_TMP/status" || { cat "$SB_TMP/status"; sb_fail "db status (allocation)"; }
[ "$(grep -c 'running, cluster_state:ok' "$SB_TMP/status")" = 3 ] || { cat "$SB_TMP/status"; sb_fail "3 shards not ok"; }
SSDB=$SSDB mpiexec -n 2 "$SB_BIN_DIR/sb-throughput" --mode raw --tensor-bytes 1K --iterations 20 >/dev/null ||
  sb_fail "sb-throughput against the mpiexec-launched cluster"
ports=$(awk '{ sub(/.*:/, "", $1); print $1 }' "$SB_STATE/db.nodes")
bash "$SB_FE" db stop || sb_fail "db stop (allocation)"
for _ in $(seq 50); do gone "$launcher" && break; sleep 0.1; done
gone "$launcher" || sb_fail "the launcher (pid $launcher) still runs after db stop"
for p in $ports; do
  for _ in $(seq 50); do listening "$p" || break; sleep 0.1; done
  listening "$p" && sb_fail "port $p still listening after db stop (allocation path)"
done
echo "allocation path (mpiexec -hosts localhost): started, used, stopped"

# Allocation paths, dry run (no Slurm or second host here). Under
# SLURM_JOB_ID the launcher depends on whether srun is on PATH; both
# branches are checked whatever this machine has installed (Slurm may come
# only later, with the tests/slurm tests):
# - srun on PATH: a directory of the test's own holding an executable named
#   srun, which --print only looks up (it records a call, which would fail
#   the test);
# - no srun on PATH: PATH's directories mirrored by symbolic links, srun
#   left out.
mkdir -p "$SB_TMP/with-srun" "$SB_TMP/without-srun"
printf '#!/bin/sh\necho "$*" >> "%s/srun-called"\nexit 1\n' "$SB_TMP" > "$SB_TMP/with-srun/srun"
chmod +x "$SB_TMP/with-srun/srun"
IFS=: read -r -a path_dirs <<< "$PATH"
for d in "${path_dirs[@]}"; do
  [ -d "$d" ] && ln -s "$d"/* "$SB_TMP/without-srun/" 2>/dev/null
done
rm -f "$SB_TMP/without-srun/srun"
with_srun=$SB_TMP/with-srun:$PATH without_srun=$SB_TMP/without-srun
PATH=$without_srun command -v srun >/dev/null && sb_fail "srun still on the srun-less PATH"

out=$(SLURM_JOB_ID=1 PATH=$with_srun bash "$SB_FE" db start --nodes 3 --hosts n1,n2,n3 --interface ib0 --print) ||
  sb_fail "db start --print under Slurm"
echo "$out" | grep -q "^SB_STATE=.* srun --overlap --nodes 3 --ntasks 3 --ntasks-per-node 1 .*--nodelist n1,n2,n3 .*db _serve --port 6379 --cluster 1 .*--interface ib0" ||
  { echo "$out"; sb_fail "Slurm launch line"; }
echo "$out" | grep -q "redis-cli --cluster create" || sb_fail "Slurm: no cluster create step"
out=$(SLURM_JOB_ID=1 PATH=$with_srun bash "$SB_FE" db start --colocated --hosts n1,n2 --print) || sb_fail "colocated --print"
echo "$out" | grep -q "srun --overlap --nodes 2 --ntasks 2 --ntasks-per-node 1 .*--socket /tmp/stagebench/db.sock" ||
  { echo "$out"; sb_fail "colocated launch line"; }
# SLURM_JOB_ID without srun: auto says so and falls back (mpiexec -hosts).
out=$(SLURM_JOB_ID=1 PATH=$without_srun bash "$SB_FE" db start --nodes 3 --hosts n1,n2,n3 --print 2>"$SB_TMP/fallback") ||
  { cat "$SB_TMP/fallback"; sb_fail "db start --print, SLURM_JOB_ID without srun"; }
echo "$out" | grep -q "mpiexec -n 3 -ppn 1 -hosts n1,n2,n3 .*db _serve" || { echo "$out"; sb_fail "no mpiexec fallback"; }
grep -q "SLURM_JOB_ID=1 is set but srun is not on PATH" "$SB_TMP/fallback" ||
  sb_fail "the fallback is not said: $(cat "$SB_TMP/fallback")"
# --launcher srun without srun: the dry run prints the plan; a real start
# and a run are refused, naming srun.
out=$(PATH=$without_srun bash "$SB_FE" db start --nodes 3 --hosts n1,n2,n3 --launcher srun --print) ||
  sb_fail "db start --launcher srun --print without srun"
echo "$out" | grep -q " srun --overlap --nodes 3 " || { echo "$out"; sb_fail "--launcher srun --print"; }
PATH=$without_srun bash "$SB_FE" db start --nodes 3 --hosts n1,n2,n3 --launcher srun 2>"$SB_TMP/refused" &&
  sb_fail "db start --launcher srun without srun was not refused"
grep -q "srun is not on PATH" "$SB_TMP/refused" || sb_fail "the refusal does not say why: $(cat "$SB_TMP/refused")"
PATH=$without_srun bash "$SB_FE" run throughput -n 1 --launcher srun --iterations 1 2>"$SB_TMP/refused" &&
  sb_fail "run --launcher srun without srun was not refused"
grep -q "srun is not on PATH" "$SB_TMP/refused" || sb_fail "run: the refusal does not say why: $(cat "$SB_TMP/refused")"
[ ! -e "$SB_TMP/srun-called" ] || sb_fail "srun was run by a dry run: $(cat "$SB_TMP/srun-called")"
echo "Slurm launch lines: with and without srun on PATH"
printf 'a\na\nb\n' > "$SB_TMP/nodefile"
out=$(PBS_NODEFILE=$SB_TMP/nodefile bash "$SB_FE" db start --nodes 2 --print) || sb_fail "PBS --print"
echo "$out" | grep -q "mpiexec -n 2 -ppn 1 -hosts a,b .*db _serve" || { echo "$out"; sb_fail "PBS launch line"; }
[ ! -f "$SB_STATE/db.pid" ] || sb_fail "--print started something"
echo "PASS"
