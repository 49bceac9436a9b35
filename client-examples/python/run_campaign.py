#!/usr/bin/env python3
"""Runs a small campaign with the gql library and prints every callUpdated event until each
contact's call has ended.

Env: RINGCAST_URL (http://127.0.0.1:5000), RINGCAST_EMAIL, RINGCAST_PASSWORD, DEADLINE_SECS
(300). The user needs a number and a balance: see ../README.md.
"""

import asyncio
import io
import os
import random
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from gql import Client, FileVar, GraphQLRequest
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.websockets import WebsocketsTransport

URL = os.environ.get("RINGCAST_URL", "http://127.0.0.1:5000").rstrip("/")
EMAIL = os.environ.get("RINGCAST_EMAIL", "admin@ringcast.local")
PASSWORD = os.environ["RINGCAST_PASSWORD"]
DEADLINE_SECS = float(os.environ.get("DEADLINE_SECS", "300"))
FINAL = {"COMPLETED", "BUSY", "NO_ANSWER", "FAILED", "CANCELED"}

LOGIN = "mutation($input: LoginInput!) { login(input: $input) { accessToken } }"
MY_NUMBERS = "{ myDids(first: 50) { nodes { id status } } }"
CREATE = "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { campaign { id } } }"
IMPORT = """mutation($input: ImportContactsInput!) {
  importContacts(input: $input) { import { id status } } }"""
# The import as it advances, ending after COMPLETED, FAILED or CANCELLED.
IMPORT_PROGRESS = """subscription($importId: ID!) {
  importProgress(importId: $importId) { status failureReason rowsRead rowsImported invalid } }"""
START = "mutation($input: StartCampaignInput!) { startCampaign(input: $input) { campaign { status } } }"
CALL_UPDATED = """subscription($campaignId: ID) {
  callUpdated(campaignId: $campaignId) { id contactId to status attempt durationSecs digits cost } }"""
STATS = """query($id: ID!) { campaign(id: $id) { status stats {
  contacts { total pending calling done failed skipped optedOut } answered busy noAnswer failed machine cost } } }"""

# (prefix, digits after it, time zones): numbers in these countries are in calling hours at
# some time of every day.
COUNTRIES = [
    ("+4474001", 5, ["Europe/London"]),
    ("+81901234", 4, ["Asia/Tokyo"]),
    ("+14152", 6, ["America/Los_Angeles", "America/New_York"]),
    ("+91981234", 4, ["Asia/Kolkata"]),
    ("+64211", 6, ["Pacific/Auckland"]),
]


def awake_numbers(count):
    """Numbers where it is 08:00-19:30 now: calls are only placed in the callee's calling hours.
    They end in 1 (the emulator answers) and start at a random block, so reruns stay clear of the
    caps on calls to one number."""
    now = datetime.now().astimezone()
    for prefix, digits, zones in COUNTRIES:
        local = [now.astimezone(ZoneInfo(z)) for z in zones]
        if all(8 * 60 <= t.hour * 60 + t.minute <= 19 * 60 + 30 for t in local):
            block = random.randrange(990)
            return [f"{prefix}{(block + i) * 10 + 1:0{digits}d}" for i in range(count)]
    sys.exit("no country is in calling hours now")


def request(query, **variables):
    return GraphQLRequest(query, variable_values=variables)


async def main():
    async with Client(transport=AIOHTTPTransport(url=f"{URL}/graphql")) as anonymous:
        login = await anonymous.execute(request(LOGIN, input={"email": EMAIL, "password": PASSWORD}))
    token = login["login"]["accessToken"]

    http = Client(transport=AIOHTTPTransport(url=f"{URL}/graphql", headers={"Authorization": f"Bearer {token}"}))
    ws = Client(transport=WebsocketsTransport(
        url=URL.replace("http", "ws", 1) + "/graphql/ws",
        init_payload={"authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    ))
    async with http as api, ws as live:
        numbers = (await api.execute(request(MY_NUMBERS)))["myDids"]["nodes"]
        caller_ids = [n["id"] for n in numbers if n["status"] == "ACTIVE"][:1]
        if not caller_ids:
            sys.exit(f"{EMAIL} has no active number: see README.md")
        created = await api.execute(request(CREATE, input={
            "name": "Python example",
            "purpose": "REMINDER",
            "callerIds": caller_ids,
            "message": {"text": "Hello {{name}}, this is a reminder of your appointment.",
                        "language": "en-US", "voice": "Polly.Joanna"},
            "menu": {"prompt": "Press 1 to confirm.", "options": [{"digit": "1", "action": "HANGUP"}]},
            "consent": {"basis": "EXISTING_CUSTOMER", "source": "CRM export",
                        "collectedAt": "2026-01-01T00:00:00Z"},
        }))
        campaign = created["createCampaign"]["campaign"]["id"]
        print("campaign", campaign)

        csv = "phone,name\n" + "".join(f"{n},Contact {i + 1}\n" for i, n in enumerate(awake_numbers(3)))
        upload = FileVar(io.BytesIO(csv.encode()), filename="contacts.csv", content_type="text/csv")
        imported = await api.execute(request(IMPORT, input={"campaignId": campaign, "file": upload}), upload_files=True)
        # The answer comes at once; the file is read in the background.
        report = None
        async for event in live.subscribe(
                request(IMPORT_PROGRESS, importId=imported["importContacts"]["import"]["id"])):
            report = event["importProgress"]
            print("import", report)
            if report["status"] in {"COMPLETED", "FAILED", "CANCELLED"}:
                break
        if report["status"] != "COMPLETED":
            raise SystemExit(f"import {report['status']}: {report['failureReason']}")

        async def watch():
            ended = set()
            async for event in live.subscribe(request(CALL_UPDATED, campaignId=campaign)):
                call = event["callUpdated"]
                print(f"{call['to']:<16} {call['status']:<12} attempt {call['attempt']}"
                      f"  {call['durationSecs'] or 0:>3}s  digits {''.join(call['digits']) or '-'}")
                if call["status"] in FINAL:
                    ended.add(call["contactId"])
                if len(ended) == report["rowsImported"]:
                    return

        watcher = asyncio.create_task(watch())
        # Give the subscription a moment to reach the server before the first call can start.
        await asyncio.sleep(0.5)
        await api.execute(request(START, input={"id": campaign}))
        await watcher
        # Each contact is settled a moment after its call ends: wait for that before the totals.
        while True:
            stats = (await api.execute(request(STATS, id=campaign)))["campaign"]
            if stats["stats"]["contacts"]["pending"] + stats["stats"]["contacts"]["calling"] == 0:
                break
            await asyncio.sleep(0.5)
        print(stats)


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(), DEADLINE_SECS))
    except asyncio.TimeoutError:
        sys.exit("not finished by the deadline")
