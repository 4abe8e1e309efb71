"""Distributed runs, the launcher's side: it starts ps-lite's scheduler, servers and workers
(spawn), watches them (supervisor), and holds the program each process runs (role). What a worker
does inside the run is in ``training.workers``."""
