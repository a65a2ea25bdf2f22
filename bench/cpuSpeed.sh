#!/usr/bin/env bash
# How fast this machine is right now, to read a wall-clock figure (the `.ci/run` time) against: a fixed pure-Python
# loop (30 million additions) timed once alone, then twice at once. On the reference machine the lone loop took
# 1.9 s to 3.4 s within one afternoon (the host's speed moves); two at once taking about as long as one means two
# real cores, twice as long means about one.
#   bash bench/cpuSpeed.sh        prints: alone 2.14 s; two at once 2.14 s, 2.22 s
set -euo pipefail
loop='import time
t = time.perf_counter()
s = 0
for i in range(30_000_000):
    s += i
print(f"{time.perf_counter() - t:.2f}")'
alone=$(python3 -c "$loop")
a=$(mktemp) b=$(mktemp)
trap 'rm -f "$a" "$b"' EXIT
python3 -c "$loop" >"$a" &
python3 -c "$loop" >"$b"
wait
echo "alone ${alone} s; two at once $(cat "$a") s, $(cat "$b") s"
