"""YouTube OAuth: the installed-app flow, and a token file that only its owner can read.

`aidas youtube-auth --client-secrets FILE [--token FILE]` runs Google's installed-app flow once
(a browser window on this machine) and stores the authorised-user token. The pipeline then loads
it, refreshes it when expired and rewrites it. The token file is created with mode 0600 from the
start (never written wider and narrowed afterwards) and replaced atomically; a folder created for it
is 0700 (an existing folder is left as it is: it may be shared, like /tmp).

Every way a refresh can fail (refused by Google, the network down, a timeout) becomes a
`YouTubeAuthError` that names the token file and what to do, never a token or secret.
"""

# google-auth and its OAuth flow take ~0.5 s to import: they load inside the functions, only when a
# YouTube channel is configured or authorised.
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

SCOPES = [
    "https://www.googleapis.com/auth/youtube.upload",
    # Reading comments and the channel's uploads, and updating video metadata.
    "https://www.googleapis.com/auth/youtube.force-ssl",
]
DEFAULT_TOKEN_FILE = Path.home() / ".config" / "aidas" / "youtube-token.json"


class YouTubeAuthError(RuntimeError):
    """The token file is missing, unreadable or can no longer be refreshed; says what to do."""


def write_private(path: Path, text: str) -> Path:
    """Write `text` to `path` atomically; the file is mode 0600 from the moment it exists."""
    path = Path(path)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
        os.chmod(path.parent, 0o700)  # mkdir's mode passes through the umask
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)  # mkstemp: 0600
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return path


def save_credentials(creds, path: Path | str) -> Path:
    """Store `google.oauth2.credentials.Credentials` as `creds.to_json()`, mode 0600."""
    return write_private(Path(path), creds.to_json())


def load_credentials(path: Path | str, *, scopes: list[str] | None = None, token_uri: str | None = None, request=None):
    """Authorised-user credentials from `path`, refreshed (and rewritten, 0600) when expired.

    The refresh goes to Google's token endpoint; `token_uri` replaces it (a local server in tests).
    google-auth ignores a token_uri written in the file, so a tampered file cannot send the
    refresh token elsewhere. `request` is a google.auth transport request; default: `requests`.
    """
    from google.auth.exceptions import RefreshError
    from google.oauth2.credentials import Credentials

    path = Path(path)
    if not path.exists():
        raise YouTubeAuthError(f"{path}: YouTube token file is missing; run `aidas youtube-auth --client-secrets FILE`")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        creds = Credentials.from_authorized_user_info(info, scopes or SCOPES)
        if token_uri:
            expiry = creds.expiry
            creds = creds.with_token_uri(token_uri)
            creds.expiry = expiry  # the copy forgets it, and would look valid forever
    except (ValueError, KeyError) as exc:
        # The message names the missing field, never a value.
        raise YouTubeAuthError(f"{path}: not an authorised-user token ({exc}); run `aidas youtube-auth` again") from exc
    if creds.valid:
        return creds
    return refresh_credentials(creds, path, request)


def refresh_credentials(creds, path: Path | str, request=None):
    """Refresh `creds` (loaded from `path`) and rewrite the file 0600; any failure is a YouTubeAuthError.

    The message carries the exception's type, never its text: a transport error's text can hold
    the request it failed on.
    """
    from google.auth.exceptions import RefreshError, TransportError

    path = Path(path)
    if not creds.refresh_token:
        raise YouTubeAuthError(f"{path}: the token expired and has no refresh token; run `aidas youtube-auth` again")
    if request is None:
        from google.auth.transport.requests import Request

        request = Request()
    try:
        creds.refresh(request)
    except RefreshError as exc:
        raise YouTubeAuthError(
            f"{path}: refreshing the YouTube token failed ({type(exc).__name__}: refused by the token endpoint); "
            "run `aidas youtube-auth` again"
        ) from exc
    except (TransportError, OSError, TimeoutError) as exc:
        raise YouTubeAuthError(
            f"{path}: refreshing the YouTube token failed: the token endpoint could not be reached "
            f"({type(exc).__name__}); check the network and run again (the token itself is still good)"
        ) from exc
    save_credentials(creds, path)
    return creds


def run_auth_flow(client_secrets: Path | str, token_file: Path | str, *, open_browser: bool = True):
    """Google's installed-app flow on a local port; stores the token and returns the credentials."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    client_secrets = Path(client_secrets)
    if not client_secrets.exists():
        raise YouTubeAuthError(f"{client_secrets}: OAuth client secrets file is missing (download it from Google Cloud Console)")
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets), scopes=SCOPES)
    except ValueError as exc:
        raise YouTubeAuthError(f"{client_secrets}: not an installed-app OAuth client file ({exc})") from exc
    creds = flow.run_local_server(port=0, open_browser=open_browser)
    save_credentials(creds, token_file)
    return creds
