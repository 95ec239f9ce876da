"""A customer's push receiver written from the document alone (§2.7, §2.8, §3.1), without
smsapi, so a mistake shared with the suite cannot hide. A real HTTP server in a thread;
`faults` turns on the typical mistakes of receivers met in practice."""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import Flask, Response, request
from werkzeug.serving import make_server

CHINA = timezone(timedelta(hours=8))
FAULTS = {
    "wrong-cmd",  # answers with the request's cmd (RPT_REQ) instead of RPT_RESP
    "seqid-not-echoed",  # answers seqid 0
    "not-json",  # answers the text OK
    "slow",  # answers after `slow` seconds
    "sync",  # processes every item before answering (`per_item` seconds each)
    "no-auth",  # takes any pwd and any timestamp
    "stores-twice",  # stores a repeated push again
    "result-error",  # answers result -100999 (§2.7.7) to everything
}


@dataclass
class DocReceiver:
    userid: str = "J10003"
    password: str = "111111"
    faults: set[str] = field(default_factory=set)
    slow: float = 0.4
    per_item: float = 0.002
    tolerance: float = 300.0
    stored: dict[str, list[int]] = field(default_factory=lambda: {"rpts": [], "mos": []})
    bodies: list[tuple[str, bytes]] = field(default_factory=list)  # (Content-Type, body)

    def __post_init__(self) -> None:
        unknown = self.faults - FAULTS
        assert not unknown, unknown
        self._lock = threading.Lock()
        self._work: queue.Queue = queue.Queue()
        self.app = Flask("doc_receiver")
        self.app.add_url_rule("/push", "push", self.push, methods=["POST"])
        self.app.add_url_rule("/stored", "stored", self.show, methods=["GET"])

    # §3.1 pwd = md5(userid + "00000000" + password + timestamp); timestamp MMDDHHMMSS
    def authentic(self, form: dict) -> bool:
        raw = f"{form.get('userid', '')}00000000{self.password}{form.get('timestamp', '')}"
        if form.get("pwd") != hashlib.md5(raw.encode()).hexdigest():
            return False
        now = datetime.now(CHINA)
        try:
            sent = datetime.strptime(f"{now.year}{form['timestamp']}", "%Y%m%d%H%M%S")
        except (KeyError, ValueError):
            return False
        return abs((sent.replace(tzinfo=CHINA) - now).total_seconds()) <= self.tolerance

    def push(self) -> Response:
        self.bodies.append((request.content_type or "", request.get_data()))
        form = request.form.to_dict()
        cmd = form.get("cmd", "")
        seqid = int(form.get("seqid", "0"))
        name = {"RPT_REQ": "rpts", "MO_REQ": "mos"}.get(cmd)
        ok = name is not None and ("no-auth" in self.faults or self.authentic(form))
        items = json.loads(form.get(name or "", "[]")) if ok else []
        if "sync" in self.faults:
            for item in items:
                time.sleep(self.per_item)
                self.store(name, item)
        elif ok:
            for item in items:
                self._work.put((name, item))  # answer at once, store in another thread
        if "slow" in self.faults:
            time.sleep(self.slow)
        if "not-json" in self.faults:
            return Response("OK", 200, content_type="text/plain")
        answer = {
            "cmd": cmd if "wrong-cmd" in self.faults else cmd.replace("_REQ", "_RESP"),
            "seqid": 0 if "seqid-not-echoed" in self.faults else seqid,
            "result": 0 if ok and "result-error" not in self.faults else -100999,
        }
        if not ok and name is not None:
            answer["result"] = -100001
        return Response(json.dumps(answer), 200, content_type="application/json")

    def store(self, name: str, item: dict) -> None:
        with self._lock:
            if "stores-twice" in self.faults or item["msgid"] not in self.stored[name]:
                self.stored[name].append(item["msgid"])

    def show(self) -> Response:
        with self._lock:
            return Response(json.dumps(self.stored), 200, content_type="application/json")

    def _worker(self) -> None:
        while True:
            name, item = self._work.get()
            self.store(name, item)

    def start(self) -> DocReceiver:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        threading.Thread(target=self._worker, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/push"

    @property
    def stored_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/stored"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
