#!/usr/bin/env python3
"""Run the whole meson test suite and close with one summary line.

The suite runs once as configured (the guest tests under every platform,
the e2e scripts under moat's default platform), then the e2e suite runs again
under each platform in MOAT_E2E_PLATFORMS (default: ptrace, the one that is
not the default), so every script passes on both platforms.

meson prints its own summary; CI reads the plain closing line
"N passed, N failed, N skipped" that this script prints last. Just above it
comes each failed test's name and the tail of its output, because a CI log
is often read from its end only.
"""
import json
import os
import subprocess
import sys

build = sys.argv[1] if len(sys.argv) > 1 else "build-test"
base = ["meson", "test", "-C", build, "--print-errorlogs",
        "--num-processes", os.environ.get("MOAT_TEST_JOBS", "2")]
extra = sys.argv[2:]
runs = [(base + extra, "testlog.json")]
if not extra:
    for platform in os.environ.get("MOAT_E2E_PLATFORMS", "ptrace").split():
        runs.append((base + ["--setup", platform, "--suite", "e2e"],
                     f"testlog-{platform}.json"))

TAIL_LINES = 40

rc = 0
passed = failed = skipped = 0
failures = []
for cmd, logname in runs:
    print("moat: " + " ".join(cmd), flush=True)
    rc = subprocess.call(cmd) or rc
    log = os.path.join(build, "meson-logs", logname)
    try:
        with open(log) as f:
            for line in f:
                if not line.strip():
                    continue
                entry = json.loads(line)
                result = entry.get("result", "")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
                    failures.append((logname, entry))
    except OSError as e:
        print(f"moat: no test log at {log}: {e}", file=sys.stderr)
        failed += 1

for logname, entry in failures:
    name = entry.get("name", "?")
    print(f"\nmoat: FAILED {name} ({entry.get('result', '?')}, "
          f"{entry.get('duration', 0):.1f}s, {logname}); last lines:")
    out = (entry.get("stdout") or "") + (entry.get("stderr") or "")
    for line in out.splitlines()[-TAIL_LINES:]:
        print("  | " + line)

if passed + failed == 0:
    print("moat: the suite ran no test", file=sys.stderr)
    rc = rc or 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(rc if rc else (1 if failed else 0))
