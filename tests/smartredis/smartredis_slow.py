"""One SmartRedis run_model of the model `slow` on the tensor `slow_in`,
with the socket timeout of the environment (SR_SOCKET_TIMEOUT, ms;
SR_CMD_TIMEOUT, s; SR_CMD_INTERVAL, ms: read when the client is made).

    python smartredis_slow.py RESULTS impatient|patient

impatient: the run must fail (the client times out and gives up);
patient: it must succeed. Records the outcome like smartredis_api.py.
"""
import json
import sys
import time
import os

from smartredis import Client

RESULTS, KIND = sys.argv[1:3]
client = Client(False, os.environ["SSDB"])
t0 = time.monotonic()
try:
    client.run_model("slow", "slow_in", "slow_out")
    err = None
except Exception as e:  # noqa: BLE001
    err = str(e)
took = time.monotonic() - t0
print(f"{KIND} run_model: {'failed' if err else 'done'} after {took:.1f} s "
      f"(SR_SOCKET_TIMEOUT={os.environ.get('SR_SOCKET_TIMEOUT', 'default')})", file=sys.stderr)
if KIND == "impatient":
    ok = err is not None
    rec = {"call": "run_model (slower than SR_SOCKET_TIMEOUT)", "mode": "standalone",
           "outcome": "refused" if ok else "fails",
           "note": "the client times out and re-sends (default 250 ms): raise SR_SOCKET_TIMEOUT; "
                   "sbai drops the runs it abandoned"}
else:
    ok = err is None and client.get_tensor("slow_out").shape[0] == client.get_tensor("slow_in").shape[0]
    rec = {"call": "run_model (SR_SOCKET_TIMEOUT raised)", "mode": "standalone",
           "outcome": "works" if ok else "fails", "note": "SR_SOCKET_TIMEOUT above the run's time"}
if not ok:
    print(f"FAIL {KIND} run_model: {err or 'succeeded'}", file=sys.stderr)
with open(RESULTS, "a") as f:
    f.write(json.dumps(rec) + "\n")
sys.exit(0 if ok else 1)
