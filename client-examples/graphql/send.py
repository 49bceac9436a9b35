#!/usr/bin/env python3
"""Sends one document of this folder and prints the answer (standard library only).

    python3 send.py NAME [CSV]

NAME.graphql goes with NAME.variables.json, in which every string "$VAR" is replaced by the
environment variable VAR. The token is $TOKEN, else one from logging in as $RINGCAST_EMAIL /
$RINGCAST_PASSWORD. A CSV is uploaded (GraphQL multipart request) as the variable that is null.
Exits 1 when the answer has errors.
"""

import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENV = {"RINGCAST_EMAIL": "admin@ringcast.local", **os.environ}


def base_url(env=ENV):
    return env.get("RINGCAST_URL", "http://127.0.0.1:5000").rstrip("/")


def fill(value, env):
    """The variables with each "$VAR" string replaced by env[VAR]."""
    if isinstance(value, dict):
        return {k: fill(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, env) for v in value]
    if isinstance(value, str) and value.startswith("$"):
        if value[1:] not in env:
            raise SystemExit(f"set {value[1:]} (used in the variables)")
        return env[value[1:]]
    return value


def null_path(value, path="variables"):
    """The multipart path ("variables.input.file") of the first null in the variables."""
    if value is None:
        return path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found = null_path(child, f"{path}.{key}")
        if found:
            return found
    return None


def multipart(operations, path, upload):
    """A GraphQL multipart request body: operations, map, then the file as part "0"."""
    boundary = uuid.uuid4().hex
    parts = [
        ("operations", None, json.dumps(operations).encode()),
        ("map", None, json.dumps({"0": [path]}).encode()),
        ("0", upload.name, upload.read_bytes()),
    ]
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post(query, variables, token=None, upload=None, env=ENV):
    """The server's JSON answer to one request."""
    operations = {"query": query, "variables": variables}
    if upload:
        body, content_type = multipart(operations, null_path(variables), Path(upload))
    else:
        body, content_type = json.dumps(operations).encode(), "application/json"
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{base_url(env)}/graphql", body, headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        # GraphQL errors may come with a 4xx status; their body is still the answer.
        return json.load(e)


def load(path):
    """A document and its variables: path is NAME.graphql."""
    return path.read_text(), json.loads(path.with_suffix(".variables.json").read_text())


def login(env=ENV):
    query, variables = load(HERE / "login.graphql")
    answer = post(query, fill(variables, env), env=env)
    if answer.get("errors"):
        raise SystemExit(json.dumps(answer["errors"], ensure_ascii=False))
    return answer["data"]["login"]


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    query, variables = load(HERE / f"{sys.argv[1]}.graphql")
    token = ENV.get("TOKEN")
    if not token and sys.argv[1] not in ("login", "register"):
        token = login()["accessToken"]
    upload = sys.argv[2] if len(sys.argv) == 3 else None
    answer = post(query, fill(variables, ENV), token, upload)
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    sys.exit(1 if answer.get("errors") else 0)


if __name__ == "__main__":
    main()
