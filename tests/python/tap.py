"""A small TAP runner for the Python tests: run(tests) prints the plan,
then "ok N - name" or "not ok N - name" for each function (its name
taken from the first line of its docstring), with the traceback of a
failure as "# " lines; a test that raises Skip is "ok N # SKIP reason".
The exit status is 1 when a test failed."""

import sys
import traceback


class Skip(Exception):
    pass


def run(tests):
    print("1..%d" % len(tests), flush=True)
    failed = 0
    for n, t in enumerate(tests, 1):
        name = (t.__doc__ or t.__name__).strip().splitlines()[0]
        try:
            t()
        except Skip as e:
            print("ok %d - %s # SKIP %s" % (n, name, e), flush=True)
            continue
        except Exception:  # report, go on with the next test
            failed += 1
            print("not ok %d - %s" % (n, name))
            for line in traceback.format_exc().rstrip().splitlines():
                print("# " + line)
            sys.stdout.flush()
            continue
        print("ok %d - %s" % (n, name), flush=True)
    return 1 if failed else 0
