"""The two doors into Zalo, both to the same engine.

* :mod:`.bot_platform`: a **Zalo Bot** (the Zalo Bot Platform, an API much like Telegram's):
  ``POST /zalo/webhook``, replies with ``sendMessage``.
* :mod:`.oa`: a **Zalo Official Account** (OA API v3): ``POST /zalo-oa/webhook``, replies as
  customer-service messages, inside Zalo's free-reply window (:mod:`.oa_window`), with the access token
  refreshed and kept encrypted (:mod:`.oa_tokens`).

Neither door has buttons: choices are a numbered list, answered with the number (:mod:`.render`).
"""
