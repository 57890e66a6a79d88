"""A minimal keep-alive HTTP/1.1 client on asyncio, much cheaper than httpx so that the load
generator costs far less than the servers it measures (bench/http_bench.py,
bench/campaign_load.py).

`Conn` is one virtual user's connection to a pool of servers (ports on 127.0.0.1): it starts
on `ports[start % n]` and, when its server dies (connection refused or reset), marks that
port dead for every user and moves to a live one; the request in flight is then reported as
interrupted (`Interrupted`): its outcome is unknown, never an acknowledgement.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field


async def read_response(reader: asyncio.StreamReader, keep: bool = True) -> tuple[int, bytes]:
    """(status, body) of one response; the body is read and dropped when not `keep`."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, chunked = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    parts: list[bytes] = []
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if keep:
                parts.append(chunk[:-2])
            if size == 0:
                break
    elif length:
        while length:  # in slices: a large file is never held when not kept
            chunk = await reader.readexactly(min(length, 1 << 20))
            length -= len(chunk)
            if keep:
                parts.append(chunk)
    return status, b"".join(parts)


def request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    if body or method in ("POST", "PATCH", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Interrupted(Exception):
    """The server died with this request in flight: its outcome is unknown."""


@dataclass
class Stats:
    """Latencies and statuses per kind of request, with the time each one ended."""

    latencies: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # kind -> [(end time, seconds)]
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    by_port: dict[int, list[tuple[float, str, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )  # port -> [(end time, kind, status)]
    interrupted: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    elapsed: float = 0.0
    load: list[float] = field(default_factory=list)  # 1, 5, 15-minute load at the end
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds used, by process group

    def record(self, kind: str, port: int, start: float, status: int) -> None:
        end = time.perf_counter()
        self.latencies[kind].append((end, end - start))
        self.statuses[kind][status] += 1
        self.by_port[port].append((end, kind, status))


class Pool:
    """The servers' ports and which are still alive (shared by all users)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = list(ports)
        self.dead: set[int] = set()

    def pick(self, start: int) -> int:
        live = [p for p in self.ports if p not in self.dead]
        if not live:
            raise Interrupted("no server left")
        return live[start % len(live)]


class Conn:
    """One user's keep-alive connection to a live server of `pool`."""

    def __init__(self, pool: Pool, start: int, stats: Stats) -> None:
        self.pool, self.start, self.stats = pool, start, stats
        self.port = 0
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        while True:
            self.port = self.pool.pick(self.start)
            try:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                return
            except OSError:
                self.pool.dead.add(self.port)

    async def call(
        self,
        kind: str,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes = b"",
        keep: bool = True,
    ) -> tuple[int, bytes]:
        """Send one request; raises Interrupted (and reconnects next time) if the server
        died meanwhile."""
        if self.writer is None:
            await self._connect()
        assert self.reader is not None and self.writer is not None
        t0 = time.perf_counter()
        try:
            self.writer.write(request(method, path, headers, body))
            status, data = await read_response(self.reader, keep)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.stats.interrupted[kind] += 1
            self.pool.dead.add(self.port)
            self.close()
            raise Interrupted(str(exc)) from exc
        self.stats.record(kind, self.port, t0, status)
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def percentiles(latencies: list[float]) -> dict[str, float]:
    values = sorted(latencies)

    def pct(q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1)

    if not values:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    return {"p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99)}
