#!/usr/bin/env python3
"""Box's official Python SDK (PyPI `boxsdk` 10.x, module `box_sdk_gen`), unmodified, against the
boxauth emulator: client credentials, JWT with the exported box_config.json, OAuth 2.0 with a code
obtained through the consent form, refresh, downscope, revoke; webhook deliveries the emulator
signs validate with the SDK's `WebhookManager.validate_message`, and deliveries signed as Box's
documentation describes (HMAC-SHA256 here) verify with `boxauth webhook verify`.

Usage: python3 scripts/python_sdk_against_emulator.py path/to/boxauth
Needs `boxsdk[jwt]` installed (scripts/test installs it in a venv). Exits non-zero on the first
failure, saying which step failed.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import threading
import re
import signal
import subprocess
import sys
import tempfile
import urllib.parse

import requests
from box_sdk_gen import (
    BaseUrls, BoxAPIError, BoxCCGAuth, BoxClient, BoxJWTAuth, BoxOAuth, CCGConfig,
    GetAuthorizeUrlOptions, JWTConfig, NetworkSession, OAuthConfig,
)
from box_sdk_gen.managers.webhooks import WebhooksManager

STEPS = []


def step(name):
    print(f'  ok  {name}')
    STEPS.append(name)


def fail(name, detail):
    print(f'FAIL  {name}: {detail}')
    sys.exit(1)


def check(condition, name, detail=''):
    if not condition:
        fail(name, detail)
    step(name)


def start_emulator(binary, export_dir):
    process = subprocess.Popen(
        [binary, 'emulator', '--addr', '127.0.0.1:0', '--export-config', export_dir],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    match = re.search(r'(http://127\.0\.0\.1:\d+)', first)
    if not match:
        process.kill()
        fail('start the emulator', first + process.stderr.read())
    return process, match.group(1)


def consent(authorize_url, login):
    """What a person does in the browser: open the page, sign in, click approve."""
    session = requests.Session()
    page = session.get(authorize_url, allow_redirects=False)
    if page.status_code != 200:
        fail('open the consent page', f'{page.status_code} {page.text[:200]}')
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1).replace('&amp;', '&').replace('&#38;', '&')
    target = urllib.parse.urljoin(authorize_url, action)
    answer = session.post(target, data={'csrf_token': csrf, 'login': login, 'decision': 'approve'}, allow_redirects=False)
    if answer.status_code != 302:
        fail('approve on the consent page', f'{answer.status_code} {answer.text[:200]}')
    return answer.headers['Location']


def main(binary):
    with tempfile.TemporaryDirectory() as export_dir:
        process, base = start_emulator(binary, export_dir)
        try:
            run(base, export_dir)
            webhooks(binary, base)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                code = process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                fail('stop the emulator on Ctrl-C', 'it did not stop within 10 s')
        check(code == 0, 'the emulator stops cleanly on Ctrl-C', f'exit code {code}')
    print(f'Box Python SDK against the emulator: {len(STEPS)} steps passed')


def run(base, export_dir):
    urls = BaseUrls(base_url=base, oauth_2_url=base + '/api/oauth2')
    session = NetworkSession(base_urls=urls)
    world = json.load(open(os.path.join(export_dir, 'emulator.json')))
    app = world['app']
    admin = next(u for u in world['users'] if u['role'] == 'admin')

    # Client credentials, as the service account, then as a user.
    ccg = BoxCCGAuth(CCGConfig(client_id=app['client_id'], client_secret=app['client_secret'],
                               enterprise_id=world['enterprise_id']))
    client = BoxClient(auth=ccg).with_custom_base_urls(urls)
    me = client.users.get_user_me()
    check(me.login.startswith('AutomationUser_'), 'CCG: the service account calls /2.0/users/me', me.login)
    user_client = BoxClient(auth=ccg.with_user_subject(admin['id'])).with_custom_base_urls(urls)
    check(user_client.users.get_user_me().id == admin['id'], 'CCG: a user token for the admin')
    down = ccg.downscope_token(['item_preview'], resource='https://api.box.com/2.0/files/400000001', network_session=session)
    check(down.restricted_to and down.restricted_to[0].object.id == '400000001', 'CCG: downscope to a file returns restricted_to')
    ccg.revoke_token(network_session=session)
    step('CCG: revoke')

    # JWT from the exported Box config file (key encrypted as Box's console does).
    jwt_config = JWTConfig.from_config_file(os.path.join(export_dir, 'box_config.json'))
    jwt_auth = BoxJWTAuth(config=jwt_config)
    jwt_client = BoxClient(auth=jwt_auth).with_custom_base_urls(urls)
    check(jwt_client.users.get_user_me().login.startswith('AutomationUser_'), 'JWT: box_config.json decrypts, signs, and the token works')
    first = jwt_auth.retrieve_token(network_session=session).access_token
    second = jwt_auth.refresh_token(network_session=session).access_token
    check(first != second, 'JWT: a new assertion (fresh jti) gives a new token')
    user_jwt = BoxClient(auth=jwt_auth.with_user_subject(admin['id'])).with_custom_base_urls(urls)
    check(user_jwt.users.get_user_me().id == admin['id'], 'JWT: a user token for the admin')
    down = jwt_auth.downscope_token(['item_preview'], shared_link='https://app.box.com/s/emulatedcontractpdf000001', network_session=session)
    check(down.issued_token_type is not None and down.restricted_to, 'JWT: downscope to a shared link')

    # OAuth 2.0: the authorize URL, the consent form, the code exchange, refresh, revoke.
    oauth = BoxOAuth(OAuthConfig(client_id=app['client_id'], client_secret=app['client_secret']))
    box_url = oauth.get_authorize_url(options=GetAuthorizeUrlOptions(redirect_uri='http://localhost:3000/callback', state='sdk-state-1'))
    # The SDK always builds the URL on account.box.com; the user opens the same query on the emulator.
    query = urllib.parse.urlsplit(box_url).query
    location = consent(f'{base}/api/oauth2/authorize?{query}', admin['login'])
    params = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    check(params.get('state') == ['sdk-state-1'], 'OAuth: approve redirects with state echoed', location)
    token = oauth.get_tokens_authorization_code_grant(params['code'][0], network_session=session)
    check(token.refresh_token is not None, 'OAuth: the code is exchanged for an access and refresh token')
    oauth_client = BoxClient(auth=oauth).with_custom_base_urls(urls)
    check(oauth_client.users.get_user_me().id == admin['id'], 'OAuth: /2.0/users/me is the admin')
    refreshed = oauth.refresh_token(network_session=session)
    check(refreshed.refresh_token != token.refresh_token and refreshed.access_token != token.access_token, 'OAuth: refresh rotates both tokens')
    down = oauth.downscope_token(['item_preview'], resource='https://api.box.com/2.0/files/400000001', network_session=session)
    check(down.restricted_to[0].scope == 'item_preview', 'OAuth: downscope')
    oauth.revoke_token(network_session=session)
    try:
        requests.get(f'{base}/2.0/users/me', headers={'Authorization': f'Bearer {refreshed.access_token}'}).raise_for_status()
        fail('OAuth: revoke', 'the token still works')
    except requests.HTTPError as error:
        check(error.response.status_code == 401, 'OAuth: after revoke the token gets 401')
    try:
        oauth.refresh_token(network_session=session)
        fail('OAuth: the revoked refresh token', 'was accepted')
    except BoxAPIError as error:
        check(error.response_info.status_code == 400, 'OAuth: the revoked refresh token is refused')

    # Not the SDK: a multipart/form-data body, as `curl -F` sends, which Box's token endpoint takes.
    form = {'grant_type': 'client_credentials', 'client_id': app['client_id'],
            'client_secret': app['client_secret'], 'box_subject_type': 'enterprise',
            'box_subject_id': world['enterprise_id']}
    answer = requests.post(f'{base}/oauth2/token', files={k: (None, v) for k, v in form.items()})
    check(answer.status_code == 200 and answer.request.headers['Content-Type'].startswith('multipart/form-data'),
          'requests (not the SDK): a multipart/form-data token request', f'{answer.status_code} {answer.text[:200]}')


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook endpoint that keeps what it was sent."""
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        Receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def webhooks(binary, base):
    server = http.server.HTTPServer(('127.0.0.1', 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_address[1]}/box/webhook'
    primary, secondary = 'PrimaryKeyOfTheApp0123456789abcd', 'SecondaryKeyOfTheApp0123456789ab'
    try:
        def deliver(**keys):
            answer = requests.post(f'{base}/__emulator/webhooks/send', json={'url': url, **keys})
            if answer.status_code != 200 or answer.json()['status'] != 200:
                fail('the emulator sends a webhook delivery', answer.text)
            return Receiver.received[-1]

        headers, body = deliver(primary_key=primary, secondary_key=secondary)
        text = body.decode('utf-8')
        check(WebhooksManager.validate_message(text, headers, primary, secondary_key=secondary),
              'webhooks: an emulator delivery validates with the SDK (both keys)')
        check(WebhooksManager.validate_message(text, headers, 'not-the-primary', secondary_key=secondary),
              'webhooks: ... with the secondary key alone')
        check(not WebhooksManager.validate_message(text, headers, secondary, secondary_key=primary),
              'webhooks: swapped keys are refused by the SDK too')
        check(not WebhooksManager.validate_message(text.replace('FILE', 'FOLDER'), headers, primary),
              'webhooks: a tampered body is refused by the SDK too')
        headers, body = deliver(secondary_key=secondary, trigger='FOLDER.CREATED')
        check(WebhooksManager.validate_message(body.decode('utf-8'), headers, 'rotated', secondary_key=secondary),
              'webhooks: a delivery signed with the secondary only validates with the SDK')
    finally:
        server.shutdown()

    # The other way: signed here as Box's documentation describes, checked by boxauth.
    body = b'{"type":"webhook_event","trigger":"FILE.UPLOADED","source":{"id":"1","type":"file"}}'
    import datetime
    timestamp = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=-7))).replace(microsecond=0).isoformat()
    signature = base64.b64encode(hmac.new(primary.encode(), body + timestamp.encode(), hashlib.sha256).digest()).decode()
    request = (f'POST /box/webhook HTTP/1.1\r\nBOX-DELIVERY-TIMESTAMP: {timestamp}\r\n'
               f'BOX-SIGNATURE-ALGORITHM: HmacSHA256\r\nBOX-SIGNATURE-PRIMARY: {signature}\r\n'
               f'BOX-SIGNATURE-VERSION: 1\r\n\r\n').encode() + body
    verify = [binary, 'webhook', 'verify', '--primary-key', primary]
    answer = subprocess.run(verify, input=request, capture_output=True)
    check(answer.returncode == 0 and b'primary' in answer.stdout,
          'webhooks: a delivery signed as Box documents verifies with boxauth', answer.stderr)
    answer = subprocess.run(verify, input=request.replace(b'UPLOADED', b'DOWNLOADED'), capture_output=True)
    check(answer.returncode == 1 and b'bad signature' in answer.stderr,
          'webhooks: boxauth refuses it tampered', answer.stderr)


if __name__ == '__main__':
    main(sys.argv[1])
