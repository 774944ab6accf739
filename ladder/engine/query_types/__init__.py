"""The query-type registry: one module per query type, found automatically.

Each module of this package whose name does not start with ``_`` defines
``QUERY_TYPE = QueryType(...)``, which declares everything about the type in one place:
the graphs it applies to, how a query is built, its truth and association counterpart,
its yes/no rule and margin handling, and its wordings (``docs/query-types.md``).
:data:`QUERY_TYPES` holds them ordered by rung, then name.

>>> list(QUERY_TYPES)[:3]
['correlation', 'explaining_away', 'marginal']
>>> QUERY_TYPES["ate"].rung, QUERY_TYPES["ate"].rule
(2, 'difference')
>>> unsupported_reason("chain", "collider_bias")
'it has no collider'
"""

from __future__ import annotations

import importlib
import pkgutil

from ladder.core.errors import SCMError
from ladder.engine.graphs import CausalGraph, get_family
from ladder.engine.query_types._base import QUERY_TYPES, Fact, Query, QueryType, Rule, Wording

__all__ = [
    "QUERY_TYPES",
    "Fact",
    "Query",
    "QueryType",
    "Rule",
    "Wording",
    "get",
    "supports",
    "unsupported_reason",
]


def _discover() -> None:
    found: list[QueryType] = []
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("_"):
            continue
        declared = importlib.import_module(f"{__name__}.{module.name}").QUERY_TYPE
        if declared.name != module.name:
            raise SCMError(f"query type module {module.name!r} declares {declared.name!r}")
        found.append(declared)
    for declared in sorted(found, key=lambda t: (t.rung, t.name)):
        QUERY_TYPES[declared.name] = declared


def get(name: str) -> QueryType:
    """The registry entry for ``name``; an unknown name raises :class:`SCMError`."""
    try:
        return QUERY_TYPES[name]
    except (KeyError, TypeError):
        raise SCMError(f"unknown query type {name!r}; allowed: {', '.join(QUERY_TYPES)}") from None


def supports(graph: CausalGraph, query_type: str) -> bool:
    """Whether ``query_type`` is asked on ``graph``."""
    return get(query_type).applies(graph) is None


def unsupported_reason(family: str, query_type: str) -> str | None:
    """Why ``query_type`` is undefined on ``family`` (None when it is defined).

    Random DAGs are checked per drawn graph; at spec level only the roles they never
    have are ruled out (the type's ``on_random``).
    """
    kind = get(query_type)
    if family == "random":
        return kind.on_random
    return kind.applies(get_family(family))


_discover()
