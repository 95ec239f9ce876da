"""Load tests of a carrier of the Tongyu SMS interface: volume, delivery latency, soak.

`loadtests run ...` (headless) or `locust -f loadtests/locustfile.py` (web UI); see
docs/loadtests.md.
"""

__version__ = "0.1.0"
