"""aiogram's types are built when first used (bot/channels/telegram/deferred.py), and still validate.

Checked in a fresh interpreter: this test process has imported aiogram already.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bot.settings import ROOT

PROBE = """
import json
import bot.channels.telegram
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Sticker, Update

deferred = not Sticker.__pydantic_complete__
person = {"id": 5, "is_bot": False, "first_name": "Lan"}
chat = {"id": 5, "type": "private", "first_name": "Lan"}
message = {"message_id": 7, "date": 1767580000, "chat": chat, "from": person, "text": "PrEP là gì",
           "entities": [{"type": "bold", "offset": 0, "length": 4}]}
text = Update.model_validate({"update_id": 1, "message": message})
tap = Update.model_validate({"update_id": 2, "callback_query": {
    "id": "9", "from": person, "chat_instance": "c", "data": "main:prep", "message": message}})
send = SendMessage(chat_id=5, text="x", reply_markup=InlineKeyboardMarkup(
    inline_keyboard=[[{"text": "PrEP", "callback_data": "main:prep"}]]))
try:
    Update.model_validate({"update_id": "not a number"})
    refused = False
except Exception:
    refused = True
print(json.dumps({
    "deferred": deferred,
    "text": text.message.text, "bold": text.message.entities[0].type,
    "tap": isinstance(tap.callback_query, CallbackQuery) and tap.callback_query.data,
    "button": send.reply_markup.inline_keyboard[0][0].callback_data,
    "refused": refused,
}))
"""


def test_aiogram_types_are_built_on_first_use_and_validate_as_before() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "deferred": True,  # a type the hotline never receives is not built at import
        "text": "PrEP là gì",
        "bold": "bold",
        "tap": "main:prep",
        "button": "main:prep",
        "refused": True,  # a built type still validates
    }
