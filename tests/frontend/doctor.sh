# stagebench doctor: prints every check (text and --json), reads only, exits
# 0 whatever it finds; finds the database of SSDB and asks it through
# sb-dbinfo (its JSON, a dead database, credentials, no binary); and
# `stagebench run` records its JSON as the /system attribute "doctor" of the
# run's file.
set -u
. "$SB_SOURCE_DIR/tests/lib/sbtest.sh"
command -v python3 >/dev/null || sb_skip "python3 not found"
fe="$SB_SOURCE_DIR/apps/stagebench/stagebench"
export SB_BUILD=$(dirname "$SB_BIN_DIR") SB_STATE=$SB_TMP/state
unset SSDB SB_LOG_LEVEL SB_DB_USER SB_DB_PASSWORD SB_DB_PASSWORD_FILE
names="net.core.somaxconn net.ipv4.tcp_max_syn_backlog transparent_hugepage iommu nofile_limit
  cpu_governor numa_nodes db.maxclients db.io-threads db.tcp-backlog gpus vm.overcommit_memory log_level"

# json_check FILE [python assertions on d (the object) and c (name -> check)]
json_check() {
  local f=$1
  shift
  python3 - "$f" "$names" "$@" <<'PY' || sb_fail "JSON of $f not as expected"
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) >= {"checks", "host", "time"}, f"keys: {sorted(d)}"
c = {x["name"]: x for x in d["checks"]}
for x in d["checks"]:
    assert set(x) == {"name", "status", "value", "expected", "fix"}, x
    assert x["status"] in ("OK", "WARN", "INFO"), x
    assert all(isinstance(x[k], str) for k in x), x
    assert x["status"] == "OK" or x["fix"] or x["status"] == "INFO", f"WARN without a fix: {x}"
    assert "\n" not in x["fix"], f"fix on more than one line: {x}"
missing = [n for n in sys.argv[2].split() if n not in c]
assert not missing, f"missing checks: {missing}"
assert any(n == "mtu" or n.startswith("mtu.") for n in c), "no MTU check"
for expr in sys.argv[3:]:
    assert eval(expr), f"{expr}: {json.dumps(d, indent=1)}"
PY
}

# 1. Text: every check, the summary, exit 0.
before=$(cat /proc/sys/net/core/somaxconn /proc/sys/vm/overcommit_memory 2>/dev/null)
bash "$fe" doctor >"$SB_TMP/text" 2>&1 || { cat "$SB_TMP/text"; sb_fail "doctor exited non-zero"; }
cat "$SB_TMP/text"
for n in $names; do
  grep -Eq "^  (OK|WARN|INFO) +$n " "$SB_TMP/text" || sb_fail "text output lacks check $n"
done
grep -Eq "^stagebench doctor: [0-9]+ OK, [0-9]+ WARN, [0-9]+ INFO" "$SB_TMP/text" || sb_fail "no summary line"
# Every WARN comes with its fix on the next line.
awk '/^  WARN/ { w = 1; next } w && !/^ +fix: / { bad = 1 } { w = 0 } END { exit bad }' "$SB_TMP/text" ||
  sb_fail "a WARN without a fix line"

# 2. JSON; --clients is used; no database → INFO, not an error.
bash "$fe" doctor --json --clients 123456 >"$SB_TMP/doc.json" || sb_fail "doctor --json exited non-zero"
json_check "$SB_TMP/doc.json" 'd["clients"] == 123456' \
  '"123488" in c["nofile_limit"]["expected"]' \
  'c["db.maxclients"]["status"] == "INFO" and "no database" in c["db.maxclients"]["value"]'
# The log level in effect: debug costs performance.
SB_LOG_LEVEL=debug bash "$fe" doctor --json >"$SB_TMP/debug.json" || sb_fail "doctor exited non-zero"
json_check "$SB_TMP/debug.json" 'c["log_level"]["status"] == "WARN"' 'd["clients"] is None'
# Reads only.
[ "$(cat /proc/sys/net/core/somaxconn /proc/sys/vm/overcommit_memory 2>/dev/null)" = "$before" ] ||
  sb_fail "a kernel setting changed"
# A bad option is a usage error.
rc=0; bash "$fe" doctor --clients zero >/dev/null 2>&1 || rc=$?
[ $rc = 2 ] || sb_fail "--clients zero: exit $rc, expected 2"

