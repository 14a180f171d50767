"""Which danger phrases fire on calm messages only because diacritics are folded (a report; asserts nothing).

    .venv/bin/python benchmarks/fold_collisions.py [--knowledge knowledge] [--top 60] [--examples 3]

Every message is normalised before the lexicon reads it, and normalising folds diacritics: "dám" (dare),
"đấm" (punch) and "dâm" all become "dam"; "dạy" (teach), "đẩy" (push) and "dây" (rope) become "day". A
phrase written for one of them then fires on the others.

For every calm text of the training content (topic examples of ``topics.yaml`` and ``training/*.yaml``,
articles' ``examples`` and the ``not_emergency`` hard negatives; never a held-out set) the script scans the
text as written and with its diacritics removed (``bot.nlu.fold``, as people type on a phone without a
Vietnamese keyboard), with every danger phrase (``phrases``), every ``possible`` phrase and every concept
entry, after the lexicon's idioms are blanked out, as the detector does. For each match it compares the
message's own accented words at the match with the accented words the phrase allows at that place: a word
typed with diacritics that folds like a word of the phrase but is not one of them (``dám`` where the phrase
says ``đấm``) makes the match a *fold collision*. A match on words typed without diacritics is counted
apart (``plain``): the text cannot tell which word was meant.

Prints, sorted by the number of calm messages they hit:

1. each phrase or concept entry with fold collisions (``lexicon.yaml:line``), the everyday words it collides
   with (message word / phrase word) and how many calm messages hit, as written and folded;
2. the accented words of the whole training corpus that fold to the form of a lexicon danger word (a word
   of the concept classes that are signs of harm, ``possible: <class>``) but are other words and are
   nowhere in the lexicon (dám/đấm/đâm/dâm), with how often they occur in calm and emergency messages;
3. the other way round: each idiom that blanks words of emergencies (``lexicon.yaml:line``), with how many
   and examples. The detector reads a message without its idioms, so an idiom that folds like a danger
   ("đánh rơi", drop, is "đánh rồi", has hit) hides it from the lexicon and the classifier alike. Some are
   meant ("không dám": the danger is elsewhere); an idiom whose examples are the danger itself is not.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.nlu.chat_words import ABBREVIATIONS  # noqa: E402
from bot.nlu.data import load_training_data, read_yaml  # noqa: E402
from bot.nlu.lexicon import Lexicon, compile_phrase  # noqa: E402
from bot.nlu.normalize import fold, normalize, tokens  # noqa: E402

_WORD = re.compile(r"[^\W\d_]+")
_NOT_WORD = re.compile(r"[\W_]+")
_CONCEPT = re.compile(r"<([a-z_]+)>")


@dataclass(frozen=True)
class Token:
    """One normalised word of a message and the word the person typed (lower case, as typed), or None
    when it came from a chat abbreviation ("ck" for "chồng") and the typed form tells nothing."""

    folded: str
    typed: str | None


def aligned(text: str) -> list[Token] | None:
    """The normalised words of ``text`` with the typed word each comes from; None when they do not line
    up with :func:`bot.nlu.normalize.tokens` (emoji, a rule this copy does not follow)."""
    lowered = unicodedata.normalize("NFC", text).casefold()
    out: list[Token] = []
    for raw in _NOT_WORD.sub(" ", lowered).split():
        expanded = ABBREVIATIONS.get(raw)
        if expanded is not None:
            out.extend(Token(word, None) for word in expanded.split())
            continue
        for word in tokens(raw):
            out.append(Token(word, raw if fold(raw) == word else None))
    if [t.folded for t in out] != tokens(text):
        return None
    return out


def accented(word: str) -> bool:
    return fold(word) != word


@dataclass
class Entry:
    """A lexicon phrase or concept entry with what the report counts for it."""

    group: str  # kind of phrase, "possible" or "concept:<class>"
    text: str
    line: int
    words: dict[str, set[str]]  # folded word -> the accented words the entry allows there
    calm_written: set[str] = field(default_factory=set)  # calm messages with a fold collision, as written
    calm_folded: set[str] = field(default_factory=set)  # the same messages, diacritics removed
    plain: set[str] = field(default_factory=set)  # calm messages typed without diacritics that match
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (message word, phrase word)
    examples: list[str] = field(default_factory=list)


def line_numbers(path: Path) -> dict[str, list[int]]:
    """Each list item's text -> the lines it is on (a phrase may be written in two places)."""
    found: dict[str, list[int]] = defaultdict(list)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("- "):
            item = stripped[2:].split(" #")[0].strip().strip("'\"")
            found[item].append(number)
    return found


