"""Analysis: evaluation metrics (效果可评价) now; hotspots, clusters, recurrence and trends to come.

Metrics are pure functions over DataFrames; the ``*_service`` modules fetch the facts through ``storage``.
"""
