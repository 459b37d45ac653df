"""The fault-injection suite: real Prisma 6.15, real SQLite and PostgreSQL, real `faber-db` processes.

Run alone with `python3 -m pytest tests/faults -q`. The kill -9 trials read FABER_FAULT_TRIALS
(trials per database; default 4, the full documented run is `FABER_FAULT_TRIALS=20`) and
FABER_FAULT_SEED (default 20241124) for their random delays; the failing deploys on the realistic
PostgreSQL database (harness.traits) run FABER_FAULT_TRIALS / 4 trials per trait (at least one).
"""
