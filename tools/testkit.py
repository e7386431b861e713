"""Helpers the process-level tests share (e2e, failover, cluster, tiers) and the perf scripts."""
import json
import os
import socket
import subprocess
import urllib.request

# The seed's Request stream, as `sluice send --schema` and app texts write it.
REQUEST_SCHEMA = ("meta_clientType string, applicationConsumerKey string, applicationName string, applicationId string, "
                  "applicationOwner string, apiContext string, apiName string, apiVersion string, apiCreator string, "
                  "apiTier string, apiHostname string, username string, userTenantDomain string, requestTimestamp long, "
                  "throttledOut bool, responseTime long, backendTime long")
# The same with the trailing `requestId long` of examples/seed-topology's apps and `sluice send
# --generate request --ids` / `sluice generate request --ids` (1, 2, … in send order).
REQUEST_SCHEMA_IDS = REQUEST_SCHEMA + ", requestId long"


_HANDED_OUT = set()


def free_port():
    """A loopback port nothing listens on right now, and not one handed out before: the kernel may
    give a closed probe's port again, and a topology that names one port twice does not start."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


class Checks:
    """Named checks: prints ok/FAIL per check and keeps the failures for the summary line."""

    def __init__(self):
        self.passed, self.failures = 0, []

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("ok  ", what)
        else:
            self.failures.append(what)
            print("FAIL", what, ("\n     " + str(detail)[:1500]) if detail else "")


def stop(processes):
    """SIGTERM, then SIGKILL whatever is still running after 10 s."""
    for p in processes:
        if p.poll() is None:
            p.terminate()
    for p in processes:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def status(admin_port, timeout=2, host="127.0.0.1"):
    """A node's `/status` on `host`:`admin_port`, or None while it does not answer."""
    try:
        with urllib.request.urlopen("http://%s:%d/status" % (host, admin_port), timeout=timeout) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None
