"""The records ladder passes between stages: the item and the sample, typed and documented.

An **item** is one line of an item file (``items.jsonl``): the item contract, version 1 or 2
(``docs/item-contract.md``; version 2 adds the family fields), plus the slicing and
provenance fields that ``ladder generate`` adds. A **sample** is one line of a run's
``samples.jsonl``: what a model answered on one item. Both are plain JSON objects on disk;
these ``TypedDict`` s give them a type for the functions that pass them, and one docstring
per key.

Code that reads or writes a key uses the constants below rather than spelling the string,
so a renamed key is one edit:

>>> ANSWER, ANSWERS
('answer', ('yes', 'no'))
>>> CONTRACT_FIELDS[:3]
('id', 'task', 'rung')
>>> set(CONTRACT_FIELDS) <= set(ITEM_FIELDS)
True
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict, get_type_hints

__all__ = [
    "ANSWER",
    "ANSWERS",
    "ASSOCIATION_ANSWER",
    "CONTRACT_FIELDS",
    "CONTRACT_VERSION",
    "CONTRACT_VERSION_KEY",
    "CONTRACT_VERSION_V1",
    "DISCORDANT",
    "EVIDENCE",
    "FAMILY_ID",
    "GRAPH_FAMILY",
    "ID",
    "ITEM_FIELDS",
    "NO",
    "N_NODES",
    "PROMPT",
    "QUERY",
    "QUERY_TYPE",
    "QUESTION_KEY",
    "RUNG",
    "SAMPLE_FIELDS",
    "SCM_KEY",
    "SEED",
    "TASK",
    "TRUTH",
    "TWIN_ID",
    "VERBALIZATION",
    "YES",
    "Answer",
    "Item",
    "QueryRecord",
    "SCMRecord",
    "Sample",
    "VariableRecord",
]

#: The highest item contract version this code reads (and writes, for item families).
CONTRACT_VERSION = 2
#: Version 1: one question per SCM, no family fields (specs without a ``families`` block).
CONTRACT_VERSION_V1 = 1

Answer = Literal["yes", "no"]
YES: Answer = "yes"
NO: Answer = "no"
#: The two answers an item may have.
ANSWERS: tuple[Answer, Answer] = (YES, NO)

# Key names (items and samples share most of them).
ID = "id"
TASK = "task"
RUNG = "rung"
GRAPH_FAMILY = "graph_family"
VERBALIZATION = "verbalization"
SCM_KEY = "scm"
QUERY = "query"
TRUTH = "truth"
ANSWER = "answer"
PROMPT = "prompt"
SEED = "seed"
CONTRACT_VERSION_KEY = "contract_version"
QUERY_TYPE = "query_type"
EVIDENCE = "evidence"
N_NODES = "n_nodes"
ASSOCIATION_ANSWER = "association_answer"
DISCORDANT = "discordant"
FAMILY_ID = "family_id"
QUESTION_KEY = "question_key"
TWIN_ID = "twin_id"


class VariableRecord(TypedDict):
    """One binary variable of an SCM (``scm.variables[i]``)."""

    name: str
    """The variable's name (``X``, ``Y``, ``M``, ``Z``, ``V1`` …)."""
    parents: list[str]
    """Its parents in the graph, most significant bit first for ``cpt``."""
    cpt: list[float]
    """``cpt[i] = P(V=1 | parents = bits of i)``; ``2 ** len(parents)`` entries."""
    observed: NotRequired[bool]
    """False for a hidden variable the prompt never mentions (default true)."""


class SCMRecord(TypedDict):
    """An item's ``scm``: binary variables with comonotone noise."""

    noise: Literal["comonotone"]
    """``V := 1 if U_V < cpt[index] else 0`` with one shared-rank ``U_V`` per variable."""
    variables: list[VariableRecord]
    """In topological order."""


class QueryRecord(TypedDict):
    """An item's ``query``: what is asked (``ladder.engine.queries.Query`` as JSON)."""

    type: str
    """The query type (``docs/query-types.md`` lists them)."""
    treatment: NotRequired[str]
    """X: the cause asked about (absent for ``marginal``)."""
    outcome: str
    """Y: the variable whose probability or change is asked about."""
    polarity: Literal[1, -1]
    """+1 asks "more likely / increase", −1 asks "less likely / decrease"."""
    given: NotRequired[dict[str, int]]
    """Evidence (observed values); absent when empty."""
    mediator: NotRequired[str]
    """M for ``nde`` and ``nie``."""
    adjust: NotRequired[list[str]]
    """The proposed adjustment set of ``backdoor_set``."""
    do: NotRequired[dict[str, int]]
    """The counterfactual antecedent of ``counterfactual``."""


