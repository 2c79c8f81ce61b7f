# The apps across a virtual cluster on one machine (tests/lib/vcluster.sh):
# every node a network namespace with its own address and hostname, MPI
# between them over TCP through a bridge, the database in a node of its own.
# Usage: multinode.sh CASE
#   baseline     sb-baseline ring, ranks on nodes 1..3: 3 hosts, 3 distinct
#                /ranks/hostname; with VC_MPI_NET=1 also: the bytes crossed
#                every node's link
#   throughput   database on node 1, sb-throughput ranks on nodes 2 and 3
#   inference    database on node 1, sb-inference (tiny) on nodes 2 and 3
#   aggregation  database on node 1, sb-agg-producer on nodes 2 and 3, the
#                consumer on node 4, one MPMD job (mpiexec P : C)
#   cut          the database node's link goes down mid-run: the clients end
#                with a clear error within the timeout bound, partial HDF5;
#                link up again, the server serves a new run
#   delay        tc netem: 2 ms on the database node's link shows in
#                sb-throughput's p50 put_tensor (skipped without netem)
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
. "$SB_SOURCE_DIR/tests/lib/vcluster.sh"
case_=$1
export VC_TIMEOUT=50  # no launch outlives the test's own limit
for b in sb-baseline sb-throughput sb-inference sb-agg-producer sb-agg-consumer h5_expect; do
  [ -x "$SB_BIN_DIR/$b" ] || sb_fail "$b not built in $SB_BIN_DIR"
done
command -v h5dump >/dev/null || sb_skip "h5dump (hdf5-tools) not installed"

# elapsed T0: seconds since T0 (date +%s.%N), 2 decimals.
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

# db_start K: redis-server with the module in node K, on its own address
# (port 6379: the node's network is its own). Sets DB, DB_PID.
db_start() {
  local k=$1
  command -v "$SB_REDIS_SERVER" >/dev/null 2>&1 || sb_skip "redis-server not found"
  command -v "$SB_REDIS_CLI" >/dev/null 2>&1 || sb_skip "redis-cli not found"
  [ -f "${SB_MODULE:-}" ] || sb_fail "SB_MODULE not set or missing: ${SB_MODULE:-}"
  DB_LOG=$SB_TMP/redis-node$k.log
  DB_NODE=$k
  vc_exec "$k" "$SB_REDIS_SERVER" --bind "${VC_ADDR[$k]}" --port 6379 --save '' --appendonly no \
    --protected-mode no --dir "$SB_TMP" --logfile "$DB_LOG" --daemonize no \
    --loadmodule "$SB_MODULE" &
  DB_PID=$!
  SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $DB_PID"
  vc_wait_tcp "$k" 6379 30 || { cat "$DB_LOG" >&2; sb_fail "redis-server in node $k does not accept connections"; }
  for _ in $(seq 200); do
    [ "$(db_cli ping 2>/dev/null)" = PONG ] && break
    sleep 0.05
  done
  [ "$(db_cli ping)" = PONG ] || { cat "$DB_LOG" >&2; sb_fail "redis-server in node $k does not answer PING"; }
  DB=tcp://${VC_ADDR[$k]}:6379
  echo "database: $DB in node $k (pid $DB_PID)"
}
db_cli() { "$SB_REDIS_CLI" -h "${VC_ADDR[$DB_NODE]}" -p 6379 "$@"; }

# hostnames FILE: /ranks/hostname, one a line.
hostnames() {
  h5dump -y -d /ranks/hostname "$1" 2>/dev/null | sed -n '/DATA {/,/}/p' | grep -o '"[^"]*"' | tr -d '"'
}
# expect_hosts FILE NAME...: /ranks/hostname is exactly NAME... (rank order).
expect_hosts() {
  local f=$1; shift
  local got want
  got=$(hostnames "$f" | tr '\n' ' ')
  want="$* "
  echo "/ranks/hostname: $got"
  [ "$got" = "$want" ] || sb_fail "/ranks/hostname of $f is '$got', expected '$want'"
}
# link_bytes K: bytes node K sent plus received over its link.
link_bytes() {
  local d=/sys/class/net/${VC_VETH[$1]}/statistics
  echo $(( $(cat "$d/rx_bytes") + $(cat "$d/tx_bytes") ))
}
# p50 FILE PHASE: the p50 column of PHASE in an app's table.
p50() { awk -v p="$2" '$1 == p && NF >= 5 { print $4; exit }' "$1"; }

run_or_fail() {  # run_or_fail WHAT LOG CMD...
  local what=$1 log=$2; shift 2
  local t0 rc
  t0=$(date +%s.%N)
  "$@" > "$log" 2>&1
  rc=$?
  cat "$log"
  echo "$what: exit $rc after $(elapsed "$t0") s"
  [ $rc = 0 ] || sb_fail "$what exited $rc"
}

