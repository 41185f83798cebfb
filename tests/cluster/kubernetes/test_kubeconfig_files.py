"""Which kubeconfig files and context a client outside the cluster uses: kubectl's rules."""

from __future__ import annotations

from pathlib import Path

import yaml

from license_service.cluster.kubernetes.kubeconfig_files import kubeconfig_files


def kubeconfig(path: Path, *, current: str | None, contexts: tuple[str, ...] = ()) -> Path:
    """A kubeconfig at ``path`` with these contexts (each its own cluster and user)."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": c, "cluster": {"server": f"https://{c}:6443"}} for c in contexts],
        "users": [{"name": c, "user": {"token": "t"}} for c in contexts],
        "contexts": [{"name": c, "context": {"cluster": c, "user": c}} for c in contexts],
    }
    if current is not None:
        document["current-context"] = current
    path.write_text(yaml.safe_dump(document))
    return path


def test_a_given_file_wins_over_the_environment(tmp_path: Path) -> None:
    given = kubeconfig(tmp_path / "given", current="a", contexts=("a",))

    files = kubeconfig_files(given, environ={"KUBECONFIG": str(tmp_path / "other")})

    assert files.existing == (given,)
    assert files.describe() == f"kubeconfig {given}"
    assert files.current_context() == "a"


def test_kubeconfig_lists_files_missing_ones_skipped_and_the_first_current_context_wins(
    tmp_path: Path,
) -> None:
    first = kubeconfig(tmp_path / "first", current="staging", contexts=("staging",))
    second = kubeconfig(tmp_path / "second", current="prod", contexts=("prod",))
    listed = f"{tmp_path / 'missing'}:{first}::{second}"

    files = kubeconfig_files(None, environ={"KUBECONFIG": listed, "HOME": str(tmp_path)})

    assert files.existing == (first, second)
    assert files.current_context() == "staging"  # kubectl: the first file that sets it
    assert files.describe() == f"kubeconfig {first}:{second} ($KUBECONFIG)"
    assert files.problem() is None


def test_a_file_without_current_context_leaves_it_to_the_next(tmp_path: Path) -> None:
    first = kubeconfig(tmp_path / "first", current=None, contexts=("a",))
    second = kubeconfig(tmp_path / "second", current="b", contexts=("b",))

    files = kubeconfig_files(None, environ={"KUBECONFIG": f"{first}:{second}"})

    assert files.current_context() == "b"


def test_without_kubeconfig_the_home_directorys_file_is_used(tmp_path: Path) -> None:
    (tmp_path / ".kube").mkdir()
    default = kubeconfig(tmp_path / ".kube" / "config", current="home", contexts=("home",))

    for environ in ({"HOME": str(tmp_path)}, {"HOME": str(tmp_path), "KUBECONFIG": ""}):
        files = kubeconfig_files(None, environ=environ)
        assert files.existing == (default,)
        assert files.describe() == f"kubeconfig {default} (~/.kube/config)"


def test_when_no_file_exists_the_problem_names_them_and_the_fix(tmp_path: Path) -> None:
    listed = kubeconfig_files(None, environ={"KUBECONFIG": f"{tmp_path}/a:{tmp_path}/b"})
    home = kubeconfig_files(None, environ={"HOME": str(tmp_path)})
    given = kubeconfig_files(tmp_path / "nope.cfg")

    assert listed.problem() == (
        f"$KUBECONFIG names {tmp_path}/a, {tmp_path}/b, but no such file exists; fix "
        "$KUBECONFIG or give --kubeconfig FILE"
    )
    assert home.problem() == (
        f"{tmp_path}/.kube/config does not exist; give --kubeconfig FILE or set $KUBECONFIG"
    )
    assert given.problem() == (
        f"--kubeconfig {tmp_path}/nope.cfg: no such file; give the path of a kubeconfig"
    )
