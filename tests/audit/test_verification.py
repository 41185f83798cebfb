"""``verify_snapshot`` checks a snapshot as an auditor would and names every file that fails."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from license_service.audit.verification import verify_snapshot
from license_service.errors import InputError, SnapshotVerificationError
from license_service.signing.keys import SigningKey

SUFFIX = "2026-11-01_2026-11-03_cluster-a"
PRODUCTS = f"products_{SUFFIX}.csv"
DAILY = f"products_daily_{SUFFIX}.csv"
SERVICES = f"services_{SUFFIX}.csv"


def rewritten(
    source: Path,
    target: Path,
    *,
    replace: dict[str, bytes] | None = None,
    remove: tuple[str, ...] = (),
    add: dict[str, bytes] | None = None,
) -> Path:
    """A copy of the zip ``source`` with some files replaced, removed or added."""
    replace = replace or {}
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for name in original.namelist():
            if name not in remove:
                copy.writestr(name, replace.get(name, original.read(name)))
        for name, data in (add or {}).items():
            copy.writestr(name, data)
    return target


def read(zip_path: Path, name: str) -> bytes:
    with zipfile.ZipFile(zip_path) as archive:
        return archive.read(name)


def problems(report_findings: object) -> list[str]:
    return [str(finding) for finding in report_findings]  # type: ignore[attr-defined]


def test_an_untouched_snapshot_passes_every_check(
    golden_zip: Path, signing_key: SigningKey
) -> None:
    report = verify_snapshot(golden_zip)
    assert report.ok
    assert report.findings == ()
    assert len(report.files) == 11
    assert report.verified == report.files
    assert report.key_fingerprint == signing_key.fingerprint
    assert not report.trusted_key


def test_a_snapshot_signed_by_the_trusted_key_passes(
    golden_zip: Path, signing_key: SigningKey
) -> None:
    report = verify_snapshot(golden_zip, public_key_pem=signing_key.public_pem())
    assert report.ok
    assert report.trusted_key


def test_a_changed_csv_is_named_with_its_checksum_mismatch(
    golden_zip: Path, tmp_path: Path
) -> None:
    changed = read(golden_zip, PRODUCTS).replace(b",6,cluster-a", b",5,cluster-a")
    tampered = rewritten(golden_zip, tmp_path / "t.zip", replace={PRODUCTS: changed})
    report = verify_snapshot(tampered)
    assert not report.ok
    assert [finding.file for finding in report.findings] == [PRODUCTS]
    assert "does not match" in report.findings[0].problem
    assert "changed after the snapshot was signed" in report.findings[0].problem
    assert PRODUCTS not in report.verified


def test_a_checksum_txt_fitted_to_a_changed_csv_fails_the_signature(
    golden_zip: Path, tmp_path: Path
) -> None:
    original = read(golden_zip, PRODUCTS)
    changed = original.replace(b",6,cluster-a", b",5,cluster-a")
    checksums = read(golden_zip, "checksum.txt").replace(
        hashlib.sha256(original).hexdigest().encode(), hashlib.sha256(changed).hexdigest().encode()
    )
    tampered = rewritten(
        golden_zip,
        tmp_path / "t.zip",
        replace={PRODUCTS: changed, "checksum.txt": checksums},
    )
    report = verify_snapshot(tampered)
    assert [finding.file for finding in report.findings] == ["signature.rsa"]
    assert "is not a valid signature of checksum.txt" in report.findings[0].problem


def test_a_missing_file_is_named(golden_zip: Path, tmp_path: Path) -> None:
    report = verify_snapshot(rewritten(golden_zip, tmp_path / "t.zip", remove=(DAILY,)))
    assert problems(report.findings) == [f"{DAILY}: missing from the snapshot"]


def test_a_missing_signature_is_named(golden_zip: Path, tmp_path: Path) -> None:
    report = verify_snapshot(rewritten(golden_zip, tmp_path / "t.zip", remove=("signature.rsa",)))
    assert problems(report.findings) == ["signature.rsa: missing from the snapshot"]


def test_an_extra_file_is_named_as_unexpected(golden_zip: Path, tmp_path: Path) -> None:
    report = verify_snapshot(
        rewritten(golden_zip, tmp_path / "t.zip", add={"notes.txt": b"trust me"})
    )
    assert [finding.file for finding in report.findings] == ["notes.txt"]
    assert report.findings[0].problem.startswith("unexpected file: not part of a snapshot")


def test_a_file_listed_twice_in_the_zip_is_named(golden_zip: Path, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        doubled = rewritten(golden_zip, tmp_path / "t.zip", add={SERVICES: b"other\r\n"})
    report = verify_snapshot(doubled)
    assert any(
        finding.file == SERVICES and "appears 2 times" in finding.problem
        for finding in report.findings
    )


def test_a_wrong_trusted_key_fails_the_key_and_the_signature(
    golden_zip: Path, other_signing_key: SigningKey
) -> None:
    report = verify_snapshot(golden_zip, public_key_pem=other_signing_key.public_pem())
    assert [finding.file for finding in report.findings] == ["pub_key.pem", "signature.rsa"]
    assert f"not the trusted key {other_signing_key.fingerprint}" in report.findings[0].problem
    assert "by the trusted key" in report.findings[1].problem
    assert report.key_fingerprint == other_signing_key.fingerprint


def test_a_snapshot_re_signed_by_another_key_passes_alone_but_not_against_the_trusted_key(
    golden_zip: Path, tmp_path: Path, signing_key: SigningKey, other_signing_key: SigningKey
) -> None:
    checksums = read(golden_zip, "checksum.txt")
    forged = rewritten(
        golden_zip,
        tmp_path / "t.zip",
        replace={
            "signature.rsa": other_signing_key.sign(checksums),
            "pub_key.pem": other_signing_key.public_pem(),
        },
    )
    assert verify_snapshot(forged).ok
    report = verify_snapshot(forged, public_key_pem=signing_key.public_pem())
    assert [finding.file for finding in report.findings] == ["pub_key.pem", "signature.rsa"]


def test_a_damaged_public_key_is_named(golden_zip: Path, tmp_path: Path) -> None:
    report = verify_snapshot(
        rewritten(golden_zip, tmp_path / "t.zip", replace={"pub_key.pem": b"not a key"})
    )
    assert [finding.file for finding in report.findings] == ["pub_key.pem"]
    assert "is not a PEM public key" in report.findings[0].problem
    assert report.key_fingerprint is None


def test_a_malformed_checksum_line_and_an_unlisted_file_are_named(
    golden_zip: Path, tmp_path: Path
) -> None:
    lines = read(golden_zip, "checksum.txt").split(b"\n")
    broken = b"\n".join([lines[0], b"oops", *lines[2:]])
    report = verify_snapshot(
        rewritten(golden_zip, tmp_path / "t.zip", replace={"checksum.txt": broken})
    )
    assert problems(report.findings)[:2] == [
        "checksum.txt: line 2 'oops' is not '<64 hex digits>  <file name>'",
        f"{DAILY}: not listed in checksum.txt, so nothing vouches for it",
    ]
    assert report.findings[-1].file == "signature.rsa"


def test_a_renamed_snapshot_is_checked_by_the_names_inside(
    golden_zip: Path, tmp_path: Path
) -> None:
    renamed = tmp_path / "q4-audit.zip"
    renamed.write_bytes(golden_zip.read_bytes())
    assert verify_snapshot(renamed).ok


def test_without_csv_files_the_expected_names_come_from_the_zip_name(
    golden_zip: Path, tmp_path: Path
) -> None:
    name = "license-service-snapshot_cluster-a_2026-11-01_2026-11-03.zip"
    csv_names = [f"{prefix}_{SUFFIX}.csv" for prefix in ("products", "products_daily")]
    csv_names += [f"{prefix}_{SUFFIX}.csv" for prefix in ("bundled_products", "services")]
    csv_names.insert(3, f"bundled_products_daily_{SUFFIX}.csv")
    report = verify_snapshot(rewritten(golden_zip, tmp_path / name, remove=tuple(csv_names)))
    assert [finding.file for finding in report.findings][:5] == csv_names


def test_a_file_that_is_not_a_zip_cannot_be_verified(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.zip"
    path.write_bytes(b"PK but not really")
    with pytest.raises(
        SnapshotVerificationError, match=r"cannot read .* as a zip archive"
    ) as raised:
        verify_snapshot(path)
    assert isinstance(raised.value, InputError)


def test_a_missing_file_cannot_be_verified(tmp_path: Path) -> None:
    with pytest.raises(SnapshotVerificationError, match="as a zip archive"):
        verify_snapshot(tmp_path / "absent.zip")


def test_a_trusted_key_that_is_not_a_public_key_is_refused(golden_zip: Path) -> None:
    with pytest.raises(SnapshotVerificationError, match="trusted public key is not a PEM"):
        verify_snapshot(golden_zip, public_key_pem=b"-----BEGIN NOTHING-----")


COMPLIANCE = f"compliance_{SUFFIX}.csv"


def _without_compliance(golden_zip: Path, target: Path, signing_key: SigningKey) -> Path:
    """The golden snapshot as a version before SPEC 13 wrote it: no compliance file."""
    checksums = b"".join(
        line + b"\n"
        for line in read(golden_zip, "checksum.txt").splitlines()
        if not line.endswith(COMPLIANCE.encode())
    )
    return rewritten(
        golden_zip,
        target,
        remove=(COMPLIANCE,),
        replace={"checksum.txt": checksums, "signature.rsa": signing_key.sign(checksums)},
    )


def test_a_snapshot_of_a_version_before_the_compliance_file_still_verifies(
    golden_zip: Path, tmp_path: Path, signing_key: SigningKey
) -> None:
    older = _without_compliance(golden_zip, tmp_path / "t.zip", signing_key)
    report = verify_snapshot(older, public_key_pem=signing_key.public_pem())
    assert report.findings == ()


def test_a_compliance_file_left_out_of_checksum_txt_is_named(
    golden_zip: Path, tmp_path: Path, signing_key: SigningKey
) -> None:
    older = _without_compliance(golden_zip, tmp_path / "t.zip", signing_key)
    smuggled = rewritten(older, tmp_path / "s.zip", add={COMPLIANCE: read(golden_zip, COMPLIANCE)})
    report = verify_snapshot(smuggled)
    assert problems(report.findings) == [
        f"{COMPLIANCE}: not listed in checksum.txt, so nothing vouches for it"
    ]
