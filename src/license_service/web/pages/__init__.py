"""The HTML pages for people: ``/`` (links to every API) and ``/status``.

``page_routes`` renders them with Jinja2 (autoescape, a CSP nonce per answer);
``page_templates`` holds the templates, ``page_links`` the links of ``/`` (pure) and
``status_page`` gathers what ``/status`` shows, flattened to text and table cells.
"""
