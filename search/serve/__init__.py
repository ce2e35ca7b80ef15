"""search.serve: the serving room, every surface through which agents and people reach the engine.

What lives where:

==========================  ====================================================================
``http.py``                 the FastAPI app (:func:`~search.serve.http.create_app`): routers for
                            search, ops (health, stats) and the commerce protocols; error handlers.
                            **Add an API route here**, in the router it belongs to, and send its
                            answer through ``sanitised``.
``server.py``               running it: ``serve`` (uvicorn, one worker or several), the refusals
                            before start (no public bind without a token).
``guard.py``                ASGI middleware below routing: bearer auth, body-size cap, telemetry,
                            ``render_error``.
``errors.py``               the one mapping from an exception to ``(status, code, message)``.
``sanitise.py``             where merchant text is made plain in response payloads (the rules are
                            :mod:`indexer.sanitise`); which surface applies it where.
``mcp.py``                  the MCP tools (``search_catalog``, ``get_product``, ``check_checkout``),
                            over streamable HTTP at ``/mcp`` and over stdio (``aisle mcp``).
``ucp.py``                  the UCP catalog-search facade (``/ucp/catalog/search``).
``acp.py``                  the ACP product feed (``/acp/feed``).
``watcher.py``              the snapshot watcher thread (hot swap to a new snapshot).
``warmup.py``               the start-up warm-up (the model loads before ``/v1/health`` says ok).
``protocol.py``             :class:`~search.serve.protocol.SearchEngine`, what the adapters need from
                            the engine.
==========================  ====================================================================

The live re-check itself (reading merchants right now) is :mod:`search.checkout.live`, called by the engine;
the BLAS thread caps a server sets at start are :func:`search.retrieval.threads.limit_native_threads`.
Arrows point down: ``serve`` uses the engine and the schema, nothing below imports ``serve``.
"""
