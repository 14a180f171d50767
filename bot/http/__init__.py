"""HTTP helpers every web-facing part shares (the web chat, webhooks, the phone line, the console): reading
JSON bodies safely, body limits, the client's address, cross-site refusals, row ids in routes."""
