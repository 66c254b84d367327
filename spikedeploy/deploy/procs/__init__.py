"""Our own Lava processes. Alone in this directory because Lava finds a process's models by
importing every module beside it, standalone."""
