"""The pieces every query type is made of: :class:`Query`, :class:`QueryType`, its wording.

A query type is one module of :mod:`ladder.engine.query_types` that defines a module-level
``QUERY_TYPE = QueryType(...)``; the package collects them into :data:`QUERY_TYPES`.
Everything here is engine-level: exact values through :mod:`ladder.engine.inference`, and
wordings as plain format strings that :mod:`ladder.generation.verbalize` fills in.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ladder.core.errors import SCMError
from ladder.core.records import Answer, QueryRecord
from ladder.engine.graphs import CausalGraph
from ladder.engine.scm import SCM

__all__ = ["QUERY_TYPES", "ZERO_TOLERANCE", "Fact", "Query", "QueryType", "Rule", "Wording"]

Rule = Literal["probability", "difference", "indicator"]
"""How ``truth`` becomes yes/no: ``probability`` compares it with ½, ``difference`` with
0 (both signed by the polarity), ``indicator`` asks whether it is 1."""

#: |value − threshold| below this counts as exactly the threshold: an effect that is 0 by
#: construction often computes as ±1e-16, which must not become "yes" for one polarity.
ZERO_TOLERANCE = 1e-12

#: Every registered query type by name, ordered by rung, then name (filled by the package).
QUERY_TYPES: dict[str, QueryType] = {}

_QUERY_FIELDS = ("type", "treatment", "outcome", "polarity", "given", "mediator", "adjust", "do")


@dataclass(frozen=True)
class Query:
    """One question on an SCM, in the item contract's ``query`` shape."""

    type: str
    treatment: str | None = None
    outcome: str | None = None
    polarity: int = 1
    given: Mapping[str, int] = field(default_factory=dict)
    mediator: str | None = None
    adjust: tuple[str, ...] | None = None
    do: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        if self.type not in QUERY_TYPES:
            raise SCMError(f"unknown query type {self.type!r}; allowed: {', '.join(QUERY_TYPES)}")
        if self.polarity not in (1, -1):
            raise SCMError(f"query {self.type}: polarity {self.polarity!r} must be +1 or -1")
        for needed in QUERY_TYPES[self.type].needs:
            if getattr(self, needed) is None:
                raise SCMError(f"query {self.type} needs a {needed!r}")

    @property
    def kind(self) -> QueryType:
        """The registry entry of this query's type."""
        return QUERY_TYPES[self.type]

    @property
    def rung(self) -> int:
        """The rung of the ladder this query is on."""
        return self.kind.rung

    def to_dict(self) -> QueryRecord:
        """The contract's JSON shape (empty and absent fields left out)."""
        out: dict[str, Any] = {"type": self.type}
        if self.treatment is not None:
            out["treatment"] = self.treatment
        out["outcome"] = self.outcome
        out["polarity"] = self.polarity
        if self.given:
            out["given"] = dict(self.given)
        if self.mediator is not None:
            out["mediator"] = self.mediator
        if self.adjust is not None:
            out["adjust"] = list(self.adjust)
        if self.do is not None:
            out["do"] = dict(self.do)
        return out  # type: ignore[return-value]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Query:
        """Parse the contract's JSON shape; a malformed one raises :class:`SCMError`."""
        if not isinstance(data, Mapping):
            raise SCMError(f"query must be a JSON object, not {type(data).__name__}")
        unknown = set(data) - set(_QUERY_FIELDS)
        if unknown:
            raise SCMError(
                f"query: unknown fields {sorted(unknown)}; allowed: {list(_QUERY_FIELDS)}"
            )
        if "type" not in data:
            raise SCMError("query lacks its 'type'")
        try:
            adjust = data.get("adjust")
            return cls(
                type=data["type"],
                treatment=data.get("treatment"),
                outcome=data.get("outcome"),
                polarity=int(data.get("polarity", 1)),
                given=dict(data.get("given", {})),
                mediator=data.get("mediator"),
                adjust=tuple(adjust) if adjust is not None else None,
                do=dict(data["do"]) if data.get("do") is not None else None,
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, SCMError):
                raise
            raise SCMError(f"query {data.get('type')!r}: malformed field ({exc})") from None


@dataclass(frozen=True)
class Wording:
    """How a query type is asked, as format strings (filled by ``generation.verbalize``).

    ``story`` is the question in words, ``symbolic`` in formal notation. ``story_if`` and
    ``symbolic_if`` map a :class:`Query` field (``given``, ``adjust``, ``do``) to the template
    used instead when that field is non-empty; the first that applies wins.

    Placeholders, for the roles ``x`` (treatment), ``y`` (outcome), ``m`` (mediator) and
    any role a :class:`Fact` adds: ``{x}`` the variable's name (the symbol when symbolic),
    ``{x1}`` / ``{x0}`` its clauses "X is true" / "X is false" (story only). Besides:
    ``{given}`` and ``{do}`` (clauses, or ``X=1, Z=0``), ``{adjust}`` (the adjustment set's
    names joined), ``{more}`` (``more``/``less`` by polarity) and ``{cmp}`` (``>``/``<``).
    """

    story: str
    symbolic: str
    story_if: Mapping[str, str] = field(default_factory=dict)
    symbolic_if: Mapping[str, str] = field(default_factory=dict)

    def template(self, query: Query, symbolic: bool) -> str:
        """The template for ``query``.

        >>> w = Wording("Is {y}?", "Is {y}=1?", story_if={"given": "If {given}, is {y}?"})
        >>> w.template(Query("marginal", outcome="Y", given={"X": 1}), symbolic=False)
        'If {given}, is {y}?'
        """
        variants = self.symbolic_if if symbolic else self.story_if
        for name, text in variants.items():
            if getattr(query, name):
                return text
        return self.symbolic if symbolic else self.story


