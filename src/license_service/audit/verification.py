"""Checking a snapshot as an auditor would (SPEC 5), file by file, naming every failure.

``verify_snapshot`` checks that the zip holds exactly the files of a snapshot, that
``checksum.txt`` lists every file it must with the right SHA-256, and that
``signature.rsa`` is a valid RSA PKCS#1 v1.5 SHA-256 signature of ``checksum.txt`` by
the key in ``pub_key.pem`` or, when given, by a trusted key (then ``pub_key.pem`` must
be that key too). It does what ``sha256sum -c`` and ``openssl dgst -verify`` do, without
extracting anything: entries are hashed as they are read, in chunks.

Each failed check is a ``Finding`` naming the file and why; the report is ``ok`` when
there is none. Only input that cannot be read at all (not a zip, an unusable trusted
key) raises ``SnapshotVerificationError``.

A Reporter's snapshot (SPEC 11: files ending in ``_all.csv``, each cluster's in
``clusters/<folder>/``, ``clusters.csv``) is checked the same way, its expected files
being those of the fleet and of every cluster folder in the zip: a folder taken out
leaves its lines in the signed ``checksum.txt``, which then lists files that are not
there.
"""

from __future__ import annotations

import collections
import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from license_service.audit.checksums import parse_checksum_file
from license_service.audit.fleet_snapshot_names import FleetSnapshotFiles, fleet_files_in
from license_service.audit.snapshot_names import (
    CHECKSUM_FILE,
    PUBLIC_KEY_FILE,
    SIGNATURE_FILE,
    SnapshotFiles,
    suffix_of_csv_name,
    suffix_of_snapshot_name,
)
from license_service.errors import SnapshotVerificationError
from license_service.message_values import listed
from license_service.signing.keys import KEY_BITS, public_key_fingerprint

READ_CHUNK_BYTES: Final = 1024 * 1024
# What reading a damaged, encrypted or oddly compressed entry raises.
_UNREADABLE_ENTRY: Final = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    NotImplementedError,
)
# checksum.txt, signature.rsa and pub_key.pem are a few kilobytes; refuse to load more.
SMALL_FILE_LIMIT: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Finding:
    """A failed check: the file concerned and what is wrong with it."""

    file: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.problem}"


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """The result of ``verify_snapshot``.

    ``files`` are the snapshot's expected files; ``verified`` those that passed their check
    (checksum matched; ``checksum.txt`` well formed and complete; ``signature.rsa`` valid;
    ``pub_key.pem`` a usable key, the trusted one when given);
    ``key_fingerprint`` the key the signature was checked with (``None`` if none could be
    read), ``trusted_key`` whether that key was given by the caller.
    """

    snapshot: Path
    files: tuple[str, ...]
    verified: tuple[str, ...]
    findings: tuple[Finding, ...]
    key_fingerprint: str | None
    trusted_key: bool

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.findings


def verify_snapshot(zip_path: Path, *, public_key_pem: bytes | None = None) -> VerificationReport:
    """Check the snapshot ``zip_path``; with ``public_key_pem``, it must be signed by that key."""
    trusted = None if public_key_pem is None else _trusted_key(public_key_pem)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            return _Verification(zip_path, archive, trusted).report()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise SnapshotVerificationError(
            f"cannot read {zip_path} as a zip archive: {exc}; give the .zip file that "
            "/snapshot or `license-service snapshot create` wrote"
        ) from exc


