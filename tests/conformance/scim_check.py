"""Runs scim2-tester (pinned by scripts/test) against a Roster SCIM endpoint.

Usage: scim_check.py BASE_URL TOKEN
Prints every check with its status; exits 1 when any check reports anything but success
(an error, or a check skipped because the server lacked something).
"""

import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    base, token = sys.argv[1], sys.argv[2]
    http = httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    client = SyncSCIMClient(http)
    results = check_server(client)
    failed = 0
    for r in results:
        bad = r.status != Status.SUCCESS
        mark = "FAIL" if bad else "ok  "
        failed += bad
        print(f"{mark} {r.status.name:<11} {r.resource_type or ''} {r.title}: {r.reason or ''}")
    print(f"{len(results)} checks, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
