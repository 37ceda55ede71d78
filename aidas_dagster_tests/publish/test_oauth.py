"""The YouTube token file: stored 0600 from the start, refreshed against the token endpoint, rewritten 0600."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials

from aidas_dagster.cli import main
from aidas_dagster.core.storage import Storage
from aidas_dagster.publish.local_channel import LocalChannel
from aidas_dagster.publish.oauth import SCOPES, YouTubeAuthError, load_credentials, save_credentials
from aidas_dagster.publish.youtube import YouTubePublisher
from aidas_dagster.publish.resources import Channel
from aidas_dagster_tests.fakes.youtube_server import YouTubeServer


@pytest.fixture
def fake(httpserver) -> YouTubeServer:
    youtube = YouTubeServer(base_url=httpserver.url_for("").rstrip("/"), token="fresh-access-token")
    youtube.refresh_tokens["the-refresh-token"] = "fresh-access-token"
    httpserver.expect_request(re.compile(".*")).respond_with_handler(youtube.handle)
    return youtube


def expired_token(fake: YouTubeServer, refresh_token: str = "the-refresh-token") -> Credentials:
    return Credentials(
        token="stale-access-token",
        refresh_token=refresh_token,
        token_uri=f"{fake.base_url}/token",
        client_id="client-id.apps.googleusercontent.com",
        client_secret="client-secret-value",
        scopes=SCOPES,
        expiry=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(hours=1),
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_token_file_is_private_even_with_a_permissive_umask_and_when_replacing_a_wider_file(tmp_path, fake):
    token_file = tmp_path / "conf" / "token.json"
    old_umask = os.umask(0)
    try:
        save_credentials(expired_token(fake), token_file)
        assert mode(token_file) == 0o600
        token_file.chmod(0o644)
        save_credentials(expired_token(fake), token_file)
    finally:
        os.umask(old_umask)
    assert mode(token_file) == 0o600
    assert json.loads(token_file.read_text())["refresh_token"] == "the-refresh-token"
    assert [p.name for p in token_file.parent.iterdir()] == ["token.json"]  # no temporary file left


def test_an_expired_token_is_refreshed_rewritten_0600_and_used(tmp_path, fake):
    token_file = tmp_path / "token.json"
    save_credentials(expired_token(fake), token_file)

    creds = load_credentials(token_file, token_uri=f"{fake.base_url}/token")
    assert creds.token == "fresh-access-token" and creds.valid
    stored = json.loads(token_file.read_text())
    assert stored["token"] == "fresh-access-token" and stored["refresh_token"] == "the-refresh-token"
    assert mode(token_file) == 0o600
    assert len(fake.calls("POST", "/token")) == 1

    # The channel resource builds a real YouTube publisher from that file and it is authorised.
    channel = Channel(youtube_token_file=str(token_file), youtube_api_root=fake.base_url, youtube_token_uri=f"{fake.base_url}/token")
    publisher = channel.publisher(Storage(tmp_path / "storage"))
    assert isinstance(publisher, YouTubePublisher)
    fake.videos["vid00000001"] = {"id": "vid00000001", "statistics": {"viewCount": "7"}}
    assert publisher.fetch_feedback("vid00000001").statistics["views"] == 7
    # A token still valid is used as is: no second refresh.
    load_credentials(token_file)
    assert len(fake.calls("POST", "/token")) == 1


def test_a_revoked_refresh_token_says_to_authorise_again_without_leaking_secrets(tmp_path, fake):
    token_file = tmp_path / "token.json"
    save_credentials(expired_token(fake, refresh_token="revoked-refresh-token"), token_file)
    with pytest.raises(YouTubeAuthError) as failure:
        load_credentials(token_file, token_uri=f"{fake.base_url}/token")
    message = str(failure.value)
    assert "aidas youtube-auth" in message and str(token_file) in message
    for secret in ("revoked-refresh-token", "client-secret-value", "stale-access-token"):
        assert secret not in message


def test_missing_or_malformed_token_file_names_the_file(tmp_path):
    with pytest.raises(YouTubeAuthError, match="token file is missing; run `aidas youtube-auth"):
        load_credentials(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"token": "x"}')
    with pytest.raises(YouTubeAuthError, match="broken.json: not an authorised-user token"):
        load_credentials(broken)


def test_without_a_token_the_local_channel_stays_the_default(tmp_path):
    assert isinstance(Channel().publisher(Storage(tmp_path)), LocalChannel)


def test_youtube_auth_command_refuses_a_missing_client_file(tmp_path, capsys):
    assert main(["youtube-auth", "--client-secrets", str(tmp_path / "nope.json"), "--token", str(tmp_path / "t.json")]) == 2
    assert "nope.json: OAuth client secrets file is missing" in capsys.readouterr().err
    assert not (tmp_path / "t.json").exists()


def test_youtube_auth_runs_the_installed_app_flow_and_stores_the_token_0600(tmp_path, fake, monkeypatch, capsys):
    """The whole `aidas youtube-auth` flow, with this test playing the user's browser."""
    import logging
    import threading
    import urllib.parse
    import urllib.request

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the local token endpoint is plain http
    secrets = tmp_path / "client_secret.json"
    secrets.write_text(json.dumps({"installed": {
        "client_id": "client-id.apps.googleusercontent.com", "client_secret": "client-secret-value",
        "auth_uri": f"{fake.base_url}/auth", "token_uri": f"{fake.base_url}/token", "redirect_uris": ["http://localhost"],
    }}))
    fake.auth_codes["the-code"] = SCOPES
    prompts: list[str] = []

    class Prompt(logging.Handler):
        def emit(self, record):
            prompts.append(record.getMessage())

    flow_log = logging.getLogger("google_auth_oauthlib.flow")
    handler = Prompt()
    flow_log.addHandler(handler)
    flow_log.setLevel(logging.INFO)
    token_file = tmp_path / "conf" / "youtube-token.json"
    outcome: dict = {}
    command = threading.Thread(target=lambda: outcome.setdefault("rc", main(
        ["youtube-auth", "--client-secrets", str(secrets), "--token", str(token_file), "--no-browser"])))
    command.start()
    try:
        for _ in range(200):
            if prompts:
                break
            command.join(0.05)
        auth_url = re.search(r"http://\S+", prompts[0]).group(0)
        query = urllib.parse.parse_qs(urllib.parse.urlparse(auth_url).query)
        assert set(query["scope"][0].split()) == set(SCOPES) and query["code_challenge_method"] == ["S256"]
        # The "browser": Google sends the user back to the local redirect with a code.
        back = f"{query['redirect_uri'][0]}?{urllib.parse.urlencode({'state': query['state'][0], 'code': 'the-code'})}"
        urllib.request.urlopen(back, timeout=10).read()
        command.join(30)
    finally:
        flow_log.removeHandler(handler)
    assert outcome["rc"] == 0
    stored = json.loads(token_file.read_text())
    assert stored["refresh_token"] == "issued-refresh-token" and mode(token_file) == 0o600
    assert "mode 0600" in capsys.readouterr().out