@dataclass(frozen=True)
class Fact:
    """An extra observational statement the prompt makes before the question.

    ``roles`` names more variables for the templates (``{"c": "Z"}`` gives ``{c}``,
    ``{c1}``, ``{c0}``), ``numbers`` are values the templates format (``{p1:.2f}``).
    """

    story: str
    symbolic: str
    roles: Mapping[str, str] = field(default_factory=dict)
    numbers: Mapping[str, float] = field(default_factory=dict)


TruthFn = Callable[[SCM, Query], float]
#: ``P(target = 1 | given)`` as the prompt's evidence gives it: exact, or a sample's
#: frequency. Raises ``ValueError`` when ``given`` has probability (or count) 0.
ProbabilityFn = Callable[[str, Mapping[str, int]], float]
FactFn = Callable[[SCM, CausalGraph, Query, ProbabilityFn], Fact]
BuildFn = Callable[[CausalGraph, SCM, random.Random, str], "Query | None"]


@dataclass(frozen=True)
class QueryType:
    """Everything about one query type, declared once.

    * ``rung``, ``rule`` (:data:`Rule`) and ``needs`` (the :class:`Query` fields it requires);
    * ``applies(graph)``: None when the type is asked on ``graph``, else why not;
      ``on_random``: why it is never asked on random DAGs (None: checked per drawn DAG);
    * ``build(graph, scm, rng, want)``: a query of the type on ``graph`` whose answer can
      be ``want`` (the polarity is set later), or None to draw another graph;
    * ``truth(scm, query)``: the exact value; ``association(scm, query)``: what a perfect
      rung-1 reasoner computes instead (default: ``truth``);
    * ``structural_zero``: the truth is 0 by construction (the answer is "no" whatever the
      polarity, so the polarity is drawn at random and no margin applies);
    * ``wording`` and optionally ``fact(scm, graph, query, probability)``: what the prompt
      says; a fact's numbers come from ``probability`` (:data:`ProbabilityFn`), so that in
      ``samples`` mode they are the shown table's frequencies, not the population's.
    """

    name: str
    rung: int
    rule: Rule
    needs: tuple[str, ...]
    applies: Callable[[CausalGraph], str | None]
    build: BuildFn
    truth: TruthFn
    wording: Wording
    association: TruthFn | None = None
    on_random: str | None = None
    structural_zero: bool = False
    fact: FactFn | None = None

    def associate(self, scm: SCM, query: Query) -> float:
        """The rung-1 counterpart of ``truth`` (``truth`` itself for rung-1 types)."""
        return (self.association or self.truth)(scm, query)

    def centred(self, value: float) -> float:
        """``value`` minus the rule's threshold (½ for probabilities, else 0)."""
        return value - 0.5 if self.rule == "probability" else value

    def answer(self, polarity: int, value: float) -> Answer:
        """The contract's yes/no rule for ``value`` (a truth or an estimate).

        A value within :data:`ZERO_TOLERANCE` of the threshold is the threshold itself:
        "no" for both polarities (neither more nor less likely).

        >>> ate = QUERY_TYPES["ate"]
        >>> ate.answer(1, 1e-16), ate.answer(-1, -1e-16), ate.answer(-1, -0.2)
        ('no', 'no', 'yes')
        """
        if self.rule == "indicator":
            return "yes" if value == 1 else "no"
        centred = self.centred(value)
        if abs(centred) < ZERO_TOLERANCE:
            return "no"
        return "yes" if polarity * centred > 0 else "no"

    def clear_of_margin(self, value: float, margin: float) -> bool:
        """Whether ``value`` is far enough from the threshold to be asked."""
        if self.rule == "indicator":
            return True
        if self.structural_zero:
            return abs(self.centred(value)) < ZERO_TOLERANCE
        return abs(self.centred(value)) >= max(margin, 1e-9)

    def polarity_for(self, value: float, want: str, rng: random.Random) -> int:
        """The polarity that makes the answer ``want`` (random for structural zeros)."""
        if self.rule == "indicator":
            return 1
        if self.structural_zero:
            return rng.choice((1, -1))
        # A zero value answers "no" either way; clear_of_margin never lets one through.
        sign = 1 if self.centred(value) > 0 else -1
        return sign if want == "yes" else -sign
