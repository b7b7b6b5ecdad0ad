#!/usr/bin/env python3
"""Run the integration suites (tests/test_*.py) against the real binary.

The binary is $VMSCHED (the Makefile sets it). Each suite is a unittest
module; helpers shared by the suites live in tests/vmtest.py. Prints the
plain closing line "integration: N passed, N failed" and exits non-zero on
any failure or error.

usage: VMSCHED=./vmsched python3 tests/run_integration.py [PATTERN]
"""
import os
import sys
import unittest


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    pattern = sys.argv[1] if len(sys.argv) > 1 else "test_*.py"
    suite = unittest.defaultTestLoader.discover(here, pattern=pattern)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print("integration: %d passed, %d failed, %d skipped"
          % (passed, failed, len(result.skipped)))
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)


if __name__ == "__main__":
    main()
