"""The entry point the docs tests share: `TEST.py --bpsim BUILD/bpsim [unittest args]` sets
the test module's BPSIM to the executable's absolute path and runs its unittest cases."""
import os
import sys
import unittest


def main(module):
    args = sys.argv[1:]
    if len(args) < 2 or args[0] != "--bpsim":
        sys.exit("usage: %s --bpsim BUILD/bpsim [unittest args]" % os.path.basename(sys.argv[0]))
    module.BPSIM = os.path.abspath(args[1])
    unittest.main(module=module, argv=[sys.argv[0]] + args[2:])
