"""The one sentence splitter (harness/rubric/text.py) behind the sentence count check and passage chunks."""

from __future__ import annotations

from harness.rubric.checks_format import count_sentences
from harness.rubric.text import sentences


def test_sentences_keep_their_ends_and_concatenate_back() -> None:
    text = "他说：“好。”然后走了！Pay 1.5 times. e.g\n2. Next"
    pieces = sentences(text)
    assert "".join(pieces) == text
    # after 。 the closing ” stays with its sentence; "1.5" is no end; ". " ends before the space
    assert pieces == ["他说：“好。”", "然后走了！", "Pay 1.5 times.", " e.g\n", "2.", " Next"]


def test_count_sentences_and_passage_chunks_share_the_splitter() -> None:
    # Of the six pieces above, "2." holds no letter (a list number): five sentences; the
    # abbreviation "e.g." does not end one, so "e.g. this" stays a single sentence.
    assert count_sentences("他说：“好。”然后走了！Pay 1.5 times. e.g\n2. Next") == 5
    assert count_sentences("Use e.g. this one. Then stop.") == 2
