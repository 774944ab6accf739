"""The sections of a run report, one module each; :mod:`ladder.analysis.report` assembles them.

Every section is a function ``(ctx: ReportContext) -> list[str]`` of markdown lines that
reads the run and its baselines from the context, stores the numbers it quotes in
``ctx.data`` and draws its figures through ``ctx.figure``.
"""
