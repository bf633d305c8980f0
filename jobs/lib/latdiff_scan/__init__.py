"""latdiff parameter scans: a scan file (a base deck plus per-key values) expanded into points,
one resolved deck per point in a scan directory, run locally or as a SLURM job array, and the
state of every point read back from its output and checkpoint files. Entry point: jobs/scan."""
