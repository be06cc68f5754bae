"""apins beside pins-python on the same real servers, in one run, reported as ratios.

Run ``python -m benchmarks`` (or ``nox -s bench``); see benchmarks/README.md for the
scenarios, the measured table and how to read it.
"""