def words_of(texts: list[str]) -> dict[str, set[str]]:
    words: dict[str, set[str]] = defaultdict(set)
    for text in texts:
        for word in _WORD.findall(unicodedata.normalize("NFC", text).casefold()):
            for folded in tokens(word):
                words[folded].add(word if fold(word) == folded else folded)
    return words


def entries_of(raw: dict[str, Any], lines: dict[str, list[int]]) -> list[Entry]:
    concepts: dict[str, list[str]] = {str(k): list(v) for k, v in (raw.get("concepts") or {}).items()}
    used: Counter[str] = Counter()

    def line(text: str) -> int:
        numbers = lines.get(text.strip(), [0])
        number = numbers[min(used[text], len(numbers) - 1)]
        used[text] += 1
        return number

    def entry(group: str, text: str) -> Entry:
        parts = [text]
        for name in _CONCEPT.findall(text):
            parts.extend(concepts.get(name, []))
        return Entry(group, text, line(text), words_of([_CONCEPT.sub(" ", p) for p in parts]))

    out: list[Entry] = []
    for kind, phrases in raw["phrases"].items():
        out.extend(entry(kind, phrase) for phrase in phrases or [])
    for phrase in raw.get("possible") or []:
        if _CONCEPT.fullmatch(phrase.strip()) is None:
            out.append(entry("possible", phrase))
    for name, items in concepts.items():
        out.extend(entry(f"concept:{name}", item) for item in items)
    return out


def collisions(span: list[Token], entry: Entry) -> list[tuple[str, str]] | None:
    """The (typed word, phrase word) pairs where the message's accented word is not the phrase's; an
    empty list when the typed words are the phrase's; None when a word was typed without diacritics where
    the phrase has some, and nothing else tells (the text cannot say which word was meant)."""
    pairs: list[tuple[str, str]] = []
    plain = False
    for token in span:
        allowed = entry.words.get(token.folded)
        if not allowed or token.typed is None or token.typed in allowed:
            continue  # a word matched by "*", typed as an abbreviation, or the phrase's own word
        if not all(accented(word) for word in allowed):
            continue  # the phrase writes this word without diacritics (chat style): any reading is its
        if not accented(token.typed):
            plain = True
            continue
        pairs.append((token.typed, "/".join(sorted(allowed))))
    return None if plain and not pairs else pairs


def spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """Word index ranges of the matches of a compiled phrase in an idiom-blanked message."""
    found = []
    for match in pattern.finditer(text + " "):
        start = text[: match.start()].count(" ")
        found.append((start, start + len(text[match.start() : match.end()].split())))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--top", type=int, default=60, help="rows of each table")
    parser.add_argument("--examples", type=int, default=2, help="calm messages shown per phrase")
    args = parser.parse_args()

    path = args.knowledge / "nlu" / "lexicon.yaml"
    raw = read_yaml(path)
    lexicon = Lexicon(raw, source=str(path))
    entries = entries_of(raw, line_numbers(path))
    patterns = {(kind, phrase): pattern for kind, phrase, pattern in lexicon.phrases}
    patterns |= {("possible", phrase): pattern for phrase, pattern in lexicon.groups["possible"]}

    # concept entries are looked up as runs of words, like the lexicon does; phrases as patterns
    by_form: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.group.startswith("concept:"):
            by_form[normalize(entry.text)].append(entry)
    longest = max(len(form.split()) for form in by_form)
    phrase_entries = [e for e in entries if (e.group, e.text) in patterns]

    data = load_training_data(args.knowledge)
    calm = sorted({text for _, text in data.topic_examples} | set(data.emergency.not_emergency))
    danger = [text for _, text in data.emergency.emergency]

    unaligned = 0
    for text in calm:
        for variant, bucket in ((text, "written"), (fold(text), "folded")):
            typed = aligned(text)  # the person's own words, with their diacritics
            normalized = normalize(variant)
            # the idioms blanked as the detector does, one "_" a word so that words still line up
            blanked = lexicon._idioms.sub(lambda m: "_ " * len(m.group().split()), normalized + " ").rstrip()
            if typed is None or len(blanked.split()) != len(typed) or len(normalized.split()) != len(typed):
                unaligned += bucket == "written"
                continue
            words = blanked.split()
            found: list[tuple[Entry, int, int]] = []
            for start in range(len(words)):
                for size in range(1, longest + 1):
                    for entry in by_form.get(" ".join(words[start : start + size]), ()):
                        found.append((entry, start, start + size))
            for entry in phrase_entries:
                pattern = patterns[(entry.group, entry.text)]
                if pattern.search(blanked + " "):
                    found.extend((entry, start, end) for start, end in spans(pattern, blanked))
            for entry, start, end in found:
                pairs = collisions(typed[start:end], entry)
                if pairs is None:
                    entry.plain.add(text)
                elif pairs:
                    (entry.calm_written if bucket == "written" else entry.calm_folded).add(text)
                    if bucket == "written":
                        entry.pairs.update(pairs)
                        if text not in entry.examples:
                            entry.examples.append(text)

    hit = [e for e in entries if e.calm_written or e.calm_folded]
    hit.sort(key=lambda e: (-len(e.calm_written | e.calm_folded), e.line))
    print(f"calm texts: {len(calm)} (not aligned, skipped: {unaligned}); emergencies: {len(danger)}")
    print(f"lexicon entries with fold collisions on calm texts: {len(hit)} of {len(entries)}\n")
    print("1. Fold collisions: calm messages whose accented words differ from the phrase's")
    print(f"{'lexicon line':<20} {'group':<24} {'calm':>5} {'writ':>5} {'fold':>5} {'plain':>5}  phrase")
    print(f"{'':<20} {'':<24} {'':>5} {'':>5} {'':>5} {'':>5}  colliding words (message/phrase: count)")
    for entry in hit[: args.top]:
        both = entry.calm_written | entry.calm_folded
        print(
            f"{path.name + ':' + str(entry.line):<20} {entry.group:<24} {len(both):>5} "
            f"{len(entry.calm_written):>5} {len(entry.calm_folded):>5} {len(entry.plain):>5}  {entry.text}"
        )
        colliding = ", ".join(f"{a}/{b}: {n}" for (a, b), n in entry.pairs.most_common(6))
        print(f"{'':<64}{colliding}")
        for example in entry.examples[: args.examples]:
            print(f"{'':<66}e.g. {example[:90]}")

    # 2. corpus words that fold like a danger word of the lexicon
    # danger words: those of the concept classes whose entries are signs of harm (``possible: <class>``)
    classes = {m.group(1) for p in raw.get("possible") or [] if (m := _CONCEPT.fullmatch(p.strip()))}
    danger_words: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if entry.group.removeprefix("concept:") not in classes:
            continue
        for folded, allowed in entry.words.items():
            danger_words[folded] |= {w for w in allowed if accented(w) or folded == w}
    lexicon_words = words_of(_all_strings(raw))
    calm_counts: Counter[str] = Counter()
    danger_counts: Counter[str] = Counter()
    for texts, counts in ((calm, calm_counts), (danger, danger_counts)):
        for text in texts:
            for word in _WORD.findall(unicodedata.normalize("NFC", text).casefold()):
                if accented(word):
                    counts[word] += 1
    rows = []
    for word in set(calm_counts) | set(danger_counts):
        folded = fold(word)
        if folded not in danger_words or word in lexicon_words.get(folded, set()):
            continue  # the same word as the lexicon's, or a word the lexicon has somewhere (an idiom)
        rows.append((calm_counts[word], danger_counts[word], word, folded))
    rows.sort(key=lambda r: (-r[0], -r[1], r[2]))
    print("\n2. Corpus words (accented) folding like a lexicon danger word, not themselves in the lexicon")
    print(f"{'word':<12} {'fold':<10} {'calm':>5} {'emerg':>6}  lexicon words of that fold")
    for calm_n, danger_n, word, folded in rows[: args.top]:
        print(f"{word:<12} {folded:<10} {calm_n:>5} {danger_n:>6}  {', '.join(sorted(danger_words[folded]))}")

    idiom_lines = line_numbers(path)
    blanking: list[tuple[int, str, list[str]]] = []
    for idiom in raw.get("idioms") or []:
        pattern = compile_phrase(idiom, lexicon.concept_bodies)
        hits = [text for text in danger if pattern.search(normalize(text) + " ")]
        if hits:
            blanking.append((idiom_lines.get(idiom.strip(), [0])[0], idiom, hits))
    blanking.sort(key=lambda row: (-len(row[2]), row[0]))
    print("\n3. Idioms that blank words of emergencies (the detector reads them without those words)")
    print(f"{'lexicon line':<20} {'emerg':>5}  idiom")
    for line, idiom, hits in blanking[: args.top]:
        print(f"{path.name + ':' + str(line):<20} {len(hits):>5}  {idiom}")
        for example in hits[: args.examples]:
            print(f"{'':<28}e.g. {example[:90]}")


def _all_strings(raw: object) -> list[str]:
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, dict):
        return [s for key, value in raw.items() if key != "review" for s in _all_strings(value)]
    if isinstance(raw, list):
        return [s for value in raw for s in _all_strings(value)]
    return []


if __name__ == "__main__":
    main()
