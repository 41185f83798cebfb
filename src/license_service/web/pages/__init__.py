"""The HTML pages for people: ``/`` (links to every API) and ``/status``.

``page_routes`` renders them with Jinja2 (``page_responses``: autoescape, a CSP nonce per
answer); ``page_templates`` holds the templates, ``page_links`` the links of ``/`` (pure),
``status_links`` those of ``/status`` (pure), ``status_page`` gathers what ``/status``
shows, flattened to text and table cells, with its sentences in ``status_texts``;
``word_breaks`` says where long names may wrap, and ``refusal_page`` answers a browser
refused at ``/status`` with a page that says how to get in.
"""
