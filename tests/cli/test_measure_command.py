"""`license-service measure` gives the SPEC's numbers for kubectl dumps.

The fixture dump tests/fixtures/dumps/cluster.json, worked out by hand (SPEC 2.3-2.6):

  nodes: worker-a 4 CPUs, worker-b 8 CPUs (label pvu-per-core 100), worker-c 2 CPUs.

  IBM MQ Advanced (VPC, all containers charged):
    qm-prod-ibm-mq-0 on worker-c: qmgr 3 + metrics 500m = 3500m, capped at 2 CPUs = 2000m
    qm-prod-ibm-mq-1 on worker-a: qmgr 1500m + metrics 500m              = 2000m
    qm-backup-...    on worker-b: 4 CPUs, but phase Succeeded            -> not counted
    threadsPerCore 1: 4000m -> 4 VPC | threadsPerCore 2: 4000m / 2 -> 2 VPC
    without capping: 3500m + 2000m = 5500m -> 6 VPC

  IBM WebSphere Application Server (PVU) on worker-b, rated 100:
    1500m x 100 = 150 PVU | threadsPerCore 2: 750m x 100 -> 75 PVU

  IBM Cloud Pak for Integration (VPC), two bundled products:
    App Connect Enterprise, ratio 2:1, both pods on worker-b:
      ace-dashboard: runtime 1500m + sidecar init container log-shipper 1
                     (restartPolicy Always; the init container "setup", 4 CPUs, is not counted)
      ace-server:    runtime 500m                  -> 3000m -> measured 3 -> converted 3 x 1/2 = 1.5
      threadsPerCore 2: 3000m / 2 = 1.5 -> measured 2 -> converted 1
    API Connect, ratio 1:1, on worker-a, productChargedContainers "!istio-proxy":
      gateway 2 (istio-proxy 1 excluded)           -> measured 2 -> converted 2
      threadsPerCore 2: 1 -> converted 1; its service "API Gateway" has the same values
    Cloud Pak: 1.5 + 2 = 3.5 -> 4 VPC | threadsPerCore 2: 1 + 1 = 2 VPC

  apps/inventory-api-...: cloudpakId without cloudpakName, no productMetric, ratio "two:1"
    -> not counted, listed with its three problems; the exit code stays 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from license_service.cli.app import build_app

ROOT = Path(__file__).parent.parent.parent
DUMP = ROOT / "tests" / "fixtures" / "dumps" / "cluster.json"
YAML_DUMP = ROOT / "tests" / "fixtures" / "dumps" / "cluster.yaml"
CONFIG = ROOT / "tests" / "fixtures" / "config"
EXAMPLE = ROOT / "src" / "license_service" / "cluster" / "examples" / "cluster-dump.json"

CP4I = "c8b82d189e7545f0892db9ef2731b90d"
MQ = "c661609261d5471fb4ff8970a36bccea"
WAS = "e7bd6a0ba1ea4e2d9e1bb7c8a7b0a1f3"
ACE = "2ec59ac2d0a54a0b8c5e52b4e9e7ab1f"
APIC = "2c717d4ecc924aa5ac345015b55492eb"


def run(*args: str, input: str | None = None, columns: int = 80) -> Any:
    return CliRunner().invoke(build_app(), list(args), input=input, env={"COLUMNS": str(columns)})


def measured_json(*args: str) -> dict[str, Any]:
    result = run("measure", *args, "--output", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def quantities(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "products": {row["id"]: row["metricQuantity"] for row in document["products"]},
        "bundled": {
            row["productId"]: (row["metricMeasuredQuantity"], row["metricConvertedQuantity"])
            for row in document["bundledProducts"]
        },
        "services": {row["serviceId"]: row["serviceMetricValue"] for row in document["services"]},
    }


def test_the_fixture_dump_gives_the_numbers_worked_out_by_hand() -> None:
    document = measured_json(str(DUMP))

    assert quantities(document) == {
        "products": {CP4I: 4, MQ: 4, WAS: 150},
        "bundled": {ACE: (3, 1.5), APIC: (2, 2)},
        "services": {"apic-gateway": 2},
    }
    assert document["incompleteAnnotations"] == {
        "count": 1,
        "pods": [
            {
                "namespace": "apps",
                "name": "inventory-api-7b5d9c6f4-zr2lp",
                "problems": [
                    {
                        "annotation": "cloudpakName",
                        "reason": "missing: required when cloudpakId is set",
                    },
                    {
                        "annotation": "productCloudpakRatio",
                        "reason": "ratio 'two:1': the product side 'two' is not a positive number; "
                        "write e.g. '2:1' or '1:1.5'",
                    },
                    {"annotation": "productMetric", "reason": "missing"},
                ],
            }
        ],
    }
    assert document["unmeasuredMetrics"] == []
    assert document["unknownNodes"] == []
    assert document["warnings"] == []


def test_the_json_output_is_one_object_with_the_spec_keys() -> None:
    document = measured_json(str(DUMP))

    assert list(document) == [
        "products",
        "bundledProducts",
        "services",
        "incompleteAnnotations",
        "unmeasuredMetrics",
        "unknownNodes",
        "warnings",
    ]
    assert document["products"][0] == {
        "name": "IBM Cloud Pak for Integration",
        "id": CP4I,
        "metricName": "VIRTUAL_PROCESSOR_CORE",
        "metricQuantity": 4,
    }
    assert document["bundledProducts"][1] == {
        "productName": "IBM App Connect Enterprise",
        "productId": ACE,
        "cloudpakId": CP4I,
        "cloudpakName": "IBM Cloud Pak for Integration",
        "cloudpakVersion": "2023.4.1",
        "cloudpakMetricName": "VIRTUAL_PROCESSOR_CORE",
        "metricName": "VIRTUAL_PROCESSOR_CORE",
        "metricMeasuredQuantity": 3,
        "metricConversion": "2:1",
        "metricConvertedQuantity": 1.5,
    }
    assert document["services"] == [
        {
            "cloudpakId": CP4I,
            "cloudpakMetricName": "VIRTUAL_PROCESSOR_CORE",
            "productName": "IBM API Connect",
            "productId": APIC,
            "metricName": "VIRTUAL_PROCESSOR_CORE",
            "serviceName": "API Gateway",
            "serviceId": "apic-gateway",
            "serviceMetricValue": 2,
        }
    ]


def test_threads_per_core_2_from_the_config_halves_the_cores() -> None:
    document = measured_json(str(DUMP), "--config", str(CONFIG / "ibmlicensing-threads-2.yaml"))

    assert quantities(document) == {
        "products": {CP4I: 2, MQ: 2, WAS: 75},
        "bundled": {ACE: (2, 1), APIC: (1, 1)},
        "services": {"apic-gateway": 1},
    }
    # The fields the saved resource holds for IBM's operator are neither fatal nor warned about.
    assert document["warnings"] == []


def test_capping_switched_off_by_the_config_counts_limits_beyond_the_node() -> None:
    document = measured_json(str(DUMP), "-c", str(CONFIG / "ibmlicensing-no-capping.yaml"))

    assert quantities(document)["products"] == {CP4I: 4, MQ: 6, WAS: 150}


def test_the_yaml_dump_and_standard_input_give_the_same_numbers() -> None:
    from_json = measured_json(str(DUMP))

    assert measured_json(str(YAML_DUMP)) == from_json
    result = run("measure", "-", "-o", "json", input=YAML_DUMP.read_text())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == from_json


def test_the_table_output_lists_every_section_and_the_problems() -> None:
    result = run("measure", str(DUMP), columns=160)

    assert result.exit_code == 0, result.output
    output = result.stdout
    assert output.startswith(
        "Cluster c87e24a7-b69a-5dcd-ac8d-571b2faabde7: 3 nodes, 9 pods (8 running)"
    )
    for expected in (
        "Products",
        "IBM MQ Advanced",
        "PROCESSOR_VALUE_UNIT",
        "Bundled products of IBM Cloud Pak for Integration",
        "2:1",
        "1.5",
        "Services",
        "API Gateway",
        "Pods not counted: incomplete annotations (1)",
        "apps/inventory-api-7b5d9c6f4-zr2lp",
        "cloudpakName",
        "productMetric",
    ):
        assert expected in output
    assert "No problems found" not in output


def test_a_narrow_terminal_folds_ids_instead_of_cutting_them() -> None:
    result = run("measure", str(DUMP), columns=60)

    assert result.exit_code == 0, result.output
    assert "Pods not counted: incomplete annotations (1)" in result.stdout
    assert "…" not in result.stdout


def test_the_bundled_example_measures_with_its_documented_numbers() -> None:
    # cluster/examples/cluster-dump.json: MQ 2 + 2 (metrics sidecars not charged) = 4;
    # ACE 2:1: (1 + 500m sidecar) x 2 pods = 3 -> 1.5; API Connect 1:1: gateway 4 capped at
    # the 2-CPU node + 1 = 3 -> 3; Cloud Pak 1.5 + 3 = 4.5 -> 5; WebSphere 1500m x 70 = 105 PVU.
    document = measured_json(str(EXAMPLE))

    assert quantities(document) == {
        "products": {CP4I: 5, MQ: 4, WAS: 105},
        "bundled": {ACE: (3, 1.5), APIC: (3, 3)},
        "services": {"apic-gateway": 3},
    }
    assert document["incompleteAnnotations"]["count"] == 1


def test_a_dump_without_problems_says_so(tmp_path: Path) -> None:
    # Drop the namespace "apps" and its pods, among them the one with broken annotations.
    items = [
        item
        for item in json.loads(DUMP.read_text())["items"]
        if item["metadata"].get("namespace", item["metadata"]["name"]) != "apps"
    ]
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

    result = run("measure", str(clean))

    assert result.exit_code == 0, result.output
    assert "No problems found." in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["measure", "missing.json"], "license-service: error: missing.json: no such file;"),
        (
            ["measure", str(DUMP), "--config", str(CONFIG / "ibmlicensing-invalid.yaml")],
            "license-service: error: "
            f"{CONFIG / 'ibmlicensing-invalid.yaml'}: "
            "IBMLicensing 'instance' is invalid (2 problems)",
        ),
        (
            ["measure", str(DUMP), "--config", "absent.yaml"],
            "absent.yaml: configuration file not found",
        ),
    ],
    ids=["missing-dump", "invalid-config", "missing-config"],
)
def test_an_unusable_input_exits_2_with_one_line_on_stderr(args: list[str], message: str) -> None:
    result = run(*args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_malformed_dump_on_stdin_is_named_stdin() -> None:
    result = run("measure", "-", input='{"kind": "List", "items": [{"metadata": {}}]}')

    assert result.exit_code == 2
    assert result.stderr == (
        "license-service: error: <stdin>: items[0] has no kind; a List needs the kind of every "
        "item (kubectl writes it)\n"
    )


def test_an_unknown_output_format_is_a_usage_error() -> None:
    result = run("measure", str(DUMP), "--output", "xml")

    assert result.exit_code == 2
    assert "xml" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["measure", "--help"]])
def test_help_works_with_nothing_running(args: list[str]) -> None:
    result = run(*args)

    assert result.exit_code == 0
    assert "measure" in result.stdout
    assert "Usage" in result.stdout


def test_the_version_is_printed() -> None:
    result = run("--version")

    assert result.exit_code == 0
    assert result.stdout.startswith("license-service ")


@pytest.mark.parametrize(
    "command",
    [
        [str(Path(sys.executable).with_name("license-service"))],
        [sys.executable, "-m", "license_service"],
    ],
    ids=["console-script", "python-m"],
)
def test_the_installed_command_measures_a_dump_in_its_own_process(command: list[str]) -> None:
    completed = subprocess.run(
        [
            *command,
            "measure",
            str(DUMP),
            "--config",
            str(CONFIG / "ibmlicensing-threads-2.yaml"),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert quantities(json.loads(completed.stdout))["products"] == {CP4I: 2, MQ: 2, WAS: 75}


def test_the_installed_command_reports_bad_input_with_exit_code_2(tmp_path: Path) -> None:
    not_json = tmp_path / "dump.json"
    not_json.write_text("{not json")

    completed = subprocess.run(
        [sys.executable, "-m", "license_service", "measure", str(not_json)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr == (
        f"license-service: error: {not_json}: not valid JSON: line 1, column 2: "
        "Expecting property name enclosed in double quotes\n"
    )
