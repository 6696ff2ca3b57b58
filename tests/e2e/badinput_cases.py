# The bad-input matrix of docs/reliability.md: each row's inputs and what
# each must give. Not a test itself (not executable): tests/e2e/bad_inputs
# runs the rows through `convert` and `serve` (OTLP/HTTP and OTLP/gRPC), and
# tests/e2e/reliability_doc checks the document's table against ROWS.
#
# Every input is made here from the project's own fixture (the bytes of
# build/tools/mkfixture, read with the Python classes protoc makes of
# engine/proto) or written byte by byte after the formats reference (the
# older wire versions). What each row must give is fixed here by hand: the
# status, the message (a regular expression), and the CPU and off-CPU time
# the request's valid part adds, counted from the fixture's description at
# the top of tests/tools/mkfixture.c:
#   resource checkout: profile 0 (CPU, 7 timestamps x 10 ms: worker-1 5,
#     worker-2 2), profile 1 (off-CPU 5 + 7 + 3 ms);
#   resource billing: profile 2 (CPU values 20 + 30 ms worker-1, 10 ms
#     worker-2).
import copy
import gzip
import json
import struct
import sys

import backend

T0 = 1700000000 * 10**9
SECOND = 10**9
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1

# (metric, job) -> seconds the whole fixture adds.
FIXTURE = {("cpu_time", "checkout"): 0.07, ("cpu_time", "billing"): 0.06,
           ("off_cpu_time", "checkout"): 0.015}
NOTHING = {}


def without(*keys):
    return {k: v for k, v in FIXTURE.items() if k not in keys}


def changed(key, value):
    return {**FIXTURE, key: value}


CPU_CHECKOUT, CPU_BILLING, OFF_CPU = FIXTURE.keys()

# Outcomes, and how each channel says them.
OK, PARTIAL, BAD, TOO_LARGE = "ok", "partial", "bad", "too large"
HTTP_STATUS = {OK: 200, PARTIAL: 200, BAD: 400, TOO_LARGE: 413}
GRPC_CODE = {OK: "OK", PARTIAL: "OK", BAD: "INVALID_ARGUMENT", TOO_LARGE: "RESOURCE_EXHAUSTED"}

# The many-values row: distinct values sent to convert, and to serve twice.
MANY_CONVERT, MANY_SERVE = 1000000, 500000

# The service's limits in the test's configuration, and convert's.
SERVE_LIMIT = 1 << 20          # max_request_body_size, max_recv_msg_size_mib 1
CONVERT_GZIP_LIMIT = 1 << 30   # PTM_DEFAULT_MAX_DECOMPRESSED


class Row:
    """One row of the matrix.

    kind: "one" (one input through each channel) or "mass" (many inputs;
    convert and serve must agree on each, and on the metrics they add).
    outcome: OK, PARTIAL, BAD or TOO_LARGE (serve); convert exits 0 for OK,
    2 otherwise. message: a regular expression every channel's message
    matches (None: no message). adds: {(metric, job): seconds} the valid
    part adds (None: whatever convert says the same input adds).
    channels: which of "convert", "http", "grpc" apply; not_applicable
    says why a channel does not.
    """

    def __init__(self, id, title, outcome, message, adds, body=None, json_body=False,
                 channels=("convert", "http", "grpc"), not_applicable="", rejected=0, **extra):
        self.id, self.title, self.outcome, self.message = id, title, outcome, message
        self.adds, self.body, self.json = adds, body, json_body
        self.channels, self.not_applicable, self.rejected = channels, not_applicable, rejected
        self.kind = "one"
        self.inputs = 1
        self.http_headers = {}
        self.grpc_gzip = False
        self.convert_body = None  # a different input for convert (the gzip bomb)
        self.convert_message = None
        self.check = None         # extra checks: check(outputs) -> list of problems
        self.__dict__.update(extra)

    def convert_exit(self):
        return 0 if self.outcome == OK else 2

    def serve_inputs(self):
        """Mass rows: the indices of the inputs serve gets (every
        serve_every-th, and the last)."""
        n = len(self.bodies)
        return [i for i in range(n) if i % self.serve_every == 0 or i == n - 1]

    def summary(self):
        """The row as docs/reliability.md shows it: tried, convert, OTLP/HTTP,
        OTLP/gRPC."""
        tried = str(self.inputs)
        if self.kind == "mass":
            tried += " (serve: %d)" % len(self.serve_inputs())
            same = "as convert, input by input"
            return [tried, "exit 2, a message per refused input", same, same]
        partial = ", partial_success (%d rejected)" % self.rejected
        http = {OK: "200", PARTIAL: "200" + partial, BAD: "400", TOO_LARGE: "413"}[self.outcome]
        grpc = {OK: "OK", PARTIAL: "OK" + partial, BAD: "INVALID_ARGUMENT",
                TOO_LARGE: "RESOURCE_EXHAUSTED"}[self.outcome]
        cells = {"convert": "exit %d" % self.convert_exit(), "http": http, "grpc": grpc}
        return [tried] + [cells[c] if c in self.channels else "n/a: " + (self.not_applicable or "JSON is not a "
                                                                           "gRPC encoding")
                          for c in ("convert", "http", "grpc")]


