"""How the OpenMP threads of torch and numba wait, chosen once per process before torch loads.

Both run their parallel loops on torch's ``libgomp`` pool; between two loops its threads
spin on the CPU (``OMP_WAIT_POLICY=active``-like, libgomp's default) or sleep
(``passive``). Spinning is fastest on an idle machine; next to other busy processes the
spinning threads take the CPU time the working thread needs, and every parallel loop waits
for a descheduled thread. Measured on a 2-core AMD EPYC (AVX-512), AffinePNN training at
batch 1024 (``benchmarks/bench_load.py``; docs/benchmarks.md, "Training on a shared
machine"): active 360k events/s idle, 116k beside one busy process, 83k beside two;
passive 181k–236k idle, 155k beside one, 166k beside two.

So hep-pnn picks at import, before torch is imported, unless the user chose already
(``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` set): ``passive`` when other work running right
now leaves the default 2 training threads less than a core each (:func:`decide`; on 2
cores: one other busy process), libgomp's default otherwise. The count of running tasks is
machine-wide: inside a container or a batch job's CPU set it also counts work on cores this
process cannot use, which can make it choose ``passive`` needlessly (set
``OMP_WAIT_POLICY`` there). "Right now" is the
smallest of five readings, 5 ms apart, of the kernel's count of runnable tasks
(``/proc/loadavg``) less this process: a process that keeps a core busy shows in every
reading, a passing one rarely in all five. The one-minute load average is not used: it
still counts a job that ended a minute ago, and a training run started right after
another would then lose a third of its speed on an idle machine (seen in
``benchmarks/bench_epochs.py``). Where ``/proc/loadavg`` does not exist, the one-minute
load average is the fallback. Child processes (``pnn study`` runs) inherit the choice
through the environment.
"""

from __future__ import annotations

import os
import sys
import time

__all__ = [
    "BUSY_LOAD",
    "choose_wait_policy",
    "decide",
    "other_busy_cores",
    "usable_cores",
    "wait_policy",
]

#: Busy cores of other work, beyond those the default 2 threads leave free, from which the
#: machine counts as shared.
BUSY_LOAD = 0.75

_chosen: dict[str, str] = {}
_MARK = "HEP_PNN_BUSY_CORES"  # what made hep-pnn choose passive, for child processes


def decide(*, load: float, cores: int = 2, user_set: bool, torch_loaded: bool) -> str:
    """The wait policy for a process: ``user``, ``late``, ``passive`` or ``active``.

    ``passive`` when the ``load`` of other work leaves fewer than the default 2 training
    threads (or all ``cores``, if fewer) a core of their own: ``load ≥ cores − 2 + 0.75``.

    Example:
        >>> decide(load=0.1, user_set=False, torch_loaded=False)
        'active'
        >>> decide(load=1.0, user_set=False, torch_loaded=False)
        'passive'
        >>> decide(load=1.0, cores=64, user_set=False, torch_loaded=False)
        'active'
        >>> decide(load=1.0, user_set=True, torch_loaded=False)
        'user'
    """
    if user_set:
        return "user"
    if torch_loaded:
        return "late"
    return "passive" if load >= cores - min(2, cores) + BUSY_LOAD else "active"


def other_busy_cores() -> float:
    """How many other tasks are running right now (see the module docstring)."""
    readings = []
    try:
        for reading in range(5):
            if reading:
                time.sleep(0.005)
            with open("/proc/loadavg") as stat:
                running = int(stat.read().split()[3].split("/")[0])
            readings.append(running - 1)  # this process is running while it reads
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):  # no load average (Windows): assume idle
            return 0.0
    return float(max(0, min(readings)))


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def choose_wait_policy() -> str:
    """Set ``OMP_WAIT_POLICY=passive`` when the machine is busy; return what applies.

    ``"user"``: the user set ``OMP_WAIT_POLICY``/``GOMP_SPINCOUNT``; ``"late"``: torch was
    imported first (its OpenMP runtime has read the environment already); else
    ``"passive"`` or ``"active"`` from :func:`other_busy_cores` (:func:`decide`).
    """
    user_set = "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ
    torch_loaded = "torch" in sys.modules
    # the readings take ≈ 20 ms: only when the answer depends on them
    load = 0.0 if user_set or torch_loaded else other_busy_cores()
    decision = decide(load=load, cores=usable_cores(), user_set=user_set, torch_loaded=torch_loaded)
    inherited = os.environ.get("OMP_WAIT_POLICY") == "passive" and _MARK in os.environ
    if decision == "user" and inherited:  # set by hep-pnn in a parent process
        decision, load = "passive", float(os.environ[_MARK])
    if decision == "passive":
        os.environ["OMP_WAIT_POLICY"] = "passive"
        os.environ.setdefault(_MARK, f"{load:g}")
    _chosen.update(decision=decision, load=f"{load:g}")
    return decision


def wait_policy() -> str:
    """One line for logs: how the OpenMP threads of this process wait, and why.

    Example:
        >>> wait_policy().startswith("OpenMP threads")
        True
    """
    decision = _chosen.get("decision", "late")
    if decision == "user":
        setting = {
            k: os.environ[k] for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT") if k in os.environ
        }
        return f"OpenMP threads wait as set by the user ({setting})"
    if decision == "late":
        return "OpenMP threads wait by libgomp's default (torch was imported before hep_pnn)"
    reason = f"{_chosen['load']} other busy core(s) at start"
    if decision == "passive":
        return f"OpenMP threads sleep while waiting (shared machine: {reason})"
    return f"OpenMP threads spin while waiting (idle machine: {reason})"


choose_wait_policy()
