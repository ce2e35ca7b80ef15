"""search.query.memo.IdentityCache: one build per live object, the oldest entry dropped when full."""

from search.query.memo import IdentityCache


def test_builds_once_per_object_and_evicts_the_oldest() -> None:
    cache: IdentityCache[int] = IdentityCache(2)
    calls: list[str] = []
    a, b, c = ["a"], ["b"], ["c"]
    for _ in range(3):
        assert cache.get(a, lambda: calls.append("a") or 1) == 1
    cache.get(b, lambda: calls.append("b") or 2)
    cache.get(c, lambda: calls.append("c") or 3)  # full: a goes
    cache.get(a, lambda: calls.append("a") or 1)
    assert calls == ["a", "b", "c", "a"]


def test_equal_objects_are_different_keys() -> None:
    cache: IdentityCache[str] = IdentityCache(4)
    assert cache.get(["x"], lambda: "first") == "first"
    assert cache.get(["x"], lambda: "second") == "second"