def closed_port_url() -> str:
    """A local URL nothing listens on: connecting is refused at once, as with the network down."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/token"


def test_a_network_failure_during_a_refresh_is_a_clear_auth_error_without_secrets(tmp_path, fake):
    token_file = tmp_path / "token.json"
    save_credentials(expired_token(fake), token_file)
    before = token_file.read_text()
    with pytest.raises(YouTubeAuthError) as failure:
        load_credentials(token_file, token_uri=closed_port_url())
    message = str(failure.value)
    assert str(token_file) in message and "could not be reached" in message and "check the network" in message
    for secret in ("the-refresh-token", "client-secret-value", "stale-access-token"):
        assert secret not in message
    assert token_file.read_text() == before  # nothing lost: the next run refreshes it


def test_a_token_expiring_during_a_run_is_refreshed_and_a_failed_refresh_is_an_auth_error(tmp_path, fake):
    from aidas_dagster.publish.youtube import youtube_publisher

    token_file = tmp_path / "token.json"
    save_credentials(expired_token(fake), token_file)
    publisher = youtube_publisher(tmp_path / "storage", token_file=token_file, api_root=fake.base_url, token_uri=f"{fake.base_url}/token")
    fake.videos["vid00000001"] = {"id": "vid00000001", "statistics": {"viewCount": "7"}}
    # The hour runs out mid-run; the token endpoint is unreachable by then.
    publisher.credentials.expiry = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(seconds=1)
    publisher.credentials._token_uri = closed_port_url()
    calls = len(fake.log)
    with pytest.raises(YouTubeAuthError, match="could not be reached") as failure:
        publisher.fetch_feedback("vid00000001")
    assert "the-refresh-token" not in str(failure.value) and len(fake.log) == calls  # nothing sent with a stale token

    publisher.credentials._token_uri = f"{fake.base_url}/token"
    assert publisher.fetch_feedback("vid00000001").statistics["views"] == 7
    assert mode(token_file) == 0o600 and json.loads(token_file.read_text())["token"] == "fresh-access-token"


def test_a_folder_created_for_the_token_is_0700_and_an_existing_one_is_left_alone(tmp_path, fake):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    old_umask = os.umask(0)
    try:
        save_credentials(expired_token(fake), shared / "aidas" / "conf" / "token.json")
        save_credentials(expired_token(fake), shared / "token.json")
    finally:
        os.umask(old_umask)
    assert mode(shared / "aidas" / "conf") == 0o700
    assert mode(shared) == 0o755
