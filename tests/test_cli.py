"""mockcarrier's command line: help that explains, settings that resolve, clear errors."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import requests

from mockcarrier.launch import free_port, launch


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mockcarrier", *args], capture_output=True, text=True, timeout=60
    )


def test_help_lists_the_commands() -> None:
    out = run("--help")
    assert out.returncode == 0
    for command in ("serve", "config", "digest"):
        assert command in out.stdout


def test_serve_help_explains_every_option() -> None:
    out = run("serve", "--help").stdout
    for option in (
        "--host",
        "--port",
        "--db",
        "--store",
        "--config",
        "--seed",
        "--time-scale",
        "--clock-offset",
        "--timestamp-tolerance",
        "--delivery-profile",
        "--admin-token",
        "--workers",
    ):
        assert option in out


def test_config_show_resolves_file_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text(
        '[server]\nport = 9000\ntime_scale = 5\n\n[[accounts]]\nuserid = "ab12"\npassword = "x"\n',
        encoding="utf-8",
    )
    out = run(
        "config", "show", "--config", str(config), "--port", "9100", "--delivery-profile", "slow"
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (data["port"], data["time_scale"]) == (9100, 5)
    assert [(a["userid"], a["delivery_profile"]) for a in data["accounts"]] == [("AB12", "slow")]


def test_default_settings_carry_the_documents_demo_account() -> None:
    data = json.loads(run("config", "show").stdout)
    demo = data["accounts"][0]
    assert (demo["userid"], demo["password"], demo["apikey"]) == (
        "J10003",
        "111111",
        "abade5589e2798f82f006bbc36d269ce",
    )
    assert demo["channel"].endswith("12122")


def test_bad_config_is_a_one_line_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nno_such_setting = 1\n", encoding="utf-8")
    out = run("config", "show", "--config", str(config))
    assert out.returncode == 2
    assert "no_such_setting" in out.stderr
    assert run("config", "show", "--config", str(tmp_path / "missing.toml")).returncode == 2


def test_digest_prints_the_documents_golden_vector() -> None:
    out = json.loads(run("digest", "--timestamp", "0803192020").stdout)
    assert out["pwd"] == "26dad7f364507df18f3841cc9c4ff94d"


def test_a_store_that_is_not_a_redis_url_is_refused_naming_it() -> None:
    out = run("serve", "--store", "postgres://db/mock")
    assert out.returncode != 0
    assert "store is a Redis URL" in out.stderr


def test_a_redis_store_that_does_not_answer_is_a_clear_error() -> None:
    out = run("serve", "--store", f"redis://127.0.0.1:{free_port()}/0")
    assert out.returncode != 0
    assert "cannot reach" in out.stderr and "Traceback" not in out.stderr


def test_config_show_hides_the_store_password() -> None:
    out = run("config", "show", "--store", "redis://:s3cret@127.0.0.1:6379/0")
    assert json.loads(out.stdout)["store"] == "redis://:***@127.0.0.1:6379/0"


def test_digest_has_a_form_a_shell_can_eval() -> None:
    out = run("digest", "--timestamp", "0803192020", "--shell")
    assert out.stdout == "TS=0803192020 SIG=26dad7f364507df18f3841cc9c4ff94d\n"
    evaluated = subprocess.run(
        ["sh", "-c", f'eval "{out.stdout.strip()}"; printf %s "$TS:$SIG"'],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert evaluated.stdout == "0803192020:26dad7f364507df18f3841cc9c4ff94d"


def serve_fails(*args: str) -> subprocess.CompletedProcess:
    """`serve` that must refuse to start: at once, one line per problem, no banner."""
    out = subprocess.run(
        [sys.executable, "-m", "mockcarrier", "serve", *args],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert out.returncode == 1, out.stderr
    assert "serving" not in out.stdout and "Traceback" not in out.stderr
    assert "[ERROR]" not in out.stderr  # gunicorn never started
    return out


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = serve_fails("--port", str(port), "--db", str(tmp_path / "m.db"))
    assert out.stderr.splitlines() == [
        f"mockcarrier serve: port {port} on 127.0.0.1 is in use (another server? pick --port)"
    ]


def test_serve_with_a_missing_db_directory_says_so(tmp_path: Path) -> None:
    out = serve_fails("--port", str(free_port()), "--db", str(tmp_path / "no" / "m.db"))
    assert len(out.stderr.splitlines()) == 1 and "does not exist" in out.stderr


def test_serve_reports_every_problem_at_once(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        out = serve_fails("--port", port, "--store", f"redis://127.0.0.1:{free_port()}/0")
    lines = out.stderr.splitlines()
    assert len(lines) == 2 and "in use" in lines[0] and "cannot reach Redis" in lines[1]


def test_serve_on_another_address_makes_and_prints_an_admin_token(tmp_path: Path) -> None:
    """Issue 19 #7: no open admin API on a non-loopback address, token or not."""
    port = free_port("0.0.0.0")
    log = tmp_path / "serve.log"
    args = ["--host", "0.0.0.0", "--db", str(tmp_path / "m.db")]
    with launch(args, log, port=port):
        text = log.read_text()
        token = text.split("admin token ", 1)[1].split()[0]
        assert len(token) >= 24
        base = f"http://127.0.0.1:{port}/__admin"
        assert requests.get(f"{base}/accounts", timeout=5).status_code == 401
        shown = requests.get(f"{base}/accounts", headers={"X-Admin-Token": token}, timeout=5)
        assert shown.status_code == 200 and shown.json()[0]["password"] == "***"


def test_an_unknown_delivery_profile_is_refused_in_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('[[accounts]]\nuserid = "A1"\ndelivery_profile = "fast"\n', encoding="utf-8")
    out = run("config", "show", "--config", str(config))
    assert out.returncode == 2 and "delivery_profile is one of" in out.stderr


def test_door_options_resolve_from_flags_and_file(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('[server]\nallowed_hosts = ["mock"]\n', encoding="utf-8")
    data = json.loads(run("config", "show", "--config", str(config)).stdout)
    assert (data["allowed_hosts"], data["verbose_reasons"]) == (["mock"], False)
    assert data["digest_reuse_window"] == 60
    flags = ("--allowed-host", "a.test", "--allowed-host", "b.test", "--verbose-reasons")
    data = json.loads(run("config", "show", "--config", str(config), *flags).stdout)
    assert (data["allowed_hosts"], data["verbose_reasons"]) == (["a.test", "b.test"], True)
