"""The Box auth emulator (the `boxauth` binary this wheel carries) and its control API.

`Emulator.start()` runs the binary on a free port and waits for its ready line;
`Emulator.attach(url)` uses one already running. Both give the same object: the URLs and
credentials a Box SDK needs, and the controls (`/__emulator/...` over HTTP).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["Emulator", "EmulatorError", "find_binary"]


class EmulatorError(Exception):
    """The emulator could not be started, or a control request was refused."""


def find_binary():
    """The `boxauth` binary: the wheel's (in this environment's scripts), else BOXAUTH_BIN or PATH."""
    name = "boxauth.exe" if sys.platform == "win32" else "boxauth"
    candidates = [os.environ.get("BOXAUTH_BIN")]
    for scheme in (sysconfig.get_default_scheme(), "posix_user" if os.name == "posix" else "nt_user"):
        try:
            candidates.append(os.path.join(sysconfig.get_path("scripts", scheme), name))
        except KeyError:
            pass
    candidates.append(os.path.join(os.path.dirname(sys.executable), name))
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return found
    raise EmulatorError(
        "the boxauth binary is not installed: `pip install boxauth-emulator` (a wheel for this "
        "platform), or set BOXAUTH_BIN to a boxauth binary")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Emulator:
    """A running emulator: what a Box SDK needs to reach it, and its controls."""

    def __init__(self, ready, process=None, workdir=None):
        self.base_url = ready["base_url"]
        self.oauth2_url = ready["oauth2_url"]
        self.client_id = ready["client_id"]
        self.client_secret = ready["client_secret"]
        self.enterprise_id = ready["enterprise_id"]
        self.admin_user_id = ready.get("admin_user_id")
        self.admin_login = ready.get("admin_login")
        self.jwt_config_path = ready.get("box_config")
        self.ca_file = ready.get("ca_file")
        self._process = process
        self._workdir = workdir

    def __repr__(self):  # no secret in a repr
        return f"Emulator({self.base_url!r}, client_id={self.client_id!r})"

    # Starting and stopping.

    @classmethod
    def start(cls, *args, binary=None, config_toml=None, timeout=30):
        """Starts `boxauth emulator` on a free port with extra `args` (`"--tls"`, ...), or with the
        world in `config_toml` (the text of a config file, as in examples/emulator.toml)."""
        workdir = tempfile.mkdtemp(prefix="boxauth-emulator-")
        command = [binary or find_binary(), "emulator", "--addr", "127.0.0.1:0", "--ready-json",
                   "--keep-requests", "1000", "--export-config", workdir]
        if config_toml is not None:
            path = os.path.join(workdir, "world.toml")
            with open(path, "w") as file:
                file.write(config_toml)
            command += ["--config", path]
        command += list(args)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, text=True)
        # The ready line is the first thing it prints; the wait ends when it does or exits.
        line = process.stdout.readline()
        if not line:
            error = process.stderr.read()
            process.wait(timeout=timeout)
            shutil.rmtree(workdir, ignore_errors=True)
            raise EmulatorError(f"the emulator did not start: {error.strip()}")
        return cls(json.loads(line), process=process, workdir=workdir)

    @classmethod
    def attach(cls, url):
        """Uses an emulator already running at `url` (its base URL): reads the credentials and the
        JWT config from its control API."""
        url = url.rstrip("/")
        if url.endswith("/__emulator"):
            url = url[: -len("/__emulator")]
        world = _request("GET", f"{url}/__emulator/world")
        workdir = tempfile.mkdtemp(prefix="boxauth-emulator-")
        box_config = os.path.join(workdir, "box_config.json")
        with open(box_config, "w") as file:
            json.dump(_request("GET", f"{url}/__emulator/box-config"), file)
        os.chmod(box_config, 0o600)
        admin = next((u for u in world["users"] if u["role"] == "admin"), {})
        return cls({
            "base_url": world["base_url"], "oauth2_url": world["oauth2_url"],
            "client_id": world["app"]["client_id"], "client_secret": world["app"]["client_secret"],
            "enterprise_id": world["enterprise_id"], "admin_user_id": admin.get("id"),
            "admin_login": admin.get("login"), "box_config": box_config,
        }, workdir=workdir)

    def stop(self):
        """Stops the process this object started (an attached emulator is left running)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process is not None:
            self._process.stdout.close()
            self._process.stderr.close()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # The control API (the same operations as the Rust EmulatorHandle's).

    def _control(self, method, path, body=None):
        return _request(method, f"{self.base_url}/__emulator/{path}", body, self.ca_file)

    def health(self):
        return self._control("GET", "health")

    def stats(self):
        return self._control("GET", "stats")

    def requests(self):
        """The request log, oldest first, as dicts (secrets masked)."""
        return self._control("GET", "requests")

    def advance_clock(self, seconds):
        return self._control("POST", "clock/advance", {"seconds": seconds})

    def set_clock_offset(self, seconds):
        return self._control("POST", "clock/offset", {"seconds": seconds})

    def script_faults(self, faults):
        """The next requests to Box's paths get these, in order: 503, "429:2", "drop", "pass"..."""
        return self._control("POST", "faults/script", {"faults": [str(f) for f in faults]})

    def set_fault_rate(self, rate, faults):
        return self._control("POST", "faults/rate", {"rate": rate, "faults": [str(f) for f in faults]})

    def clear_faults(self):
        return self._control("POST", "faults/clear", {})

    def reset(self):
        """Codes, tokens, clock, faults, counters and log cleared; the world kept."""
        return self._control("POST", "reset", {})

    def world(self):
        return self._control("GET", "world")

    def add_user(self, **fields):
        """A user: `login` at least (config-file fields: id, name, role, enterprise, app)."""
        return self._control("POST", "users", fields)

    def add_app(self, **fields):
        return self._control("POST", "apps", fields)

    def add_item(self, **fields):
        return self._control("POST", "items", {("type" if k == "kind" else k): v for k, v in fields.items()})

    def revoke_user_tokens(self, user_id):
        return self._control("POST", f"users/{urllib.parse.quote(str(user_id))}/revoke-tokens", {})

    def approve(self, authorize_url, login=None):
        """Approves the consent page as a browser would (opens it, signs in as `login`, by default
        the page's own, clicks "Grant access") and returns the redirect URL with `code` and
        `state`. An authorize URL on Box's host (as SDKs build it) is opened on the emulator."""
        parts = urllib.parse.urlsplit(authorize_url)
        if not authorize_url.startswith(self.oauth2_url):
            authorize_url = f"{self.oauth2_url}/authorize?{parts.query}"
        opener = urllib.request.build_opener(_NoRedirect, *_tls_handlers(self.ca_file))
        try:
            page = opener.open(authorize_url, timeout=10)
        except urllib.error.HTTPError as error:
            raise EmulatorError(f"the consent page answered {error.code}: {_text(error)}") from None
        html = page.read().decode()
        cookie = (page.headers.get("Set-Cookie") or "").split(";")[0]
        csrf = re.search(r'name="csrf_token" value="([^"]*)"', html).group(1)
        action = re.search(r'<form[^>]*action="([^"]*)"', html).group(1)
        action = action.replace("&amp;", "&").replace("&#38;", "&")
        if login is None:
            login = re.search(r'name="login" value="([^"]*)"', html).group(1)
        form = urllib.parse.urlencode({"csrf_token": csrf, "login": login, "decision": "approve"})
        post = urllib.request.Request(urllib.parse.urljoin(authorize_url, action), data=form.encode(),
                                      headers={"Cookie": cookie})
        try:
            answer = opener.open(post, timeout=10)
            raise EmulatorError(f"the consent page did not redirect: {answer.status} {answer.read()[:200]!r}")
        except urllib.error.HTTPError as error:
            if error.code in (302, 303) and error.headers.get("Location"):
                return error.headers["Location"]
            raise EmulatorError(f"the consent page answered {error.code}: {_text(error)}") from None


def _tls_handlers(ca_file):
    if not ca_file:
        return []
    import ssl
    return [urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=ca_file))]


def _text(error):
    try:
        return error.read().decode(errors="replace")[:300]
    except Exception:  # a body that cannot be read says nothing more
        return ""


def _request(method, url, body=None, ca_file=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(*_tls_handlers(ca_file))
    try:
        with opener.open(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        raise EmulatorError(f"{method} {url}: HTTP {error.code}: {_text(error)}") from None
    except urllib.error.URLError as error:
        raise EmulatorError(f"{method} {url}: {error.reason}") from None
