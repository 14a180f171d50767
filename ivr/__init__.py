"""The phone line: a Twilio voice IVR over the same conversation engine (see ``ivr/channel.py``)."""
