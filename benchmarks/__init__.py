"""`make bench`: what users pay for, measured beside a baseline in the same run.

Polling (events/s against a bare HTTP loop, memory against the backlog, requests per poll),
action runs (the worker's path against direct client calls) and the run history admin lists
(a million rows against a thousand), plus the sandbox store's own figures. Not part of the
portal: nothing in the app imports this package. See README "Benchmarks".
"""
