"""Memory per message of the Redis store: `used_memory` of a redis-server of its own
before and after N messages, sent as single sends and as 1000-mobile batches, pending
and after every report was handed out (kept for the retention), and what is left once
the retention has passed (the old store kept ~2 460 B/message for ever).

    python -m benchmarks.redis_memory [--messages 100000] [--retention 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path

import redis

from mockcarrier.config import AccountConfig
from mockcarrier.launch import RedisServer, launch_redis
from mockcarrier.stores.interface import Acceptance, Drawn, Message
from mockcarrier.stores.redis import RedisStore
from smsapi.tender import DEMO_CHANNEL

USERID = "B00001"


def acceptance(mobiles: int, first: int) -> Acceptance:
    """A send as the service builds it: one text, drawn fates, generated custid."""
    return Acceptance(
        userid=USERID, endpoint="batch_send" if mobiles > 1 else "single_send", fmt="json",
        auth_mode="md5", chargetype=0, cost_count=mobiles, cost_micros=0,
        text="【通渝科技】您的验证码是123456，5分钟内有效。", custid="", seed=1, prefix=0,
        stime=datetime.now(), accepted_at=time.time(), time_scale=1000.0,
        messages=[
            Message(
                position=i + 1, mobile=f"139{(first + i) % 10**8:08d}", operator="china_mobile",
                text=None, pktotal=1, custid="", svrtype="", exno="", spno=DEMO_CHANNEL,
                exdata="", issues=(), fate=Drawn("instant"),
            )
            for i in range(mobiles)
        ],
    )  # fmt: skip


def used(admin: redis.Redis) -> int:
    return int(admin.info("memory")["used_memory"])


def run(url: str, admin: redis.Redis, messages: int, batch: int) -> tuple[RedisStore, int]:
    """Send messages in sends of batch, then hand every report out: the store and the
    memory before."""
    store = RedisStore(url)
    store.ensure_accounts([AccountConfig(userid=USERID, balance=10**12)])
    before = used(admin)
    for n in range(0, messages, batch):
        store.accept(acceptance(batch, n))
    return store, before


def hand_out(store: RedisStore) -> None:
    while store.take_reports(USERID, time.time() + 3600, 500):
        pass


def measure(server: RedisServer, admin: redis.Redis, messages: int, batch: int, short: int) -> str:
    # kept: a retention longer than the run
    store, before = run(
        f"{server.store_url(f'kept{batch}')}&retention=86400", admin, messages, batch
    )
    pending = used(admin)
    hand_out(store)
    handed = used(admin)
    store.reset(USERID, AccountConfig(userid=USERID))
    # gone: a short retention, then wait until it has passed
    store, start = run(
        f"{server.store_url(f'gone{batch}')}&retention={short}", admin, messages, batch
    )
    hand_out(store)
    deadline = time.monotonic() + short + 60
    while time.monotonic() < deadline:  # poll: Redis expires keys in cycles
        left = used(admin)
        if (left - start) / messages < 5:
            break
        time.sleep(0.5)
    store.reset(USERID, AccountConfig(userid=USERID))
    per = lambda after, base=before: (after - base) / messages  # noqa: E731
    return (
        f"{messages} messages in sends of {batch}: {per(pending):.0f} B/message pending, "
        f"{per(handed):.0f} B/message handed out and kept, "
        f"{per(left, start):.0f} B/message once the retention ({short} s) has passed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--retention", type=int, default=5, help="seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = launch_redis(Path(tmp) / "redis")
        try:
            admin = redis.Redis(port=server.port)
            for batch in (1, 1000):
                print(measure(server, admin, args.messages, batch, args.retention), flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
