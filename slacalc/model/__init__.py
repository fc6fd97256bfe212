"""The vocabulary every stage shares, below reading and computing: the incident table and the
meaning of its cells (:mod:`~slacalc.model.table`, :mod:`~slacalc.model.cells`), contracts
(:mod:`~slacalc.model.contracts`) and a run's settings (:mod:`~slacalc.model.settings`). The
typed problems of bad input are :class:`slacalc.errors.Problem`, on the floor below.

Readers make these values from files (:mod:`slacalc.reading`); the engine, pricing and the
report compute on them (:mod:`slacalc.computing`); nothing here reads a file or computes a
month.
"""
