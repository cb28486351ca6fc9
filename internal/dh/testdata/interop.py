"""Python cryptography side of the internal/dh interoperability tests.

Usage:
  interop.py version
  interop.py genkey PARAMS.pem PRIV.der PUB.der   (PKCS #8 and SPKI, DER)
  interop.py derive PRIV.der PEER_PUB.der          (prints the secret in hex)
  interop.py params PARAMS.pem                     (prints p g q in hex, q "-" if absent)
  interop.py check PRIV.der PUB.der                (loads both, checks they match)
"""

import sys

import cryptography
from cryptography.hazmat.primitives import serialization as s


def read(path):
    with open(path, "rb") as f:
        return f.read()


def genkey(params_path, priv_path, pub_path):
    key = s.load_pem_parameters(read(params_path)).generate_private_key()
    with open(priv_path, "wb") as f:
        f.write(key.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption()))
    with open(pub_path, "wb") as f:
        f.write(key.public_key().public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo))


def derive(priv_path, pub_path):
    priv = s.load_der_private_key(read(priv_path), None)
    pub = s.load_der_public_key(read(pub_path))
    print(priv.exchange(pub).hex())


def params(path):
    n = s.load_pem_parameters(read(path)).parameter_numbers()
    q = "-" if n.q is None else format(n.q, "x")
    print(format(n.p, "x"), format(n.g, "x"), q)


def check(priv_path, pub_path):
    priv = s.load_der_private_key(read(priv_path), None)
    pub = s.load_der_public_key(read(pub_path))
    if priv.public_key().public_numbers() != pub.public_numbers():
        sys.exit("public key does not match private key")
    print("ok")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "version":
        print(cryptography.__version__)
    elif cmd == "genkey":
        genkey(*args)
    elif cmd == "derive":
        derive(*args)
    elif cmd == "params":
        params(*args)
    elif cmd == "check":
        check(*args)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
