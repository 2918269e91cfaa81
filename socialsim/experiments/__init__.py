"""Orchestration: run plans, arms and replicates, sweeps and their executors, resume,
checkpoints, export and progress."""
