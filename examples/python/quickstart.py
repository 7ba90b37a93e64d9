#!/usr/bin/env python3
"""Life XP from Python with the standard library only: sign up, log a week, print correlations.

    python3 examples/python/quickstart.py --url http://127.0.0.1:3000

Creates a new account (or signs in with --email/--password if it exists), defines two metrics,
logs seven days of both through the REST API, and prints what the correlation scan makes of them.
"""

import argparse
import datetime
import json
import os
import sys
import urllib.error
import urllib.request
import uuid


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"{status} {body.get('code')}: {body.get('message')}")
        self.status = status
        self.body = body


def call(base, method, path, body=None, token=None, headers=None):
    """One request; the JSON answer, or ApiError with the API's {code, message, details, requestId}."""
    request = urllib.request.Request(base + path, method=method)
    request.add_header("Accept", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, data=data, timeout=60) as response:
            text = response.read().decode("utf-8")
            return json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8")
        try:
            payload = json.loads(text)
        except ValueError:
            payload = {"message": text}
        raise ApiError(error.code, payload) from None


def sign_in(base, email, password):
    try:
        return call(base, "POST", "/api/users/register",
                    {"email": email, "password": password, "timezone": "UTC"})["token"]
    except ApiError as error:
        if error.status != 409:
            raise
        return call(base, "POST", "/api/users/login", {"email": email, "password": password})["token"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("LIFEXP_URL", "http://127.0.0.1:3000"))
    parser.add_argument("--email", default=f"quickstart-{uuid.uuid4().hex[:12]}@example.com")
    parser.add_argument("--password", default="a quick start passphrase")
    parser.add_argument("--days", type=int, default=7, help="days to log (default: a week)")
    args = parser.parse_args()
    base = args.url.rstrip("/")

    token = sign_in(base, args.email, args.password)
    print(f"signed in as {args.email}")

    sleep = call(base, "POST", "/api/metrics",
                 {"name": "Sleep", "type": "number", "category": "sleep", "config": {"unit": "h"}}, token)
    mood = call(base, "POST", "/api/metrics", {"name": "Mood", "type": "rating", "category": "mood"}, token)

    # A week (or --days): more sleep, better mood the same day.
    today = datetime.date.today()
    for offset in range(args.days):
        day = (today - datetime.timedelta(days=args.days - 1 - offset)).isoformat()
        slept = 5.0 + (offset * 37 % 31) / 10  # 5.0 to 8.0 hours, no weekly rhythm
        felt = max(1, min(5, round(slept - 3.5 + (offset * 11 % 3 - 1) * 0.6)))
        call(base, "POST", "/api/entries", {"metricId": sleep["id"], "value": slept, "date": day}, token)
        call(base, "POST", "/api/entries", {"metricId": mood["id"], "value": felt, "date": day}, token)
    page = call(base, "GET", f"/api/entries?metricId={mood['id']}&limit=100", token=token)
    print(f"logged {len(page['items'])} days of Sleep and Mood")

    # A week is short: ask for every tested pair (all=true), from the fewest days allowed (minN=7).
    result = call(base, "GET", "/api/analytics/correlations?all=true&minN=7&maxLag=1", token=token)
    print(f"correlations: {result['testsRun']} tests run, {result['total']} listed, "
          f"{result['skipped']} metrics or pairs skipped")
    if result["testsRun"] == 0:
        # Each metric is tested on its day-to-day variation, which costs a day: a week is too short.
        print("  not enough days yet: each metric is tested on its variation around its own trend and")
        print("  weekday rhythm, which a single week cannot show; keep logging (or try --days 28)")
    for finding in result["findings"]:
        print(f"  {finding['a']['name']} -> {finding['b']['name']} (lag {finding['lag']}): "
              f"{finding['method']} {finding['effect']:+.2f}, q = {finding['q']:.3f}, n = {finding['n']}"
              f"{' (tentative)' if finding['tentative'] else ''}")
        print(f"    {finding['sentence']}")
    progress = call(base, "GET", "/api/analytics/progress", token=token)
    print(f"progress: level {progress['level']}, {progress['xp']} XP, streak {progress['currentStreak']} days")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except urllib.error.URLError as error:
        print(f"error: cannot reach the server: {error.reason}", file=sys.stderr)
        sys.exit(1)
