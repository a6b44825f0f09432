#!/usr/bin/env python3
"""Runs mailetd's integration tests: every test_* function in test_*.py.

  run.py --mailetd PATH --mailetctl PATH [--sanitizer] [-k SUBSTRING]

Prints one line per test and ends with "N passed, N failed".
"""
import argparse
import glob
import importlib.util
import os
import sys
import time
import traceback

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import lib  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mailetd", required=True)
    ap.add_argument("--mailetctl", required=True)
    ap.add_argument("--sanitizer", action="store_true")
    ap.add_argument("-k", default="")
    a = ap.parse_args()
    lib.MAILETD = os.path.abspath(a.mailetd)
    lib.MAILETCTL = os.path.abspath(a.mailetctl)
    lib.SANITIZER = a.sanitizer
    tag = " [asan]" if a.sanitizer else ""

    passed = failed = skipped = 0
    failures = []  # repeated at the end: a CI page may show only the tail
    for path in sorted(glob.glob(os.path.join(here, "test_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for fn in sorted(n for n in dir(mod) if n.startswith("test_")):
            full = "%s.%s" % (name, fn)
            if a.k and a.k not in full:
                continue
            t0 = time.time()
            try:
                getattr(mod, fn)()
                passed += 1
                print("PASS %s%s (%.1fs)" % (full, tag, time.time() - t0), flush=True)
            except lib.TestSkipped as e:
                skipped += 1
                print("SKIP %s%s: %s" % (full, tag, e), flush=True)
            except Exception as e:  # a test failure or a crash of the test
                failed += 1
                print("FAIL %s%s: %s" % (full, tag, e), flush=True)
                failures.append("FAIL %s%s: %s" % (full, tag, str(e)[:300]))
                if not isinstance(e, lib.TestFailure):
                    traceback.print_exc()
    for line in failures:
        print(line)
    print("integration%s: %d passed, %d failed%s" %
          (tag, passed, failed, " (%d skipped)" % skipped if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
