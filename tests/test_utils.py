"""Id validators and retry_async."""

from __future__ import annotations

import pytest

from atlas_core.utils import retry_async, validate_channel_id, validate_youtube_id


@pytest.mark.parametrize("vid", ["dQw4w9WgXcQ", "9bZkp7q19f0", "_-AbCdEfGhI", "aaaaaaaaaa0"])
def test_valid_video_ids(vid: str) -> None:
    assert validate_youtube_id(vid)


@pytest.mark.parametrize(
    "vid",
    ["", "dQw4w9WgXc", "dQw4w9WgXcQQ", "dQw4w9WgXcR", "dQw4w9WgX!Q", " dQw4w9WgXc", None, 123],
)
def test_invalid_video_ids(vid: object) -> None:
    assert not validate_youtube_id(vid)  # type: ignore[arg-type]


@pytest.mark.parametrize("cid", ["UCuAXFkgsw1L7xaCfnd5JJOw", "UC_x5XG1OV2P6uZZ5FSM9Ttw"])
def test_valid_channel_ids(cid: str) -> None:
    assert validate_channel_id(cid)


@pytest.mark.parametrize(
    "cid",
    [
        "",
        "UCuAXFkgsw1L7xaCfnd5JJOx",
        "UUuAXFkgsw1L7xaCfnd5JJOw",
        "UCuAXFkgsw1L7xaCfnd5JJO",
        "UCuAXFkgsw1L7xaCfnd5JJOwA",
        "@handle",
        "UCuAXFkgsw1L7xaCfnd5JJ.w",
    ],
)
def test_invalid_channel_ids(cid: str) -> None:
    assert not validate_channel_id(cid)


class Flaky(Exception):
    pass


async def test_retry_succeeds_after_failures_with_backoff_delays() -> None:
    slept: list[float] = []
    calls = 0

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    @retry_async(max_attempts=4, delay=0.5, backoff=3.0, exceptions=(Flaky,), sleep=sleep)
    async def op() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise Flaky("not yet")
        return "done"

    assert await op() == "done"
    assert calls == 4 and slept == [0.5, 1.5, 4.5]


async def test_retry_gives_up_and_reraises_last_error() -> None:
    calls = 0

    async def sleep(seconds: float) -> None:
        pass

    @retry_async(max_attempts=3, delay=0.01, exceptions=(Flaky,), sleep=sleep)
    async def op() -> None:
        nonlocal calls
        calls += 1
        raise Flaky(f"attempt {calls}")

    with pytest.raises(Flaky, match="attempt 3"):
        await op()
    assert calls == 3


async def test_other_exceptions_are_not_retried() -> None:
    calls = 0

    @retry_async(max_attempts=5, delay=0.0, exceptions=(Flaky,))
    async def op() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("boom")

    with pytest.raises(KeyError):
        await op()
    assert calls == 1


async def test_retry_after_and_jitter_and_cap() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    class Throttled(Exception):
        retry_after = 7.0

    attempts = iter([Throttled(), Flaky(), Flaky(), None])

    @retry_async(
        max_attempts=4,
        delay=1.0,
        backoff=10.0,
        exceptions=(Exception,),
        jitter=0.5,
        max_delay=5.0,
        sleep=sleep,
    )
    async def op() -> int:
        exc = next(attempts)
        if exc is not None:
            raise exc
        return 1

    assert await op() == 1
    assert slept[0] == 7.0  # the server's retry_after beats the computed delay
    assert 5.0 >= slept[1] >= 5.0 and slept[2] == 5.0  # capped


async def test_real_sleep_is_used_by_default() -> None:
    calls = 0

    @retry_async(max_attempts=2, delay=0.01, exceptions=(Flaky,))
    async def op() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise Flaky()
        return calls

    assert await op() == 2


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        retry_async(max_attempts=0)
    with pytest.raises(ValueError, match="backoff"):
        retry_async(backoff=0.5)
