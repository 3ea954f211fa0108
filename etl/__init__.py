"""qingdao-plans: the Qingdao work-plan pipeline as an importable library.

One module per stage: ``crawl`` (discover + fetch into ``landing``), ``parse``, ``validate``,
``load`` (into ``warehouse``), ``compare`` and ``alert``; ``pipeline`` runs them in order and the
DAGs in ``dags/`` wire the same functions as Airflow tasks.
"""

__version__ = "0.1.0"
