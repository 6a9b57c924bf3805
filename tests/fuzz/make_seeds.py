#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into tests/fuzz/corpus/<name>/.

The seeds are committed; run this again (from the repository root) only to
change them. JWT seeds are signed with the fixed keys fuzz_jwt.c builds its
keyring from, so the valid ones really verify at FUZZ_NOW.
"""
import base64
import hashlib
import hmac
import json
import os
import shutil

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = os.path.join("tests", "fuzz", "corpus")
FUZZ_NOW = 1700000000


def write(target, seeds):
    d = os.path.join(ROOT, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(header, payload, sign):
    signing = b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64u(json.dumps(payload, separators=(",", ":")).encode())
    return signing + "." + b64u(sign(signing.encode()))


HS_KEY = bytes((i * 7 + 1) & 0xff for i in range(32))
ED_KEY = Ed25519PrivateKey.from_private_bytes(b"\x42" * 32)


def hs(m):
    return hmac.new(HS_KEY, m, hashlib.sha256).digest()


def ed(m):
    return ED_KEY.sign(m)


write("json", {
    "empty": "{}",
    "spaces": " \t\r\n{ }\n",
    "scalars": '{"s":"hello","i":42,"neg":-7,"d":1.5,"e":1E+2,"t":true,"f":false,"n":null}',
    "nested": '{"a":{"b":{"c":[[],{},[1,[2,[3]]]]}}}',
    "escapes": '{"esc":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\ud83d\\ude00\\u0000"}',
    "utf8": '{"caf\xc3\xa9":"\xe2\x82\xac\xf0\x9f\x98\x80"}'.encode("latin-1"),
    "dev_event": '{"type":"note","data":{"text":"hi","n":[1,2,3]}}',
    "big_ints": '{"max":9223372036854775807,"min":-9223372036854775808,"huge":99999999999999999999}',
    "deep": "{" + '"a":[' * 30 + "]" * 30 + "}",
    "too_deep": "{" + '"a":[' * 40 + "]" * 40 + "}",
    "trailing": '{"a":1} x',
    "nan": '{"a":NaN}',
    "single_quotes": "{'a':1}",
    "ctl_in_string": '{"a":"tab\there"}',
    "bad_utf8": b'{"a":"\xc0\x80"}',
    "array_top": "[1,2]",
    "dup_keys": '{"a":1,"a":"two"}',
})

write("position", {
    "one": "dev:demo=1712345678901-0",
    "two": "dev:a=1-2,dev:b=3-4",
    "max": "dev:x=18446744073709551615-18446744073709551615",
    "overflow": "dev:x=18446744073709551616-0",
    "last_eq": "a=b=1-1",
    "empty_item": "dev:a=1-2,,dev:b=3-4",
    "trailing_comma": "dev:a=1-2,",
    "no_id": "dev:a",
    "bad_scope": "dev:a b=1-1,project:1=2-2",
    "many": ",".join("dev:s%d=%d-%d" % (i, i, i) for i in range(50)),
})

write("scope", {
    "dev": "dev:demo",
    "chars": "dev:A-Z_a.z-0.9",
    "longest": "dev:" + "x" * 64,
    "too_long": "dev:" + "x" * 65,
    "unknown": "projects:1",
    "project": "project:1",
    "lesson": "lesson:42",
    "user_max": "user:9223372036854775807",
    "id_overflow": "project:9223372036854775808",
    "leading_zero": "project:01",
    "two_colons": "dev:a:b",
    "empty_id": "dev:",
    "braces": "dev:a{b}",
    "utf8": "dev:caf\u00e9",
})

write("utf8", {
    "ascii": "hello, world",
    "two": b"\xc3\xa9",
    "three": b"\xe2\x82\xac",
    "four": b"\xf0\x9f\x98\x80",
    "max": b"\xf4\x8f\xbf\xbf",
    "above_max": b"\xf4\x90\x80\x80",
    "overlong": b"\xc0\x80\xe0\x80\x80\xf0\x80\x80\x80",
    "surrogate": b"\xed\xa0\x80",
    "truncated": b"ok\xf0\x9f\x98",
    "lone_cont": b"\x80\xbf",
    "mixed": "a\u00e9\u20ac\U0001F600z".encode(),
})

write("stream_id", {
    "zero": "0-0",
    "typical": "1712345678901-42",
    "max": "18446744073709551615-18446744073709551615",
    "overflow": "18446744073709551616-0",
    "zeros": "007-008",
    "no_seq": "1-",
    "no_dash": "12345",
    "two_dashes": "1-2-3",
})

with open(os.path.join("conf", "cohort.conf.example"), "rb") as f:
    example = f.read()
write("config", {
    "example": example,
    "small": "redis.port = 6380\napi.dev_events = true\napi.max_body = 64K\n",
    "crlf": "redis.host = h\r\nvar.dir = /v\r\n",
    "comments": "# c\n\n   # d\nlog.level = debug",
    "unknown": "nope = 1\n",
    "range": "redis.port = 0\n",
    "no_eq": "redis.port 6379\n",
    "bool_bad": "api.dev_events = maybe\n",
    "size_overflow": "stream.queue_max = 9999999999999G\n",
})

stored = ('{"type":"note","stream":"dev:demo","project":null,"actor":{"user":"u1","client":null},'
          '"ts":{"recv":1712345678901234,"pub":1712345678901999},"data":{"text":"hi"}}')
write("event", {
    "stored": stored,
    "empty": "{}",
    "spaces": "{ }",
    "not_object": "[1]",
    "fields": b"file.saved\0dev:demo\0p1\0src/main.c\0u1",
    "escapes": b"t\0dev:x\0p\"q\0dir\\f\n\0u\x01",
    "utf8_field": "t\0dev:x\0caf\u00e9".encode(),
})

exp = FUZZ_NOW + 3600
local = {"iss": "cohort", "aud": "cohort", "sub": "u1", "jti": "j1", "iat": FUZZ_NOW, "exp": exp}
external = {"iss": "https://lms.example", "aud": ["x", "cohort"], "sub": "lms-user", "name": "Ada",
            "exp": exp, "nbf": FUZZ_NOW - 1}
write("jwt", {
    "local_valid": token({"alg": "HS256", "typ": "JWT"}, local, hs),
    "external_valid": token({"alg": "EdDSA", "typ": "JWT"}, external, ed),
    "alg_none": token({"alg": "none"}, local, lambda m: b""),
    "hs256_for_external": token({"alg": "HS256"}, external, hs),
    "eddsa_for_local": token({"alg": "EdDSA"}, local, ed),
    "expired": token({"alg": "HS256"}, dict(local, exp=FUZZ_NOW - 100), hs),
    "wrong_aud": token({"alg": "HS256"}, dict(local, aud="other"), hs),
    "not_yet": token({"alg": "EdDSA"}, dict(external, nbf=FUZZ_NOW + 1000), ed),
    "exp_int64_max": token({"alg": "HS256"}, {"iss": "cohort", "aud": "cohort", "sub": "u1",
                                               "exp": 9223372036854775807}, hs),
    "garbage": "a.b.c",
    "two_parts": "eyJhbGciOiJIUzI1NiJ9.e30",
})

# fuzz_changeset: a change set's JSON, optionally NUL and a document.
write("changeset", {
    "retain": "[3]\0abc",
    "insert_lines": '[1,[0,"x","y"],2]\0abc',
    "replace_astral": '[1,[2,"\u00e9"],1]\0a\U0001F600b'.encode(),
    "split_pair": "[2,[0,\"x\"],2]\0a\U0001F600b".encode(),
    "delete_all": "[[5]]",
    "noncanonical": '[0,1,[0],[0,""],2,[1,""],0]',
    "same_pos_inserts": '[[0,"a"],[0,"b"],2]\0xy',
    "astral_insert": '[[0,"\\ud83d\\ude00\u4e2d"],1]\0z'.encode(),
    "lone_surrogate": '[[0,"\\ud83d"]]',
    "cr": '[[0,"a\\rb"]]',
    "float": "[1.5]",
    "negative": "[[-1]]",
    "huge": "[99999999999999999999]",
    "empty": "[]",
    "not_array": '{"changes":[1]}',
})

# fuzz_wsmsg: one WebSocket client message (stream/wsmsg.c), pushes checked
# further by collab_updates_check.
write("wsmsg", {
    "push": '{"type":"push","id":1,"project":7,"path":"src/a.py","version":3,'
            '"updates":[{"clientID":"c1","changes":[2,[0,"x"],1]},{"clientID":"c1","changes":[4,[1]]}]}',
    "push_astral": '{"type":"push","id":"p-1","project":7,"path":"a.txt","version":0,'
                   '"updates":[{"clientID":"c","changes":[[0,"\\ud83d\\ude00"]]}]}'.encode(),
    "push_chain_broken": '{"type":"push","id":2,"project":7,"path":"a","version":1,'
                         '"updates":[{"clientID":"c","changes":[1]},{"clientID":"c","changes":[5]}]}',
    "push_lone_surrogate": '{"type":"push","id":3,"project":7,"path":"a","version":1,'
                           '"updates":[{"clientID":"c","changes":[[0,"\\ud83d"]]}]}',
    "push_bad_path": '{"type":"push","id":4,"project":7,"path":"../etc/passwd","version":1,"updates":[]}',
    "cursor": '{"type":"cursor","project":7,"path":"src/a.py","version":3,"ranges":[{"anchor":1,"head":2}],'
              '"main":0,"clientID":"c1"}',
    "subscribe": '{"type":"subscribe","streams":["project:7","user:3"],"after":"project:7=1-0"}',
    "watch": '{"type":"watch","streams":["project:8"]}',
    "presence": '{"type":"presence","lesson":3,"client":"t1","project":7,"file":"src/a.py"}',
    "ping": '{"type":"ping"}',
    "unknown": '{"type":"shout"}',
    "not_object": '[{"type":"ping"}]',
})
