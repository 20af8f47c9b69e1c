"""Parsing YouTube's formats: durations, topic URLs, timestamps, counts, channel references."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from atlas_simulator import iso_duration

from atlas_core.youtube.errors import YouTubeResponseError
from atlas_core.youtube.parsing import (
    parse_channel,
    parse_channel_ref,
    parse_count,
    parse_duration,
    parse_timestamp,
    parse_video,
    wiki_topic,
    wiki_topics,
)
from atlas_core.youtube.quota import fingerprint, next_reset, quota_day

CHANNEL_ID = "UCuAXFkgsw1L7xaCfnd5JJOw"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT4M13S", 253),
        ("PT1H", 3600),
        ("PT10M", 600),
        ("PT45S", 45),
        ("P0D", 0),
        ("PT0S", 0),
        ("P1D", 86400),
        ("P1DT2H3M4S", 93784),
        ("P2DT30M", 174600),
        ("P1W2D", 777600),
        ("PT1.5S", 2),
        ("PT1H0M1S", 3601),
    ],
)
def test_iso_8601_durations_including_days(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "P", "PT", "4M13S", "P1DT", "PT4M13", "1:02:03", "PT-5S"])
def test_malformed_durations_are_rejected_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 duration"):
        parse_duration(bad)


@pytest.mark.parametrize("seconds", [0, 1, 59, 60, 61, 3600, 3661, 86399, 86400, 93784, 259200])
def test_simulator_durations_round_trip(seconds: int) -> None:
    assert parse_duration(iso_duration(seconds)) == seconds


def test_topic_urls_become_topic_names() -> None:
    assert wiki_topic("https://en.wikipedia.org/wiki/Video_game_culture") == "Video game culture"
    assert wiki_topic("https://en.wikipedia.org/wiki/Lifestyle_(sociology)") == (
        "Lifestyle (sociology)"
    )
    assert wiki_topic("https://en.wikipedia.org/wiki/Pok%C3%A9mon") == "Pokémon"
    assert wiki_topic("http://en.wikipedia.org/wiki/Music") == "Music"
    assert wiki_topic("https://example.com/wiki/Music") is None
    assert wiki_topic("https://en.wikipedia.org/w/index.php?title=Music") is None
    urls = [
        "https://en.wikipedia.org/wiki/Music",
        "https://en.wikipedia.org/wiki/Hip_hop_music",
        "https://en.wikipedia.org/wiki/Music",
        42,
        "https://en.wikipedia.org/wiki/",
    ]
    assert wiki_topics(urls) == ["Music", "Hip hop music"]


def test_timestamps_are_aware_utc_and_counts_may_be_absent() -> None:
    assert parse_timestamp("2024-01-02T03:04:05Z") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_timestamp("2012-10-01T15:27:35.123Z").tzinfo == UTC  # type: ignore[union-attr]
    assert parse_timestamp("2024-01-02T03:04:05+02:00") == datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert parse_timestamp(None) is None and parse_timestamp("") is None
    assert parse_count("0") == 0 and parse_count("9223372036854775807") == 2**63 - 1
    assert parse_count(None) is None and parse_count(12) == 12
    # uint64 past BIGINT, negatives, fractions and words are not counts: the item is skipped.
    for bad in ("18446744073709551615", "99999999999999999999999", "-5", "1.5", "n/a", True, ""):
        with pytest.raises(ValueError, match=r"0\.\.2\^63-1"):
            parse_count(bad)


def test_a_bad_count_skips_the_item_naming_the_field() -> None:
    item = {"id": "dQw4w9WgXcQ", "statistics": {"viewCount": "1", "likeCount": "-5"}}
    with pytest.raises(YouTubeResponseError, match=r"dQw4w9WgXcQ: statistics\.likeCount"):
        parse_video(item)


def test_titles_share_one_cap_and_bidi_controls_are_kept_in_storage_but_not_shown() -> None:
    from atlas_core.youtube.parsing import TITLE_LIMIT, display_text

    rlo = "\u202e"
    video = parse_video({"id": "dQw4w9WgXcQ", "snippet": {"title": rlo + "v" * 9000}})
    channel = parse_channel({"id": CHANNEL_ID, "snippet": {"title": rlo + "c" * 9000}})
    assert len(video.title) == len(channel.title) == TITLE_LIMIT
    assert video.title.startswith(rlo)  # stored as YouTube sent it
    shown = display_text("a\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069b")
    assert shown == "ab"


def test_video_with_hidden_likes_disabled_comments_and_no_topics() -> None:
    video = parse_video(
        {
            "id": "dQw4w9WgXcQ",
            "snippet": {
                "channelId": CHANNEL_ID,
                "title": "t",
                "publishedAt": "2009-10-25T06:57:33Z",
            },
            "contentDetails": {"duration": "PT3M33S"},
            "statistics": {"viewCount": "1500000000", "favoriteCount": "0"},
            "status": {"privacyStatus": "public"},
        }
    )
    assert video.like_count is None and video.comment_count is None
    assert video.view_count == 1_500_000_000 and video.duration_seconds == 213
    assert video.wiki_topics == [] and video.thumbnails == {}
    zero = parse_video({"id": "x", "statistics": {"likeCount": "0", "commentCount": "0"}})
    assert zero.like_count == 0 and zero.comment_count == 0  # a real zero stays zero
    odd = parse_video({"id": "y", "contentDetails": {"duration": "garbage"}})
    assert odd.duration_seconds is None and odd.published_at is None


def test_channel_with_hidden_subscribers() -> None:
    channel = parse_channel(
        {
            "id": CHANNEL_ID,
            "snippet": {"title": "T", "customUrl": "@t", "publishedAt": "2010-01-01T00:00:00Z"},
            "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": "UU" + CHANNEL_ID[2:]}},
            "statistics": {
                "viewCount": "10",
                "subscriberCount": "0",
                "hiddenSubscriberCount": True,
                "videoCount": "3",
            },
        }
    )
    assert channel.subscriber_count is None and channel.video_count == 3
    assert channel.uploads_playlist_id == "UU" + CHANNEL_ID[2:] and channel.country is None


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (CHANNEL_ID, ("id", CHANNEL_ID)),
        (f"  {CHANNEL_ID} ", ("id", CHANNEL_ID)),
        ("@LinusTechTips", ("handle", "@LinusTechTips")),
        ("@some.name-1_x", ("handle", "@some.name-1_x")),
        ("https://www.youtube.com/@LinusTechTips", ("handle", "@LinusTechTips")),
        ("https://youtube.com/@LinusTechTips/videos?view=0", ("handle", "@LinusTechTips")),
        ("youtube.com/@LinusTechTips", ("handle", "@LinusTechTips")),
        (f"https://www.youtube.com/channel/{CHANNEL_ID}", ("id", CHANNEL_ID)),
        (f"http://m.youtube.com/channel/{CHANNEL_ID}/about", ("id", CHANNEL_ID)),
        ("https://www.youtube.com/user/pewdiepie", ("username", "pewdiepie")),
    ],
)
def test_channel_references(ref: str, expected: tuple[str, str]) -> None:
    assert parse_channel_ref(ref) == expected


@pytest.mark.parametrize(
    ("ref", "hint"),
    [
        ("", "empty channel reference"),
        ("@ab", "not a valid handle"),
        ("@has space", "not a valid handle"),
        ("UCshort", "neither a channel id"),
        ("https://vimeo.com/@someone", "neither a channel id"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "not a channel URL"),
        ("https://www.youtube.com/channel/nope", "is not a channel id"),
        ("https://www.youtube.com/c/LegacyName", "legacy /c/ custom URL"),
        ("ftp://youtube.com/@someone", "neither a channel id"),
    ],
)
def test_bad_channel_references_say_what_is_expected(ref: str, hint: str) -> None:
    with pytest.raises(ValueError, match=hint) as raised:
        parse_channel_ref(ref)
    assert "expected a channel id" in str(raised.value)


def test_quota_day_and_reset_follow_pacific_time_across_dst() -> None:
    winter = datetime(2026, 1, 7, 7, 59, tzinfo=UTC)  # 23:59 PST on Jan 6
    assert quota_day(winter).isoformat() == "2026-01-06"
    assert next_reset(winter) == datetime(2026, 1, 7, 8, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # 05:00 PDT
    assert next_reset(summer) == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)
    spring_forward = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # the day is 23 hours long
    assert next_reset(spring_forward) == datetime(2026, 3, 9, 7, 0, tzinfo=UTC)
    assert len(fingerprint("secret")) == 12 and "secret" not in fingerprint("secret")


def test_api_text_is_sanitised_once_nul_removed_and_fitted_to_the_schema() -> None:
    from atlas_core.youtube.parsing import CHANNEL_TITLE_LIMIT, parse_channel, parse_video

    channel = parse_channel(
        {
            "id": "UC" + "a" * 22,
            "snippet": {
                "title": "Evil\x00 " + "x" * 400,
                "customUrl": "@" + "c" * 200,
                "country": "US\x00",
            },
        }
    )
    assert "\x00" not in channel.title and len(channel.title) == CHANNEL_TITLE_LIMIT
    assert channel.custom_url is not None and len(channel.custom_url) == 100
    assert channel.country == "US"
    video = parse_video({"id": "dQw4w9WgXcQ", "snippet": {"title": "a\x00b", "channelId": "UC"}})
    assert video.title == "ab"


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ({"snippet": {}}, "no usable id"),
        ({"id": "x" * 21}, "no usable id"),
        ("just a string", "not an object"),
    ],
)
def test_malformed_items_raise_a_typed_error(item: object, fragment: str) -> None:
    from atlas_core.youtube import YouTubeResponseError
    from atlas_core.youtube.parsing import parse_video

    with pytest.raises(YouTubeResponseError, match=fragment) as info:
        parse_video(item)  # type: ignore[arg-type]
    assert info.value.endpoint == "videos.list"


def test_non_ascii_handles_are_accepted_and_control_characters_refused() -> None:
    from atlas_core.youtube.parsing import parse_channel_ref, printable

    assert parse_channel_ref("@Café_Ñandú") == ("handle", "@Café_Ñandú")
    assert parse_channel_ref("https://www.youtube.com/@日本語チャンネル") == (
        "handle",
        "@日本語チャンネル",
    )
    with pytest.raises(ValueError, match="control characters"):
        parse_channel_ref("https://www.youtube.com/@abc\x00def")
    assert printable("evil\x1b[31mred\x00") == "evil\\x1b[31mred\\x00"