# ---- protobuf wire writing, for what the generated classes cannot write ----

def varint(n):
    return backend.varint(n & UINT64_MAX)  # negative numbers as 64-bit two's complement


ld = backend.field_bytes  # ld(field, payload): a length-delimited field


def vi(field, value):
    """A varint field."""
    return varint(field << 3) + varint(value)


def f64(field, value):
    return varint(field << 3 | 1) + struct.pack("<Q", value)


def packed(values):
    return b"".join(varint(v) for v in values)


# ---- the OTLP versions before v1.8 (formats reference, section 2.2) ----
# One CPU profile of one sample (main, 1 event of 10 ms) in each layout.

def _sample_v14_to_v17():
    # locations_start_index 0, locations_length 1, timestamps (varints)
    return vi(1, 0) + vi(2, 1) + ld(6, packed([T0 + SECOND]))


def _strings(field):
    return b"".join(ld(field, s) for s in (b"", b"samples", b"count", b"cpu", b"nanoseconds",
                                            b"main", b"thread.name", b"worker-1"))


def _keyvalue(key, value):
    return ld(1, key) + ld(2, ld(1, value))  # KeyValue{key, AnyValue{string_value}}


def request_v13():
    # ScopeProfiles.profiles are ProfileContainers: 1 profile_id, 2 and 3
    # start/end (fixed64), 8 the pprofextended Profile.
    profile = (ld(1, vi(1, 1) + vi(2, 2)) + ld(2, vi(1, 1) + ld(2, packed([1]))) +
               ld(4, vi(1, 1) + ld(4, vi(1, 1))) + ld(5, vi(1, 1) + vi(2, 5)) + _strings(6) +
               vi(12, 10000000) + ld(11, vi(1, 3) + vi(2, 4)))
    container = ld(1, bytes(range(16))) + f64(2, T0) + f64(3, T0 + 10 * SECOND) + ld(8, profile)
    return ld(1, ld(2, ld(2, container)))


def _profile_v14_v15(attributes):
    return (ld(1, vi(1, 1) + vi(2, 2)) + ld(2, _sample_v14_to_v17()) +
            ld(3, b"") +                                  # mapping_table
            ld(4, b"") + ld(4, ld(3, vi(1, 1))) +         # location_table: -, main
            ld(5, packed([1])) +                          # location_indices
            ld(6, b"") + ld(6, vi(1, 5)) +                # function_table: -, main
            ld(7, _keyvalue(b"thread.name", b"worker-1")) +  # attribute_table
            _strings(10) + vi(11, T0) + vi(12, 10 * SECOND) +
            ld(13, vi(1, 3) + vi(2, 4)) + vi(14, 10000000) + attributes)


def request_v14():
    return ld(1, ld(2, ld(2, _profile_v14_v15(ld(18, _keyvalue(b"profile.source", b"v1.4"))))))


def request_v15():
    return ld(1, ld(2, ld(2, _profile_v14_v15(ld(22, packed([0]))))))


