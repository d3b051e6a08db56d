"""The web app: a Starlette server and the static page beside it (``python -m microgrid serve``)."""
