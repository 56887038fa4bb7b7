import json
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from medspeak.cli import app
from medspeak.config import load_settings
from medspeak.store.db import Store

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
    with Store(load_settings()).transaction() as db:
        db.execute(text("DROP TRIGGER audit_events_no_update"))
        db.execute(text("UPDATE audit_events SET detail = 'rewritten' WHERE id = 1"))
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1 and "BROKEN at event 1" in broken.output


def test_users_add_prints_a_password_that_works(env: Path) -> None:
    from medspeak.auth import service as auth

    result = runner.invoke(app, ["users", "add", "Nurse.Kim", "--role", "clinician"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    assert auth.login(Store(load_settings()), "nurse.kim", password).actor.role == "clinician"


def test_a_database_that_cannot_be_opened_gives_a_clear_error(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = env / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setenv("MEDSPEAK_DATABASE_URL", f"sqlite:///{blocker}/medspeak.db")
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
    with Store(load_settings()).transaction() as db:
        db.execute(text("DROP TRIGGER audit_events_no_delete"))
        # cut the row the checkpoint names and all after it (its own audit row, the verify's)
        last = json.loads(anchor.read_text())["last_id"]
        db.execute(text("DELETE FROM audit_events WHERE id >= :last"), {"last": last})
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0  # the chain alone cannot tell
    cut = runner.invoke(app, ["audit", "verify", "--checkpoint", str(anchor)])
    # the audited verify above wrote its own row where the cut one was: the checkpoint's hash tells them apart
    assert cut.exit_code == 1 and "the trail differs from the checkpoint" in cut.output


def test_users_unlock_goes_through_the_service_as_the_system_actor(env: Path) -> None:
    from datetime import timedelta

    from medspeak.services.users import add_user
    from medspeak.store.models import User
    from medspeak.store.types import utcnow
    from tests.support.api import count_events

    store = Store(load_settings())
    store.migrate()
    with store.transaction() as db:
        user = add_user(
            db,
            "nurse.lee",
            "Nurse Lee",
            "clinician",
            "correct horse battery staple",
            rounds=store.settings.bcrypt_rounds,
        )
        user.failed_attempts, user.locked_until = 5, utcnow() + timedelta(minutes=15)
    result = runner.invoke(app, ["users", "unlock", "Nurse.Lee"])
    assert result.exit_code == 0, result.output
    assert "nurse.lee unlocked" in result.output
    with store.transaction() as db:
        row = db.scalar(select(User).where(User.username == "nurse.lee"))
        assert row is not None and (row.failed_attempts, row.locked_until) == (0, None)
    assert count_events(store, username="cli", role="system", action="user.unlock", outcome="success") == 1
    missing = runner.invoke(app, ["users", "unlock", "nobody"])
    assert missing.exit_code != 0 and "No user 'nobody'" in str(missing.exception)
    assert count_events(store, username="cli", action="user.unlock", outcome="failure") == 1


def test_users_add_and_audit_checkpoint_are_audited_as_the_cli(env: Path, tmp_path: Path) -> None:
    from tests.support.api import count_events

    assert runner.invoke(app, ["users", "add", "bed.ops", "--role", "bed_manager"]).exit_code == 0
    out = tmp_path / "anchors.jsonl"
    result = runner.invoke(app, ["audit", "checkpoint", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Checkpoint at event" in result.output and out.read_text().count("\n") == 1
    store = Store(load_settings())
    assert count_events(store, username="cli", role="system", action="user.create", outcome="success") == 1
    assert count_events(store, username="cli", role="system", action="audit.checkpoint", outcome="success") == 1


def test_the_cli_holds_no_sql_of_its_own() -> None:
    import medspeak.cli

    source = Path(medspeak.cli.__file__).read_text(encoding="utf-8")
    for sql in ("sqlalchemy", "select(", ".transaction(", "audit.record(", "medspeak.store.models"):
        assert sql not in source, f"the CLI uses {sql}: call a service with the CLI actor instead"


def test_the_system_actor_administers_but_never_reads_patients_and_no_account_can_borrow_its_role() -> None:
    from medspeak.auth.roles import CLI, SYSTEM, Actor, Permission

    for actor in (SYSTEM, CLI):
        assert actor.can(Permission.MANAGE_USERS) and actor.can(Permission.READ_AUDIT)
        assert not actor.can(Permission.READ_CLINICAL) and not actor.can(Permission.READ_PATIENTS)
    # An account row whose role was set to "system" by hand is not the system actor: it may do nothing.
    assert not any(Actor(user_id=7, username="mallory", role="system").can(p) for p in Permission)


def test_users_unlock_at_the_console_lifts_every_addresss_wait(env: Path) -> None:
    # Issue 19: however many addresses a guesser used, the administrator at the server gets the account back.
    from medspeak.auth import service as auth
    from medspeak.errors import InvalidCredentials, LoginThrottled

    added = runner.invoke(app, ["users", "add", "ward.admin", "--role", "admin"])
    password = added.output.strip().rsplit(" ", 1)[-1]
    for source in ("203.0.113.1", "203.0.113.2"):
        for _ in range(5):
            with pytest.raises(InvalidCredentials):
                auth.login(Store(load_settings()), "ward.admin", "a wrong guess 123", source=source)
    with pytest.raises(LoginThrottled):
        auth.login(Store(load_settings()), "ward.admin", password, source="203.0.113.2")
    unlocked = runner.invoke(app, ["users", "unlock", "ward.admin"])
    assert unlocked.exit_code == 0, unlocked.output
    for source in ("203.0.113.1", "203.0.113.2"):
        assert auth.login(Store(load_settings()), "ward.admin", password, source=source).actor.username == "ward.admin"
