"""The script lines that keep a ``?token=`` for the tab, shared by every page that runs a script.

License Service's ``/`` and the Reporter's pages are opened with ``?token=`` (the demo
prints such links). Their scripts take the token out of the address, keep it for the
tab (``sessionStorage``: gone with the tab, never sent by the browser on its own) and
write the address back without it, so the token stays neither on screen nor in the
history. The server never writes a token into a page (SPEC 4.6): the token only ever
travels from the address into the tab's storage and back into a link being followed.
``KEPT_FOR_TAB`` is literal script text (no ``{{``, ``{%`` or ``{#``), pasted inside each
page's one nonce'd script.
"""

from __future__ import annotations

from typing import Final

KEPT_FOR_TAB: Final = r"""
  // A token kept for this tab only, so that it is given once; storage off: nothing is kept.
  const tabToken = (key) => ({
    get() {
      try { return sessionStorage.getItem(key) || ""; } catch (error) { return ""; }
    },
    set(token) {
      try {
        if (token) sessionStorage.setItem(key, token);
        else sessionStorage.removeItem(key);
      } catch (error) { /* storage is off: nothing is kept */ }
    },
  });
  // ?token= taken out of `address` (a URL): its value, or null when it had none.
  const takeToken = (address) => {
    const token = address.searchParams.get("token");
    address.searchParams.delete("token");
    return token;
  };
  // `address`, with what the page took out of it, in place of the current history entry.
  const replaceAddress = (address) =>
    history.replaceState(history.state, "", address.pathname + address.search + address.hash);
"""
"""Defines ``tabToken(key)`` (``get``/``set``), ``takeToken(url)`` and ``replaceAddress(url)``."""
