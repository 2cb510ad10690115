"""Tsunagu core: SD-JWT, SD-JWT VC, key binding, status lists and DCQL as pure functions."""
