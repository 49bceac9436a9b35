#!/usr/bin/env python3
"""Runs every document of this folder against a server, as CI does.

    RINGCAST_EMAIL=admin@ringcast.local RINGCAST_PASSWORD=... python3 check.py

Signs in as that admin and runs the documents in an order where earlier answers fill the
placeholders of later ones: it registers a Twilio account on the built-in emulator, buys a number
on the "Simulated" account, assigns it to the admin, credits 1,000,000 VND, then creates, fills,
starts and pauses a campaign (its contacts imported in the background, followed until done). Then it registers an ordinary user and checks that every document
in bad/ fails with the code its "# Expect:" line names. Exits 1 on anything unexpected.
"""

import json
import re
import secrets
import sys
import time
import urllib.request

from send import ENV, HERE, fill, load, post

CONTACTS = HERE.parent / "campaign" / "contacts.csv"


def ensure(condition, message):
    if not condition:
        raise AssertionError(message)
    return {}


def emulator_account(data):
    """Creates an account on the emulator behind "Simulated" for admin-add-twilio-account."""
    simulated = next(a for a in data["twilioAccounts"]["nodes"] if a["isSimulated"])
    sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    request = urllib.request.Request(
        f"{simulated['apiBaseUrl']}/emulator/accounts",
        json.dumps({"account_sid": sid, "auth_token": token, "friendly_name": "Second account"}).encode(),
        {"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()
    return {
        "TWILIO_ACCOUNT_ID": simulated["id"],
        "TWILIO_API_BASE_URL": simulated["apiBaseUrl"],
        "TWILIO_ACCOUNT_SID": sid,
        "TWILIO_AUTH_TOKEN": token,
    }


# (document, who sends it, what to check and remember from its data)
STEPS = [
    ("login", "nobody", lambda d: {"TOKEN": d["login"]["accessToken"], "USER_ID": d["login"]["user"]["id"]}),
    ("me", "admin", lambda d: ensure(d["me"]["role"] == "ADMIN", "RINGCAST_EMAIL must be an admin")),
    ("admin-twilio-accounts", "admin", emulator_account),
    ("admin-add-twilio-account", "admin", None),
    ("admin-available-numbers", "admin", lambda d: {"PHONE_NUMBER": d["availableNumbers"][0]["phoneNumber"]}),
    ("admin-buy-number", "admin", lambda d: {"DID_ID": d["purchaseDid"]["did"]["id"]}),
    ("admin-assign-number", "admin", None),
    ("my-numbers", "admin", None),
    ("admin-adjust-balance", "admin", None),
    ("create-top-up", "admin", lambda d: ensure(d["createTopUp"]["topUp"]["payUrl"], "no payUrl")),
    ("create-campaign", "admin", lambda d: {"CAMPAIGN_ID": d["createCampaign"]["campaign"]["id"]}),
    ("import-contacts", "admin", lambda d: {"IMPORT_ID": d["importContacts"]["import"]["id"]}),
    # Asked again until the import is finished (see UNTIL).
    ("import", "admin", lambda d: ensure(d["import"]["status"] == "COMPLETED"
                                         and d["import"]["rowsImported"] == 3, "3 contacts")),
    ("preflight", "admin", lambda d: ensure(d["campaignPreflight"]["ready"], "preflight not ready")),
    ("start-campaign", "admin", None),
    # Paused at once, so that it cannot complete first whatever the hour.
    ("pause-campaign", "admin", None),
    ("campaign-stats", "admin", None),
    ("calls-by-campaign", "admin", None),
    ("register", "nobody", lambda d: {"USER_TOKEN": d["register"]["accessToken"],
                                      "NEW_USER_ID": d["register"]["user"]["id"]}),
]

# Documents asked again (up to a minute) until their answer says the work is done.
UNTIL = {"import": lambda d: d["import"]["status"] in ("COMPLETED", "FAILED", "CANCELLED")}


def send(path, who, env):
    query, variables = load(path)
    token = {"admin": env.get("TOKEN"), "user": env.get("USER_TOKEN")}.get(who)
    upload = CONTACTS if path.stem == "import-contacts" else None
    return post(query, fill(variables, env), token, upload, env)


def expectation(path):
    """The code and sender named in a bad document's header."""
    text = path.read_text()
    return (re.search(r"^# Expect: (\w+)", text, re.M).group(1),
            re.search(r"^# As: (\w+)", text, re.M).group(1))


def main():
    env = dict(ENV, NEW_EMAIL=f"user-{secrets.token_hex(4)}@example.com",
               NEW_PASSWORD=secrets.token_urlsafe(16))
    documents = {p.stem for p in HERE.glob("*.graphql")}
    missing = documents - {name for name, _, _ in STEPS}
    if missing:
        sys.exit(f"FAIL  not in check.py's STEPS: {', '.join(sorted(missing))}")
    for name, who, remember in STEPS:
        answer = send(HERE / f"{name}.graphql", who, env)
        deadline = time.monotonic() + 60
        while name in UNTIL and not answer.get("errors") and not UNTIL[name](answer["data"]) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = send(HERE / f"{name}.graphql", who, env)
        try:
            ensure(not answer.get("errors"), json.dumps(answer.get("errors"), ensure_ascii=False))
            env.update((remember or (lambda _: {}))(answer["data"]) or {})
        except (AssertionError, KeyError, IndexError, StopIteration, TypeError) as e:
            sys.exit(f"FAIL  {name}: {e!r}\n{json.dumps(answer, ensure_ascii=False)[:2000]}")
        print(f"ok    {name}")
    failed = 0
    bad = sorted((HERE / "bad").glob("*.graphql"))
    for path in bad:
        code, who = expectation(path)
        answer = send(path, who, env)
        codes = [e.get("extensions", {}).get("code") for e in answer.get("errors") or []]
        if code in codes:
            print(f"ok    bad/{path.stem}: {code}")
        else:
            failed += 1
            print(f"FAIL  bad/{path.stem}: expected {code}, got {json.dumps(answer, ensure_ascii=False)[:500]}")
    print(f"{len(STEPS)} documents ran, {len(bad) - failed} of {len(bad)} bad documents failed as expected")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
