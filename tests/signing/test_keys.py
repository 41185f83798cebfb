"""The signing key is generated once, kept with mode 0600, reused, and never silently replaced."""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from license_service.errors import AuditError
from license_service.signing.file_store import SIGNING_KEY_FILE, SigningKeyFile
from license_service.signing.keys import KEY_BITS, SigningKey
from tests.audit.conftest import TEST_KEY_FILE


def test_a_missing_key_is_generated_with_mode_0600_and_reused_afterwards(tmp_path: Path) -> None:
    path = tmp_path / SIGNING_KEY_FILE
    created = SigningKeyFile(path).load_or_create()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = path.read_bytes()
    again = SigningKeyFile(path).load_or_create()
    assert again.fingerprint == created.fingerprint
    assert path.read_bytes() == stored
    assert [entry.name for entry in tmp_path.iterdir()] == [SIGNING_KEY_FILE]
    public = serialization.load_pem_public_key(created.public_pem())
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == KEY_BITS == 3072


def test_a_key_created_meanwhile_by_another_process_wins(
    tmp_path: Path,
    signing_key: SigningKey,
    other_signing_key: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / SIGNING_KEY_FILE

    def generate_while_another_process_stores_its_key() -> SigningKey:
        shutil.copyfile(TEST_KEY_FILE, path)
        return other_signing_key

    monkeypatch.setattr(SigningKey, "generate", generate_while_another_process_stores_its_key)
    assert SigningKeyFile(path).load_or_create().fingerprint == signing_key.fingerprint
    assert path.read_bytes() == TEST_KEY_FILE.read_bytes()
    assert [entry.name for entry in tmp_path.iterdir()] == [SIGNING_KEY_FILE]


def test_an_existing_key_file_is_used_as_it_is(tmp_path: Path, signing_key: SigningKey) -> None:
    path = tmp_path / SIGNING_KEY_FILE
    shutil.copyfile(TEST_KEY_FILE, path)
    assert SigningKeyFile(path).load_or_create().fingerprint == signing_key.fingerprint
    assert path.read_bytes() == TEST_KEY_FILE.read_bytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "is not an unencrypted PEM private key", id="empty"),
        pytest.param(b"-----BEGIN PRIVATE KEY-----\ngarbage\n", "is not an unencrypted", id="cut"),
        pytest.param(b"not a key at all", "restore the key from a backup", id="text"),
    ],
)
def test_a_corrupt_key_file_is_an_error_not_a_new_key(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / SIGNING_KEY_FILE
    path.write_bytes(content)
    with pytest.raises(AuditError, match=message) as raised:
        SigningKeyFile(path).load_or_create()
    assert str(path) in str(raised.value)
    assert path.read_bytes() == content


def test_a_key_that_is_not_rsa_is_refused(tmp_path: Path) -> None:
    path = tmp_path / SIGNING_KEY_FILE
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(AuditError, match="not an RSA key"):
        SigningKeyFile(path).load_or_create()


def test_an_rsa_key_shorter_than_3072_bits_is_refused() -> None:
    short = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(AuditError, match="2048 bits is too short"):
        SigningKey(short)


def test_a_key_cannot_be_created_in_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(AuditError, match=r"directory .*missing does not exist"):
        SigningKeyFile(tmp_path / "missing" / SIGNING_KEY_FILE).load_or_create()


def test_a_signature_is_pkcs1_v15_sha256_over_the_data(signing_key: SigningKey) -> None:
    public = serialization.load_pem_public_key(signing_key.public_pem())
    assert isinstance(public, rsa.RSAPublicKey)
    signature = signing_key.sign(b"checksums")
    public.verify(signature, b"checksums", padding.PKCS1v15(), hashes.SHA256())
    assert len(signature) == 384


def test_the_fingerprint_is_the_sha256_of_the_der_public_key(
    signing_key: SigningKey, tmp_path: Path
) -> None:
    public = serialization.load_pem_public_key(signing_key.public_pem())
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert signing_key.fingerprint == "SHA256:" + hashlib.sha256(der).hexdigest()
    if shutil.which("openssl") is None:
        return
    # The recipe data_condition.txt gives auditors.
    pem = tmp_path / "pub_key.pem"
    pem.write_bytes(signing_key.public_pem())
    der_out = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", str(pem), "-outform", "DER"],
        capture_output=True,
        check=True,
    ).stdout
    assert signing_key.fingerprint == "SHA256:" + hashlib.sha256(der_out).hexdigest()


def test_the_repr_shows_the_fingerprint_and_no_key_material(signing_key: SigningKey) -> None:
    assert repr(signing_key) == f"SigningKey({signing_key.fingerprint})"