# 3. A database: maxclients and io-threads read from it (SSDB).
sb_start_redis --maxclients 77 --io-threads 2
SSDB=$SSDB_TCP bash "$fe" doctor --json --clients 100 >"$SB_TMP/db.json" || sb_fail "doctor exited non-zero"
json_check "$SB_TMP/db.json" 'c["db.maxclients"]["status"] == "WARN"' \
  'c["db.maxclients"]["value"].startswith("77 at ")' 'c["db.io-threads"]["value"].startswith("2 ")' \
  'c["db.tcp-backlog"]["status"] == "WARN"' 'c["db.tcp-backlog"]["value"].startswith("511 at ")' \
  '"--tcp-backlog 4096" in c["db.tcp-backlog"]["fix"]'
# The same through the unix socket and through the address `db start` records.
SSDB=$SSDB_UNIX bash "$fe" doctor --json >"$SB_TMP/unix.json" || sb_fail "doctor exited non-zero"
json_check "$SB_TMP/unix.json" 'c["db.maxclients"]["value"].startswith("77 at unix://")'
mkdir -p "$SB_STATE" && echo "$SSDB_TCP" >"$SB_STATE/ssdb"
bash "$fe" doctor --json >"$SB_TMP/state.json" || sb_fail "doctor exited non-zero"
json_check "$SB_TMP/state.json" 'c["db.maxclients"]["value"].startswith("77 at tcp://")'
rm -f "$SB_STATE/ssdb"

# 3b. The database's part comes from sb-dbinfo (the suite's client): its
# JSON holds what the server says; the doctor says what failed and never
# hangs on a dead database; without the binary the db checks are skipped.
dbinfo=$SB_BIN_DIR/sb-dbinfo
[ -x "$dbinfo" ] || sb_fail "sb-dbinfo not built in $SB_BIN_DIR"
"$dbinfo" --db "$SSDB_TCP" --config maxclients --config io-threads --config no-such-setting \
  --info clients --info server >"$SB_TMP/dbinfo.json" || sb_fail "sb-dbinfo exited non-zero"
python3 - "$SB_TMP/dbinfo.json" "$SSDB_TCP" <<'PY' || { cat "$SB_TMP/dbinfo.json"; sb_fail "sb-dbinfo's JSON not as expected"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "stagebench-dbinfo" and d["source"] == "--db", d
assert d["address"] == sys.argv[2] and d["cluster_shards"] == 0, d
assert d["config"] == {"maxclients": "77", "io-threads": "2", "no-such-setting": None}, d["config"]
assert d["info"]["clients"]["maxclients"] == "77", d["info"]
assert int(d["info"]["clients"]["connected_clients"]) >= 1, d["info"]
assert d["info"]["server"]["redis_version"], d["info"]
assert d["errors"] == {} and "error" not in d, d
PY
# SSDB as the apps read it; a bad address is a usage error, nothing on stdout.
SSDB=$SSDB_UNIX "$dbinfo" --info clients | grep -q "\"address\": \"$SSDB_UNIX\"" || sb_fail "sb-dbinfo did not use SSDB"
rc=0; "$dbinfo" --db nowhere >"$SB_TMP/o" 2>"$SB_TMP/e" || rc=$?
[ $rc = 2 ] && [ ! -s "$SB_TMP/o" ] && grep -q "invalid database address" "$SB_TMP/e" ||
  sb_fail "sb-dbinfo --db nowhere: exit $rc, expected 2 and one error line: $(cat "$SB_TMP/o" "$SB_TMP/e")"
# A dead database: exit 1 within the budget, the error on stderr and in the JSON.
dead=$(sb_free_port)
t0=$(date +%s)
rc=0; "$dbinfo" --db "tcp://127.0.0.1:$dead" --timeout 1 --config maxclients >"$SB_TMP/o" 2>"$SB_TMP/e" || rc=$?
[ $rc = 1 ] && [ $(($(date +%s) - t0)) -le 5 ] || sb_fail "sb-dbinfo on a dead database: exit $rc after $(($(date +%s) - t0)) s"
[ "$(wc -l <"$SB_TMP/e")" = 1 ] && grep -q "cannot connect to database at tcp://127.0.0.1:$dead" "$SB_TMP/e" ||
  sb_fail "sb-dbinfo on a dead database says: $(cat "$SB_TMP/e")"
python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); assert d["error_kind"] == "unreachable", d' "$SB_TMP/o" ||
  sb_fail "sb-dbinfo on a dead database: no error_kind unreachable"
