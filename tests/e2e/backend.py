# SPDX-License-Identifier: Apache-2.0
#
# A metrics backend for the end-to-end exporter tests (not a test itself:
# tests start it with /usr/bin/python3, which sees Debian's grpcio and
# protobuf).
#
#   backend.py --proto DIR --work DIR --ready FILE
#
# It compiles DIR's .proto files (this project's copy of the official
# OTLP schema) with `protoc --python_out` into --work, and decodes every
# request with those classes, independently of the C code under test. It
# serves
#   - OTLP/HTTP: POST /v1/metrics, protobuf or JSON, gzip or not;
#   - OTLP/gRPC: opentelemetry.proto.collector.metrics.v1.MetricsService/
#     Export (grpcio generic handler on raw bytes; grpcio inflates gzip);
#   - a control API (JSON over HTTP):
#       GET  /state   every attempt (time, transport, outcome; the request
#                     headers or gRPC metadata of accepted ones), the
#                     accepted requests, every point received with its
#                     values, counts per (metric, attributes, resource),
#                     and the duplicates: accepted requests whose exact
#                     (uncompressed) bytes had been accepted before
#       POST /mode    {"mode": M, "times": N, ...}: the next N requests (all
#                     when N is absent) get mode M, then "accept" again:
#                     accept; refuse {"status": 400} / gRPC {"code": 3};
#                     throttle {"status": 429, "retry_after": "2"} / gRPC
#                     RESOURCE_EXHAUSTED with RetryInfo {"delay": 1.5};
#                     unavailable (gRPC UNAVAILABLE); partial
#                     {"rejected": 2, "message": "..."}; stall
#                     {"seconds": 3}: hold the request, then close without
#                     an answer; reset: close the connection mid-request
#       POST /down, /up   stop listening (and drop open connections) on the
#                     HTTP and gRPC ports, then listen again on the same ports
#       POST /clear   forget everything received
# With --tls DIR (ca.pem, server.pem, server-key.pem) it also serves
# OTLP/HTTP over TLS, requiring a client certificate the CA signed, and
# OTLP/gRPC over TLS (ALPN h2).
# The chosen ports are written as JSON to --ready once everything listens.
import argparse
import gzip
import hashlib
import http.server
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from concurrent import futures

import grpc

SERVICE = "opentelemetry.proto.collector.metrics.v1.MetricsService"


def compile_protos(proto_dir, work):
    out = os.path.join(work, "py")
    os.makedirs(out, exist_ok=True)
    names = ["opentelemetry/proto/common/v1/common.proto", "opentelemetry/proto/resource/v1/resource.proto",
             "opentelemetry/proto/metrics/v1/metrics.proto",
             "opentelemetry/proto/collector/metrics/v1/metrics_service.proto"]
    subprocess.run(["protoc", "--python_out=" + out, "-I", proto_dir] + [os.path.join(proto_dir, n) for n in names],
                   check=True)
    sys.path.insert(0, out)


# ---- hand-written protobuf for google.rpc.Status (not in the OTLP schema) ----

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def rpc_status(code, message, retry_delay=None):
    body = varint(1 << 3) + varint(code) + field_bytes(2, message.encode())
    if retry_delay is not None:
        seconds = int(retry_delay)
        nanos = int(round((retry_delay - seconds) * 1e9))
        duration = varint(1 << 3) + varint(seconds) + (varint(2 << 3) + varint(nanos) if nanos else b"")
        retry_info = field_bytes(1, duration)
        any_msg = field_bytes(1, b"type.googleapis.com/google.rpc.RetryInfo") + field_bytes(2, retry_info)
        body += field_bytes(3, any_msg)
    return body


# ---- what was received ----