def _profile_v16_v17():
    return (ld(1, vi(1, 1) + vi(2, 2)) + ld(2, _sample_v14_to_v17()) + ld(3, packed([1])) +
            vi(4, T0) + vi(5, 10 * SECOND) + ld(6, vi(1, 3) + vi(2, 4)) + vi(7, 10000000))


def request_v16():
    # The tables moved to ProfilesData, which an export request lacks.
    return ld(1, ld(2, ld(2, _profile_v16_v17())))


def request_v17():
    dictionary = (ld(2, b"") + ld(2, ld(3, vi(1, 1))) + ld(3, b"") + ld(3, vi(1, 5)) + _strings(5) +
                  ld(6, _keyvalue(b"thread.name", b"worker-1")))
    return ld(1, ld(2, ld(2, _profile_v16_v17()))) + ld(2, dictionary)


# ---- the fixture, and changes to it ----

class Fixture:
    """The mkfixture v1.10 request, as bytes and as generated classes."""

    def __init__(self, data, py_dir):
        sys.path.insert(0, py_dir)
        from google.protobuf import json_format
        from opentelemetry.proto.collector.profiles.v1development import profiles_service_pb2
        self.json_format = json_format
        self.cls = profiles_service_pb2.ExportProfilesServiceRequest
        self.data = data

    def request(self):
        return self.cls.FromString(self.data)

    def changed(self, change):
        """The fixture's bytes after change(request) edited it."""
        r = self.request()
        change(r)
        return r.SerializeToString()

    def as_json(self, change=None):
        d = json.loads(self.json_format.MessageToJson(self.request()))
        if change:
            change(d)
        return json.dumps(d).encode()


def profile(r, i):
    """Profile i of the fixture (0 and 1 in resource 0, 2 in resource 1)."""
    return r.resource_profiles[0 if i < 2 else 1].scope_profiles[0].profiles[i if i < 2 else 0]


def set_attr_double(r, index, value):
    a = r.dictionary.attribute_table[index]
    a.value.Clear()
    a.value.double_value = value


def nested_anyvalue(levels):
    """A resource attribute whose value is an array in an array ... levels deep."""
    v = ld(1, b"x")  # AnyValue.string_value
    for _ in range(levels):
        v = ld(5, ld(1, v))  # AnyValue.array_value = ArrayValue{values: [v]}
    return ld(1, ld(1, ld(1, ld(1, b"deep") + ld(2, v))))  # request.resource_profiles[0].resource.attributes


def nested_json_kvlist(levels):
    v = '{"stringValue":"x"}'
    for _ in range(levels):
        v = '{"kvlistValue":{"values":[{"key":"k","value":' + v + '}]}}'
    return ('{"resourceProfiles":[{"resource":{"attributes":[{"key":"deep","value":' + v + '}]}}]}').encode()


def utf8_broken(data):
    """The fixture with four strings made invalid UTF-8, each kept at its
    length: a lone 0xff and a cut 2-byte sequence (thread name worker-1), a
    cut 3-byte sequence (function compute), an encoded surrogate (service
    checkout), an overlong '/' (file app.go)."""
    for good, bad in BROKEN_UTF8.items():
        assert len(good) == len(bad) and good in data
        data = data.replace(good, bad)
    return data


BROKEN_UTF8 = {b"worker-1": b"w\xffrk\xc3(-1", b"compute": b"c\xe2\x82mput",
               b"checkout": b"ch\xed\xa0\x80kou", b"app.go": b"\xc0\xafp.go"}


def per_byte_replacement(data):
    """Bytes as UTF-8 with each byte that starts no well-formed sequence as
    U+FFFD (what the engine writes; Go's decoder does the same). Python
    reports each bad span; every byte of it is one U+FFFD."""
    out, i = [], 0
    while i < len(data):
        try:
            out.append(data[i:].decode("utf-8"))
            break
        except UnicodeDecodeError as e:
            out.append(data[i:i + e.start].decode("utf-8") + "\ufffd" * (e.end - e.start))
            i += e.end
    return "".join(out)


