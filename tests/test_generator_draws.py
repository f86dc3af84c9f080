"""The generator's in-kernel random draws follow their distributions (goodness-of-fit tests
on large samples; each fails for a wrong table, a biased bit extraction or a dropped tail)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy import stats

from hep_pnn.data.generator import _draws, _fourvec, processes
from hep_pnn.data.generator._scheduler import BlockQueue

# A fixed seed: each p-value threshold below then fails with probability 0 or 1, not 1e-3.
STATE = np.uint64(20261201)


@njit
def _sample(state, kind, low, high, out):
    for i in range(out.shape[0]):
        if kind == 0:
            state, out[i, 0] = _draws.uniform(state)
        elif kind == 1:
            state, out[i, 0], out[i, 1] = _draws.direction(state)
        elif kind == 2:
            state, out[i, 0] = _draws.cauchy(state, low, high)
        else:
            state, out[i, 0] = _draws.uniform64(state)


def _draw(kind: int, n: int, low: float = 0.0, high: float = 0.0) -> np.ndarray:
    out = np.zeros((n, 2))
    _sample(STATE, kind, low, high, out)
    return out


def test_uniforms_are_uniform_and_in_range():
    u = _draw(0, 400_000)[:, 0]
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    wide = _draw(3, 400_000)[:, 0]
    assert wide.min() > 0.0 and wide.max() <= 1.0  # log(u) stays finite
    assert stats.kstest(wide, "uniform").pvalue > 1e-3


def test_normals_follow_the_normal_distribution_including_the_tails():
    x = _draws.normals(STATE, 2_000_000)
    assert stats.kstest(x, "norm").pvalue > 1e-3
    assert abs(x.mean()) < 3e-3 and abs(x.std() - 1) < 3e-3
    # The ziggurat's base strip and tail (|x| > 3.44) and the far tail are populated.
    for cut in (3.0, 3.5, 4.0):
        expected = 2 * stats.norm.sf(cut) * len(x)
        observed = np.count_nonzero(np.abs(x) > cut)
        assert abs(observed - expected) < 5 * np.sqrt(expected), (cut, observed, expected)


@pytest.mark.parametrize("shape", [0.5, 1.6, 3.6])
def test_gammas_follow_the_gamma_distribution(shape):
    x = _draws.gammas(STATE, shape, 300_000)
    assert stats.kstest(x, "gamma", args=(shape,)).pvalue > 1e-3


@pytest.mark.parametrize("mean", [0.6, 2.0])
def test_poisson_counts_follow_the_poisson_distribution(mean):
    k = _draws.poissons(STATE, mean, 300_000).astype(int)
    values, counts = np.unique(k, return_counts=True)
    expected = stats.poisson.pmf(values, mean) * len(k)
    keep = expected > 20
    chi2 = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-3


def test_directions_are_unit_vectors_with_a_uniform_angle():
    cos_phi, sin_phi = _draw(1, 300_000).T
    assert np.allclose(cos_phi**2 + sin_phi**2, 1.0, atol=1e-6)
    angle = np.arctan2(sin_phi, cos_phi)
    assert stats.kstest(angle, "uniform", args=(-np.pi, 2 * np.pi)).pvalue > 1e-3


def test_truncated_cauchy_stays_in_its_window_and_follows_the_distribution():
    low, high = -17.0, 12.0
    c = _draw(2, 300_000, low, high)[:, 0]
    assert c.min() >= low and c.max() <= high
    cdf = stats.cauchy.cdf
    truncated = lambda x: (cdf(x) - cdf(low)) / (cdf(high) - cdf(low))  # noqa: E731
    assert stats.kstest(c, truncated).pvalue > 1e-3


def test_choose_draws_in_proportion_to_the_weights():
    values, weights = np.array([500.0, 750.0, 1000.0]), np.array([1.0, 2.0, 7.0])
    x = _draws.choose(STATE, values, weights, 200_000)
    counts = np.array([np.count_nonzero(x == v) for v in values])
    assert counts.sum() == len(x)
    assert stats.chisquare(counts, weights / weights.sum() * len(x)).pvalue > 1e-3


def test_stream_takes_a_state_or_draws_one_from_a_generator():
    assert _draws.stream(7) == np.uint64(7)
    a = _draws.stream(np.random.default_rng(1))
    assert a == _draws.stream(np.random.default_rng(1)) and a.dtype == np.uint64


@njit
def _atan2(y, x, out):
    for i in range(x.shape[0]):
        out[i] = _fourvec.atan2(y[i], x[i])


def _ulps(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|got − exact| in units of the float32 spacing at ``exact`` (float64 arithmetic)."""
    magnitude = np.abs(exact)
    exponent = np.floor(np.log2(np.where(magnitude > 0, magnitude, 1.0)))
    return np.abs(got.astype(np.float64) - exact) / np.exp2(np.maximum(exponent, -126) - 23)


