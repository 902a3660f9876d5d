"""Seeded synthetic facts and cues shared by ``bench_core.py`` and its worker.

Pure standard library (``random``) so that the baseline worker, which runs in its own virtual
environment, generates exactly the same text as the main script. It must never import
``hopfield_memory``.

Facts look like short English sentences built from templates and vocabularies of a few hundred
pseudo-words per slot (names, surnames, jobs, cities, companies, objects, colours), plus a random
id in some of them. Cues are variants of stored facts (a subset of their content words, shuffled,
sometimes lower-cased); "unknown" cues are built from words that never occur in any fact.
"""

from __future__ import annotations

import random

__all__ = ["make_cues", "make_facts", "make_unknown_cues", "vocabulary"]

_ONSETS = [
    "b",
    "br",
    "c",
    "ch",
    "d",
    "dr",
    "f",
    "g",
    "gr",
    "h",
    "j",
    "k",
    "l",
    "m",
    "n",
    "p",
    "pr",
    "r",
    "s",
    "sh",
    "st",
    "t",
    "tr",
    "v",
    "w",
    "z",
]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou"]
_CODAS = ["", "", "n", "r", "l", "s", "th", "nd", "rt", "x", "m"]

_TEMPLATES = [
    "{name} {surname} works as a {job} in {city} since {year}",
    "{name} {surname} moved from {city} to {city2} in {year}",
    "The {color} {obj} belongs to {name} {surname} from {city}",
    "{company} hired {name} {surname} as {job} for the {city} office",
    "{name} keeps the {obj} with id {rid} in the {color} box",
    "Meeting with {name} {surname} about the {obj} is on day {day} at {company}",
    "{company} ships {obj} units from {city} to {city2} every {weekday}",
    "Ticket {rid} reports that the {obj} in {city} is {color}",
    "{name} prefers {color} {obj} and lives near {city}",
    "The {job} at {company} named {name} {surname} was born in {year}",
]
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

# Filler words of the templates: cues drop them (they carry no identity).
_FILLER = {
    "works",
    "as",
    "a",
    "in",
    "since",
    "moved",
    "from",
    "to",
    "the",
    "belongs",
    "hired",
    "for",
    "office",
    "keeps",
    "with",
    "id",
    "box",
    "meeting",
    "about",
    "is",
    "on",
    "day",
    "at",
    "ships",
    "units",
    "every",
    "ticket",
    "reports",
    "that",
    "prefers",
    "and",
    "lives",
    "near",
    "named",
    "was",
    "born",
}


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
    )


def _vocab(rng: random.Random, size: int, lo: int, hi: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < size:
        w = _word(rng, rng.randint(lo, hi))
        if w not in taken and w not in _FILLER:
            taken.add(w)
            out.append(w)
    return out


def vocabulary(seed: int = 0) -> dict[str, list[str]]:
    """Per-slot vocabularies (a few hundred pseudo-words each), disjoint across slots."""
    rng = random.Random(f"vocab-{seed}")
    taken: set[str] = set()
    return {
        "name": [w.capitalize() for w in _vocab(rng, 300, 2, 2, taken)],
        "surname": [w.capitalize() for w in _vocab(rng, 400, 2, 3, taken)],
        "job": _vocab(rng, 250, 2, 3, taken),
        "city": [w.capitalize() for w in _vocab(rng, 300, 2, 3, taken)],
        "company": [w.capitalize() + "corp" for w in _vocab(rng, 200, 1, 2, taken)],
        "obj": _vocab(rng, 300, 1, 3, taken),
        "color": _vocab(rng, 120, 1, 2, taken),
        "unknown": _vocab(rng, 500, 3, 4, taken),  # never used in facts
    }


def make_facts(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct, seeded, English-like facts."""
    voc = vocabulary(seed)
    rng = random.Random(f"facts-{seed}")
    seen: set[str] = set()
    facts: list[str] = []
    while len(facts) < n:
        tpl = rng.choice(_TEMPLATES)
        fact = tpl.format(
            name=rng.choice(voc["name"]),
            surname=rng.choice(voc["surname"]),
            job=rng.choice(voc["job"]),
            city=rng.choice(voc["city"]),
            city2=rng.choice(voc["city"]),
            company=rng.choice(voc["company"]),
            obj=rng.choice(voc["obj"]),
            color=rng.choice(voc["color"]),
            year=rng.randint(1950, 2024),
            day=rng.randint(1, 28),
            weekday=rng.choice(_WEEKDAYS),
            rid=f"{rng.getrandbits(32):08x}",
        )
        if fact not in seen:
            seen.add(fact)
            facts.append(fact)
    return facts


def make_cues(facts: list[str], n: int, seed: int = 1) -> list[tuple[str, int]]:
    """``n`` cues as ``(cue_text, index_of_source_fact)``: variants of stored facts.

    A cue keeps 3 to 5 content words of its fact (filler dropped), in shuffled order, lower-cased
    half of the time.
    """
    rng = random.Random(f"cues-{seed}")
    out: list[tuple[str, int]] = []
    for _ in range(n):
        i = rng.randrange(len(facts))
        words = [w for w in facts[i].split() if w.lower() not in _FILLER]
        k = min(len(words), rng.randint(3, 5))
        picked = rng.sample(words, k)
        cue = " ".join(picked)
        if rng.random() < 0.5:
            cue = cue.lower()
        out.append((cue, i))
    return out


def make_unknown_cues(n: int, seed: int = 2) -> list[str]:
    """``n`` cues made only of words that no fact contains (the memory should abstain)."""
    voc = vocabulary(0)["unknown"]
    rng = random.Random(f"unknown-{seed}")
    return [" ".join(rng.sample(voc, rng.randint(3, 5))) for _ in range(n)]
