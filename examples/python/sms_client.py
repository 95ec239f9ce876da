"""A client of the SMS interface (attachment 6), standard library only.

    SMS_BASE_URL=http://127.0.0.1:8080 SMS_USERID=J10003 SMS_PASSWORD=111111 \
        python3 sms_client.py demo          # send, match every report (§3.3), balance
    python3 sms_client.py receiver 9090     # answer pushed reports and MOs (§2.7, §2.8)
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHINA = timezone(timedelta(hours=8))  # §3.1 timestamps are China time (UTC+8)
SEGMENT_STRIDE = 1 << 34  # §3.3 长短信分条流水号 = msgid + (pknum - 1) * 2^34
PATH = "/sms/v2/std/"


def wrap64(value: int) -> int:
    """Java/C# long arithmetic: §3.3 ids may wrap to negative."""
    return (value + (1 << 63)) % (1 << 64) - (1 << 63)


class SmsClient:
    def __init__(self, base_url: str, userid: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.userid = userid.upper()  # §2.1.5 统一大写
        self.password = password

    def credentials(self) -> dict[str, str]:
        """§3.1 pwd = md5(userid + "00000000" + password + timestamp): a fresh
        MMDDHHMMSS China-time timestamp for every request, never one per client."""
        timestamp = datetime.now(CHINA).strftime("%m%d%H%M%S")
        raw = f"{self.userid}00000000{self.password}{timestamp}"
        pwd = hashlib.md5(raw.encode("utf-8")).hexdigest()
        return {"userid": self.userid, "pwd": pwd, "timestamp": timestamp}

    def call(self, endpoint: str, fields: dict, as_form: bool = False) -> dict:
        """POST one request; JSON answers for JSON and form requests (§2.1.8)."""
        fields = {**self.credentials(), **fields}
        if as_form:  # content is already urlencoded GBK: it goes in as is (§2.1.7)
            body = "&".join(
                f"{k}={v if k == 'content' else urllib.parse.quote(str(v), safe='')}"
                for k, v in fields.items()
            ).encode("ascii")
            content_type = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(fields).encode("utf-8")
            content_type = "application/json"
        request = urllib.request.Request(
            self.base_url + PATH + endpoint, body, {"Content-Type": content_type}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer_type = response.headers.get("Content-Type", "")
            payload = response.read()
        if not answer_type.startswith("application/json"):
            raise RuntimeError(f"{endpoint}: answer is {answer_type!r}, not JSON")
        answer = json.loads(payload)  # Python ints are exact: msgid stays a 64-bit long
        if not isinstance(answer.get("result"), int):
            raise RuntimeError(f"{endpoint}: result {answer.get('result')!r} is not a number")
        if answer["result"] != 0:
            raise RuntimeError(f"{endpoint}: result {answer['result']}")
        return answer

    def single_send(self, mobile: str, text: str) -> int:
        return self.call("single_send", {"mobile": mobile, "content": gbk(text)}, True)["msgid"]

    def batch_send(self, mobiles: list[str], text: str) -> int:
        fields = {"mobile": ",".join(mobiles), "content": gbk(text)}
        return self.call("batch_send", fields, True)["msgid"]

    def multi_send(self, messages: list[tuple[str, str]]) -> int:
        items = [{"mobile": mobile, "content": gbk(text)} for mobile, text in messages]
        return self.call("multi_send", {"multimt": items})["msgid"]

    def get_rpt(self, retsize: int = 500) -> list[dict]:
        rpts = self.call("get_rpt", {"retsize": retsize})["rpts"]
        return rpts if isinstance(rpts, list) else []

    def get_balance(self) -> dict:
        return self.call("get_balance", {})


def gbk(text: str) -> str:
    """§2.1.5 content = urlencode(GBK text)."""
    return urllib.parse.quote(text.encode("gbk"), safe="")


class ReportMatcher:
    """§3.3: the mobile at position p of a send has msgid + p - 1, and its segment k
    msgid + p - 1 + (k - 1) * 2^34. Every report is matched to its segment."""

    def __init__(self) -> None:
        self.expected: dict[int, str] = {}  # per-mobile id → mobile
        self.pktotal: dict[int, int] = {}
        self.seen: dict[int, set[int]] = {}
        self.unmatched: list[dict] = []

    def sent(self, msgid: int, mobiles: list[str]) -> None:
        for position, mobile in enumerate(mobiles, start=1):
            self.expected[wrap64(msgid + position - 1)] = mobile

    def report(self, rpt: dict) -> None:
        pknum = int(rpt.get("pknum") or 1)
        owner = wrap64(int(rpt["msgid"]) - (pknum - 1) * SEGMENT_STRIDE)
        if owner not in self.expected or rpt.get("mobile") != self.expected[owner]:
            self.unmatched.append(rpt)
            return
        self.pktotal[owner] = int(rpt.get("pktotal") or 1)
        self.seen.setdefault(owner, set()).add(pknum)

    def complete(self) -> bool:
        return all(
            len(self.seen.get(owner, ())) == self.pktotal.get(owner, -1) for owner in self.expected
        )

    def segments(self) -> int:
        return sum(len(pknums) for pknums in self.seen.values())


def demo(client: SmsClient, poll_wait: float, deadline: float) -> dict:
    matcher = ReportMatcher()
    long_text = "您的ETC账户本月通行费已扣款，明细请登录通渝App查看。" * 3  # 2 segments
    msgid = client.single_send("13800138000", long_text)
    matcher.sent(msgid, ["13800138000"])
    batch = ["13800138001", "13900139002", "13700137003"]
    matcher.sent(client.batch_send(batch, "验证码：6666，打死都不要告诉别人哦！"), batch)
    multi = [("13800138004", "张先生，您的充值已到账"), ("13900139005", "李女士，您的充值已到账")]
    matcher.sent(client.multi_send(multi), [mobile for mobile, _ in multi])
    stop = time.monotonic() + deadline
    while not matcher.complete() and time.monotonic() < stop:
        rpts = client.get_rpt()
        for rpt in rpts:
            matcher.report(rpt)
        if not rpts:
            time.sleep(poll_wait)  # §2.5.1 延时5秒 after an empty answer; at once after data
    balance = client.get_balance()
    return {
        "complete": matcher.complete(),
        "mobiles": len(matcher.expected),
        "segments": matcher.segments(),
        "unmatched": len(matcher.unmatched),
        "balance": balance["balance"],
        "chargetype": balance["chargetype"],
    }


class PushReceiver(BaseHTTPRequestHandler):
    """§2.7 / §2.8 a pushed MO_REQ or RPT_REQ (a form, its list a JSON array) is
    answered at once with {"cmd": MO_RESP/RPT_RESP, "seqid": <same>, "result": 0}."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("latin-1")
        fields = {}
        for pair in raw.split("&"):
            name, _, value = pair.partition("=")
            if name in ("rpts", "mos") and value.startswith("["):
                fields[name] = value  # the document's examples send the array unencoded
            else:
                fields[name] = urllib.parse.unquote_plus(value, encoding="latin-1")
        answers = {"RPT_REQ": "RPT_RESP", "MO_REQ": "MO_RESP"}
        cmd, seqid = fields.get("cmd", ""), int(fields.get("seqid") or 0)
        items = json.loads(fields.get("rpts") or fields.get("mos") or "[]")
        body = json.dumps({"cmd": answers.get(cmd, ""), "seqid": seqid, "result": 0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        print(f"{cmd} seqid={seqid}: {len(items)} item(s)", flush=True)  # then process them

    def log_message(self, *args: object) -> None:
        pass


def main(argv: list[str]) -> int:
    if argv[1:2] == ["receiver"]:
        server = ThreadingHTTPServer(("127.0.0.1", int(argv[2])), PushReceiver)
        print(f"listening on {server.server_address[1]}", flush=True)
        server.serve_forever()
        return 0
    client = SmsClient(
        os.environ.get("SMS_BASE_URL", "http://127.0.0.1:8080"),
        os.environ.get("SMS_USERID", "J10003"),
        os.environ.get("SMS_PASSWORD", "111111"),
    )
    summary = demo(
        client,
        float(os.environ.get("SMS_POLL_WAIT", "5")),
        float(os.environ.get("SMS_DEADLINE", "60")),
    )
    print(json.dumps(summary))
    return 0 if summary["complete"] and not summary["unmatched"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
