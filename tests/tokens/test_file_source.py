"""The token file in force: generated once, re-read on change, rotated with grace, fail closed."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from license_service.errors import ConfigurationError
from license_service.runtime.periodic import WATCH_EVERY_SECONDS, run_periodically
from license_service.tokens.file_source import TokenFile
from license_service.tokens.file_store import DATA_DIR_TOKEN_FILE, token_file_path, write_token_file
from license_service.tokens.followed import MAX_GRACE_PERIOD, TokenState
from license_service.tokens.rules import check_token
from tests.auth.clocks import FakeClock
from tests.auth.mounted_secrets import MountedSecret

OLD = "Zq7mW2xK9pL4vR8tYb3N"
NEW = "Hc5Jd8Fs2Ga6Kl9Qw4Er"


def data_dir_file(data_dir: Path, *, clock: FakeClock | None = None, grace: float = 0) -> TokenFile:
    return TokenFile(
        token_file_path(data_dir),
        generate_if_missing=True,
        grace_period=timedelta(seconds=grace),
        clock=clock or FakeClock(),
    )


def external_file(path: Path, *, clock: FakeClock | None = None, grace: float = 0) -> TokenFile:
    return TokenFile(
        path,
        generate_if_missing=False,
        grace_period=timedelta(seconds=grace),
        clock=clock or FakeClock(),
    )


def test_the_data_directory_token_is_generated_on_first_start_with_mode_0600(
    tmp_path: Path,
) -> None:
    tokens = data_dir_file(tmp_path / "data")

    path = tmp_path / "data" / DATA_DIR_TOKEN_FILE
    written = path.read_text().removesuffix("\n")
    assert tokens.current() == TokenState(tokens=(written,))
    assert len(written) == 24
    check_token(written)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_data_directory_token_is_kept_across_starts(tmp_path: Path) -> None:
    write_token_file(token_file_path(tmp_path), OLD)

    first = data_dir_file(tmp_path)
    second = data_dir_file(tmp_path)

    assert first.current().tokens == second.current().tokens == (OLD,)


def test_an_external_token_file_is_never_generated_and_refuses_every_token(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mounted" / "token"

    tokens = external_file(path)

    assert not path.exists()
    state = tokens.current()
    assert state.tokens == ()
    assert state.invalid_reason is not None
    assert f"{path} does not exist" in state.invalid_reason
    assert f"--token-file {path}" in state.invalid_reason


def test_refresh_reports_no_change_when_the_file_is_unchanged(tmp_path: Path) -> None:
    write_token_file(tmp_path / "token", OLD)
    tokens = external_file(tmp_path / "token")

    assert tokens.refresh() is False
    assert tokens.current().tokens == (OLD,)


def test_refresh_sees_a_new_token(tmp_path: Path) -> None:
    write_token_file(tmp_path / "token", OLD)
    tokens = external_file(tmp_path / "token")

    write_token_file(tmp_path / "token", NEW)

    assert tokens.refresh() is True
    assert tokens.current().tokens == (NEW,)


def test_a_change_in_place_with_the_same_size_and_time_is_seen(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(OLD)
    before = path.stat()
    tokens = external_file(path)

    with path.open("r+") as stream:
        stream.write(NEW)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    assert path.stat().st_ino == before.st_ino
    assert tokens.refresh() is True
    assert tokens.current().tokens == (NEW,)


def test_a_mounted_secret_updated_by_swapping_its_data_link_is_seen(tmp_path: Path) -> None:
    secret = MountedSecret(tmp_path / "secret", OLD)
    tokens = external_file(secret.path)
    assert tokens.current().tokens == (OLD,)

    secret.update(NEW)

    assert tokens.refresh() is True
    assert tokens.current().tokens == (NEW,)


def test_an_invalid_token_in_the_file_fails_closed_and_says_why(tmp_path: Path) -> None:
    secret = MountedSecret(tmp_path / "secret", OLD)
    tokens = external_file(secret.path)

    secret.update("new token with spaces")
    tokens.refresh()

    state = tokens.current()
    assert state.tokens == ()
    assert state.invalid_reason is not None
    assert "the configured API token" in state.invalid_reason
    assert "is invalid" in state.invalid_reason
    assert "character ' ' (U+0020 SPACE) at position 4" in state.invalid_reason
    assert "token with spaces" not in state.invalid_reason


def test_a_fixed_token_file_is_used_again(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("bad?token0123456789")
    tokens = external_file(path)
    assert tokens.current().tokens == ()

    write_token_file(path, NEW)
    tokens.refresh()

    assert tokens.current() == TokenState(tokens=(NEW,), invalid_reason=None)


def test_an_empty_token_file_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("\n")

    state = external_file(path).current()

    assert state.tokens == ()
    assert state.invalid_reason is not None
    assert "the token is empty" in state.invalid_reason


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("x", "the token has 1 characters; at least 16 are required"),
        ("abcdefg", "the token has 7 characters; at least 16 are required"),
        ("a" * 9_000, "the token has 9000 characters; at most 1024 are allowed"),
        ("abcdefgh;ijklmnopq", "character ';' at position 9 of 18 is not allowed"),
    ],
    ids=["one-character", "7-characters", "9000-characters", "semicolon"],
)
def test_a_token_written_by_hand_that_token_set_refuses_is_not_used(
    tmp_path: Path, token: str, problem: str
) -> None:
    # Before (issue 11.7), a one-character token written by hand was used.
    path = tmp_path / "token"
    path.write_text(f"{token}\n")

    state = external_file(path).current()

    assert state.tokens == ()
    assert state.invalid_reason is not None
    assert problem in state.invalid_reason
    assert f"license-service token set --token-file {path} -" in state.invalid_reason
    assert f"license-service token generate --token-file {path}" in state.invalid_reason
    assert len(token) == 1 or token not in state.invalid_reason


def test_a_forced_token_kept_in_the_file_is_used_one_under_8_characters_is_not(
    tmp_path: Path,
) -> None:
    # `token set --force` writes 8 to 15 characters (SPEC 4.3): the server uses them.
    path = tmp_path / "token"
    path.write_text("Zq7mW2xK9pL4\n")

    state = external_file(path).current()

    assert state == TokenState(tokens=("Zq7mW2xK9pL4",), invalid_reason=None)
    for short in ("x", "abcdefg"):
        path.write_text(f"{short}\n")
        refused = external_file(path).current()
        assert refused.tokens == ()
        assert "even with --force" in (refused.invalid_reason or "")


def test_a_token_file_removed_while_running_fails_closed_and_is_not_regenerated(
    tmp_path: Path,
) -> None:
    tokens = data_dir_file(tmp_path)
    token_file_path(tmp_path).unlink()

    tokens.refresh()

    assert not token_file_path(tmp_path).exists()
    assert tokens.current().tokens == ()
    assert f"--data-dir {tmp_path}" in (tokens.current().invalid_reason or "")


def test_an_unreadable_token_file_fails_closed_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.mkdir()  # a directory where the file should be

    state = external_file(path).current()

    assert state.tokens == ()
    assert state.invalid_reason is not None
    assert "cannot be read" in state.invalid_reason


def test_during_the_grace_period_the_previous_token_is_accepted_too(tmp_path: Path) -> None:
    clock = FakeClock()
    write_token_file(tmp_path / "token", OLD)
    tokens = external_file(tmp_path / "token", clock=clock, grace=60)

    clock.advance(10)
    write_token_file(tmp_path / "token", NEW)
    tokens.refresh()
    clock.advance(59)
    during = tokens.current()
    clock.advance(1)
    after = tokens.current()

    assert during.tokens == (NEW, OLD)
    assert after.tokens == (NEW,)


def test_without_a_grace_period_the_previous_token_is_refused_at_once(tmp_path: Path) -> None:
    write_token_file(tmp_path / "token", OLD)
    tokens = external_file(tmp_path / "token")

    write_token_file(tmp_path / "token", NEW)
    tokens.refresh()

    assert tokens.current().tokens == (NEW,)


def test_an_invalid_token_ends_the_grace_of_the_previous_one(tmp_path: Path) -> None:
    clock = FakeClock()
    write_token_file(tmp_path / "token", OLD)
    tokens = external_file(tmp_path / "token", clock=clock, grace=60)

    (tmp_path / "token").write_text("bad token")
    tokens.refresh()
    invalid = tokens.current()
    write_token_file(tmp_path / "token", NEW)
    tokens.refresh()

    assert invalid.tokens == ()
    # The token before the change was invalid: there is no previous token to keep.
    assert tokens.current().tokens == (NEW,)


def test_a_negative_grace_period_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="negative"):
        external_file(tmp_path / "token", grace=-1)


def test_a_grace_period_over_the_maximum_is_refused_naming_it(tmp_path: Path) -> None:
    external_file(tmp_path / "token", grace=MAX_GRACE_PERIOD.total_seconds())

    with pytest.raises(ConfigurationError, match=r"longer than the 604800 seconds \(7 days\)"):
        external_file(tmp_path / "token", grace=MAX_GRACE_PERIOD.total_seconds() + 1)


def test_a_grace_that_cannot_end_drops_the_previous_token_and_uses_the_new_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "token"
    write_token_file(path, OLD)
    # The last second a datetime can hold: no grace can end after it.
    clock = FakeClock(datetime.max.replace(tzinfo=UTC) - timedelta(seconds=1))
    tokens = external_file(path, clock=clock, grace=60)
    write_token_file(path, NEW)

    with caplog.at_level(logging.ERROR):
        assert tokens.refresh() is True

    assert tokens.current().tokens == (NEW,)
    assert "previous API token is refused at once" in caplog.text
    assert OLD not in caplog.text
    assert NEW not in caplog.text


def test_any_error_while_rotating_leaves_the_new_token_in_force_not_the_old_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "token"
    write_token_file(path, OLD)
    clock = FakeClock()
    failures: list[Exception] = []

    def breaking_clock() -> datetime:
        if failures:
            raise failures.pop()
        return clock()

    tokens = TokenFile(
        path, generate_if_missing=False, grace_period=timedelta(seconds=60), clock=breaking_clock
    )
    failures.append(RuntimeError("the clock broke"))
    write_token_file(path, NEW)

    with pytest.raises(RuntimeError):
        tokens.refresh()

    assert tokens.current().tokens == (NEW,)


def test_the_repr_of_a_token_state_hides_the_tokens() -> None:
    assert OLD not in repr(TokenState(tokens=(OLD, NEW)))
    assert NEW not in repr(TokenState(tokens=(OLD, NEW)))


def test_watching_picks_up_a_change_at_the_next_second(tmp_path: Path) -> None:
    path = tmp_path / "token"
    write_token_file(path, OLD)
    tokens = external_file(path)
    slept: list[float] = []
    seen: list[tuple[str, ...]] = []

    async def scenario() -> None:
        stop = asyncio.Event()

        async def fake_sleep(seconds: float) -> None:
            slept.append(seconds)
            seen.append(tokens.current().tokens)
            if len(slept) == 1:
                write_token_file(path, NEW)
            if len(slept) == 2:
                stop.set()

        # What the service runs for a token file (FileBackends.jobs).
        await run_periodically(
            tokens.refresh, every=WATCH_EVERY_SECONDS, stop=stop, name="test", sleep=fake_sleep
        )

    asyncio.run(scenario())

    assert slept == [1.0, 1.0]
    assert seen == [(OLD,), (NEW,)]


def test_watching_ends_at_once_when_stopped(tmp_path: Path) -> None:
    write_token_file(tmp_path / "token", OLD)
    tokens = external_file(tmp_path / "token")

    async def scenario() -> bool:
        stop = asyncio.Event()

        async def sleep_forever(seconds: float) -> None:
            await asyncio.Event().wait()

        watcher = asyncio.create_task(
            run_periodically(
                tokens.refresh,
                every=WATCH_EVERY_SECONDS,
                stop=stop,
                name="test",
                sleep=sleep_forever,
            )
        )
        await asyncio.sleep(0)
        stop.set()
        await asyncio.wait_for(watcher, timeout=5)
        return watcher.done()

    assert asyncio.run(scenario()) is True


def test_no_log_line_holds_a_token(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "token"
    write_token_file(path, OLD)
    tokens = external_file(path, grace=60)
    write_token_file(path, NEW)
    tokens.refresh()
    path.write_text(f"{NEW}?")
    tokens.refresh()

    assert len(caplog.records) >= 3
    for record in caplog.records:
        assert OLD not in record.getMessage()
        assert NEW not in record.getMessage()
