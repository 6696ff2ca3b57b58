# What the benchmark scripts (tests/bench/run, tests/bench/serve) share:
# the busy-machine warning, generated inputs, and reading RESULT lines.
# Sourced; expects $bin (build/bench) and $data (build/bench-data).

# Other work on the machine (a build, a test run) slows the pinned core down:
# say so, since the figures then say more about the load than the decoder.
# Busy share of all CPUs over half a second, from /proc/stat, while we sleep.
warn_if_busy() {
    local a b busy
    a=$(head -1 /proc/stat)
    sleep 0.5
    b=$(head -1 /proc/stat)
    busy=$(awk -v a="$a" -v b="$b" 'BEGIN {
        n = split(a, x); split(b, y); total = 0
        for (i = 2; i <= n; i++) total += y[i] - x[i]
        idle = (y[5] - x[5]) + (y[6] - x[6])
        printf "%.0f", (total > 0 ? 100 * (total - idle) / total : 0) }')
    if [ "$busy" -gt 15 ]; then
        echo "WARNING: other processes keep the CPUs ${busy}% busy $1; figures may be low"
    fi
}

# generate NAME ARGS...: build/bench-data/NAME from `gen ARGS... FILE`, kept
# while the gen binary and the arguments are unchanged. The generator's
# summary line is kept beside it as NAME.gen.
generate() {
    local name=$1; shift
    local out=$data/$name
    local key
    key="$(md5sum <"$bin/gen" | cut -c1-16) $*"
    if [ -f "$out" ] && [ -f "$out.key" ] && [ "$(cat "$out.key")" = "$key" ]; then
        return 0
    fi
    echo "generating $name ($*)"
    if ! "$bin/gen" "$@" "$out" 2>"$out.gen"; then
        cat "$out.gen" >&2
        exit 1
    fi
    echo "$key" >"$out.key"
}

# field LINE KEY: the value of KEY=... in a RESULT line.
field() { sed -n "s/.* $2=\\([^ ]*\\).*/\\1/p" <<<" $1"; }
# calc EXPR: its value; holds EXPR: true when the comparison holds.
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
holds() { awk "BEGIN { exit !($1) }"; }

# verdict EXPR: "met" when the comparison holds, else "MISSED".
verdict() { if holds "$1"; then echo "met"; else echo "MISSED"; fi; }
