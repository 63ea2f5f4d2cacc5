"""Services a docs page can ask for with ``<!-- docs-test: service NAME -->``.

A service is ``tests/docs/services/NAME.py`` with a ``service(ctx: PageContext)`` context
manager. It starts before the page's server and yields extra environment variables (for the
server and the blocks); it stops after the page. Keep each one small and local: loopback
only, nothing from the internet.
"""
