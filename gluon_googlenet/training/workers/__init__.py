"""Distributed runs, the workers' side: what a launched process reads from its environment
(environment), the line it prints once it has joined (joined, read by the launcher too) and what
the workers agree on through the kvstore (agreement)."""
