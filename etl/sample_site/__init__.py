"""Local replica of the part of www.qingdao.gov.cn the pipeline reads (see docs/sample-site.md).

Entry points: ``etl.sample_site.server.start`` / ``serve_forever`` and ``etl.sample_site.site.Site``.
Nothing is imported here, so ``python -m etl.sample_site.corpus`` runs cleanly.
"""
