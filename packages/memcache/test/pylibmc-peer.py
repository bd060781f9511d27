"""The other side of pylibmc-interop.test.ts: a pylibmc (libmemcached) client.

Reads one JSON request on stdin:
  {"servers": ["127.0.0.1:port[:weight]", ...], "behaviors": {...},
   "write": {key: {"type": "str" | "bytes", "hex": "..."}}, "read": [key, ...]}
writes the values (str values are the UTF-8 of "hex"), then reads the keys
and prints {"read": {key: {"type", "hex"} | {"error": message} | null}}.
"""
import json
import sys

import pylibmc

request = json.load(sys.stdin)
client = pylibmc.Client(request["servers"], behaviors=request.get("behaviors", {}))

for key, spec in request.get("write", {}).items():
    data = bytes.fromhex(spec["hex"])
    client.set(key, data.decode("utf-8") if spec["type"] == "str" else data)

result = {}
for key in request.get("read", []):
    try:
        value = client.get(key)
    except pylibmc.Error as error:
        result[key] = {"error": str(error)}
        continue
    if value is None:
        result[key] = None
    elif isinstance(value, str):
        result[key] = {"type": "str", "hex": value.encode("utf-8").hex()}
    elif isinstance(value, bytes):
        result[key] = {"type": "bytes", "hex": value.hex()}
    else:
        result[key] = {"type": type(value).__name__, "repr": repr(value)}

json.dump({"read": result}, sys.stdout)
