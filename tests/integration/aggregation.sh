# The aggregation pair against a real redis-server with the module.
# Usage: aggregation.sh CASE [ARG]
#   pair THREADS        3 producers + 1 consumer (stagebench run aggregation),
#                       3 iterations, 2 tensors per dataset, both files checked
#   consumer_timeout    no producer: the consumer gives up after --timeout
#   producer_timeout    no consumer: the producer gives up after --consume-timeout
#   corrupt             a complete dataset that lacks a tensor and one with wrong
#                       bytes are reported naming producer rank, iteration and
#                       tensor (incomplete datasets: tests/interop/incomplete.sh)
#   rank_killed         producer (2 ranks) and consumer launched apart; once the
#                       loop runs, producer rank 1's connection is killed
#                       (CLIENT KILL): every process ends within 10 s, nonzero,
#                       the consumer naming producer rank 1
#   rank_killed_mpmd    the same as one MPMD job (mpiexec P : C)
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
case_=$1
sb_start_redis
export SSDB=$SSDB_TCP
export SB_BUILD=$(dirname "$SB_BIN_DIR")
P="$SB_BIN_DIR/sb-agg-producer" C="$SB_BIN_DIR/sb-agg-consumer"

case $case_ in
  pair)
    threads=$2 iters=3
    bash "$SB_SOURCE_DIR/apps/stagebench/stagebench" run aggregation -n 3 --client-threads "$threads" \
      --iterations $iters --warmup 1 --tensor-bytes 4K --tensors-per-dataset 2 \
      --out-dir "$SB_TMP/out" > "$SB_TMP/stdout" 2> "$SB_TMP/stderr"
    rc=$?
    cat "$SB_TMP/stdout"
    [ $rc = 0 ] || { cat "$SB_TMP/stderr"; sb_fail "the pair exited $rc"; }
    grep -q "^# verification: every tensor of every dataset matched" "$SB_TMP/stdout" ||
      sb_fail "no consumer verification line"
    grep -q "^# sb-agg-producer: 3 ranks" "$SB_TMP/stdout" || sb_fail "no producer summary"
    grep -q "^# sb-agg-consumer: 1 ranks" "$SB_TMP/stdout" || sb_fail "no consumer summary"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/out/producer.h5" --status complete --nranks 3 --samples $iters \
      --phase wait_consumed --phase put_dataset --phase append_to_list --phase loop_time \
      --param "tensor-bytes=4096" --param "tensors-per-dataset=2" || sb_fail "producer HDF5"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/out/consumer.h5" --status complete --nranks 1 --samples $iters \
      --phase poll_list --phase get_list --phase delete_list --phase loop_time \
      --param "list-length=3" --param "client-threads=$threads" || sb_fail "consumer HDF5"
    [ "$(sb_cli dbsize)" = 0 ] || sb_fail "keys left behind: $(sb_cli keys '*' | head)"
    ;;
  consumer_timeout)
    start=$(date +%s)
    timeout 60 mpiexec -n 1 "$C" --list-length 2 --timeout 1 --iterations 2 --warmup 0 \
      --out "$SB_TMP/c.h5" > "$SB_TMP/out" 2>&1
    rc=$?
    cat "$SB_TMP/out"
    [ $rc = 1 ] || sb_fail "consumer exited $rc, expected 1"
    [ $(( $(date +%s) - start )) -lt 20 ] || sb_fail "consumer took too long to give up"
    grep -q "list iteration_0 holds 0 of 2 datasets after 1 s" "$SB_TMP/out" || sb_fail "no clear timeout error"
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/c.h5" --status failed --nranks 1 || sb_fail "consumer HDF5 after timeout"
    ;;
  producer_timeout)
    timeout 60 mpiexec -n 2 "$P" --consume-timeout 1 --iterations 3 --warmup 0 \
      --out "$SB_TMP/p.h5" > "$SB_TMP/out" 2>&1
    rc=$?
    cat "$SB_TMP/out"
    [ $rc = 1 ] || sb_fail "producer exited $rc, expected 1"
    grep -q "list iteration_0 was not consumed within 1 s" "$SB_TMP/out" || sb_fail "no clear timeout error"
    # The first iteration completed before the wait failed.
    "$SB_BIN_DIR/h5_expect" "$SB_TMP/p.h5" --status partial --nranks 2 --min-samples 1 ||
      sb_fail "producer HDF5 after timeout"
    ;;
  corrupt)
    mpiexec -n 3 "$P" --iterations 1 --warmup 0 --tensor-bytes 1K > "$SB_TMP/p.out" 2>&1 ||
      { cat "$SB_TMP/p.out"; sb_fail "producer failed"; }
    [ "$(sb_cli llen iteration_0)" = 3 ] || sb_fail "list not filled"
    # Rank 1's dataset loses tensor_1 (and no longer lists it: a complete
    # dataset without the tensor); rank 2's tensor_0 gets other bytes.
    # .tensor_names is SmartRedis's string field: type 7, 8-byte length, name.
    sb_cli del '{aggregation_rank_1}.tensor_1' >/dev/null
    printf '\007\010\000\000\000\000\000\000\000tensor_0' |
      sb_cli -x hset '{aggregation_rank_1}.meta' .tensor_names >/dev/null
    sb_cli AI.TENSORSET '{aggregation_rank_2}.tensor_0' FLOAT 1 256 >/dev/null
    mpiexec -n 1 "$C" --list-length 3 --iterations 1 --warmup 0 --tensor-bytes 1K \
      --out "$SB_TMP/c.h5" > "$SB_TMP/c.out" 2>&1
    sb_expect_exit 3 $? "$SB_TMP/c.out" "the consumer (3: verification errors)"
    grep -q "producer rank 1, iteration 0, tensor tensor_1: missing" "$SB_TMP/c.out" || sb_fail "missing tensor not named"
    grep -q "producer rank 2, iteration 0, tensor tensor_0: .* words differ" "$SB_TMP/c.out" || sb_fail "wrong bytes not named"
    grep -q "^# verification: 2 mismatches" "$SB_TMP/c.out" || sb_fail "count of mismatches"
    ;;
  rank_killed | rank_killed_mpmd)
    export SB_DB_CONNECT_TIMEOUT=2 SB_DB_COMMAND_TIMEOUT=10
    # Long timeouts: the test is that nobody waits for them.
    common="--iterations 1000000 --warmup 0 --tensor-bytes 1K"
    if [ $case_ = rank_killed ]; then
      timeout 120 mpiexec -n 2 "$P" $common --consume-timeout 60 --out "$SB_TMP/p.h5" \
        > "$SB_TMP/p.out" 2>&1 &
      ppid=$!
      timeout 120 mpiexec -n 1 "$C" $common --list-length 2 --timeout 60 --out "$SB_TMP/c.h5" \
        > "$SB_TMP/c.out" 2>&1 &
      cpid=$!
      pids="$ppid $cpid"
    else
      timeout 120 mpiexec -n 2 "$P" $common --consume-timeout 60 : \
        -n 1 "$C" $common --list-length 2 --timeout 60 > "$SB_TMP/c.out" 2>&1 &
      cpid=$!
      ppid=$cpid
      pids=$cpid
      ln -s c.out "$SB_TMP/p.out"
    fi
    SB_CLEANUP_PIDS="$SB_CLEANUP_PIDS $pids"
    # In the loop: at least two iterations appended (RPUSH calls), and rank 1's
    # named connection listed. Bounded (60 s), never a fixed sleep.
    addr=""
    for _ in $(seq 600); do
      calls=$(sb_cli info commandstats | tr -d '\r' | sed -n 's/^cmdstat_rpush:calls=\([0-9]*\).*/\1/p')
      if [ "${calls:-0}" -ge 4 ]; then
        addr=$(sb_cli client list | tr -d '\r' | grep ' name=sb-agg-producer-r1 ' | sed -n 's/.* addr=\([^ ]*\) .*/\1/p' | head -1)
        [ -n "$addr" ] && break
      fi
      for p in $pids; do
        kill -0 "$p" 2>/dev/null || { cat "$SB_TMP/p.out" "$SB_TMP/c.out"; sb_fail "a process ended before the kill"; }
      done
      sleep 0.1
    done
    [ -n "$addr" ] || { cat "$SB_TMP/p.out" "$SB_TMP/c.out"; sb_fail "the run never got going (rpush calls ${calls:-0})"; }
    [ "$(sb_cli client kill "$addr")" = OK ] || sb_fail "CLIENT KILL $addr"
    killed=$(date +%s.%N)
    echo "killed producer rank 1's connection $addr"
    # Every process ends within 10 s of the kill.
    for p in $pids; do
      for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$p" 2>/dev/null && { cat "$SB_TMP/p.out" "$SB_TMP/c.out"; sb_fail "pid $p still runs 10 s after the kill"; }
    done
    wait $ppid; prc=$?
    wait $cpid; crc=$?
    ended=$(date +%s.%N)
    echo "--- producer"; cat "$SB_TMP/p.out"
    [ $case_ = rank_killed ] && { echo "--- consumer"; cat "$SB_TMP/c.out"; }
    echo "ended $(awk -v a="$killed" -v b="$ended" 'BEGIN { printf "%.2f", b - a }') s after the kill"
    [ $prc != 0 ] || sb_fail "the producer exited 0"
    [ $crc != 0 ] || sb_fail "the consumer exited 0"
    [ $prc != 124 ] && [ $crc != 124 ] || sb_fail "timeout(1) had to stop a process"
    # Rank 1 says what broke; rank 0 says it stopped because of rank 1.
    grep -q "^\[stagebench 1\] error: iteration [0-9]*: .*\(closed\|reset\|broken\|failed\)" "$SB_TMP/p.out" ||
      sb_fail "no clear error from producer rank 1"
    grep -q "^\[stagebench 0\] .*rank 1 stopped" "$SB_TMP/p.out" || sb_fail "producer rank 0 does not name rank 1"
    grep -q "error: iteration [0-9]*: poll_list iteration_[0-9]*: producer rank 1 failed in iteration [0-9]*: " "$SB_TMP/c.out" ||
      sb_fail "the consumer does not name producer rank 1's failure"
    [ "$(sb_cli hexists iteration_abort 1)" = 1 ] || sb_fail "no notice of rank 1 in iteration_abort"
    if [ $case_ = rank_killed ]; then
      "$SB_BIN_DIR/h5_expect" "$SB_TMP/p.h5" --status partial --nranks 2 --min-samples 1 || sb_fail "producer HDF5"
      "$SB_BIN_DIR/h5_expect" "$SB_TMP/c.h5" --status partial --nranks 1 --min-samples 1 || sb_fail "consumer HDF5"
    fi
    ;;
  *) sb_fail "unknown case $case_" ;;
esac
sb_alive
echo "PASS: aggregation $*"
