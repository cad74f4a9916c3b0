"""Verification snippets for a webhook's receiver: Python (the official
``standardwebhooks`` library), Node.js (``crypto`` alone), Go (the standard
library) and a shell one (``openssl``). Pure text: no database.

Each checks the Standard Webhooks headers this program sends (``webhook-id``,
``webhook-timestamp`` within five minutes, any of the space-separated ``v1,``
signatures in ``webhook-signature``: during a key rotation both keys'
signatures are there) with the receiver-side form of the key (``whsec_`` +
base64; ``webhooks.receiver_secret``). The secret is read from the
environment variable ``WEBHOOK_SECRET``; the snippet's fallback is what the
screen gives (the masked form, unless the key was revealed), so a copied
snippet never carries the key by accident.

Each is also a small program: ``verify BODY_FILE`` with the three header
values in ``WEBHOOK_ID``, ``WEBHOOK_TIMESTAMP`` and ``WEBHOOK_SIGNATURE``;
it prints "verified" and exits 0, or prints why not and exits 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import validate

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"


@dataclass(frozen=True)
class Snippet:
    language: str  # "Python", "Node.js", "Go", "Shell"
    file_name: str  # what to save it as
    run: str  # how to run it
    code: str


def _python(secret: str, url: str) -> str:
    return f'''# Verify a delivery of the webhook {url}
# pip install standardwebhooks    run: python verify.py BODY_FILE
import os
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = os.environ.get("WEBHOOK_SECRET") or "{secret}"


def verify(headers: dict[str, str], body: bytes) -> dict:
    """The delivery's JSON once its signature checks; WebhookVerificationError if not."""
    return Webhook(SECRET).verify(body, headers)


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as f:
        body = f.read()
    headers = {{
        "{HEADER_ID}": os.environ["WEBHOOK_ID"],
        "{HEADER_TIMESTAMP}": os.environ["WEBHOOK_TIMESTAMP"],
        "{HEADER_SIGNATURE}": os.environ["WEBHOOK_SIGNATURE"],
    }}
    try:
        verify(headers, body)
    except WebhookVerificationError as exc:
        print(f"rejected: {{exc}}")
        sys.exit(1)
    print("verified")
