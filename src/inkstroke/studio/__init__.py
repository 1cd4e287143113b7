"""inkstroke studio: a local web app that writes live and collects handwriting.

``inkstroke serve`` runs :func:`~inkstroke.studio.app.create_app` under
uvicorn; see ``docs/studio.md``.
"""