def many_threads(fixture, n, first):
    """Resource checkout with one CPU profile of n samples, one event each
    (10 ms), each with its own thread.name t-<first + i>: n distinct
    attribute values. Written byte by byte (the generated classes take
    seconds for a million entries)."""
    r = fixture.request()
    del r.resource_profiles[1]
    scope = r.resource_profiles[0].scope_profiles[0]
    del scope.profiles[1]
    cpu = scope.profiles[0]
    del cpu.samples[:]
    d = r.dictionary
    n_attr = len(d.attribute_table)
    key = list(d.string_table).index("thread.name")
    ts = struct.pack("<Q", T0 + SECOND)
    # KeyValueAndUnit{key_strindex, value {string_value "t-NNNNNNNNN"}}: 19 bytes each
    attrs = b"".join(b"\x32\x11\x08" + bytes([key]) + b"\x12\x0d\x0a\x0bt-%09d" % (first + i)
                     for i in range(n))
    # Sample{stack_index 1, attribute_indices [n_attr + i], timestamps [T0 + 1 s]}
    samples = b"".join(b"\x12" + bytes([13 + len(v)]) + b"\x08\x01\x12" + bytes([len(v)]) + v +
                       b"\x29" + ts for v in (varint(n_attr + i) for i in range(n)))
    del scope.profiles[:]
    scope_bytes = scope.SerializeToString() + ld(2, cpu.SerializeToString() + samples)
    rp = r.resource_profiles[0]
    del rp.scope_profiles[:]
    # A second dictionary message is merged into the first: its attribute
    # table continues the first's.
    return ld(1, rp.SerializeToString() + ld(2, scope_bytes)) + ld(2, d.SerializeToString()) + ld(2, attrs)


# ---- the rows ----