'''


def _node(secret: str, url: str) -> str:
    return f"""// Verify a delivery of the webhook {url}
// Node.js, crypto alone (or: npm install standardwebhooks)    run: node verify.js BODY_FILE
const crypto = require("crypto");
const fs = require("fs");

const SECRET = process.env.WEBHOOK_SECRET || "{secret}";

// headers: lower-case names as Node gives them; body: the raw bytes (a Buffer).
function verify(headers, body) {{
  const id = headers["{HEADER_ID}"];
  const ts = headers["{HEADER_TIMESTAMP}"];
  const sigs = headers["{HEADER_SIGNATURE}"];
  if (!id || !ts || !sigs) return "missing Standard Webhooks headers";
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return "timestamp too old or new";
  const key = Buffer.from(SECRET.replace(/^whsec_/, ""), "base64");
  const expected = crypto.createHmac("sha256", key)
    .update(`${{id}}.${{ts}}.`).update(body).digest();
  const ok = sigs.split(" ").some((s) => {{
    const [version, sig] = s.split(",");
    const got = Buffer.from(sig || "", "base64");
    return version === "v1" && got.length === expected.length &&
      crypto.timingSafeEqual(got, expected);
  }});
  return ok ? null : "signature does not match";
}}

const why = verify({{
  "{HEADER_ID}": process.env.WEBHOOK_ID,
  "{HEADER_TIMESTAMP}": process.env.WEBHOOK_TIMESTAMP,
  "{HEADER_SIGNATURE}": process.env.WEBHOOK_SIGNATURE,
}}, fs.readFileSync(process.argv[2]));
console.log(why ? `rejected: ${{why}}` : "verified");
process.exit(why ? 1 : 0);
"""


def _go(secret: str, url: str) -> str:
    return f"""// Verify a delivery of the webhook {url}
// Go, standard library only    run: go run verify.go BODY_FILE
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

func secret() string {{
	if s := os.Getenv("WEBHOOK_SECRET"); s != "" {{
		return s
	}}
	return "{secret}"
}}

// verify returns "" when the signature checks, else why not. header is
// http.Header.Get in a handler: "{HEADER_ID}", "{HEADER_TIMESTAMP}", "{HEADER_SIGNATURE}".
func verify(header func(string) string, body []byte) string {{
	id, ts := header("{HEADER_ID}"), header("{HEADER_TIMESTAMP}")
	sigs := header("{HEADER_SIGNATURE}")
	if id == "" || ts == "" || sigs == "" {{
		return "missing Standard Webhooks headers"
	}}
	sent, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || math.Abs(float64(time.Now().Unix()-sent)) > 300 {{
		return "timestamp too old or new"
	}}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret(), "whsec_"))
	if err != nil {{
		return "the secret is not whsec_ + base64"
	}}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	expected := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {{
		version, sig, _ := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if version == "v1" && err == nil && hmac.Equal(got, expected) {{
			return ""
		}}
	}}
	return "signature does not match"
}}

func main() {{
	body, err := os.ReadFile(os.Args[1])
	if err != nil {{
		fmt.Println("rejected:", err)
		os.Exit(1)
	}}
	env := map[string]string{{
		"{HEADER_ID}":        os.Getenv("WEBHOOK_ID"),
		"{HEADER_TIMESTAMP}": os.Getenv("WEBHOOK_TIMESTAMP"),
		"{HEADER_SIGNATURE}": os.Getenv("WEBHOOK_SIGNATURE"),
	}}
	if why := verify(func(k string) string {{ return env[k] }}, body); why != "" {{
		fmt.Println("rejected:", why)
		os.Exit(1)
	}}
	fmt.Println("verified")
}}
"""


def _shell(secret: str, url: str) -> str:
    return f"""#!/bin/sh
# Verify a delivery of the webhook {url}
# POSIX sh and openssl    run: sh verify.sh BODY_FILE
# with the headers in WEBHOOK_ID ({HEADER_ID}), WEBHOOK_TIMESTAMP ({HEADER_TIMESTAMP})
# and WEBHOOK_SIGNATURE ({HEADER_SIGNATURE}).
SECRET="${{WEBHOOK_SECRET:-{secret}}}"
KEY_HEX=$(printf '%s' "${{SECRET#whsec_}}" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \\n')
AGE=$(( $(date +%s) - WEBHOOK_TIMESTAMP ))
if [ "${{AGE#-}}" -gt 300 ]; then echo "rejected: timestamp too old or new"; exit 1; fi
EXPECTED=$( {{ printf '%s.%s.' "$WEBHOOK_ID" "$WEBHOOK_TIMESTAMP"; cat "$1"; }} \\
  | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY_HEX" -binary | openssl base64 -A)
for SIG in $WEBHOOK_SIGNATURE; do
  if [ "$SIG" = "v1,$EXPECTED" ]; then echo "verified"; exit 0; fi
done
echo "rejected: signature does not match"
exit 1
"""


def for_webhook(url: str, secret: str) -> list[Snippet]:
    """The four snippets for the webhook at ``url``, with ``secret`` as the
    fallback when ``WEBHOOK_SECRET`` is not set: pass the masked receiver secret
    unless the administrator revealed the key (``webhooks.receiver_secret``)."""
    # Quotes and backslashes cannot end the string the secret sits in.
    secret = "".join(ch for ch in secret if ch not in "\"'\\`$\n\r")
    url = validate.printable(url).replace("\n", " ")
    return [
        Snippet("Python", "verify.py", "python verify.py BODY_FILE", _python(secret, url)),
        Snippet("Node.js", "verify.js", "node verify.js BODY_FILE", _node(secret, url)),
        Snippet("Go", "verify.go", "go run verify.go BODY_FILE", _go(secret, url)),
        Snippet("Shell", "verify.sh", "sh verify.sh BODY_FILE", _shell(secret, url)),
    ]


# Every public function above refuses wrong-typed arguments before it runs.
validate.check_public(globals())
