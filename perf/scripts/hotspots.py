#!/usr/bin/env python3
"""Top functions of a callgrind profile by self (exclusive) instructions, summed over the source
files callgrind attributes a function to, demangled with swift-demangle --simplified.

usage: hotspots.py CALLGRIND_OUT [N] [--inclusive]
"""
import re
import subprocess
import sys

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 15
inclusive = "--inclusive" in sys.argv
args = ["callgrind_annotate", "--auto=no", "--threshold=100", f"--inclusive={'yes' if inclusive else 'no'}", path]
text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
text = subprocess.run(["swift-demangle", "--simplified"], input=text, capture_output=True, text=True, check=True).stdout

total = None
costs = {}
line_re = re.compile(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(.*)$")
for line in text.splitlines():
    m = line_re.match(line)
    if not m:
        continue
    value = int(m.group(1).replace(",", ""))
    rest = m.group(2)
    if rest.startswith("PROGRAM TOTALS"):
        total = value
        continue
    if ":" not in rest:
        continue
    fn = rest.split(":", 1)[1]
    fn = re.sub(r"\s+\[[^\]]*\]$", "", fn)      # the object file
    fn = re.sub(r"'\d+$", "", fn)               # callgrind's recursion suffix
    fn = re.sub(r"^(specialized |merged )+", "", fn)
    costs[fn] = costs.get(fn, 0) + value

print(f"total {total:,} instructions ({'inclusive' if inclusive else 'self'} cost per function)")
for fn, value in sorted(costs.items(), key=lambda kv: -kv[1])[:n]:
    print(f"{100.0 * value / total:6.2f}%  {value:>14,}  {fn[:160]}")
