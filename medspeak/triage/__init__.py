"""Emergency triage: acuity 1-5 from vitals and complaint, safety rules, explanations, second reader.

The pages and the API call ``medspeak.services.triage``; training, evaluation and the model card live in
``training`` (the CLI's only). Nothing here imports streamlit.
"""
