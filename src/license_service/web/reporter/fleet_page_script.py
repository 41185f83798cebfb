"""The one script of the Reporter's pages (``/``, ``/status`` and their refusal page).

The Reporter's pages are opened with ``?token=<Reporter token>`` (as the demo prints
them), and the server never writes the token into a page (SPEC 4.6). So the script
keeps the token for the tab and takes it out of the address (License Service's lines,
``tab_token_script``), then adds it to a page link (``data-token``) at the moment it is
followed: the links as sent hold no token and work as they are for a browser behind a
proxy that sends ``Authorization: Bearer``. The address left without the token is then
refused on a reload or a step back in the history: the refusal page (``data-refused``)
opens it again with the token kept, once; a token refused in the address is forgotten.
Literal script text (no ``{{``, ``{%`` or ``{#``), run under the response's nonce.
"""

from __future__ import annotations

from typing import Final

from license_service.web.pages.tab_token_script import KEPT_FOR_TAB

STORAGE_KEY: Final = "license-service-reporter.token"
"""Where the tab keeps the Reporter token (``sessionStorage``)."""

FLEET_SCRIPT: Final = (
    r"""
(() => {
  "use strict";
"""
    + KEPT_FOR_TAB
    + r"""
  const kept = tabToken("""
    + f'"{STORAGE_KEY}"'
    + r""");
  const address = new URL(location.href);
  const given = takeToken(address);
  const refusal = document.querySelector("[data-refused]");
  if (given !== null) {
    kept.set(refusal ? "" : given);
    replaceAddress(address);
  } else if (refusal && refusal.dataset.refused === "401" && kept.get()) {
    address.searchParams.set("token", kept.get());
    location.replace(address.href);
    return;
  }
  // The link's address gets the token just for the navigation it starts (any button).
  const follow = (event) => {
    const link = event.target instanceof Element && event.target.closest("a[data-token]");
    const token = kept.get();
    if (!link || !token) return;
    const plain = link.getAttribute("href");
    const url = new URL(plain, location.href);
    url.searchParams.set("token", token);
    link.href = url.href;
    setTimeout(() => link.setAttribute("href", plain), 0);
  };
  document.addEventListener("click", follow);
  document.addEventListener("auxclick", follow);
})();
"""
)
