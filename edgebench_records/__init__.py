"""Records shared by the host, the converter and the boards; standard library only."""
