#!/usr/bin/env python3
"""Writes a large protocol-4 pickle shaped like a tensor checkpoint: a dict
of named layers, each a large bytes payload (BINBYTES8), plus a few small
metadata entries. Standard library only; the content is random bytes.

    python3 bench/make-large-pickle.py OUT.pkl [SIZE_MIB [PAYLOAD_KIB]]

SIZE_MIB defaults to 1024, PAYLOAD_KIB (the size of each tensor) to 65536.
The whole pickle is built in memory first: a run needs about SIZE_MIB of RAM.
"""
import os
import pickle
import sys

if len(sys.argv) < 2 or len(sys.argv) > 4:
    sys.exit(__doc__.strip())
out = sys.argv[1]
try:
    size_mib = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    payload_kib = int(sys.argv[3]) if len(sys.argv) > 3 else 64 << 10
except ValueError:
    sys.exit("SIZE_MIB and PAYLOAD_KIB must be whole numbers\n\n" + __doc__.strip())
if size_mib <= 0 or payload_kib <= 0:
    sys.exit("SIZE_MIB and PAYLOAD_KIB must be positive")
if payload_kib > size_mib << 10:
    sys.exit(f"PAYLOAD_KIB ({payload_kib}) is larger than SIZE_MIB ({size_mib} MiB)")
layers = (size_mib << 10) // payload_kib
state = {"epoch": 7, "arch": "transformer", "config": {"hidden": 4096, "layers": layers}}
with open(out, "wb") as f:
    # Distinct objects per layer (a shared one would be memoized and written
    # once); rotating one random buffer is much faster than os.urandom.
    chunk = os.urandom(payload_kib << 10)
    for i in range(layers):
        state[f"model.layers.{i}.weight"] = chunk[i:] + chunk[:i]
    pickle.dump(state, f, protocol=4)
print(f"{out}: {os.path.getsize(out) / (1 << 20):.0f} MiB, {layers} payloads of {payload_kib} KiB")
