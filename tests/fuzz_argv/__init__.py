"""The argv fuzzer's parts (issue 18): the files it reads, the argument lists it builds from each
command's own options, and the harness that runs one and says what went wrong.

``tests/test_fuzz_argv.py`` runs it briefly in the suite; ``python tests/fuzz_argv/collect.py``
runs it for long and groups every distinct failure.
"""
