"""Test helpers shared by every test package: one home for each, instead of a copy per file.

- ``api``: the API fixtures (app on the test store, client, bearer login per role, a seeded patient), loaded
  for the whole suite by ``tests/conftest.py``;
- ``jobs``: a job runner that reads nothing, and waiting for a reading job to finish;
- ``pages``: a Streamlit page run alone with a logged-in actor;
- ``ocr``: a fake OCR engine that counts the pages it reads at once, and a multi-page TIFF it can read back.
"""
