"""Demo data: a realistic, deterministic organisation with 18 months of CRM history.

``load_demo`` (behind ``flowcrm demo``) builds it through the services and the bulk service
paths, so every record has its events. The benchmark generator (``bench/generator.py``) draws
from the same vocabulary and row generators.
"""
