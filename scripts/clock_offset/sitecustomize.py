"""`scripts/test-variants.sh date`: a Python process started with this folder on its path lives on another day.

Python imports ``sitecustomize`` at start-up, so every process the test run starts (servers, workers, CLI
calls) shares one clock, shifted by ``MEDSPEAK_TEST_CLOCK_OFFSET_S`` seconds with time-machine: wall clock,
dates and time zones; the monotonic clock stays real, so timeouts do too. Never on the app's path.
"""

import os
import time

import time_machine

time_machine.travel(time.time() + float(os.environ["MEDSPEAK_TEST_CLOCK_OFFSET_S"]), tick=True).start()