case $case_ in
  baseline)
    vc_start 3
    iters=20 bytes=65536
    declare -a before
    for k in 1 2 3; do before[$k]=$(link_bytes $k); done
    run_or_fail sb-baseline "$SB_TMP/out" vc_mpiexec -n 3 "$SB_BIN_DIR/sb-baseline" --pattern ring \
      --tensor-bytes $bytes --iterations $iters --warmup 2 --out "$SB_TMP/run.h5"
    grep -q "^# sb-baseline: 3 ranks on 3 hosts" "$SB_TMP/out" || sb_fail "the summary does not say 3 ranks on 3 hosts"
    grep -q "^# verification: every byte received matched" "$SB_TMP/out" || sb_fail "no verification line"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/run.h5" --status complete --nranks 3 --samples $iters \
      --phase ring --rank-sum verify_errors=0 || sb_fail "HDF5 file not as expected"
    expect_hosts "$SB_TMP/run.h5" sbnode1 sbnode2 sbnode3
    [ "$(hostnames "$SB_TMP/run.h5" | sort -u | wc -l)" = 3 ] || sb_fail "hostnames not distinct"
    # With VC_MPI_NET=1 (UCX told the nodes are separate machines) the ring
    # went over the network: every node's link carried at least what its
    # rank sent and received. By default UCX moves it through shared memory.
    [ "${VC_MPI_NET:-0}" = 1 ] && for k in 1 2 3; do
      moved=$(( $(link_bytes $k) - before[k] ))
      echo "node $k link: $moved bytes"
      [ $moved -ge $(( 2 * iters * bytes )) ] || sb_fail "node $k's link carried $moved bytes, expected >= $(( 2 * iters * bytes ))"
    done
    ;;

  throughput)
    vc_start 3
    db_start 1
    iters=20
    run_or_fail sb-throughput "$SB_TMP/out" vc_mpiexec -hosts "$(vc_hosts 2 3)" -n 2 \
      "$SB_BIN_DIR/sb-throughput" --db "$DB" --tensor-bytes 64K --iterations $iters --warmup 2 \
      --out "$SB_TMP/run.h5"
    grep -q "^# sb-throughput: 2 ranks on 2 hosts" "$SB_TMP/out" || sb_fail "the summary does not say 2 ranks on 2 hosts"
    grep -q "^# verification: every byte read back matched" "$SB_TMP/out" || sb_fail "no verification line"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/run.h5" --status complete --nranks 2 --samples $iters \
      --phase put_tensor --phase unpack_tensor --phase loop_time --param "db=$DB" \
      --system db_module_sbai_version || sb_fail "HDF5 file not as expected"
    expect_hosts "$SB_TMP/run.h5" sbnode2 sbnode3
    # One metrics sampler per node: two nodes.
    nn=$(h5dump -y -a /metrics/nnodes "$SB_TMP/run.h5" 2>/dev/null | sed -n '/DATA {/,/}/p' | grep -o '[0-9]\+' | tail -1)
    [ "$nn" = 2 ] || sb_fail "/metrics nnodes is '$nn', expected 2"
    [ "$(db_cli dbsize)" = 0 ] || sb_fail "keys left behind: $(db_cli keys '*' | head)"
    ;;

  inference)
    vc_start 3
    db_start 1
    iters=4
    run_or_fail sb-inference "$SB_TMP/out" vc_mpiexec -hosts "$(vc_hosts 2 3)" -n 2 \
      "$SB_BIN_DIR/sb-inference" --db "$DB" --model tiny --batch-size 2 --iterations $iters \
      --warmup 1 --verify-every 1 --out "$SB_TMP/run.h5"
    grep -q "^# sb-inference: 2 ranks on 2 hosts" "$SB_TMP/out" || sb_fail "the summary does not say 2 ranks on 2 hosts"
    grep -q "^# verification: sampled logits matched" "$SB_TMP/out" || sb_fail "no verification line"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/run.h5" --status complete --nranks 2 --samples $iters \
      --phase put_tensor --phase run_script --phase run_model --phase unpack_tensor \
      --param "model=tiny" --param "db=$DB" || sb_fail "HDF5 file not as expected"
    expect_hosts "$SB_TMP/run.h5" sbnode2 sbnode3
    keys=$(db_cli keys '*' | sort | tr '\n' ' ')
    [ "$keys" = "sb:inf:model:tiny sb:inf:script " ] || sb_fail "keys left: $keys"
    ;;

  aggregation)
    vc_start 4
    db_start 1
    iters=3
    common=(--db "$DB" --iterations $iters --warmup 1 --tensor-bytes 4K --tensors-per-dataset 2)
    # Ranks fill the host list in order: producer ranks 0, 1 on nodes 2, 3,
    # the consumer (rank 2 of the job) on node 4.
    run_or_fail "the aggregation pair" "$SB_TMP/out" vc_mpiexec -hosts "$(vc_hosts 2 3 4)" \
      -n 2 "$SB_BIN_DIR/sb-agg-producer" "${common[@]}" --out "$SB_TMP/producer.h5" : \
      -n 1 "$SB_BIN_DIR/sb-agg-consumer" "${common[@]}" --list-length 2 --out "$SB_TMP/consumer.h5"
    grep -q "^# sb-agg-producer: 2 ranks on 2 hosts" "$SB_TMP/out" || sb_fail "no producer summary on 2 hosts"
    grep -q "^# sb-agg-consumer: 1 ranks on 1 host" "$SB_TMP/out" || sb_fail "no consumer summary"
    grep -q "^# verification: every tensor of every dataset matched" "$SB_TMP/out" || sb_fail "no consumer verification line"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/producer.h5" --status complete --nranks 2 --samples $iters \
      --phase put_dataset --phase append_to_list --phase wait_consumed || sb_fail "producer HDF5"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/consumer.h5" --status complete --nranks 1 --samples $iters \
      --phase poll_list --phase get_list --phase delete_list --param "list-length=2" || sb_fail "consumer HDF5"
    expect_hosts "$SB_TMP/producer.h5" sbnode2 sbnode3
    expect_hosts "$SB_TMP/consumer.h5" sbnode4
    [ "$(db_cli dbsize)" = 0 ] || sb_fail "keys left behind: $(db_cli keys '*' | head)"
    ;;

  cut)
    vc_start 3
    db_start 1
    connect=2 command=2 retries=1
    export SB_DB_CONNECT_TIMEOUT=$connect SB_DB_COMMAND_TIMEOUT=$command SB_DB_COMMAND_RETRIES=$retries
    vc_mpiexec -hosts "$(vc_hosts 2 3)" -n 2 "$SB_BIN_DIR/sb-throughput" --db "$DB" --tensor-bytes 4K \
      --iterations 1000000 --checkpoint-interval 1 --out "$SB_TMP/run.h5" \
      > "$SB_TMP/stdout" 2> "$SB_TMP/stderr" &
    app=$!
    SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $app"
    # In the timed loop (a checkpoint holds samples), then the cable is pulled.
    sb_wait_h5_samples "$SB_TMP/run.h5" 1 40 $app
    t0=$(date +%s.%N)
    vc_cut 1
    echo "node 1's link down (${VC_VETH[1]})"
    # The bound (docs/client.md): connect + command x (1 + retries); the
    # margin covers MPI's agreement on the failure and the HDF5 file.
    bound=$(( connect + command * (1 + retries) ))
    margin=10
    sb_expect_gave_up $app "$t0" "$bound" "$margin" "node 1 cut off"
    grep -q "no reply within the command timeout\|cannot connect" "$SB_TMP/stderr" ||
      sb_fail "no clear error (no reply within the command timeout / cannot connect)"
    grep -q "${VC_ADDR[1]}:6379" "$SB_TMP/stderr" || sb_fail "the error does not name the database ${VC_ADDR[1]}:6379"
    grep -q "^# status: partial" "$SB_TMP/stdout" || sb_fail "the summary does not say partial"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/run.h5" --status partial --nranks 2 --min-samples 1 \
      --phase put_tensor --phase unpack_tensor || sb_fail "HDF5 file not partial as expected"
    expect_hosts "$SB_TMP/run.h5" sbnode2 sbnode3
    # Link up again: the server never noticed more than idle clients; it
    # answers and serves a new run.
    vc_restore 1
    vc_wait_tcp 1 6379 30 || sb_fail "node 1 unreachable after its link came back"
    kill -0 "$DB_PID" 2>/dev/null || sb_fail "redis-server in node 1 died"
    unset SB_DB_COMMAND_RETRIES
    run_or_fail "sb-throughput after the link came back" "$SB_TMP/after" \
      vc_mpiexec -hosts "$(vc_hosts 2 3)" -n 2 "$SB_BIN_DIR/sb-throughput" --db "$DB" \
      --tensor-bytes 4K --iterations 10 --out "$SB_TMP/after.h5"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/after.h5" --status complete --nranks 2 || sb_fail "the run after the restore"
    ;;

  delay)
    vc_start 3
    vc_have_netem || sb_skip "$VC_NETEM_WHY"
    db_start 1
    tp() {
      run_or_fail "sb-throughput ($1)" "$SB_TMP/$1" vc_mpiexec -hosts "$(vc_hosts 2 3)" -n 2 \
        "$SB_BIN_DIR/sb-throughput" --db "$DB" --tensor-bytes 1K --iterations 50 --warmup 2
    }
    tp plain
    vc_delay 1 2
    tp delayed
    vc_delay 1 0
    a=$(p50 "$SB_TMP/plain" put_tensor) b=$(p50 "$SB_TMP/delayed" put_tensor)
    echo "p50 put_tensor: $a ms without, $b ms with 2 ms on node 1's link"
    awk -v a="$a" -v b="$b" 'BEGIN { exit !(a > 0 && b > a + 1.5) }' ||
      sb_fail "the 2 ms delay does not show in p50 put_tensor ($a -> $b ms)"
    ;;

  *) sb_fail "unknown case $case_" ;;
esac
echo "PASS: multinode $case_"