t0=$(date +%s)
bash "$fe" doctor --json --db "tcp://127.0.0.1:$dead" >"$SB_TMP/dead.json" || sb_fail "doctor exited non-zero"
[ $(($(date +%s) - t0)) -le 15 ] || sb_fail "doctor took $(($(date +%s) - t0)) s on a dead database"
json_check "$SB_TMP/dead.json" 'c["db.maxclients"]["status"] == "INFO"' \
  '"not reachable" in c["db.maxclients"]["value"] and "Connection refused" in c["db.maxclients"]["value"]'
# Credentials as for the apps: none, wrong, right.
"$SB_REDIS_CLI" -p "$SB_PORT" config set requirepass "doctor-pw" >/dev/null || sb_fail "cannot set a password"
SSDB=$SSDB_TCP bash "$fe" doctor --json >"$SB_TMP/noauth.json" || sb_fail "doctor exited non-zero"
json_check "$SB_TMP/noauth.json" '"NOAUTH" in c["db.maxclients"]["value"]' '"SB_DB_PASSWORD" in c["db.maxclients"]["fix"]'
SSDB=$SSDB_TCP SB_DB_PASSWORD=wrong bash "$fe" doctor --json >"$SB_TMP/badpw.json" || sb_fail "doctor exited non-zero"
json_check "$SB_TMP/badpw.json" '"authentication failed" in c["db.maxclients"]["value"]' \
  '"wrong" not in c["db.maxclients"]["value"]' '"SB_DB_PASSWORD" in c["db.maxclients"]["fix"]'
echo "doctor-pw" >"$SB_TMP/pwfile"
SSDB=$SSDB_TCP SB_DB_PASSWORD_FILE=$SB_TMP/pwfile bash "$fe" doctor --json --clients 10 >"$SB_TMP/pw.json" ||
  sb_fail "doctor exited non-zero"
json_check "$SB_TMP/pw.json" 'c["db.maxclients"]["status"] == "OK"' 'c["db.maxclients"]["value"].startswith("77 at tcp://")' \
  '" connected" in c["db.maxclients"]["value"]' 'c["db.io-threads"]["status"] == "OK"'
"$SB_REDIS_CLI" -p "$SB_PORT" -a doctor-pw --no-auth-warning config set requirepass "" >/dev/null ||
  sb_fail "cannot clear the password"
# No sb-dbinfo (no build): the db checks say so, the doctor still runs.
SB_BUILD=$SB_TMP/no-build SSDB=$SSDB_TCP bash "$fe" doctor --json >"$SB_TMP/nobin.json" || sb_fail "doctor exited non-zero"
json_check "$SB_TMP/nobin.json" 'c["db.maxclients"]["value"].startswith("skipped: sb-dbinfo not built")' \
  'c["db.io-threads"]["status"] == "INFO"'

# 4. stagebench run records the doctor's JSON in /system (with the run's
# client count and log level).
command -v h5dump >/dev/null || sb_skip "h5dump not found (the doctor's checks passed)"
SSDB=$SSDB_TCP bash "$fe" run throughput -n 2 --iterations 5 --tensor-bytes 1K --log-level warn \
  --out "$SB_TMP/run.h5" >"$SB_TMP/run.out" 2>&1 || { cat "$SB_TMP/run.out"; sb_fail "stagebench run failed"; }
h5dump -a /system/doctor "$SB_TMP/run.h5" >"$SB_TMP/attr" 2>&1 ||
  { cat "$SB_TMP/attr"; sb_fail "no /system/doctor in the run's file"; }
# h5dump prints the string between the first and the last double quote of its DATA line.
sed -n 's/^ *(0): "\(.*\)"$/\1/p' "$SB_TMP/attr" >"$SB_TMP/recorded.json"
[ -s "$SB_TMP/recorded.json" ] || { cat "$SB_TMP/attr"; sb_fail "cannot read /system/doctor"; }
json_check "$SB_TMP/recorded.json" 'd["clients"] == 2' 'c["log_level"]["value"].startswith("warn")' \
  'c["db.maxclients"]["value"].startswith("77 at tcp://")'
echo "recorded: $(head -c 200 "$SB_TMP/recorded.json") ..."
echo PASS