class _Verification:
    """The checks of one snapshot; findings gather in order."""

    def __init__(
        self, path: Path, archive: zipfile.ZipFile, trusted: rsa.RSAPublicKey | None
    ) -> None:
        self._path = path
        self._archive = archive
        self._trusted = trusted
        self._findings: list[Finding] = []
        self._passed: set[str] = set()
        self._names = [info.filename for info in archive.infolist()]
        # A chargeback snapshot (SPEC 8) holds the groups' files: judged by their presence.
        fleet = fleet_files_in(self._names)
        self._files: SnapshotFiles | FleetSnapshotFiles = (
            fleet
            if fleet is not None
            else SnapshotFiles(
                self._suffix(),
                any(name.startswith("chargeback_products_") for name in self._names),
            )
        )

    def report(self) -> VerificationReport:
        present = self._check_names()
        self._check_checksums(present)
        fingerprint = self._check_signature(present)
        failed = {finding.file for finding in self._findings}
        return VerificationReport(
            snapshot=self._path,
            files=self._files.every_file,
            verified=tuple(
                name
                for name in self._files.every_file
                if name in self._passed and name not in failed
            ),
            findings=tuple(self._findings),
            key_fingerprint=fingerprint,
            trusted_key=self._trusted is not None,
        )

    def _find(self, file: str, problem: str) -> None:
        self._findings.append(Finding(file, problem))

    def _suffix(self) -> str:
        """The ``<s>`` of the CSV names: from the CSV files inside, else from the zip name."""
        found = collections.Counter(
            suffix for name in self._names if (suffix := suffix_of_csv_name(name)) is not None
        )
        if found:
            return found.most_common(1)[0][0]
        return suffix_of_snapshot_name(self._path.name) or "<dateFrom>_<dateTo>_<clusterId>"

    def _check_names(self) -> set[str]:
        """Report missing, unexpected and repeated entries; return the expected ones present."""
        expected = self._files.every_file
        counts = collections.Counter(self._names)
        # A zip made again from the extracted files may hold entries of its folders.
        folders = {
            name[: index + 1] for name in expected for index, c in enumerate(name) if c == "/"
        }
        for name in expected:
            if name not in counts and name not in self._files.added_later:
                self._find(name, "missing from the snapshot")
        for name, count in counts.items():
            if name in folders:
                continue
            if name not in expected:
                self._find(name, f"unexpected file: {_expected_text(self._files)}")
            elif count > 1:
                self._find(name, f"appears {count} times in the zip: which one is meant is unclear")
        return {name for name in expected if counts.get(name) == 1}

    def _check_checksums(self, present: set[str]) -> None:
        if CHECKSUM_FILE not in present:
            return
        data = self._small(CHECKSUM_FILE)
        if data is None:
            return
        self._passed.add(CHECKSUM_FILE)
        parsed = parse_checksum_file(data)
        for problem in parsed.problems:
            self._find(CHECKSUM_FILE, problem)
        listed: dict[str, str] = {}
        for line in parsed.lines:
            if line.name in listed:
                self._find(CHECKSUM_FILE, f"lists {line.name} twice")
            listed[line.name] = line.digest
        must_list = self._files.checksummed
        for name in listed:
            if name not in must_list:
                self._find(
                    CHECKSUM_FILE,
                    f"lists {name}, which is not a checksummed file of a snapshot "
                    f"(those are {', '.join(must_list)})",
                )
        for name in must_list:
            if name not in listed and name in self._files.added_later and name not in present:
                continue  # a snapshot of a version before this file existed
            if name not in listed:
                self._find(name, "not listed in checksum.txt, so nothing vouches for it")
                self._passed.discard(CHECKSUM_FILE)
                continue
            if name not in present:
                continue
            actual = self._sha256(name)
            if actual is None:
                continue
            if actual != listed[name]:
                self._find(
                    name,
                    f"SHA-256 {actual} does not match {listed[name]} in checksum.txt: "
                    "the file was changed after the snapshot was signed",
                )
            else:
                self._passed.add(name)

    def _check_signature(self, present: set[str]) -> str | None:
        key = self._signing_key(present)
        if key is None:
            return None
        fingerprint = _fingerprint(key)
        if not {CHECKSUM_FILE, SIGNATURE_FILE} <= present:
            return fingerprint
        checksums = self._small(CHECKSUM_FILE)
        signature = self._small(SIGNATURE_FILE)
        if checksums is None or signature is None:
            return fingerprint
        whose = "the trusted key" if self._trusted is not None else f"the key in {PUBLIC_KEY_FILE}"
        try:
            key.verify(signature, checksums, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            self._find(
                SIGNATURE_FILE,
                f"is not a valid signature of {CHECKSUM_FILE} by {whose} ({fingerprint}): "
                f"{CHECKSUM_FILE} or {SIGNATURE_FILE} was changed after signing, or another "
                "key signed them",
            )
        else:
            self._passed.add(SIGNATURE_FILE)
        return fingerprint

    def _signing_key(self, present: set[str]) -> rsa.RSAPublicKey | None:
        """The key to check the signature with: the trusted one, else the one inside."""
        inside = None
        if PUBLIC_KEY_FILE in present:
            data = self._small(PUBLIC_KEY_FILE)
            if data is not None:
                inside = self._public_key_inside(data)
        if inside is not None:
            self._passed.add(PUBLIC_KEY_FILE)
        if self._trusted is None:
            return inside
        if inside is not None and _fingerprint(inside) != _fingerprint(self._trusted):
            self._find(
                PUBLIC_KEY_FILE,
                f"is key {_fingerprint(inside)}, not the trusted key {_fingerprint(self._trusted)}",
            )
        return self._trusted

    def _public_key_inside(self, data: bytes) -> rsa.RSAPublicKey | None:
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            self._find(PUBLIC_KEY_FILE, f"is not a PEM public key ({exc})")
            return None
        if not isinstance(key, rsa.RSAPublicKey):
            self._find(PUBLIC_KEY_FILE, f"holds a {type(key).__name__}, not an RSA key")
            return None
        if key.key_size < KEY_BITS:
            self._find(
                PUBLIC_KEY_FILE,
                f"is an RSA key of {key.key_size} bits; snapshots are signed with "
                f"{KEY_BITS} bits or more",
            )
        return key

    def _small(self, name: str) -> bytes | None:
        """The bytes of a small entry, or ``None`` (with a finding) when it cannot be read."""
        info = self._archive.getinfo(name)
        if info.file_size > SMALL_FILE_LIMIT:
            self._find(name, f"is {info.file_size} bytes, far more than such a file holds")
            return None
        try:
            return self._archive.read(name)
        except _UNREADABLE_ENTRY as exc:
            self._find(name, f"cannot be read from the zip: {exc}")
            return None

    def _sha256(self, name: str) -> str | None:
        """The SHA-256 of an entry, read in chunks; ``None`` (with a finding) if unreadable."""
        digest = hashlib.sha256()
        try:
            with self._archive.open(name) as entry:
                while chunk := entry.read(READ_CHUNK_BYTES):
                    digest.update(chunk)
        except _UNREADABLE_ENTRY as exc:
            self._find(name, f"cannot be read from the zip: {exc}")
            return None
        return digest.hexdigest()


def _trusted_key(data: bytes) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SnapshotVerificationError(
            f"the trusted public key is not a PEM public key ({exc}): give the pub_key.pem "
            "of a snapshot you trust, or the key the service shows"
        ) from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise SnapshotVerificationError(
            f"the trusted public key is a {type(key).__name__}, not an RSA key: snapshots "
            "are signed with RSA"
        )
    return key


def _fingerprint(key: rsa.RSAPublicKey) -> str:
    return public_key_fingerprint(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _expected_text(files: SnapshotFiles | FleetSnapshotFiles) -> str:
    return f"not part of a snapshot, which holds only {listed(files.every_file)}"