def test_atan2_is_within_half_an_ulp_of_the_float64_value_in_every_octant():
    # The reference is float64 arctan2 (error ~1e-16, far below a float32 ulp), not numpy's
    # float32 arctan2: that one changes with the CPU's SIMD path (up to 3.1 ulp with
    # AVX-512, 1.4 ulp with AVX2 on these inputs), so it cannot be a reference.
    rng = np.random.default_rng(3)
    n = 200_000
    x = (rng.standard_normal(n) * np.exp(rng.normal(0, 3, n))).astype(np.float32)
    y = (rng.standard_normal(n) * np.exp(rng.normal(0, 3, n))).astype(np.float32)
    edges = np.float32([1, 0, -1, 0, 1, -1, 1, -1, 0])
    # also |y| = |x| exactly (the octant boundaries) and |y| ≈ tan(π/8)·|x| (the reduction)
    near = x * np.float32(np.tan(np.pi / 8)) * np.float32(1 + 1e-6 * rng.normal(size=n))
    x = np.concatenate([edges, x, y, x])
    y = np.concatenate([np.float32([0, 1, 0, -1, 1, 1, -1, -1, 0]), y, y, near])
    got = np.empty_like(x)
    _atan2(y, x, got)
    exact = np.arctan2(y.astype(np.float64), x.astype(np.float64))
    # The function rounds a float64 evaluation once, so it is correctly rounded except
    # where the exact value lies within its polynomial's error (~1e-5 ulp here) of a
    # rounding midpoint; 0.5 + 1e-3 ulp allows that and fails for any wrong octant,
    # constant or coefficient. The bound is CPU-independent: no float32 libm is involved.
    assert _ulps(got, exact).max() <= 0.501
    assert np.mean(got == exact.astype(np.float32)) > 0.9999
    nan_y, nan_x = np.float32([np.nan, 1.0, np.nan]), np.float32([1.0, np.nan, np.nan])
    _atan2(nan_y, nan_x, got[:3])
    assert np.isnan(got[:3]).all()


def test_block_queue_runs_blocks_in_order_and_only_what_is_needed():
    from concurrent.futures import ThreadPoolExecutor

    runs: list[tuple[int, int]] = []

    def run(sample: int, block: int) -> tuple[int, int]:
        runs.append((sample, block))
        return sample, block

    with ThreadPoolExecutor(2) as pool:
        queue = BlockQueue(pool, run, sizes=[20, 9, 5], block=8, window=4)
        queue.top_up(0, still_needed=20, efficiency=1.0)
        assert [queue.take(0)[0] for _ in range(3)] == [0, 1, 2]
        queue.finish(0)
        queue.top_up(1, still_needed=9, efficiency=1.0)
        assert [queue.take(1)[0] for _ in range(2)] == [0, 1]
        queue.finish(1)
    # Sample 0 needs 3 blocks at full efficiency; later samples get only the blocks
    # they surely need (ceil(9 / 8) = 2 and 1), never more.
    assert sorted(runs) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0)]


def test_block_queue_hands_blocks_run_for_nothing_to_discard():
    from concurrent.futures import ThreadPoolExecutor

    discarded: list[tuple[int, int]] = []
    with ThreadPoolExecutor(1) as pool:
        queue = BlockQueue(
            pool, lambda s, b: (s, b), sizes=[4], block=8, window=3, discard=discarded.append
        )
        queue.top_up(0, still_needed=4, efficiency=0.1)  # expects to need 3 blocks
        assert queue.take(0) == (0, (0, 0))
        pool.submit(lambda: None).result()  # the other two have run by now
        queue.finish(0)
    assert sorted(discarded) == [(0, 1), (0, 2)]


def test_stages_refuse_output_arrays_of_the_wrong_size():
    from hep_pnn.data.generator.detector import empty_detector_event, simulate
    from hep_pnn.data.generator.reconstruction import raw_features

    with pytest.raises(ValueError, match="holds 64 events, not 100"):
        processes.PROCESSES["ttbar"].partons(STATE, 100, 0.0, 0.0, out=processes.empty_event(64))
    partons = processes.PROCESSES["ttbar"].partons(STATE, 100, 0.0, 0.0)
    with pytest.raises(ValueError, match="room for 64 events, not 100"):
        simulate(partons, STATE, out=empty_detector_event(64))
    event = simulate(partons, STATE, out=empty_detector_event(128))
    assert len(event.selected) == 100 and 0 < len(event.n_jets) <= 100
    with pytest.raises(ValueError, match="at least"):
        raw_features(event, out=np.empty((len(event.n_jets) - 1, 27), np.float32))
