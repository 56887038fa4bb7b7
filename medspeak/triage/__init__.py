"""Emergency triage: acuity 1-5 from vitals and complaint, safety rules, explanations, second reader.

The pages and the API call ``medspeak.services.triage``; training and evaluation live in ``train``
and ``cli``. Nothing here imports streamlit.
"""
