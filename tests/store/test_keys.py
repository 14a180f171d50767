"""Keys per purpose and `hotline rotate-key`: what earlier versions wrote still reads, a rotation
re-encrypts every encrypted place (and nothing is encrypted outside the list), it resumes when
interrupted, and running processes learn of it without a restart."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update

from bot.clock import FrozenClock
from bot.engine.content import Content
from bot.nlu import NLU
from bot.runtime import Services, build_services
from bot.settings import Settings
from bot.store.alerts import FIELDS as REPORT_FIELDS
from bot.store.alerts import add_followup, set_field
from bot.store.crypto import Crypto, DecryptionError, KeyVersions, console_key, encryption_key
from bot.store.db import make_engine
from bot.store.encrypted import ENCRYPTED_COLUMNS, ENCRYPTED_IN_JSON, TELEGRAM_SHOWN
from bot.store.keyring import load_versions
from bot.store.models import (
    Base,
    Checkin,
    ClientReport,
    Conversation,
    Counsellor,
    DeskNote,
    Escalation,
    KeyVersion,
    Message,
    ProcessedMessage,
    StoredSecret,
)
from bot.store.rotation import rotate_console, rotate_encryption
from tests.conftest import SECRET

# Written by the code before key versions existed (main at 72c7dda), with SECRET.
OLD_TOKEN = (
    "gAAAAABrFZK3uJSPvl3hm6lyv0LQcNDwtcmh304HAKuNxlA9eaiX878m-AQMBdGaErTJgxEk2dk-UB1dj8mWMF8SankWcqKaATKeWd"
    "PIHAca1YeudH9cU2cngrz8M1HTZ1OtObuJ7RuV"
)
OLD_JSON_TOKEN = (
    "gAAAAABrFZK3Rfr50ulvB1AeOycHGemZAne1uPDoKMJKViItPFQuPxBJ5PaoLD3L_21vqWlZ2-6onYCdYAoAHNkAC4EdW2y9SgeVVoSj6"
    "YcuOVL_7mFj7jcrmxilLIfLzmePk6uxme4DshBeiDgQAf6NIwnmBCCN4g=="
)


def test_the_default_ring_reads_and_hashes_exactly_as_before() -> None:
    crypto = Crypto(SECRET.encode())
    assert crypto.versions == KeyVersions(encryption=1, encryption_previous=None, console=1)
    assert crypto.decrypt(OLD_TOKEN) == "Tôi cần giúp đỡ, +84901234567"
    assert crypto.decrypt_json(OLD_JSON_TOKEN) == {"address": "123456789", "replies": [{"text": "Xin chào"}]}
    assert crypto.user_key("telegram", "123456789") == (
        "01349887c7165df3f5df726ba4d045b7125f191f320d258b896f7c132ffe8422"
    )
    assert crypto.stats_key("abc") == "4c02ff3ba5f2253b68e212d7"
    assert (
        crypto.ref_hash("telegram", "42")
        == "51100c5f85ca7ecdb2f785789846c83cd509bcbf162e541250fc7c4968e4be8b"
    )
    assert crypto.flood_hash("address:10.0.0.1") == (
        "95c5a806fd74e3ee1222dda5b979d7922a588f51249413845f77ee4bfe6b25f0"
    )
    # Console version 1 is the old cookie key (sessions now live on the server: older cookies end anyway).
    assert crypto.console_key == hashlib.sha256(b"console-session:" + SECRET.encode()).digest(), (
        "console key version 1"
    )


def test_each_purpose_has_its_own_key_and_versions_differ() -> None:
    secret = SECRET.encode()
    keys = {
        encryption_key(secret, 1),
        encryption_key(secret, 2),
        console_key(secret, 1),
        console_key(secret, 2),
    }
    assert len(keys) == 4


def test_a_process_reads_a_newer_version_and_a_retired_one_no_more() -> None:
    old, new = Crypto(SECRET.encode()), Crypto(SECRET.encode(), KeyVersions(encryption=2))
    token = new.encrypt("xin chào")
    assert old.decrypt(token) == "xin chào", "a process that has not refreshed yet reads the new key"
    assert old.encrypt("x") != token and not new.is_primary(old.encrypt("x"))
    with pytest.raises(DecryptionError):
        new.decrypt(OLD_TOKEN)  # version 1 is retired: not read any more
    rotating = Crypto(SECRET.encode(), KeyVersions(encryption=2, encryption_previous=1))
    assert rotating.decrypt(OLD_TOKEN) == "Tôi cần giúp đỡ, +84901234567"
    assert new.is_primary(rotating.encrypt("x")), "during a rotation, only the new key writes"


def test_every_encrypted_column_is_in_the_rotation_list() -> None:
    in_models = {
        (table.name, column.name)
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.name.endswith("_enc")
    }
    listed = {(model.__tablename__, attribute) for model, attribute in ENCRYPTED_COLUMNS}
    assert in_models == listed, "a new encrypted column goes into bot/store/encrypted.py"


async def fill(services: Services, client: httpx.AsyncClient) -> dict[str, str]:
    """Put a value in every encrypted place (through the engine where it writes them); the plaintexts."""
    crypto, now = services.crypto, services.clock.now()
    await client.post(
        "/api/webchat", json={"session": secrets.token_hex(16), "text": "cuu em voi, no dang danh em"}
    )
    await client.post("/api/webchat", json={"session": secrets.token_hex(16), "text": "xin chào"})
    plain = {
        "messages.transport_ref_enc": "telegram-message-77",
        "processed_messages.replies_enc": '[{"text":"Xin chào"}]',
        "counsellors.telegram_chat_enc": "555000111",
        "counsellors.phone_enc": "+84907654321",
        "escalations.callback_phone_enc": "+84901234567",
        "stored_secrets.value_enc": '{"access_token":"oa-token"}',
        "checkins.note_enc": "Khách sạn Hoa Mai, phòng 12",
        "checkins.callee_enc": "+84901234568",
        "desk_notes.text_enc": "đã hẹn gặp ở quán cà phê gần chợ",
        f"conversations.context[{TELEGRAM_SHOWN}]": "[[101, 1.5]]",
        **{f"client_reports.{name}_enc": f"report {name}" for name in REPORT_FIELDS},
        "client_reports.followup_enc": '[{"who":"moderator","text":"Khi nào?"}]',
    }
    async with services.sessionmaker() as session, session.begin():
        await session.execute(
            update(Message)
            .where(Message.id == 1)
            .values(transport_ref_enc=crypto.encrypt("telegram-message-77"))
        )
        session.add(ProcessedMessage(channel="telegram", ref_hash="r" * 64, replies_enc=crypto.encrypt(plain["processed_messages.replies_enc"]), created_at=now))  # fmt: skip
        session.add(
            Counsellor(
                display_name="Lan", telegram_chat_enc=crypto.encrypt("555000111"),
                phone_enc=crypto.encrypt("+84907654321"), active=True, created_at=now,
            )
        )  # fmt: skip
        await session.execute(update(Escalation).values(callback_phone_enc=crypto.encrypt("+84901234567")))
        session.add(StoredSecret(name="zalo_oa", value_enc=crypto.encrypt(plain["stored_secrets.value_enc"]), updated_at=now))  # fmt: skip
        conversation = (await session.execute(select(Conversation).limit(1))).scalar_one()
        conversation.context = {**conversation.context, TELEGRAM_SHOWN: crypto.encrypt("[[101, 1.5]]")}
        conversation.address_enc = crypto.encrypt("123456789")  # web chat keeps none: as Telegram does
        session.add(
            Checkin(
                conversation_id=conversation.id, channel=conversation.channel, stage="set", set_at=now,
                due_at=now, note_enc=crypto.encrypt(plain["checkins.note_enc"]),
                callee_enc=crypto.encrypt(plain["checkins.callee_enc"]),
            )
        )  # fmt: skip
        report = ClientReport(via="chat", status="pending", created_at=now, expires_at=now)
        for name in REPORT_FIELDS:
            set_field(crypto, report, name, plain[f"client_reports.{name}_enc"])
        add_followup(crypto, report, who="moderator", text="Khi nào?")
        session.add(report)
        session.add(
            DeskNote(conversation_id=conversation.id, kind="note", text_enc=crypto.encrypt(plain["desk_notes.text_enc"]), created_at=now)
        )  # fmt: skip
    return plain


async def tokens_everywhere(services: Services) -> dict[str, list[str]]:
    """Every Fernet token in the database, found by its look (version byte 0x80: "gAAAAA"), by place:
    every string column of every table, and every string inside JSON."""
    found: dict[str, list[str]] = {}

    def walk(place: str, value: Any) -> None:
        if isinstance(value, str) and value.startswith("gAAAAA"):
            found.setdefault(place, []).append(value)
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{place}[{key}]", inner)
        elif isinstance(value, list):
            for inner in value:
                walk(place, inner)

    async with services.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for name, value in row.items():
                    walk(f"{table.name}.{name}", value)
    return found


def listed_places() -> set[str]:
    places = {f"{model.__tablename__}.{attribute}" for model, attribute in ENCRYPTED_COLUMNS}
    return places | {
        f"{model.__tablename__}.{attribute}[{key}]" for model, attribute, key in ENCRYPTED_IN_JSON
    }


async def test_rotation_reencrypts_every_encrypted_place(
    services: Services, client: httpx.AsyncClient
) -> None:
    plain = await fill(services, client)
    user_key = services.crypto.user_key("webchat", "someone")
    before = await tokens_everywhere(services)
    assert set(before) == listed_places(), "every listed place is filled, and no token is found elsewhere"
    readable = {place: sorted(services.crypto.decrypt(t) for t in tokens) for place, tokens in before.items()}

    cli_process = Crypto(SECRET.encode())  # the command runs in a process of its own
    done = await rotate_encryption(
        services.sessionmaker, cli_process, services.clock, settle_seconds=0, pause_seconds=0, batch_size=2
    )
    assert done.version == 2 and not done.resumed and done.unreadable == 0
    assert done.reencrypted == sum(len(tokens) for tokens in before.values())

    new_key_alone = Fernet(encryption_key(SECRET.encode(), 2))
    after = await tokens_everywhere(services)
    assert set(after) == listed_places()
    for place, tokens in after.items():
        assert sorted(new_key_alone.decrypt(t.encode()).decode() for t in tokens) == readable[place], place
        for token in tokens:
            with pytest.raises(InvalidToken):
                Fernet(encryption_key(SECRET.encode(), 1)).decrypt(token.encode())
    assert plain["counsellors.phone_enc"] in readable["counsellors.phone_enc"]

    async with services.sessionmaker() as session:
        assert await load_versions(session) == KeyVersions(encryption=2, encryption_previous=None, console=1)
    await services.refresh_keys()  # what every process does every HOTLINE_KEY_REFRESH_SECONDS
    assert services.crypto.versions.encryption == 2
    assert services.crypto.user_key("webchat", "someone") == user_key, "pseudonyms do not change"
    response = await client.post("/api/webchat", json={"session": secrets.token_hex(16), "text": "xin chào"})
    assert response.status_code == 200, "the service keeps working on the new key"
    for tokens in (await tokens_everywhere(services)).values():
        for token in tokens:
            new_key_alone.decrypt(token.encode())  # what it wrote since is under the new key too


async def test_an_interrupted_rotation_resumes(services: Services, client: httpx.AsyncClient) -> None:
    await fill(services, client)
    before = await tokens_everywhere(services)
    total = sum(len(tokens) for tokens in before.values())
    batches = 0

    async def crash_after_three(_place: str, _rows: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 3:
            raise KeyboardInterrupt  # e.g. Ctrl-C, or the host restarting

    with pytest.raises(KeyboardInterrupt):
        await rotate_encryption(
            services.sessionmaker, Crypto(SECRET.encode()), services.clock,
            settle_seconds=0, pause_seconds=0, batch_size=1, on_batch=crash_after_three,
        )  # fmt: skip
    async with services.sessionmaker() as session:
        ring = await session.get(KeyVersion, "encryption")
        assert ring is not None and (ring.version, ring.previous) == (2, 1), "half way: both keys are read"
    await services.refresh_keys()
    tokens = [t for place in (await tokens_everywhere(services)).values() for t in place]
    assert 0 < sum(services.crypto.is_primary(t) for t in tokens) < total, "some re-encrypted, some not"
    for token in tokens:
        services.crypto.decrypt(token)  # everything reads meanwhile

    done = await rotate_encryption(
        services.sessionmaker,
        Crypto(SECRET.encode()),
        services.clock,
        settle_seconds=0,
        pause_seconds=0,
        batch_size=1,
    )
    assert done.resumed and done.version == 2, "the same rotation goes on; no third key"
    assert 0 < done.reencrypted < total
    new_key_alone = Fernet(encryption_key(SECRET.encode(), 2))
    for place in (await tokens_everywhere(services)).values():
        for token in place:
            new_key_alone.decrypt(token.encode())


async def test_a_value_the_service_changes_during_the_pass_is_kept(services: Services) -> None:
    """The pass updates a text column only where it still holds the token it read: a value the service
    wrote in between (under the new key) is never overwritten with the old plaintext."""
    if services.settings.is_sqlite:
        pytest.skip("on SQLite a batch holds the database's write lock: nothing can write in between")
    now = services.clock.now()
    async with services.sessionmaker() as session, session.begin():
        session.add(StoredSecret(name="a", value_enc=services.crypto.encrypt("old value"), updated_at=now))
    url = services.settings.database_url

    def service_writes() -> None:  # another process, while the pass holds the old token
        async def write() -> None:
            engine = make_engine(url)
            try:
                async with engine.begin() as connection:
                    new = Crypto(SECRET.encode(), KeyVersions(encryption=2)).encrypt("new value")
                    await connection.execute(update(StoredSecret).values(value_enc=new))
            finally:
                await engine.dispose()

        asyncio.run(write())

    class Interrupted(Crypto):
        def reencrypt(self, token: str) -> str:
            if self.decrypt(token) == "old value":
                with ThreadPoolExecutor(1) as pool:
                    pool.submit(service_writes).result()
            return super().reencrypt(token)

    done = await rotate_encryption(
        services.sessionmaker, Interrupted(SECRET.encode()), services.clock, settle_seconds=0
    )
    async with services.sessionmaker() as session:
        token = await session.scalar(select(StoredSecret.value_enc))
    assert (
        token is not None and Crypto(SECRET.encode(), KeyVersions(encryption=2)).decrypt(token) == "new value"
    )
    assert done.reencrypted == 0, "nothing left to re-encrypt: the service wrote it under the new key"


def test_the_pseudonym_keys_are_not_rotated() -> None:
    from bot.cli import main

    result = CliRunner().invoke(main, ["rotate-key", "pseudonyms"])
    assert result.exit_code == 1 and "not rotated" in result.output


async def test_the_command_rotates_the_encryption_key(services: Services) -> None:
    from bot.cli import main

    async with services.sessionmaker() as session, session.begin():
        session.add(StoredSecret(name="a", value_enc=services.crypto.encrypt("oa-token"), updated_at=services.clock.now()))  # fmt: skip
    env = {"HOTLINE_SECRET_KEY": SECRET, "HOTLINE_ENV": "test", "HOTLINE_KEY_REFRESH_SECONDS": "0.01"}
    arguments = ["--database-url", services.settings.database_url, "rotate-key", "encryption"]
    result = await asyncio.to_thread(CliRunner().invoke, main, arguments, env=env)  # a process of its own
    assert result.exit_code == 0, result.output
    assert "encryption key version 1 -> 2" in result.output
    assert "stored_secrets.value_enc: 1 re-encrypted" in result.output
    async with services.sessionmaker() as session:
        token = await session.scalar(select(StoredSecret.value_enc))
    assert (
        token is not None
        and Fernet(encryption_key(SECRET.encode(), 2)).decrypt(token.encode()) == b"oa-token"
    )


async def test_a_running_process_learns_a_rotation_by_itself(
    settings: Settings, clock: FrozenClock, nlu: NLU, content: Content
) -> None:
    """No restart: the process rereads the key versions every HOTLINE_KEY_REFRESH_SECONDS."""
    quick = settings.model_copy(update={"key_refresh_seconds": 0.01})
    services = build_services(quick, clock=clock, nlu=nlu, content=content, channel_factories=[])
    await services.start(dispatcher=False)
    try:
        assert services.crypto.versions.console == 1
        await rotate_console(services.sessionmaker, Crypto(SECRET.encode()), clock)  # another process
        for _ in range(500):  # up to 5 s; a refresh comes every 0.01 s
            if services.crypto.versions.console == 2:
                break
            await asyncio.sleep(0.01)
        assert services.crypto.versions.console == 2
    finally:
        await services.close()