def rows(fixture, bad_variants):
    """Every row, inputs built. bad_variants: {variant name: bytes} from
    mkfixture (bad-stack-index, bad-string0, bad-function-index,
    values-timestamps-mismatch)."""
    fx = fixture
    out = []
    add = out.append

    # Truncated and bit-flipped: many inputs each; serve must say what
    # convert says about each, and add what convert adds.
    data = fx.data
    add(Row("truncated", "the fixture cut at every byte offset", None, None, None,
            kind="mass", inputs=len(data) - 1, bodies=[data[:n] for n in range(1, len(data))], serve_every=4))
    flips = []
    seed = 12345
    for _ in range(400):
        seed = (seed * 6364136223846793005 + 1442695040888963407) & UINT64_MAX
        bit = (seed >> 33) % (len(data) * 8)
        b = bytearray(data)
        b[bit // 8] ^= 1 << (bit % 8)
        flips.append(bytes(b))
    add(Row("bit-flipped", "the fixture with one bit flipped, at 400 seeded positions", None,
            None, None, kind="mass", inputs=len(flips), bodies=flips, serve_every=2))

    # Wire versions before v1.8.
    for version, build, name in (("1.3", request_v13, r"v1\.3 \(v1experimental\)"),
                                 ("1.4", request_v14, r"v1\.4"), ("1.5", request_v15, r"v1\.5"),
                                 ("1.6", request_v16, r"v1\.6"), ("1.7", request_v17, r"v1\.7")):
        add(Row("otlp-v" + version, "an OTLP v%s request, written by hand" % version, BAD,
                r"^OTLP profiles %s is not supported \(.+\); this tool reads v1\.8, v1\.9, v1\.10 and v1\.11$" % name,
                NOTHING, body=build()))

    # Counts and indexes out of range.
    def edit(change):
        return fx.changed(change)

    add(Row("stack-index", "a sample's stack_index past the stack table (99 of 5)", PARTIAL,
            r"^1 of 3 profiles rejected, the first: profile 0, sample 1: stack_index 99 out of range "
            r"\(stack_table has 5 entries\)$", without(CPU_CHECKOUT), body=bad_variants["bad-stack-index"],
            rejected=1))
    add(Row("negative-index", "a sample's stack_index -1", PARTIAL,
            r"^1 of 3 profiles rejected, the first: profile 2, sample 0: stack_index -1 out of range "
            r"\(stack_table has 5 entries\)$", without(CPU_BILLING),
            body=edit(lambda r: setattr(profile(r, 2).samples[0], "stack_index", -1)), rejected=1))
    add(Row("attribute-index", "a sample's attribute index past the attribute table (77 of 7)", PARTIAL,
            r"^1 of 3 profiles rejected, the first: profile 1, sample 0: attribute_indices\[1\] 77 out of "
            r"range \(attribute_table has 7 entries\)$", without(OFF_CPU),
            body=edit(lambda r: profile(r, 1).samples[0].attribute_indices.__setitem__(1, 77)), rejected=1))
    add(Row("link-index", "a sample's link_index past the link table (9 of 2)", PARTIAL,
            r"^1 of 3 profiles rejected, the first: profile 1, sample 1: link_index 9 out of range "
            r"\(link_table has 2 entries\)$", without(OFF_CPU),
            body=edit(lambda r: setattr(profile(r, 1).samples[1], "link_index", 9)), rejected=1))
    add(Row("sample-type-index", "a profile's sample type string index past the string table (500 of 23)",
            PARTIAL, r"^1 of 3 profiles rejected, the first: profile 0: sample_type\.type_strindex 500 out of "
                     r"range \(string_table has 23 entries\)$", without(CPU_CHECKOUT),
            body=edit(lambda r: setattr(profile(r, 0).sample_type, "type_strindex", 500)), rejected=1))
    add(Row("location-index", "a stack's location index past the location table (50 of 7)", BAD,
            r"^dictionary: stack_table\[2\]: location_indices\[0\] 50 out of range \(location_table has 7 "
            r"entries\)$", NOTHING,
            body=edit(lambda r: r.dictionary.stack_table[2].location_indices.__setitem__(0, 50))))
    add(Row("function-index", "a line's function index past the function table (42 of 8)", BAD,
            r"^dictionary: location_table\[5\]: lines\[1\]\.function_index 42 out of range "
            r"\(function_table has 8 entries\)$", NOTHING, body=bad_variants["bad-function-index"]))
    add(Row("mapping-index", "a location's mapping index past the mapping table (9 of 2)", BAD,
            r"^dictionary: location_table\[1\]: mapping_index 9 out of range \(mapping_table has 2 entries\)$",
            NOTHING, body=edit(lambda r: setattr(r.dictionary.location_table[1], "mapping_index", 9))))
    add(Row("string-index", "a function's name index past the string table (1000 of 23)", BAD,
            r"^dictionary: function_table\[3\]: name_strindex 1000 out of range \(string_table has 23 "
            r"entries\)$", NOTHING,
            body=edit(lambda r: setattr(r.dictionary.function_table[3], "name_strindex", 1000))))
    add(Row("string-zero", "string_table[0] not empty", BAD,
            r'^dictionary: string_table\[0\] must be "" but is "oops"$', NOTHING, body=bad_variants["bad-string0"]))
    add(Row("values-timestamps", "a sample with 2 values and 1 timestamp", PARTIAL,
            r"^1 of 3 profiles rejected, the first: profile 1, sample 0: 2 values but 1 "
            r"timestamps_unix_nano \(they must be equal when both are set\)$", without(OFF_CPU),
            body=bad_variants["values-timestamps-mismatch"], rejected=1))
    tail = ld(1, b"") + varint(1 << 3 | 2) + varint(0x7fffffff) + b"abc"
    add(Row("length-overrun", "a field whose length claims 2^31 - 1 bytes, 3 left", BAD,
            r"^OTLP v1\.10 request, byte %d: resource_profiles\[3\]: length 2147483647 runs past the end "
            r"\(3 bytes left\)$" % (len(data) + 3), NOTHING, body=data + tail))
    add(Row("varint-overlong", "a field key of 11 varint bytes", BAD,
            r"^OTLP v1\.10 request, byte %d: field key: invalid or truncated$" % len(data), NOTHING,
            body=data + b"\xff" * 10 + b"\x01"))

    # Negative and huge values.
    def values(i, s, vals):
        return edit(lambda r: profile(r, i).samples[s].values.__setitem__(slice(None), vals))

    add(Row("negative-value", "a sample value of -5 ms", PARTIAL,
            r"^1 of 3 profiles rejected, the first: profile 1, sample 0: values\[0\] is -5000000 \(sample "
            r"values count events, bytes or time: they cannot be negative\)$", without(OFF_CPU),
            body=values(1, 0, [-5000000, 7000000]), rejected=1))
    add(Row("int64-max-value", "a CPU sample value of 2^63 - 1 ns", OK, None,
            changed(CPU_BILLING, INT64_MAX / 1e9 + 0.04), body=values(2, 0, [INT64_MAX])))
    add(Row("huge-period", "a period of 2^63 - 1 ns (7 events)", OK, None,
            changed(CPU_CHECKOUT, 7 * INT64_MAX / 1e9),
            body=edit(lambda r: setattr(profile(r, 0), "period", INT64_MAX))))
    add(Row("negative-period", "a period of -10 ms", PARTIAL,
            r"^1 of 3 profiles rejected, the first: profile 0: period -10000000 is negative$",
            without(CPU_CHECKOUT), body=edit(lambda r: setattr(profile(r, 0), "period", -10000000)),
            rejected=1))
    add(Row("time-overflow", "a duration of 2^64 - 1 ns", PARTIAL,
            r"^1 of 3 profiles rejected, the first: profile 0: time_unix_nano %d \+ duration_nano %d is past "
            r"the largest time \(2\^64 - 1 ns since 1970\)$" % (T0, UINT64_MAX), without(CPU_CHECKOUT),
            body=edit(lambda r: setattr(profile(r, 0), "duration_nano", UINT64_MAX)), rejected=1))

    def last_timestamps(r):
        for s in profile(r, 0).samples:
            s.timestamps_unix_nano[:] = [UINT64_MAX] * len(s.timestamps_unix_nano)
    add(Row("max-timestamps", "sample timestamps of 2^64 - 1 ns", OK, None, FIXTURE, body=edit(last_timestamps)))

    # NaN and infinities. Sample values are integers on the wire, so they
    # come from JSON; attribute values may be doubles.
    def json_values(text):
        def change(d):
            d["resourceProfiles"][0]["scopeProfiles"][0]["profiles"][1]["samples"][0]["values"] = ["7000000",
                                                                                                   "X"]
        return fx.as_json(change).replace(b'"X"', text)
    where = r"resourceProfiles\[0\]\.scopeProfiles\[0\]\.profiles\[1\]\.samples\[0\]\.values\[1\]"
    add(Row("json-nan-value", 'a JSON sample value "NaN"', BAD, r"^%s: expected an integer at line 1, column \d+ "
            r"\(byte \d+\)$" % where, NOTHING, body=json_values(b'"NaN"'), json_body=True, channels=("convert", "http")))
    add(Row("json-infinity-value", 'a JSON sample value "-Infinity"', BAD, r"^%s: expected an integer at line 1, "
            r"column \d+ \(byte \d+\)$" % where, NOTHING, body=json_values(b'"-Infinity"'), json_body=True,
            channels=("convert", "http")))
    add(Row("json-1e400-value", "a JSON sample value 1e400", BAD,
            r"^%s: 1e400 is out of range for int64 at line 1, column \d+ \(byte \d+\)$" % where, NOTHING,
            body=json_values(b"1e400"), json_body=True, channels=("convert", "http")))
    nan_inf = fx.changed(lambda r: (set_attr_double(r, 1, float("nan")), set_attr_double(r, 2, float("inf"))))
    add(Row("nan-attribute", "thread.name values NaN and +Inf (double attributes)", OK, None, FIXTURE,
            body=nan_inf, labels={'thread_name="NaN"': {"checkout": 0.05, "billing": 0.05},
                                  'thread_name="+Inf"': {"checkout": 0.02, "billing": 0.01}}))

    # Deep nesting.
    add(Row("deep-json", "JSON objects nested 100,000 deep", TOO_LARGE,
            r"^nesting deeper than 64 levels at line 1, column 321 \(byte 320\)$", NOTHING,
            body=b'{"x":' * 100000 + b"1" + b"}" * 100000, json_body=True, channels=("convert", "http")))
    add(Row("deep-json-anyvalue", "a JSON kvlistValue nested 10,000 deep", TOO_LARGE,
            r"^resourceProfiles\[0\]\.resource\.attributes: nesting deeper than 64 levels at line 1, column "
            r"\d+ \(byte \d+\)$", NOTHING, body=nested_json_kvlist(10000), json_body=True,
            channels=("convert", "http")))
    add(Row("deep-anyvalue", "a protobuf array value nested 20,000 deep", BAD,
            r"^OTLP v1\.10 request, byte \d+: resource_profiles\[0\]\.resource\.attributes\[0\]\.(array_value\.)+"
            r"value: attribute values nested deeper than 32 levels$", NOTHING,
            body=nested_anyvalue(20000) + data))

    # Sizes.
    bomb = gzip.compress(b"\0" * (SERVE_LIMIT + (1 << 20)), 9)
    # convert's: 65 gzip members of 16 MiB of zeros each, which inflate as
    # one stream (gzip(1) reads concatenated members so) to 1040 MiB.
    member = gzip.compress(b"\0" * (16 << 20), 9)
    add(Row("gzip-bomb", "gzip inflating past the limit (serve: 1 MiB, convert: 1 GiB)", TOO_LARGE,
            r"^gzip: \d+ compressed bytes inflate past the limit of %d bytes$" % SERVE_LIMIT, NOTHING,
            body=bomb, http_headers={"Content-Encoding": "gzip"},
            convert_body=member * (CONVERT_GZIP_LIMIT // (16 << 20) + 1),
            convert_message=r"^gzip: \d+ compressed bytes inflate past the limit of %d bytes$" % CONVERT_GZIP_LIMIT))
    add(Row("grpc-gzip-bomb", "2 MiB of zeros sent with grpc-encoding gzip", TOO_LARGE,
            r"inflates to more than %d" % SERVE_LIMIT,
            NOTHING, body=b"\0" * (2 << 20), grpc_gzip=True, channels=("grpc",),
            not_applicable="a gRPC transport encoding"))
    add(Row("oversized", "a request of the limit + 1 byte (HTTP), 1.5 MiB (gRPC)", TOO_LARGE,
            r"^(the request body is larger than max_request_body_size \(%d bytes\)|received message larger "
            r"than max \(1572864 vs\. %d bytes; receiver max_recv_msg_size_mib\))$" % (SERVE_LIMIT, SERVE_LIMIT), NOTHING, body=b"\0" * (SERVE_LIMIT + 1),
            grpc_body=b"\0" * (3 << 19), channels=("http", "grpc"),
            not_applicable="convert reads files of any size"))

    # Invalid UTF-8, and an empty request.
    broken_job = per_byte_replacement(BROKEN_UTF8[b"checkout"])
    add(Row("invalid-utf8", "four strings of invalid UTF-8 (names, attribute values)", OK, None,
            {("cpu_time", broken_job): 0.07, ("off_cpu_time", broken_job): 0.015, CPU_BILLING: 0.06},
            body=utf8_broken(data), utf8=True))
    add(Row("invalid-utf8-message", "string_table[0] of invalid UTF-8: quoted in the error", BAD,
            '^dictionary: string_table\\[0\\] must be "" but is "\ufffd\ufffdps"$', NOTHING,
            body=bad_variants["bad-string0"].replace(b"oops", b"\xff\xfeps")))
    add(Row("empty", "an empty request (0 bytes)", OK, None, NOTHING, body=b""))
    add(Row("empty-json", "an empty JSON request ({})", OK, None, NOTHING, body=b"{}", json_body=True,
            channels=("convert", "http")))
    # Last: it fills the series limit. tests/e2e/bad_inputs makes its
    # bodies (many_threads) and checks it.
    add(Row("many-values", "%d distinct thread.name values in one request (convert); 2 x %d, all "
            "distinct, to serve" % (MANY_CONVERT, MANY_SERVE), OK, None, None, kind="many", inputs=3))
    return out
