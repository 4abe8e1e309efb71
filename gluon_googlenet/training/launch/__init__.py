"""Distributed runs: the launcher that starts ps-lite's scheduler, servers and workers (spawn),
watches them (supervisor), the program each process runs (role) and what workers agree on
through the kvstore (distributed)."""
