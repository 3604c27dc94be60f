#!/usr/bin/env python3
"""Verify an OpenSSF Model Signing key signature independently of Palisade.

    scripts/crosscheck-oms.py MODEL SIGNATURE PUBLIC_KEY_PEM

A second implementation, in Python with the `cryptography` package (Debian:
python3-cryptography), of what the reference model_signing verifier checks
for key signatures: the bundle media type and payload type, the public key
hint, the ECDSA signature over the DSSE pre-authentication encoding with the
curve's hash, the subject root digest, and a re-hash of the model (files or
shards, sha256 or blake2b) compared with the signed resources. Used to check
that signatures written by `palisade sign` verify outside Palisade; exits 0
when the signature verifies, 1 when it does not.
"""
import base64
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

CURVE_HASH = {"secp256r1": hashes.SHA256(), "secp384r1": hashes.SHA384(), "secp521r1": hashes.SHA512()}
HASHES = {"sha256": hashlib.sha256, "blake2b": hashlib.blake2b}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def pae(payload_type, payload):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def files_of(model, ignores):
    if os.path.isfile(model):
        return {".": model}
    out = {}
    for root, dirs, files in os.walk(model):
        for name in files:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, model).replace(os.sep, "/")
            if any(rel == i or rel.startswith(i + "/") for i in ignores):
                continue
            out[rel] = full
        dirs[:] = [d for d in dirs
                   if not any(os.path.relpath(os.path.join(root, d), model).replace(os.sep, "/") == i for i in ignores)]
    return out


def rehash(model, ser):
    hash_type = ser["hash_type"]
    if hash_type not in HASHES:
        fail("this checker cannot compute " + hash_type)
    new = HASHES[hash_type]
    ignores = set(ser.get("ignore_paths", []))
    got = {}
    for rel, full in files_of(model, ignores).items():
        data = open(full, "rb").read()
        if ser["method"] == "files":
            got[rel] = (hash_type, new(data).hexdigest())
            continue
        size = int(ser["shard_size"])
        for start in range(0, len(data), size):
            end = min(start + size, len(data))
            got["%s:%d:%d" % (rel, start, end)] = ("%s-sharded-%d" % (hash_type, size), new(data[start:end]).hexdigest())
    return got


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    model, sig_path, pub_path = sys.argv[1:]
    bundle = json.load(open(sig_path))
    if bundle.get("mediaType") != "application/vnd.dev.sigstore.bundle.v0.3+json":
        fail("media type %r" % bundle.get("mediaType"))
    env = bundle["dsseEnvelope"]
    if env["payloadType"] != "application/vnd.in-toto+json" or len(env["signatures"]) != 1:
        fail("envelope payload type or signature count")
    payload = base64.b64decode(env["payload"])
    sig = base64.b64decode(env["signatures"][0]["sig"])

    pem = open(pub_path, "rb").read()
    pub = serialization.load_pem_public_key(pem[pem.index(b"-----BEGIN"):])
    canonical = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hint = bundle["verificationMaterial"].get("publicKey", {}).get("hint")
    if hint != hashlib.sha256(canonical).hexdigest():
        fail("key hint %r does not name this key" % hint)
    try:
        pub.verify(sig, pae(env["payloadType"], payload), ec.ECDSA(CURVE_HASH[pub.curve.name]))
    except InvalidSignature:
        fail("signature does not verify")

    st = json.loads(payload)
    if st["_type"] != "https://in-toto.io/Statement/v1" or st["predicateType"] != "https://model_signing/signature/v1.0":
        fail("statement or predicate type")
    resources = st["predicate"]["resources"]
    root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources)).hexdigest()
    if root != st["subject"][0]["digest"]["sha256"]:
        fail("root digest")
    ser = st["predicate"]["serialization"]
    want = {r["name"]: (r["algorithm"], r["digest"]) for r in resources}
    got = rehash(model, ser)
    sig_rel = os.path.relpath(os.path.abspath(sig_path), os.path.abspath(model)).replace(os.sep, "/")
    got.pop(sig_rel, None)
    if got != want:
        fail("model differs: extra %s, missing %s, changed %s" % (
            sorted(set(got) - set(want)), sorted(set(want) - set(got)),
            sorted(k for k in set(got) & set(want) if got[k] != want[k])))
    print("OK: %d resources, root sha256:%s, %s, %s %s" % (len(resources), root, pub.curve.name, ser["method"], ser["hash_type"]))


if __name__ == "__main__":
    main()
