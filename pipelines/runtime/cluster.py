"""Dask for ``engine: dask``: a client on the configured cluster and a map over partitions.

``dask_client`` connects to ``dask.scheduler`` or starts a LocalCluster of worker processes on
this machine; ``map_partitions`` ships each partition to the workers, runs a function on it
there and gathers the results in partition order. The workers need the project installed
(the same packages); partitions of frames travel from this process, so they need no access to
its files (partitions that are file paths do).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from typing import Any, TypeVar

from distributed import Client, LocalCluster, as_completed
from distributed.security import Security

from pipelines.runtime.config import Config, DaskConfig

log = logging.getLogger("pipelines")

PARTITIONS_PER_WORKER = 4  # a few per worker keeps them all busy while the slowest finishes
R = TypeVar("R")


@contextmanager
def dask_client(settings: DaskConfig) -> Iterator[Client]:
    """A client on the configured scheduler, or on a LocalCluster started here and closed after.

    Args:
        settings: The ``dask`` section: ``scheduler`` address, or ``n_workers`` and
            ``threads_per_worker`` of a LocalCluster (worker processes on this machine).

    Yields:
        The connected client; it is closed on exit, and so is the LocalCluster it started.
    """
    with ExitStack() as stack:
        chatter = logging.getLogger("distributed")  # its INFO lines would drown our progress
        stack.callback(chatter.setLevel, chatter.level)
        chatter.setLevel(logging.WARNING)
        local = not settings.scheduler
        if local:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=settings.n_workers,
                    threads_per_worker=settings.threads_per_worker,
                    processes=True,
                    dashboard_address=":0",  # a free port: several clusters may share a machine
                )
            )
            client = stack.enter_context(Client(cluster))
            where = f"a LocalCluster on this machine ({cluster.scheduler_address})"
        else:
            client = stack.enter_context(Client(settings.scheduler, security=security(settings)))
            where = settings.scheduler
        workers = client.nthreads()
        log.info(
            "dask: %s, %d workers, %d threads, dashboard %s",
            where,
            len(workers),
            sum(workers.values()),
            _dashboard(client, local),
        )
        if not workers:
            log.warning("dask: the scheduler has no workers yet; tasks wait until some connect")
        yield client


def security(settings: DaskConfig) -> Security | None:
    """TLS with this client's certificate where the settings give one; ``None``: plain."""
    if not settings.tls_cert:
        return None
    return Security(
        tls_ca_file=settings.tls_ca_file,
        tls_client_cert=settings.tls_cert,
        tls_client_key=settings.tls_key,
        require_encryption=True,
    )


def n_partitions(settings: DaskConfig, client: Client) -> int:
    """Partitions to split the work into: ``dask.partitions``, else 4 per connected worker."""
    if settings.partitions:
        return settings.partitions
    return PARTITIONS_PER_WORKER * max(1, len(client.nthreads()))


def map_partitions(
    client: Client,
    func: Callable[..., R],
    partitions: Sequence[Any],
    shared: dict[str, Any] | None = None,
    what: str = "partitions",
) -> list[R]:
    """Run ``func(partition, **shared)`` on the workers for every partition.

    Each partition is sent once to one worker (scattered, not embedded in the task graph);
    ``shared`` (small tables, settings) is sent once to every worker.

    Args:
        client: A connected client.
        func: An importable function (the workers import it by name).
        partitions: The data of each task: frames, dicts of frames, file paths.
        shared: Keyword arguments every task gets.
        what: What the partitions are, for the progress log.

    Returns:
        The results in the order of ``partitions``; the first failure is raised.
    """
    n = len(partitions)
    if n == 0:
        return []
    [shared_future] = client.scatter([shared or {}], broadcast=True, hash=False)
    data = client.scatter(list(partitions), hash=False)
    futures = [client.submit(_call, func, part, shared_future, pure=False) for part in data]
    try:
        for done, future in enumerate(as_completed(futures), start=1):
            if future.status == "error":
                future.result()  # raises the task's exception here
            log.info("%s: %d of %d done", what, done, n)
        return client.gather(futures)
    except BaseException:
        client.cancel(futures)
        raise


def _dashboard(client: Client, local: bool) -> str:
    if "dashboard" not in client.scheduler_info(n_workers=0).get("services", {}):
        return "off"
    if local and importlib.util.find_spec("bokeh") is None:  # the status pages need it
        return f"{client.dashboard_link} (its pages need bokeh, not installed here)"
    return client.dashboard_link


def _call(func: Callable[..., R], partition: Any, shared: dict[str, Any]) -> R:
    return func(partition, **shared)


def engine_client(cfg: Config) -> Any:
    """A context giving a ``distributed.Client`` for ``engine: dask``, else ``None``."""
    if cfg.engine != "dask":
        return nullcontext(None)
    return dask_client(cfg.dask)
