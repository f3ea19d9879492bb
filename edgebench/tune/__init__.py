"""`edgebench tune`: the fastest (smallest, leanest) variant for one device within an accuracy budget, searched
with the device in the loop.

  space       the candidates: the recipes' own search declarations (edgebench_records.catalogue) read generically
  front       points, the Pareto front of accuracy × the objective, the recommendation as a sentence
  search      the Optuna study (multi-objective TPE, journal in the run's folder) asking for candidates
  candidates  a candidate made (the converter, its per-variant cache) and measured (the run's plan and sweep)
  job         a search as a run: its folder, --resume, the budget, storing it in the history, --out
  limits      how long one invocation searches (--budget, --trials)
"""
