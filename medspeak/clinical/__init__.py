"""Clinical concepts defined once: vital signs, AVPU, a patient's display name and age.

The lowest layer with ``config`` and ``errors``: it imports nothing of medspeak, and every package may
import it (triage, indexing, the API, the forms and pages).
"""
