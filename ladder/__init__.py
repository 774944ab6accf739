"""ladder: causal-reasoning probes for language models.

The causal engine (graphs, SCMs, queries, exact inference) imports no torch or
transformers; task generation knows nothing of models.

>>> from ladder import SCM, ate
>>> scm = SCM.from_dict({"variables": [{"name": "X", "parents": [], "cpt": [0.5]},
...                                    {"name": "Y", "parents": ["X"], "cpt": [0.2, 0.7]}]})
>>> round(ate(scm, "X", "Y"), 10)
0.5
"""

from ladder.core.environment import VERSION
from ladder.engine.graphs import FAMILIES, CausalGraph, get_family, random_dag
from ladder.engine.inference import (
    FromWorld,
    ate,
    contrast,
    counterfactual,
    ett,
    is_backdoor_set,
    is_frontdoor_set,
    joint_distribution,
    marginal,
    multiworld_probability,
    nde,
    nie,
    probability,
    probability_of_necessity,
    probability_of_sufficiency,
)
from ladder.engine.queries import QUERY_TYPES, Query, answer, association_truth, truth
from ladder.engine.scm import SCM, SCMError, Variable, random_scm

__version__ = VERSION

__all__ = [
    "FAMILIES",
    "QUERY_TYPES",
    "SCM",
    "CausalGraph",
    "FromWorld",
    "Query",
    "SCMError",
    "Variable",
    "__version__",
    "answer",
    "association_truth",
    "ate",
    "contrast",
    "counterfactual",
    "ett",
    "get_family",
    "is_backdoor_set",
    "is_frontdoor_set",
    "joint_distribution",
    "marginal",
    "multiworld_probability",
    "nde",
    "nie",
    "probability",
    "probability_of_necessity",
    "probability_of_sufficiency",
    "random_dag",
    "random_scm",
    "truth",
]
