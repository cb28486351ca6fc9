"""The original Python KeyCustodian, rebuilt from its two READMEs
(shared/origin/*.txt) for the migration tests in interop_test.go.

It does what the READMEs say the module did, with Python cryptography:
secrets.token_bytes(32) AES keys; AES-256-CBC with PKCS7 padding and a fresh
random IV, returned as base64(IV || ciphertext); RSA-2048 with PKCS1v15
padding, returned as base64 of the RSA ciphertext; 2048-bit Diffie-Hellman;
revocation by deleting the key. Keys live in dictionaries, as in the
original. Only the standard library and cryptography are imported, so the
script runs on the cryptography 38 Debian ships as well as on newer ones.
"""

import base64
import secrets

from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.asymmetric import dh, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class KeyCustodian:
    def __init__(self):
        self.aes_keys = {}
        self.rsa_keys = {}

    def establish_aes_key(self, key_id):
        key = secrets.token_bytes(32)
        self.aes_keys[key_id] = key
        return key

    def encrypt_data_aes(self, key_id, plaintext):
        key = self.aes_keys[key_id]
        iv = secrets.token_bytes(16)
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext.encode()) + padder.finalize()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv), backend=default_backend()).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        return base64.b64encode(iv + ciphertext).decode()

    def decrypt_data_aes(self, key_id, encrypted):
        key = self.aes_keys[key_id]
        raw = base64.b64decode(encrypted)
        iv, ciphertext = raw[:16], raw[16:]
        decryptor = Cipher(algorithms.AES(key), modes.CBC(iv), backend=default_backend()).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode()

    def generate_rsa_pair(self, user):
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048, backend=default_backend())
        self.rsa_keys[user] = (private_key, private_key.public_key())
        return private_key.public_key()

    def encrypt_data_rsa(self, user, plaintext):
        _, public_key = self.rsa_keys[user]
        return base64.b64encode(public_key.encrypt(plaintext.encode(), asym_padding.PKCS1v15())).decode()

    def decrypt_data_rsa(self, user, encrypted):
        private_key, _ = self.rsa_keys[user]
        return private_key.decrypt(base64.b64decode(encrypted), asym_padding.PKCS1v15()).decode()

    def generate_diffie_hellman_params_and_key(self):
        parameters = dh.generate_parameters(generator=2, key_size=2048, backend=default_backend())
        private_key = parameters.generate_private_key()
        return private_key, private_key.public_key()

    def invalidate_key(self, key_id):
        if key_id in self.aes_keys:
            del self.aes_keys[key_id]
            return "Key Revocation Successful"
        if key_id in self.rsa_keys:
            del self.rsa_keys[key_id]
            return "Key Revocation Successful"
        return "Key Not Found"
