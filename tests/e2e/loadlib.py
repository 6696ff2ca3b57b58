# What the load tests (tests/e2e/serve_overload, tests/e2e/serve_soak)
# share: client processes that send requests to `serve` over OTLP/HTTP or
# OTLP/gRPC as fast as they are answered and count every answer, a monitor
# sampling the server's memory and open files from /proc, and the service's
# telemetry read back. Not a test itself (not executable).
import http.client
import multiprocessing
import os
import sys
import threading
import time

EXPORT = "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


class Kind:
    """A request body and what the service must make of it, counted
    outside the engine: samples in accepted profiles, profiles rejected,
    CPU seconds."""

    def __init__(self, name, body, samples, rejected, cpu, content_type="application/x-protobuf"):
        self.name, self.body, self.samples, self.rejected, self.cpu = name, body, samples, rejected, cpu
        self.content_type = content_type


def _http_client(port, kinds, until, retry_sleep, out):
    tally = {"answers": {}, "taken": {}, "retry_after": set(), "errors": 0}
    conn = None
    i = 0
    while time.monotonic() < until:
        kind = kinds[i % len(kinds)]
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("POST", "/v1development/profiles", kind.body, {"Content-Type": kind.content_type})
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException):
            tally["errors"] += 1
            conn = None
            time.sleep(0.05)
            continue
        tally["answers"][r.status] = tally["answers"].get(r.status, 0) + 1
        if r.status == 200:
            tally["taken"][kind.name] = tally["taken"].get(kind.name, 0) + 1
            i += 1
        elif r.status == 429:
            after = r.getheader("Retry-After")
            tally["retry_after"].add(after)
            time.sleep(retry_sleep if retry_sleep is not None else float(after or 1))
    out.put(tally)


def _grpc_client(port, kinds, until, retry_sleep, out, py_dir):
    sys.path.insert(0, py_dir)
    import grpc
    from google.rpc import error_details_pb2, status_pb2
    tally = {"answers": {}, "taken": {}, "retry_after": set(), "errors": 0}
    channel = grpc.insecure_channel("127.0.0.1:%d" % port)
    call = channel.unary_unary(EXPORT, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    i = 0
    while time.monotonic() < until:
        kind = kinds[i % len(kinds)]
        try:
            call(kind.body, timeout=60)
            code, delay = "OK", None
        except grpc.RpcError as e:
            code, delay = e.code().name, None
            for key, value in e.trailing_metadata() or ():
                if key == "grpc-status-details-bin":
                    for d in status_pb2.Status.FromString(value).details:
                        if d.type_url == RETRY_INFO:
                            info = error_details_pb2.RetryInfo.FromString(d.value)
                            delay = info.retry_delay.seconds + info.retry_delay.nanos / 1e9
            if code == "UNAVAILABLE":
                tally["errors"] += 1
        tally["answers"][code] = tally["answers"].get(code, 0) + 1
        if code == "OK":
            tally["taken"][kind.name] = tally["taken"].get(kind.name, 0) + 1
            i += 1
        elif code == "RESOURCE_EXHAUSTED":
            tally["retry_after"].add(delay)
            time.sleep(retry_sleep if retry_sleep is not None else (delay or 1))
    channel.close()
    out.put(tally)


def run_clients(http_port, grpc_port, n_http, n_grpc, kinds, seconds, py_dir, retry_sleep=None):
    """Start the clients, each sending kinds round-robin (each one again
    after 429 / RESOURCE_EXHAUSTED, after retry_sleep seconds or what the
    service said), for seconds. Returns a function that waits for them and
    gives the tallies added up."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    until = time.monotonic() + seconds
    procs = [ctx.Process(target=_http_client, args=(http_port, kinds, until, retry_sleep, out))
             for _ in range(n_http)]
    procs += [ctx.Process(target=_grpc_client, args=(grpc_port, kinds, until, retry_sleep, out, py_dir))
              for _ in range(n_grpc)]
    for p in procs:
        p.start()

    def join():
        total = {"answers": {}, "taken": {}, "retry_after": set(), "errors": 0, "clients": 0}
        for _ in procs:
            t = out.get(timeout=seconds + 120)
            for k in ("answers", "taken"):
                for name, n in t[k].items():
                    total[k][name] = total[k].get(name, 0) + n
            total["retry_after"] |= t["retry_after"]
            total["errors"] += t["errors"]
            total["clients"] += 1
        for p in procs:
            p.join()
        return total
    return join


def expected(taken, kinds):
    """Samples accepted, profiles rejected and CPU seconds of what was taken."""
    by_name = {k.name: k for k in kinds}
    return (sum(n * by_name[k].samples for k, n in taken.items()),
            sum(n * by_name[k].rejected for k, n in taken.items()),
            sum(n * by_name[k].cpu for k, n in taken.items()))


def proc_status(pid, field):
    """A /proc/PID/status field in bytes (VmRSS, VmHWM), or 0."""
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def open_files(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


class Monitor(threading.Thread):
    """Samples the process's resident memory and open files every step
    seconds: samples is a list of (seconds since start, RSS bytes, fds)."""

    def __init__(self, pid, step=0.1):
        super().__init__(daemon=True)
        self.pid, self.step = pid, step
        self.samples = []
        self.running = True
        self.start_time = time.monotonic()

    def run(self):
        while self.running:
            self.samples.append((time.monotonic() - self.start_time, proc_status(self.pid, "VmRSS"),
                                 open_files(self.pid)))
            time.sleep(self.step)

    def stop(self):
        self.running = False
        self.join()
        return self.samples


def telemetry(get, port):
    """{metric name: value summed over labels} of the service's telemetry;
    get is e2elib.http."""
    text = get("GET", "http://127.0.0.1:%d/metrics" % port, timeout=5)[1].decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or " " not in line:
            continue
        name, value = line.rsplit(" ", 1)
        name = name.split("{", 1)[0]
        out[name] = out.get(name, 0.0) + float(value)
    return out


def exported_cpu(get, port):
    """The Prometheus exporter's cpu_time_seconds_total, summed."""
    text = get("GET", "http://127.0.0.1:%d/metrics" % port, timeout=5)[1].decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("cpu_time_seconds_total"))


MIB = 1024 * 1024
