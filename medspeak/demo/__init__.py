"""Synthetic demo data: a seeded generator of realistic patients, visits and documents.

``generator.generate`` builds the dataset (pure, reproducible); ``render`` turns documents into PDFs
and scanned pages; ``seed.seed_demo`` writes it all into the store (``medspeak demo seed``) and
``seed.write_samples`` writes upload samples with their ground truth. Proportions follow published
aggregates only (see ``calibration``); no row of any real dataset is copied.
"""
