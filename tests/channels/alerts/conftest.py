"""The channel contract's fixtures (tests/channels/test_contract.py): every channel on, against its fake."""

from tests.channels.test_contract import fakes, settings, world  # noqa: F401