def any_value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def attributes(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.clear()
        self.mode = {"mode": "accept"}
        self.remaining = None  # requests left in the mode; None = all

    def clear(self):
        self.attempts = []
        self.accepted = []
        self.points = []
        self.counts = {}
        self.seen = set()
        self.duplicates = 0

    def next_mode(self):
        """The mode for the request arriving now."""
        with self.lock:
            mode = dict(self.mode)
            if self.remaining is not None:
                self.remaining -= 1
                if self.remaining <= 0:
                    self.mode, self.remaining = {"mode": "accept"}, None
            return mode

    def set_mode(self, mode):
        with self.lock:
            self.mode = mode
            self.remaining = mode.get("times")

    def attempt(self, transport, outcome, size, headers=None):
        with self.lock:
            self.attempts.append({"t": time.monotonic(), "transport": transport, "outcome": outcome, "bytes": size,
                                  "headers": headers or {}})

    def record(self, transport, raw, request):
        digest = hashlib.sha256(raw).hexdigest()
        with self.lock:
            duplicate = digest in self.seen
            self.seen.add(digest)
            self.duplicates += duplicate
            index = len(self.accepted)
            points = self.record_points(request, index)
            self.accepted.append({"transport": transport, "sha256": digest, "points": points,
                                  "duplicate": duplicate})

    def record_points(self, request, index):
        n = 0
        for rm in request.resource_metrics:
            resource = attributes(rm.resource.attributes)
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    for p in metric_points(m):
                        p.update({"metric": m.name, "unit": m.unit, "resource": resource, "request": index})
                        self.points.append(p)
                        key = json.dumps([m.name, p["attributes"], resource], sort_keys=True)
                        self.counts[key] = self.counts.get(key, 0) + 1
                        n += 1
        return n

    def snapshot(self):
        with self.lock:
            return {"attempts": list(self.attempts), "accepted": list(self.accepted), "points": list(self.points),
                    "counts": dict(self.counts), "duplicates": self.duplicates,
                    "received": len(self.accepted) - self.duplicates}


def metric_points(m):
    kind = m.WhichOneof("data")
    data = getattr(m, kind)
    out = []
    for dp in data.data_points:
        p = {"kind": kind, "attributes": attributes(dp.attributes), "start": dp.start_time_unix_nano,
             "time": dp.time_unix_nano}
        if kind in ("sum", "gauge"):
            which = dp.WhichOneof("value")
            p["value"] = getattr(dp, which) if which else None
            p["int"] = which == "as_int"
        else:
            p.update({"count": dp.count, "sum": dp.sum, "buckets": list(dp.bucket_counts),
                      "bounds": list(dp.explicit_bounds), "min": dp.min, "max": dp.max})
        if kind != "gauge":
            p["temporality"] = data.aggregation_temporality
        if kind == "sum":
            p["monotonic"] = data.is_monotonic
        out.append(p)
    return out


STATE = State()


def decode_request(raw, json_body):
    from google.protobuf import json_format
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as ms
    request = ms.ExportMetricsServiceRequest()
    if json_body:
        json_format.Parse(raw.decode("utf-8"), request)
    else:
        request.ParseFromString(raw)
    return request


def partial_response(rejected, message, json_body):
    from google.protobuf import json_format
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as ms
    response = ms.ExportMetricsServiceResponse()
    if rejected is not None:
        response.partial_success.rejected_data_points = rejected
        response.partial_success.error_message = message
    if json_body:
        return json_format.MessageToJson(response).encode()
    return response.SerializeToString()


# ---- OTLP/HTTP ----

def reset_connection(sock):
    """Close with a TCP RST (SO_LINGER 0), as a crashing server would."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class OtlpHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self):
        self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def reply(self, status, body, content_type, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        mode = STATE.next_mode()
        if mode["mode"] == "reset":
            self.rfile.read(min(length, 10))
            STATE.attempt("http", "reset", length)
            self.close_connection = True
            reset_connection(self.connection)
            return
        raw = self.rfile.read(length)
        if self.path != "/v1/metrics":
            self.reply(404, b"not found", "text/plain")
            return
        self.handle_export(raw, mode)

    def handle_export(self, raw, mode):
        json_body = "json" in self.headers.get("Content-Type", "")
        content_type = "application/json" if json_body else "application/x-protobuf"
        m = mode["mode"]
        if m == "stall":
            STATE.attempt("http", "stalled", len(raw))
            time.sleep(float(mode.get("seconds", 3)))
            self.close_connection = True
            reset_connection(self.connection)
            return
        if m == "refuse":
            status = int(mode.get("status", 400))
            STATE.attempt("http", "refused %d" % status, len(raw))
            self.reply(status, self.status_body(3, "refused by the test backend", json_body), content_type)
            return
        if m == "throttle":
            status = int(mode.get("status", 429))
            headers = [("Retry-After", str(mode["retry_after"]))] if "retry_after" in mode else []
            STATE.attempt("http", "throttled %d" % status, len(raw))
            self.reply(status, self.status_body(14, "throttled by the test backend", json_body), content_type,
                       headers)
            return
        try:
            if self.headers.get("Content-Encoding", "") == "gzip":
                raw = gzip.decompress(raw)
            request = decode_request(raw, json_body)
        except Exception as e:  # a decode failure is the exporter's bug: 400
            STATE.attempt("http", "undecodable: %s" % e, len(raw))
            self.reply(400, self.status_body(3, "cannot decode: %s" % e, json_body), content_type)
            return
        STATE.record("http", raw, request)
        rejected = int(mode["rejected"]) if m == "partial" else None
        headers = {k.lower(): v for k, v in self.headers.items()}
        STATE.attempt("http", "partial" if rejected is not None else "accepted", len(raw), headers)
        self.reply(200, partial_response(rejected, mode.get("message", ""), json_body), content_type)

    @staticmethod
    def status_body(code, message, json_body):
        if json_body:
            return json.dumps({"code": code, "message": message}).encode()
        return rpc_status(code, message)


class OtlpHttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address):
        self.connections = set()
        super().__init__(address, OtlpHandler)

    def stop(self):
        self.shutdown()
        self.server_close()
        for c in list(self.connections):
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# ---- OTLP/gRPC ----

def grpc_export(raw, context):
    mode = STATE.next_mode()
    m = mode["mode"]
    if m == "stall":
        STATE.attempt("grpc", "stalled", len(raw))
        time.sleep(float(mode.get("seconds", 3)))
        context.abort(grpc.StatusCode.UNAVAILABLE, "stalled by the test backend")
    if m == "unavailable":
        STATE.attempt("grpc", "unavailable", len(raw))
        context.abort(grpc.StatusCode.UNAVAILABLE, "unavailable: test backend")
    if m == "refuse":
        code = int(mode.get("code", 3))
        STATE.attempt("grpc", "refused %d" % code, len(raw))
        status = next(c for c in grpc.StatusCode if c.value[0] == code)
        context.abort(status, "refused by the test backend")
    if m == "throttle":
        delay = mode.get("delay")
        STATE.attempt("grpc", "resource exhausted", len(raw))
        if delay is not None:
            details = rpc_status(8, "throttled by the test backend", float(delay))
            context.set_trailing_metadata((("grpc-status-details-bin", details),))
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "throttled by the test backend")
    try:
        request = decode_request(raw, False)
    except Exception as e:
        STATE.attempt("grpc", "undecodable: %s" % e, len(raw))
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "cannot decode: %s" % e)
    STATE.record("grpc", raw, request)
    rejected = int(mode["rejected"]) if m == "partial" else None
    metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
    STATE.attempt("grpc", "partial" if rejected is not None else "accepted", len(raw), metadata)
    return partial_response(rejected, mode.get("message", ""), False)


def start_grpc(port, credentials=None):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    handler = grpc.method_handlers_generic_handler(SERVICE, {"Export": grpc.unary_unary_rpc_method_handler(grpc_export)})
    server.add_generic_rpc_handlers((handler,))
    address = "127.0.0.1:%d" % port
    port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    server.start()
    return server, port


def start_tls(tls_dir):
    """The TLS listeners: OTLP/HTTP with client certificates, OTLP/gRPC."""
    cert, key, ca = (os.path.join(tls_dir, n) for n in ("server.pem", "server-key.pem", "ca.pem"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    https = OtlpHttpServer(("127.0.0.1", 0))
    https.socket = ctx.wrap_socket(https.socket, server_side=True)
    threading.Thread(target=https.serve_forever, daemon=True).start()
    with open(key, "rb") as k, open(cert, "rb") as c:
        credentials = grpc.ssl_server_credentials([(k.read(), c.read())])
    grpcs, grpcs_port = start_grpc(0, credentials)
    return {"https": https.server_address[1], "grpcs": grpcs_port, "servers": (https, grpcs)}


# ---- the control API ----

class Backend:
    def __init__(self):
        self.lock = threading.Lock()
        self.http = OtlpHttpServer(("127.0.0.1", 0))
        self.http_port = self.http.server_address[1]
        self.grpc, self.grpc_port = start_grpc(0)
        self.serve_http()

    def serve_http(self):
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def down(self):
        with self.lock:
            if self.http is None:
                return
            self.http.stop()
            self.http = None
            self.grpc.stop(0).wait()
            self.grpc = None

    def up(self):
        with self.lock:
            if self.http is not None:
                return
            self.http = OtlpHttpServer(("127.0.0.1", self.http_port))
            self.serve_http()
            self.grpc, _ = start_grpc(self.grpc_port)


class ControlHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def answer(self, value):
        body = json.dumps(value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/state":
            self.answer(STATE.snapshot())
        else:
            self.send_error(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        backend = self.server.backend
        if self.path == "/mode":
            STATE.set_mode(json.loads(body or b"{}"))
        elif self.path == "/down":
            backend.down()
        elif self.path == "/up":
            backend.up()
        elif self.path == "/clear":
            with STATE.lock:
                STATE.clear()
        else:
            self.send_error(404)
            return
        self.answer({"ok": True})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proto", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--tls")
    args = parser.parse_args()
    compile_protos(args.proto, args.work)
    decode_request(b"", False)  # import the classes now, not in the first request
    backend = Backend()
    control = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ControlHandler)
    control.daemon_threads = True
    control.backend = backend
    ports = {"http": backend.http_port, "grpc": backend.grpc_port, "control": control.server_address[1]}
    if args.tls:
        tls = start_tls(args.tls)
        ports.update(https=tls["https"], grpcs=tls["grpcs"])
    with open(args.ready + ".tmp", "w") as f:
        json.dump(ports, f)
    os.rename(args.ready + ".tmp", args.ready)
    control.serve_forever()


if __name__ == "__main__":
    main()
