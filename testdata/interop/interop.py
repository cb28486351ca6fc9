"""Python side of interop_test.go: a JSON list of requests on stdin, the
list of answers on stdout (one process per test: starting Python and
importing cryptography costs more than the work). Binary values travel as
standard base64 ("*_b64")."""

import base64
import json
import os
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in testdata
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.backends import default_backend  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, x25519  # noqa: E402

from seed_kms import KeyCustodian  # noqa: E402


def b64(b):
    return base64.b64encode(b).decode()


def unb64(s):
    return base64.b64decode(s)


def public_pem(key):
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


HASHES = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


def seed_aes_migrate(req):
    kms = KeyCustodian()
    key = kms.establish_aes_key("terminal_123")
    return {"key_b64": b64(key), "ciphertext": kms.encrypt_data_aes("terminal_123", req["text"])}


def seed_aes_encrypt(req):
    kms = KeyCustodian()
    kms.aes_keys["terminal_123"] = unb64(req["key_b64"])
    return {"ciphertext": kms.encrypt_data_aes("terminal_123", req["text"])}


def seed_aes_decrypt(req):
    kms = KeyCustodian()
    kms.aes_keys["terminal_123"] = unb64(req["key_b64"])
    return {"text": kms.decrypt_data_aes("terminal_123", req["ciphertext"])}


def seed_rsa_migrate(req):
    kms = KeyCustodian()
    kms.generate_rsa_pair("systemRSA")
    private_key, _ = kms.rsa_keys["systemRSA"]
    pkcs8 = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {"private_pem": pkcs8.decode(), "ciphertext": kms.encrypt_data_rsa("systemRSA", req["text"])}


def seed_rsa_decrypt(req):
    kms = KeyCustodian()
    private_key = serialization.load_der_private_key(unb64(req["private_der_b64"]), None, default_backend())
    kms.rsa_keys["systemRSA"] = (private_key, private_key.public_key())
    return {"text": kms.decrypt_data_rsa("systemRSA", req["ciphertext"])}


def rsa_padding(name, label):
    if name == "pkcs1v15":
        return padding.PKCS1v15()
    h = HASHES[name.split("-")[1]]
    return padding.OAEP(mgf=padding.MGF1(algorithm=h()), algorithm=h(), label=label or None)


def rsa_encrypt(req):
    key = serialization.load_pem_public_key(req["public_pem"].encode(), default_backend())
    label = unb64(req.get("label_b64", ""))
    ct = key.encrypt(unb64(req["plaintext_b64"]), rsa_padding(req["padding"], label))
    return {"ciphertext_b64": b64(ct)}


def verify(req):
    key = serialization.load_pem_public_key(req["public_pem"].encode(), default_backend())
    msg, sig, alg = unb64(req["message_b64"]), unb64(req["signature_b64"]), req["alg"]
    try:
        if alg == "ed25519":
            key.verify(sig, msg)
        elif alg.startswith("ecdsa-"):
            key.verify(sig, msg, ec.ECDSA(HASHES[alg.split("-")[1]]()))
        elif alg.startswith("rsa-pss-"):
            h = HASHES[alg.split("-")[2]]
            key.verify(sig, msg, padding.PSS(mgf=padding.MGF1(h()), salt_length=h.digest_size), h())
        elif alg.startswith("rsa-pkcs1v15-"):
            key.verify(sig, msg, padding.PKCS1v15(), HASHES[alg.split("-")[2]]())
        else:
            raise ValueError("unknown algorithm " + alg)
    except InvalidSignature:
        return {"ok": False}
    return {"ok": True}


CURVES = {"p256": ec.SECP256R1, "p384": ec.SECP384R1, "p521": ec.SECP521R1}


def agree(req):
    peer = serialization.load_pem_public_key(req["peer_pem"].encode(), default_backend())
    curve = req["curve"]
    if curve == "x25519":
        if not isinstance(peer, x25519.X25519PublicKey):
            raise TypeError("peer is not an X25519 key")
        key = x25519.X25519PrivateKey.generate()
        shared = key.exchange(peer)
    elif curve in CURVES:
        key = ec.generate_private_key(CURVES[curve](), default_backend())
        shared = key.exchange(ec.ECDH(), peer)
    elif curve == "dh":
        params = serialization.load_pem_parameters(req["params_pem"].encode(), default_backend())
        key = params.generate_private_key()
        shared = key.exchange(peer)
    else:
        raise ValueError("unknown curve " + curve)
    return {"public_pem": public_pem(key.public_key()), "shared_b64": b64(shared)}


OPS = {
    "seed-aes-migrate": seed_aes_migrate,
    "seed-aes-encrypt": seed_aes_encrypt,
    "seed-aes-decrypt": seed_aes_decrypt,
    "seed-rsa-migrate": seed_rsa_migrate,
    "seed-rsa-decrypt": seed_rsa_decrypt,
    "rsa-encrypt": rsa_encrypt,
    "verify": verify,
    "agree": agree,
}


def main():
    json.dump([OPS[req["op"]](req) for req in json.load(sys.stdin)], sys.stdout)


if __name__ == "__main__":
    main()
