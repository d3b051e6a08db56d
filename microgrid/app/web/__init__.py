"""The web app: ``python -m microgrid serve`` (Starlette on uvicorn, the ``web`` extra).

``server.create_app`` builds the app from parts (``server.PARTS``); ``state.AppState``
holds the models; ``api`` and its neighbours compute every number the page shows; the
page itself is plain HTML, CSS and JavaScript modules in ``static/``.
"""
