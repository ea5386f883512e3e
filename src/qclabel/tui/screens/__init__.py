"""One module per screen; see `qclabel.tui` for how to add one."""
