from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from medspeak.cli import app
from medspeak.config import reset_settings
from medspeak.store.db import get_store, reset_stores

runner = CliRunner()


def test_init_prints_demo_credentials_once_and_is_safe_to_repeat(env: Path) -> None:
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    assert "Demo accounts created" in first.output
    for username in ("clinician", "bedmanager", "admin"):
        assert username in first.output
    second = runner.invoke(app, ["init"])
    assert second.exit_code == 0 and "Demo accounts created" not in second.output


def test_audit_verify_passes_then_fails_after_tampering(env: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "Audit chain OK" in ok.output
    with get_store().transaction() as db:
        db.execute(text("DROP TRIGGER audit_events_no_update"))
        db.execute(text("UPDATE audit_events SET detail = 'rewritten' WHERE id = 1"))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1 and "BROKEN at event 1" in broken.output


def test_users_add_prints_a_password_that_works(env: Path) -> None:
    from medspeak.auth import service as auth

    result = runner.invoke(app, ["users", "add", "Nurse.Kim", "--role", "clinician"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    assert auth.login(get_store(), "nurse.kim", password).actor.role == "clinician"


def test_a_database_that_cannot_be_opened_gives_a_clear_error(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = env / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setenv("MEDSPEAK_DATABASE_URL", f"sqlite:///{blocker}/medspeak.db")
    reset_settings()
    reset_stores()
    from medspeak.cli import main

    monkeypatch.setattr("sys.argv", ["medspeak", "db", "upgrade"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Cannot open") and "Traceback" not in err


def test_production_with_the_default_key_refuses_to_start(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MEDSPEAK_ENV", "production")
    monkeypatch.delenv("MEDSPEAK_COOKIE_KEY")
    reset_settings()
    from medspeak.cli import main

    monkeypatch.setattr("sys.argv", ["medspeak", "db", "upgrade"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert "refuses the default or a short cookie key" in capsys.readouterr().err


def test_a_checkpoint_exported_by_the_cli_detects_cut_rows(env: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    anchor = env / "elsewhere" / "checkpoints.jsonl"
    anchor.parent.mkdir()
    assert runner.invoke(app, ["audit", "checkpoint", "--out", str(anchor)]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify", "--checkpoint", str(anchor)])
    assert ok.exit_code == 0, ok.output
    with get_store().transaction() as db:
        db.execute(text("DROP TRIGGER audit_events_no_delete"))
        # the checkpoint names the newest row before its own audit row: cut both
        db.execute(text("DELETE FROM audit_events WHERE id >= (SELECT MAX(id) - 1 FROM audit_events)"))
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0  # the chain alone cannot tell
    cut = runner.invoke(app, ["audit", "verify", "--checkpoint", str(anchor)])
    assert cut.exit_code == 1 and "cut" in cut.output


def test_users_unlock_at_the_console_lifts_every_addresss_wait(env: Path) -> None:
    # Issue 19: however many addresses a guesser used, the administrator at the server gets the account back.
    from medspeak.auth import service as auth
    from medspeak.errors import InvalidCredentials, LoginThrottled

    added = runner.invoke(app, ["users", "add", "ward.admin", "--role", "admin"])
    password = added.output.strip().rsplit(" ", 1)[-1]
    for source in ("203.0.113.1", "203.0.113.2"):
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                auth.login(get_store(), "ward.admin", "a wrong guess 123", source=source)
    with pytest.raises(LoginThrottled):
        auth.login(get_store(), "ward.admin", password, source="203.0.113.2")
    unlocked = runner.invoke(app, ["users", "unlock", "ward.admin"])
    assert unlocked.exit_code == 0, unlocked.output
    for source in ("203.0.113.1", "203.0.113.2"):
        assert auth.login(get_store(), "ward.admin", password, source=source).actor.username == "ward.admin"
