"""Length of stay at admission and the bed-occupancy forecast.

``admissions`` holds the one admission record every source is mapped to (the MIMIC-IV demo, the
project's generator, the store); ``features`` turns it into what is known at a moment of the stay;
``model`` is the quantile gradient boosting with its preprocessing; ``occupancy`` the census
forecast. The audited calls the pages use are ``medspeak.services.stays`` and ``medspeak.services.beds``;
training, the model card and the back-test live in ``training`` (the CLI's only).
"""
