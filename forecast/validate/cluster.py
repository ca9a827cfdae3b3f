"""Independent fits on ``dask.distributed``: the backtest's origins, ``check --refit``'s presets and
the SBC runner's chunks of simulations.

``run_tasks(tasks, jobs, scheduler, on_done)`` runs a list of ``Task``s and returns their results in
submission order, calling ``on_done(result)`` as each one finishes (in finishing order):

* ``scheduler=None`` (the default): a ``LocalCluster`` of ``jobs`` worker processes with one thread
  each, started here and closed at the end. One task, or ``jobs == 1``, runs in this process instead
  (no cluster to start; the same function on the same arguments).
* ``scheduler="tcp://HOST:PORT"``: an existing cluster (``dask scheduler`` plus ``dask worker`` on any
  machine that has ``forecast`` installed and sees the workspace at the same path). Only the client is
  closed at the end; the cluster keeps running.

A task is a pure function of its arguments (seeds included), so the results do not depend on where
or in which order the tasks ran. Dask is imported inside the functions only: ``forecast --help`` and
``forecast show`` never import it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from forecast import defaults as D
from forecast.errors import ClusterError


@dataclass(frozen=True)
class Task:
    """``fn(*args)``, run on a worker. ``fn`` must be importable there (a module-level function of
    ``forecast``) and ``args`` picklable."""

    fn: Callable[..., Any]
    args: tuple = field(default_factory=tuple)


def default_jobs(n_tasks: int) -> int:
    """One worker per core, and no more workers than tasks."""
    return max(1, min(os.cpu_count() or 1, n_tasks))


def run_tasks(tasks: Sequence[Task], jobs: int | None = None, scheduler: str | None = None,
              on_done: Callable[[Any], None] | None = None) -> list:
    """The results of ``tasks`` in submission order; see the module docstring."""
    tasks = list(tasks)
    if not tasks:
        return []
    jobs = default_jobs(len(tasks)) if jobs is None else max(1, min(jobs, len(tasks)))
    if scheduler is None and jobs == 1:
        results = []
        for t in tasks:
            results.append(t.fn(*t.args))
            if on_done is not None:
                on_done(results[-1])
        return results
    from distributed import as_completed

    with _client(scheduler, jobs) as client:
        futures = [client.submit(t.fn, *t.args, pure=False) for t in tasks]
        order = {f.key: i for i, f in enumerate(futures)}
        results: list = [None] * len(tasks)
        try:
            for f in as_completed(futures, loop=client.loop):
                results[order[f.key]] = _result(f, scheduler)
                if on_done is not None:
                    on_done(results[order[f.key]])
        finally:
            client.cancel(futures)  # after a failure, nothing keeps running on a shared cluster
    return results


def _result(future, scheduler: str | None):
    try:
        return future.result()
    except ModuleNotFoundError as exc:  # a worker without forecast (or with another version of it)
        if scheduler is None or not (exc.name or "").startswith("forecast"):
            raise
        raise ClusterError(f"a worker of the Dask cluster at {scheduler} cannot import {exc.name}: install "
                           "forecast on every worker machine (pip install forecast-bilateral, the same version "
                           "as here) and restart its 'dask worker'") from None


@contextmanager
def _client(scheduler: str | None, jobs: int) -> Iterator[Any]:
    import dask
    from distributed import Client

    if scheduler is None:
        import logging

        from distributed import LocalCluster

        # non-daemonic workers may start processes of their own (PyMC's fallback sampler does)
        with dask.config.set({"distributed.worker.daemon": False}):
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                                   memory_limit=0, silence_logs=logging.ERROR)
        try:
            with Client(cluster, set_as_default=False) as client:
                yield client
        finally:
            cluster.close()
        return
    client = connect(scheduler)
    try:
        yield client
    finally:
        client.close()


def connect(scheduler: str):
    """A client of the Dask scheduler at ``scheduler`` that has at least one worker, or ClusterError
    naming the address and the fix (within ``defaults.SCHEDULER_TIMEOUT_S`` seconds)."""
    from distributed import Client

    timeout = D.SCHEDULER_TIMEOUT_S
    hint = ("start one with 'dask scheduler' (it prints its address, tcp://HOST:8786) and 'dask worker ADDRESS' "
            "on each machine, or check the address")
    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)
    except ValueError as exc:  # not an address at all: no scheme or port, unknown scheme
        raise ClusterError(f"--scheduler {scheduler!r} is not a Dask scheduler address ({exc}); give it as "
                           f"tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786") from None
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler} within {timeout} s ({exc}); "
                           f"{hint}") from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise ClusterError(f"the Dask scheduler at {scheduler} has no worker after {timeout} s; start one with "
                           f"'dask worker {scheduler}' on a machine with forecast installed") from None
    return client
