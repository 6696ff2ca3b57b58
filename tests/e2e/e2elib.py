# What the Python end-to-end scripts of the deployment files share: TAP
# output, free ports, waiting, HTTP, running the binary, and starting
# `profiletometrics serve` (and stopping what was started when the script
# ends). Not a test itself (not executable): scripts import it.
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.environ.get("PTM_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("PTM_BIN") or os.path.join(ROOT, "build", "profiletometrics")
TMP = os.environ.get("PTM_TMP") or "/tmp"

_count = 0
_processes = []


def tap(ok, what, detail=""):
    """One TAP line; detail (any text) is printed as comments when not ok."""
    global _count
    _count += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (_count, what), flush=True)
    if not ok and detail:
        for line in str(detail).rstrip().splitlines()[:40]:
            print("# " + line)
    return ok


def skip(what):
    global _count
    _count += 1
    print("ok %d - # SKIP %s" % (_count, what), flush=True)


def finish():
    """Stop what was started, print the plan and exit."""
    stop_all()
    print("1..%d" % _count, flush=True)
    sys.exit(0)


def workdir(name):
    path = os.path.join(TMP, name)
    os.makedirs(path, exist_ok=True)
    return path


def free_ports(count):
    socks = [socket.socket() for _ in range(count)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_for(predicate, seconds, step=0.1):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if predicate():
                return True
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(step)
    return False


def http(method, url, body=None, headers=None, timeout=10):
    """(status, body bytes); status 0 when nothing answered."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e).encode()


def run(args, timeout=60, **kw):
    """Run a command; (exit status, stdout, stderr) as text."""
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    return p.returncode, p.stdout, p.stderr


def start(args, log_path, **kw):
    """Start a process with its output in log_path; it is killed at exit."""
    log = open(log_path, "wb")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, **kw)
    _processes.append(p)
    return p


def start_serve(config_path, telemetry_port, log_path, seconds=15):
    """Start `serve -c config_path` and wait until its /health answers 200.
    Returns the process, or None (the log then says why)."""
    p = start([BIN, "serve", "-c", config_path], log_path)
    url = "http://127.0.0.1:%d/health" % telemetry_port
    if wait_for(lambda: p.poll() is None and http("GET", url, timeout=2)[0] == 200, seconds):
        return p
    return None


def stop(p, seconds=15):
    """SIGTERM, then SIGKILL after seconds. Returns the exit status."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(seconds)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def stop_all():
    for p in _processes:
        if p.poll() is None:
            p.kill()
            p.wait()


def enter_network_namespace(flag):
    """Re-run the calling script in a private network namespace with its own
    loopback (unshare -rn), when the kernel allows one, so that it can use
    fixed ports without colliding with parallel runs. flag names the
    environment variable that carries the state across the exec. Returns
    whether the script runs in one."""
    state = os.environ.get(flag)
    if state is None:
        os.environ[flag] = "0"
        if shutil.which("unshare") and shutil.which("ip") and subprocess.run(
                ["unshare", "-rn", "ip", "link", "set", "lo", "up"], capture_output=True).returncode == 0:
            os.environ[flag] = "1"
            sys.stdout.flush()
            os.execvp("unshare", ["unshare", "-rn", sys.executable, os.path.abspath(sys.argv[0])])
        return False
    if state == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        return True
    return False


def tail(path, lines=30):
    try:
        return "\n".join(open(path, errors="replace").read().splitlines()[-lines:])
    except OSError as e:
        return str(e)


atexit.register(stop_all)
