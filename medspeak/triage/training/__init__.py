"""Training and evaluation of the triage model: ``train`` (fit, thresholds, decision figures), ``metrics``,
``card`` (the model card and manifest), ``cli`` (the train and eval commands). The CLI's only: the app, the
API and the services never import it (tests/test_architecture.py).
"""
