"""Every error of SPEC 3 and 4 from the real server: 400 dates, 401, 405 and 429, as JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.e2e.processes import ServiceProcess

TODAY = datetime.now(UTC).date()
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
REALM = 'Bearer realm="license-service"'
# 127.0.0.0/8 is all loopback: each client below has its own address, so the
# failures one test makes never slow down another (the limiter counts per address).
WRONG_TOKEN = "NotTheToken0000000000000"


def client_from(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def assert_error(response: httpx.Response, status: int, reason: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert (body["status"], body["error"]) == (status, reason)
    message: str = body["message"]
    assert message
    return message


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"dateFrom": TODAY.isoformat()}, "dateTo"),
        ({"endDate": TODAY.isoformat()}, "startDate"),
        # A value that is not a date is named by its parameter, never echoed.
        ({"dateFrom": "2026-13-01", "dateTo": TODAY.isoformat()}, "dateFrom is not a date: month"),
        ({"dateFrom": "01/11/2026", "dateTo": TODAY.isoformat()}, "dateFrom is not a date"),
        ({"dateFrom": TODAY.isoformat(), "dateTo": (TODAY - timedelta(1)).isoformat()}, "after"),
        ({"dateFrom": TODAY.isoformat(), "dateTo": TOMORROW}, TOMORROW),
        ({"dateFrom": (TODAY - timedelta(800)).isoformat(), "dateTo": TODAY.isoformat()}, "731"),
    ],
    ids=["from-alone", "end-alone", "bad-month", "not-iso", "from-after-to", "future", "too-long"],
)
def test_a_wrong_period_is_a_400_naming_the_problem(
    served: ServiceProcess, params: dict[str, str], named: str
) -> None:
    for path in ("/products", "/bundled_products", "/services", "/snapshot"):
        response = httpx.get(f"{served.url}{path}", params={"token": served.token, **params})

        message = assert_error(response, 400, "Bad Request")
        assert named in message, path
        assert "2026-13-01" not in message
        assert "01/11/2026" not in message


def test_a_missing_token_is_a_401_with_the_realm(served: ServiceProcess) -> None:
    with client_from("127.0.0.11") as client:
        for path in ("/products", "/bundled_products", "/services", "/health", "/status"):
            response = client.get(f"{served.url}{path}")

            assert "needs authentication" in assert_error(response, 401, "Unauthorized")
            assert response.headers["WWW-Authenticate"] == REALM


def test_a_wrong_token_is_a_401_with_the_realm(served: ServiceProcess) -> None:
    with client_from("127.0.0.12") as client:
        in_url = client.get(f"{served.url}/products", params={"token": WRONG_TOKEN})
        in_header = client.get(
            f"{served.url}/snapshot", headers={"Authorization": f"Bearer {WRONG_TOKEN}"}
        )

    for response in (in_url, in_header):
        assert "not this service's API token" in assert_error(response, 401, "Unauthorized")
        assert response.headers["WWW-Authenticate"] == REALM
        assert WRONG_TOKEN not in response.text


def test_an_empty_token_is_a_401_that_says_it_is_empty(served: ServiceProcess) -> None:
    with client_from("127.0.0.21") as client:
        response = client.get(f"{served.url}/products?token=")

    message = assert_error(response, 401, "Unauthorized")
    assert message == (
        "the ?token= parameter is empty; put the API token after token= "
        "(`license-service token get` prints it)"
    )
    assert response.headers["WWW-Authenticate"] == REALM


def test_other_methods_are_a_405(served: ServiceProcess) -> None:
    for method, path in (("POST", "/products"), ("DELETE", "/snapshot"), ("PUT", "/version")):
        response = httpx.request(method, f"{served.url}{path}", params={"token": served.token})

        assert_error(response, 405, "Method Not Allowed")
        assert "GET" in response.headers["Allow"]


def test_unknown_query_parameters_are_ignored(served: ServiceProcess) -> None:
    response = httpx.get(f"{served.url}/products", params={"token": served.token, "colour": "blue"})

    assert response.status_code == 200


def test_repeated_failures_from_one_client_are_slowed_down_with_a_429(
    served: ServiceProcess,
) -> None:
    with client_from("127.0.0.13") as client:
        statuses = [
            client.get(f"{served.url}/products", params={"token": WRONG_TOKEN}).status_code
            for _ in range(10)
        ]
        refused = client.get(f"{served.url}/products", params={"token": served.token})
    with client_from("127.0.0.14") as other_client:
        other = other_client.get(f"{served.url}/products", params={"token": served.token})

    assert statuses == [401] * 10
    assert "too many failed authentication attempts" in assert_error(
        refused, 429, "Too Many Requests"
    )
    assert int(refused.headers["Retry-After"]) >= 1
    assert other.status_code == 200


def test_no_token_appears_in_the_log(served: ServiceProcess) -> None:
    token = served.token
    httpx.get(f"{served.url}/products", params={"token": token, "dateFrom": "bad"})
    httpx.get(f"{served.url}/health", headers={"Authorization": f"Bearer {token}"})
    with client_from("127.0.0.15") as client:
        client.get(f"{served.url}/products", params={"token": WRONG_TOKEN})

    log = served.log()
    assert "GET /products?token=***" in log
    assert token not in log
    assert WRONG_TOKEN not in log
    assert token not in served.stdout()
