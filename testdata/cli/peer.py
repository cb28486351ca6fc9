"""A key-agreement peer for e2e/interop_test.go, in Python cryptography.

Reads our public key (PEM SubjectPublicKeyInfo) on stdin, makes a key of
its own of the same kind (X25519, the same NIST curve, or the same
Diffie-Hellman group, taken from the parameters in our key), and prints
JSON: its public key as PEM and the shared secret as base64.
"""
import base64
import json
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dh, ec, x25519


def main():
    ours = serialization.load_pem_public_key(sys.stdin.buffer.read())
    if isinstance(ours, x25519.X25519PublicKey):
        key = x25519.X25519PrivateKey.generate()
        shared = key.exchange(ours)
    elif isinstance(ours, ec.EllipticCurvePublicKey):
        key = ec.generate_private_key(ours.curve)
        shared = key.exchange(ec.ECDH(), ours)
    elif isinstance(ours, dh.DHPublicKey):
        key = ours.parameters().generate_private_key()
        shared = key.exchange(ours)
    else:
        raise TypeError("no agreement with a %s" % type(ours).__name__)
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    json.dump({"public_pem": pub.decode(), "shared_b64": base64.b64encode(shared).decode()}, sys.stdout)


if __name__ == "__main__":
    main()
