"""HostProfile: furniture learned from the pages of one host, persisted as JSON."""

from __future__ import annotations

from wiredesk.core.records import RawPage
from wiredesk.extractors import ExtractSettings, HostProfile, extract_page, learn_profile
from wiredesk.extractors.profile import MAX_LINES
from wiredesk.extractors.text import line_key

# A footer sentence that no general rule knows: only recurrence gives it away.
FOOTER = (
    "The Riverside Gazette is produced by a small team of volunteers in the old mill "
    "building on Station Road and has served the valley since 1952."
)


def _page(i: int) -> RawPage:
    article = "\n\n".join(
        f"Paragraph {j} of story {i}: the council met on a rainy evening and discussed the "
        f"plans for bridge number {i * 10 + j}, which residents have debated for many years."
        for j in range(4)
    )
    body = f"Home\nNews\nSport\n\nStory {i}\n\n{article}\n\n{FOOTER}\n\nContact\n"
    return RawPage(
        source="gazette", body=body.encode(), kind="text", url=f"https://riverside-gazette.example/story/{i}"
    )


def test_recurring_line_is_learned_and_dropped() -> None:
    page = _page(99)
    assert FOOTER in extract_page(page).text  # without a profile it reads as prose
    profile = learn_profile(None, "riverside-gazette.example", [_page(i) for i in range(5)])
    assert profile.pages == 5 and profile.count(line_key(FOOTER)) == 5
    out = extract_page(page, profile=profile)
    assert FOOTER not in out.text
    assert out.text.count("\n") == 3 and "bridge number 993" in out.text  # the story is intact


def test_too_few_pages_teach_nothing() -> None:
    profile = learn_profile(None, "riverside-gazette.example", [_page(1), _page(2)])
    settings = ExtractSettings(profile_min_pages=3)
    assert FOOTER in extract_page(_page(99), settings=settings, profile=profile).text


def test_learning_returns_a_new_profile_and_ignores_repeated_pages() -> None:
    first = learn_profile(None, "riverside-gazette.example", [_page(1), _page(2)])
    again = learn_profile(first, "riverside-gazette.example", [_page(1), _page(2), _page(3)])
    assert first.pages == 2  # unchanged
    assert again.pages == 3  # pages 1 and 2 were already counted
    assert again.count(line_key(FOOTER)) == 3


def test_json_round_trip() -> None:
    profile = learn_profile(None, "riverside-gazette.example", [_page(i) for i in range(4)])
    restored = HostProfile.from_json(profile.to_json())
    assert restored == profile
    assert restored.knows(line_key(FOOTER))


def test_profile_is_bounded() -> None:
    pages = [
        RawPage(
            source="s",
            kind="text",
            url="https://big.example/x",
            body="\n".join(f"unique line {i} {j} with some words" for j in range(400)).encode(),
        )
        for i in range(15)
    ]
    profile = learn_profile(None, "big.example", pages)
    assert profile.pages == 15 and len(profile.lines) <= MAX_LINES


def test_undecodable_pages_are_skipped() -> None:
    pages = [RawPage(source="s", kind="text", body=b""), _page(1)]
    assert learn_profile(None, "riverside-gazette.example", pages).pages == 1


def test_profiles_reach_pool_workers() -> None:
    # The pool pickles profiles for its workers (forkserver when threads are around).
    import pickle
    import threading

    from wiredesk.extractors import extract_many

    profile = learn_profile(None, "riverside-gazette.example", [_page(i) for i in range(5)])
    assert pickle.loads(pickle.dumps(profile)) == profile
    pages = [_page(i) for i in range(90, 100)]
    out: dict[str, list] = {}
    thread = threading.Thread(
        target=lambda: out.setdefault(
            "r", extract_many(pages, profiles={"riverside-gazette.example": profile}, workers=2)
        )
    )
    thread.start()
    thread.join(timeout=120)
    assert all(FOOTER not in r.text for r in out["r"])