class Item(TypedDict):
    """One line of an item file: the contract (version 1 or 2) plus the fields ``generate``
    adds; the three family fields are written for contract version 2 only."""

    # -- item contract, version 1 (third parties check items against these) --
    id: str
    """Stable hash of (task, seed, index): 16 hex digits."""
    task: str
    """Name of the task spec that made the item."""
    rung: Literal[1, 2, 3]
    """Rung of the causal ladder: 1 association, 2 intervention, 3 counterfactual."""
    graph_family: str
    """Named family (``confounding``, ``frontdoor`` …) or ``random``."""
    verbalization: Literal["commonsense", "anticommonsense", "nonsense", "symbolic"]
    """How variables are named in the prompt."""
    scm: SCMRecord
    """The model that defines the truth."""
    query: QueryRecord
    """What is asked."""
    truth: float
    """The exact value of the query on the SCM (a probability, a difference or 0/1)."""
    answer: Answer
    """The correct answer, from ``truth`` and the query type's rule."""
    prompt: str
    """The text the model sees."""
    seed: int
    """The generation seed."""
    # -- added by ``ladder generate`` (optional for readers of third-party files) --
    index: NotRequired[int]
    """Position of the item in its generated file (0-based); with task and seed, its id."""
    contract_version: NotRequired[int]
    """Version of the item contract the item follows (1, or 2 for item families); versions
    newer than :data:`CONTRACT_VERSION` are refused."""
    query_type: NotRequired[str]
    """Copy of ``query.type``, so slicing needs no nested lookup."""
    evidence: NotRequired[Literal["probabilities", "samples"]]
    """How the numbers are given: stated probabilities or a table of sample counts."""
    n_nodes: NotRequired[int]
    """Nodes of the causal graph, hidden ones included."""
    story: NotRequired[str | None]
    """Name of the story whose variable names were used (None for nonsense and symbolic)."""
    margin: NotRequired[float]
    """The spec's margin: ``truth`` is at least this far from the decision threshold."""
    edges: NotRequired[list[list[str]]]
    """The graph's edges ``[parent, child]``, sorted (hidden variables included)."""
    association_answer: NotRequired[Answer | None]
    """What a perfect rung-1 reasoner answers (the observational counterpart of the
    query, put through the same rule); None when that counterpart is undefined."""
    discordant: NotRequired[bool]
    """Whether ``association_answer`` differs from ``answer``: the ladder gap lives here."""
    # -- contract version 2: item families (absent from version-1 items) --
    family_id: NotRequired[str]
    """16 hex digits shared by every item asked of one SCM (one naming family and one
    evidence rendering): a hash of (task, seed, family index)."""
    question_key: NotRequired[str]
    """The question within its family, without the polarity (``"ate:X->Y"``,
    ``"counterfactual:X->Y|given=X=1,Y=0|do=X=0"``); equal across verbalizations."""
    twin_id: NotRequired[str | None]
    """16 hex digits shared by exactly two items of one family and verbalization whose
    answers are opposite (the polarity twins); None for a question without a twin."""


class Sample(TypedDict, total=False):
    """One line of a run's ``samples.jsonl``: a model's answer on one item."""

    id: str
    """The item's id."""
    p_yes: float | None
    """Normalised probability of "yes" (None: unreadable generation)."""
    prediction: Literal["yes", "no", "unreadable"]
    """The model's answer."""
    answer: Answer
    """The item's correct answer (copied)."""
    correct: bool
    """Whether ``prediction`` equals ``answer``."""
    truth: float
    """The item's truth (copied)."""
    rung: int
    """Slice fields, copied from the item: rung …"""
    query_type: str
    """… query type …"""
    graph_family: str
    """… graph family …"""
    n_nodes: int
    """… graph size …"""
    verbalization: str
    """… verbalization …"""
    evidence: str
    """… evidence mode …"""
    discordant: bool
    """Whether the association-oracle (rung-1) answer differs from the truth (the item's)."""
    association_answer: Answer | None
    """What the perfect rung-1 reasoner answers (the item's, copied; absent in old runs)."""
    extra: dict[str, Any]
    """Model-specific details: option log-probs, generated text, association value."""
    cached: bool
    """Whether the answer came from the response cache."""


#: Keys of the item contract, version 1 (every item carries them), in contract order.
CONTRACT_FIELDS: tuple[str, ...] = (
    ID,
    TASK,
    RUNG,
    GRAPH_FAMILY,
    VERBALIZATION,
    SCM_KEY,
    QUERY,
    TRUTH,
    ANSWER,
    PROMPT,
    SEED,
)
#: Every key an item may carry, in the order ``ladder generate`` writes them.
ITEM_FIELDS: tuple[str, ...] = tuple(get_type_hints(Item))
#: Every key a sample may carry.
SAMPLE_FIELDS: tuple[str, ...] = tuple(get_type_hints(Sample))
