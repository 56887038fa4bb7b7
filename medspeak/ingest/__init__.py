"""Reading an uploaded file: validation, text layer, OCR, page images. Knows nothing of indexing or the store's jobs.

The reading jobs that run this pipeline and write its result live in ``medspeak.services.reading``.
"""
