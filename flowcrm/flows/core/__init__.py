"""The flow engine core: definitions, static checks, the stepper and dry runs.

Pure Python: nothing here imports Django or the ORM (the runtime persists what this computes).
"""
