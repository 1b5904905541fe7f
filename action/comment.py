"""Create or update pgrisk's one comment on a pull request (GitHub REST API).

Usage: comment.py BODY_FILE. The body's first line is pgrisk's hidden marker
(`<!-- pgrisk-report -->`); the comment that carries it is updated, so a PR gets one pgrisk
comment however often the workflow runs. Reads GITHUB_API_URL, GITHUB_REPOSITORY,
GITHUB_EVENT_PATH and GITHUB_TOKEN. A token without write access (a fork's PR) is a
warning, not a failed job: the annotations still show the findings.
"""

import json
import os
import sys
import urllib.error
import urllib.request

PAGE = 100


def api(method, url, token, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/vnd.github+json")
    request.add_header("X-GitHub-Api-Version", "2022-11-28")
    request.add_header("User-Agent", "pgrisk-action")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def find_comment(base, token, marker):
    """The id of the first comment whose body starts with the marker, or None."""
    page = 1
    while True:
        comments = api("GET", f"{base}/comments?per_page={PAGE}&page={page}", token)
        for comment in comments:
            if (comment.get("body") or "").startswith(marker):
                return comment["id"]
        if len(comments) < PAGE:
            return None
        page += 1


def main():
    body = open(sys.argv[1], encoding="utf-8").read()
    marker = body.splitlines()[0] if body else ""
    if not marker.startswith("<!--"):
        sys.exit("comment.py: the body does not start with pgrisk's marker comment")
    with open(os.environ["GITHUB_EVENT_PATH"], encoding="utf-8") as f:
        number = json.load(f)["pull_request"]["number"]
    api_url = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    repo = os.environ["GITHUB_REPOSITORY"]
    token = os.environ.get("GITHUB_TOKEN", "")
    issue = f"{api_url}/repos/{repo}/issues/{number}"
    try:
        existing = find_comment(issue, token, marker)
        if existing is None:
            api("POST", f"{issue}/comments", token, {"body": body})
            print(f"pgrisk: commented on pull request #{number}")
        else:
            api("PATCH", f"{api_url}/repos/{repo}/issues/comments/{existing}", token, {"body": body})
            print(f"pgrisk: updated comment {existing} on pull request #{number}")
    except urllib.error.HTTPError as e:
        if e.code in (403, 404):
            print(
                f"::warning title=pgrisk::cannot comment on pull request #{number} (HTTP {e.code}):"
                " give the job `permissions: pull-requests: write`, or set `comment: false`"
            )
            return
        raise


if __name__ == "__main__":
    main()
