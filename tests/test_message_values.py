"""Values quoted in messages stay short whatever their size."""

from __future__ import annotations

from license_service.message_values import MAX_QUOTED, listed, quoted


def test_short_values_are_quoted_as_repr_writes_them() -> None:
    assert quoted("debug") == "'debug'"
    assert quoted(7) == "7"
    assert quoted([1, "a"]) == "[1, 'a']"


def test_a_long_string_is_cut_and_says_its_length() -> None:
    assert quoted("x" * 1_000_000) == repr("x" * MAX_QUOTED) + "... (1,000,000 characters)"


def test_a_huge_nested_value_is_cut_without_walking_it() -> None:
    level = ["lol"] * 9
    for _ in range(12):  # 9**13 values, shared: repr() would never end
        level = [level] * 9

    shown = quoted(level)

    assert shown.startswith("[[[[...], [...], [...], [...], ...], ")
    assert len(shown) <= MAX_QUOTED + 3


def test_a_huge_number_is_cut() -> None:
    assert quoted(10**5000) == "<a whole number of 16,610 bits>"
    assert quoted([10**5000]) == "[<a whole number of 16,610 bits>]"


def test_a_long_list_of_names_shows_twenty_and_counts_the_rest() -> None:
    names = [f"spec.field{index}" for index in range(25)] + ["spec." + "k" * 500]

    text = listed(names)

    assert text.startswith("spec.field0, spec.field1, ")
    assert text.endswith("spec.field19 and 6 more")
