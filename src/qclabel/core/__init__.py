"""Pure domain core: no Textual, no TinyDB, no click."""
