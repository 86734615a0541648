"""Drawing an attempt's questions (pure).

For each rule, pick the questions this person has seen least (ties broken at random), never one
already drawn for this attempt. Shuffling of questions and choices is applied afterwards, keeping
choices marked keep-in-place (以上都不对) at their positions."""
from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Candidate:
    question_id: int
    lineage_id: int


@dataclass(frozen=True)
class RuleNeed:
    """One draw rule, resolved to the questions that match it."""

    candidates: Sequence[Candidate]
    count: int
    points: Decimal


@dataclass(frozen=True)
class Drawn:
    question_id: int
    lineage_id: int
    points: Decimal


class ShortfallError(ValueError):
    def __init__(self, rule_index: int, needed: int, available: int) -> None:
        super().__init__(f"rule {rule_index + 1} needs {needed}, only {available} available")
        self.rule_index, self.needed, self.available = rule_index, needed, available


def _order(rules: Sequence[RuleNeed]) -> list[int]:
    # The most constrained rule first, so a general rule ("any 10 more") does not eat the few
    # questions a narrow rule ("2 hard ones on 服务七声") depends on.
    return sorted(range(len(rules)), key=lambda i: (len(rules[i].candidates), i))


def draw(rules: Sequence[RuleNeed], seen: Mapping[int, int], rng: random.Random) -> list[Drawn]:
    """Questions for one attempt. `seen` counts past draws per lineage; the least seen win,
    ties at random. The result keeps the rules' own order."""
    taken: set[int] = set()
    picks: dict[int, list[Drawn]] = {}
    for index in _order(rules):
        rule = rules[index]
        pool = [c for c in rule.candidates if c.lineage_id not in taken]
        if len(pool) < rule.count:
            raise ShortfallError(index, rule.count, len(pool))
        keyed = sorted(pool, key=lambda c: (seen.get(c.lineage_id, 0), rng.random()))
        picks[index] = []
        for candidate in keyed[:rule.count]:
            taken.add(candidate.lineage_id)
            picks[index].append(Drawn(candidate.question_id, candidate.lineage_id, rule.points))
    return [d for index in range(len(rules)) for d in picks[index]]


def check_fill(rules: Sequence[RuleNeed]) -> list[ShortfallError]:
    """Every rule that might not be filled. Pessimistic: each rule is assumed to take the
    questions that later rules also want, so a quiz that passes never fails at start time."""
    problems = []
    used: set[int] = set()
    order = _order(rules)
    for position, index in enumerate(order):
        rule = rules[index]
        pool = [c for c in rule.candidates if c.lineage_id not in used]
        if len(pool) < rule.count:
            problems.append(ShortfallError(index, rule.count, len(pool)))
        later = [{c.lineage_id for c in rules[j].candidates} for j in order[position + 1:]]
        contended = sorted(pool, key=lambda c: -sum(c.lineage_id in s for s in later))
        used.update(c.lineage_id for c in contended[:rule.count])
    return problems


def choice_order(count: int, keep_in_place: Sequence[bool], shuffle: bool,
                 rng: random.Random) -> list[int]:
    """The order choices are shown in: shuffled except those kept in place."""
    order = list(range(count))
    if not shuffle:
        return order
    movable = [i for i in order if not keep_in_place[i]]
    shuffled = movable[:]
    rng.shuffle(shuffled)
    it = iter(shuffled)
    return [i if keep_in_place[i] else next(it) for i in order]
