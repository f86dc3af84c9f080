"""The version of the built-in event generator's output.

Bump :data:`GENERATOR_VERSION` whenever the generator gives different events for the same
seed and options (a new process, a changed calibration constant, a reordered random
draw). The pretrained models of :mod:`hep_pnn.zoo` record the version they were trained
on; ``tests/test_zoo.py`` fails until the zoo is retrained (``make zoo``) after a bump.

Example:
    >>> GENERATOR_VERSION >= 1
    True
"""

__all__ = ["GENERATOR_VERSION"]

#: Version of the generated events (features, processes, weights) for a given seed.
GENERATOR_VERSION = 9
