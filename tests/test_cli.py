"""mockcarrier's command line: help that explains, settings that resolve, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mockcarrier.launch import free_port


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
