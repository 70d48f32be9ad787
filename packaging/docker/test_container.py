"""The container image, started by testcontainers-python (through podman's Docker-compatible API),
used by Box's Python SDK through the published port, attached with the wheel's Emulator."""

import os
import socket

from box_sdk_gen import BaseUrls, BoxCCGAuth, BoxClient, CCGConfig
from boxauth_emulator import Emulator
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import LogMessageWaitStrategy


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_token_through_the_published_port_and_the_controls_from_the_host():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    container = (DockerContainer(os.environ["BOXAUTH_IMAGE"])
                 .with_bind_ports(8080, port)
                 .with_env("BOX_EMULATOR_PUBLIC_URL", url)
                 .waiting_for(LogMessageWaitStrategy("Press Ctrl-C")))
    with container:
        emulator = Emulator.attach(url)
        assert emulator.base_url == url
        auth = BoxCCGAuth(CCGConfig(client_id=emulator.client_id, client_secret=emulator.client_secret,
                                    enterprise_id=emulator.enterprise_id))
        client = BoxClient(auth=auth).with_custom_base_urls(BaseUrls(base_url=url, oauth_2_url=url + "/api/oauth2"))
        assert client.users.get_user_me().login.startswith("AutomationUser_")
        emulator.advance_clock(3601)
        assert client.users.get_user_me().login.startswith("AutomationUser_")
        statuses = [e["status"] for e in emulator.requests() if e["path"] == "/2.0/users/me"]
        assert statuses == [200, 401, 200], statuses
        emulator.stop()
