#!/usr/bin/env python3
"""Record what Box's official Python SDK (PyPI `boxsdk` 10.x, module `box_sdk_gen`) sends for every
AuthorizationManager operation and grant, so boxauth's tests can compare their own bytes with it.

Usage: python3 scripts/capture_python_sdk_wire.py OUT.json
Needs `boxsdk[jwt]` installed (the CI script installs it in a venv). Prints nothing on success.
The inputs are fixed: `requests` mirrors crates/boxauth/tests/wire_matches_python_sdk.rs, and
`schemes` (the SDK's auth classes: CCG, JWT, OAuth 2.0, developer token) mirrors
crates/boxauth/tests/schemes_match_python_sdk.rs. The output is the same on every run: what varies
in a JWT assertion (`jti`, `exp`, the signature) is written as placeholders.
"""
import base64
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from box_sdk_gen import (
    AuthorizationManager,
    AuthorizeUserResponseType,
    BaseUrls,
    BoxCCGAuth,
    BoxDeveloperTokenAuth,
    BoxJWTAuth,
    BoxOAuth,
    CCGConfig,
    DeveloperTokenConfig,
    JWTConfig,
    NetworkSession,
    OAuthConfig,
    RequestAccessTokenActorTokenType,
    RequestAccessTokenBoxSubjectType,
    RequestAccessTokenGrantType,
    RequestAccessTokenSubjectTokenType,
)

CAPTURED = []
# When each captured request arrived (time.time()), kept apart so `requests` keeps its keys.
RECEIVED_AT = []
TOKEN = b'{"access_token":"T","expires_in":3600,"token_type":"bearer"}'
# The answer to the next token request, when set (the schemes section chains tokens through it).
NEXT_TOKEN = []


class Recorder(BaseHTTPRequestHandler):
    def _record(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length).decode() if length else ''
        path, _, query = self.path.partition('?')
        CAPTURED.append({
            'method': self.command,
            'path': path,
            'query': query,
            'content_type': self.headers.get('Content-Type'),
            'body': body,
            'extra_header': self.headers.get('X-Extra'),
        })
        RECEIVED_AT.append(time.time())
        if path == '/oauth2/token':
            payload, kind = (NEXT_TOKEN.pop() if NEXT_TOKEN else TOKEN), 'application/json'
        elif path == '/oauth2/revoke':
            payload, kind = b'', 'text/plain'
        else:
            payload, kind = b'<html>consent</html>', 'text/html'
        self.send_response(200)
        self.send_header('Content-Type', kind)
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _record
    do_POST = _record

    def log_message(self, *args):
        pass


CLIENT_ID = 'ly1nj6n11vionaie65emwzk575hnnmrk'
SECRET = 'hOzs+TeF/lT6k=o0dme~22uG*bQal04SBPYc1 !'
EXTRA = {'X-Extra': 'yes'}
KEYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'crates', 'boxauth', 'tests',
                    'fixtures', 'keys')
KEY_ID = 'q3rv8k1x'
ENTERPRISE_ID = '899905961'
USER_ID = '22222'
CODE = 'n22JPxrh18m4Y0wIZPIqYZK7VRrsMTWW'
RESOURCE = 'https://api.box.com/2.0/files/123456'
SHARED_LINK = 'https://app.box.com/s/abc?vanity=x&p=1'


def main(out_path):
    server = ThreadingHTTPServer(('127.0.0.1', 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f'http://127.0.0.1:{server.server_port}'
    manager = AuthorizationManager(network_session=NetworkSession(
        base_urls=BaseUrls(base_url=base, oauth_2_url=base + '/api/oauth2')))
    names = []

    def op(name, fn):
        before = len(CAPTURED)
        fn()
        assert len(CAPTURED) == before + 1, name
        CAPTURED[-1]['name'] = name
        names.append(name)

    G = RequestAccessTokenGrantType
    op('authorize_user', lambda: manager.authorize_user(
        AuthorizeUserResponseType.CODE, CLIENT_ID,
        redirect_uri='http://localhost:3000/callback?x=1&y=a b', state='st@te/1~*',
        scope='root_readwrite manage_webhook', extra_headers=EXTRA))
    op('authorize_user_minimal', lambda: manager.authorize_user(
        AuthorizeUserResponseType.CODE, CLIENT_ID))
    op('authorization_code', lambda: manager.request_access_token(
        G.AUTHORIZATION_CODE, client_id=CLIENT_ID, client_secret=SECRET,
        code='n22JPxrh18m4Y0wIZPIqYZK7VRrsMTWW', extra_headers=EXTRA))
    op('refresh_token_grant', lambda: manager.request_access_token(
        G.REFRESH_TOKEN, client_id=CLIENT_ID, client_secret=SECRET,
        refresh_token='c3FIOG9vSGV4VHo4QzAyg5T1JvNnJoZ3ExaVNyQWw6WjRsanRKZG5lQk9qUE1BVQ'))
    op('client_credentials_enterprise', lambda: manager.request_access_token(
        G.CLIENT_CREDENTIALS, client_id=CLIENT_ID, client_secret=SECRET,
        box_subject_type=RequestAccessTokenBoxSubjectType.ENTERPRISE, box_subject_id='899905961'))
    op('client_credentials_user', lambda: manager.request_access_token(
        G.CLIENT_CREDENTIALS, client_id=CLIENT_ID, client_secret=SECRET,
        box_subject_type=RequestAccessTokenBoxSubjectType.USER, box_subject_id='22222'))
    op('jwt_bearer', lambda: manager.request_access_token(
        G.URN_IETF_PARAMS_OAUTH_GRANT_TYPE_JWT_BEARER, client_id=CLIENT_ID, client_secret=SECRET,
        assertion='eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln-_'))
    op('token_exchange_resource', lambda: manager.request_access_token(
        G.URN_IETF_PARAMS_OAUTH_GRANT_TYPE_TOKEN_EXCHANGE, subject_token='SubJ3ct',
        subject_token_type=RequestAccessTokenSubjectTokenType.URN_IETF_PARAMS_OAUTH_TOKEN_TYPE_ACCESS_TOKEN,
        scope='item_preview item_upload', resource='https://api.box.com/2.0/files/123456'))
    op('token_exchange_shared_link', lambda: manager.request_access_token(
        G.URN_IETF_PARAMS_OAUTH_GRANT_TYPE_TOKEN_EXCHANGE, subject_token='SubJ3ct',
        subject_token_type=RequestAccessTokenSubjectTokenType.URN_IETF_PARAMS_OAUTH_TOKEN_TYPE_ACCESS_TOKEN,
        scope='item_preview', box_shared_link='https://app.box.com/s/abc?vanity=x&p=1'))
    op('token_exchange_annotator', lambda: manager.request_access_token(
        G.URN_IETF_PARAMS_OAUTH_GRANT_TYPE_TOKEN_EXCHANGE, subject_token='SubJ3ct',
        subject_token_type=RequestAccessTokenSubjectTokenType.URN_IETF_PARAMS_OAUTH_TOKEN_TYPE_ACCESS_TOKEN,
        actor_token='eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
        actor_token_type=RequestAccessTokenActorTokenType.URN_IETF_PARAMS_OAUTH_TOKEN_TYPE_ID_TOKEN,
        scope='item_preview', resource='https://api.box.com/2.0/files/123456'))
    op('every_field', lambda: manager.request_access_token(
        G.AUTHORIZATION_CODE, client_id=CLIENT_ID, client_secret=SECRET, code='C', refresh_token='R',
        assertion='A', subject_token='S',
        subject_token_type=RequestAccessTokenSubjectTokenType.URN_IETF_PARAMS_OAUTH_TOKEN_TYPE_ACCESS_TOKEN,
        actor_token='AT',
        actor_token_type=RequestAccessTokenActorTokenType.URN_IETF_PARAMS_OAUTH_TOKEN_TYPE_ID_TOKEN,
        scope='s1 s2', resource='https://api.box.com/2.0/folders/0',
        box_subject_type=RequestAccessTokenBoxSubjectType.USER, box_subject_id='7',
        box_shared_link='https://app.box.com/s/x'))
    op('refresh_access_token', lambda: manager.refresh_access_token(
        CLIENT_ID, SECRET, 'c3FIOG9vSGV4VHo4QzAyg5T1JvNnJoZ3ExaVNyQWw6WjRsanRKZG5lQk9qUE1BVQ',
        extra_headers=EXTRA))
    op('revoke_access_token', lambda: manager.revoke_access_token(
        client_id=CLIENT_ID, client_secret=SECRET, token='n22JPxrh18m4Y0wIZPIqYZK7VRrsMTWW'))
    op('revoke_access_token_token_only', lambda: manager.revoke_access_token(token='tok'))
    requests = list(CAPTURED)
    schemes = capture_schemes(NetworkSession(
        base_urls=BaseUrls(base_url=base, oauth_2_url=base + '/api/oauth2')))
    server.shutdown()

    import box_sdk_gen.networking.version as version
    with open(out_path, 'w') as out:
        json.dump({'sdk': 'boxsdk ' + version.__version__, 'requests': requests, 'schemes': schemes},
                  out, indent=2)
        out.write('\n')


def token_json(access, refresh=None):
    """A token answer; Box adds a refresh token for OAuth 2.0 only."""
    refresh_field = f',"refresh_token":"{refresh}"' if refresh else ''
    return f'{{"access_token":"{access}","expires_in":3600{refresh_field},"token_type":"bearer"}}'


def b64url_decode(segment):
    return base64.urlsafe_b64decode(segment + '=' * (-len(segment) % 4))


def jwt_record(body, received_at):
    """The assertion in a JWT grant's form body, decoded, with its volatile claims as placeholders:
    `jti` becomes "<N-char uuid>" and `exp` "<now+S>" (S: exp minus the time the request arrived)."""
    [assertion] = re.findall(r'(?:^|&)assertion=([^&]*)', body)
    header, claims, signature = assertion.split('.')
    header_json = b64url_decode(header).decode()
    claims_json = b64url_decode(claims).decode()
    parsed = json.loads(claims_json)
    jti, exp = parsed['jti'], parsed['exp']
    lifetime = round(exp - received_at)
    normalised = claims_json.replace(f'"jti":"{jti}"', f'"jti":"<{len(jti)}-char uuid>"', 1)
    normalised = normalised.replace(f'"exp":{exp}', f'"exp":"<now+{lifetime}>"', 1)
    assert normalised.count('<') == 2, claims_json
    assert re.fullmatch(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', jti), jti
    return {
        'header': header_json,
        'claims': normalised,
        'jti_length': len(jti),
        'jti_uuid_version': int(jti[14], 16),
        'exp_minus_now': lifetime,
        'signature_bytes': len(b64url_decode(signature)),
    }


def capture_schemes(session):
    """The SDK's auth classes, not the AuthorizationManager: each step sends one request, answered
    with `reply` (a token JSON, or nothing for revoke)."""
    captures = []

    def step(scheme, name, fn, reply=None, jwt=False):
        if jwt:
            # Start at the top of a second so `exp - now` rounds the same on every run.
            time.sleep(1.01 - time.time() % 1)
        before = len(CAPTURED)
        if reply is not None:
            NEXT_TOKEN.append(reply.encode())
        fn()
        assert len(CAPTURED) == before + 1 and not NEXT_TOKEN, name
        request = CAPTURED[-1]
        body = request['body']
        capture = {'name': name, 'scheme': scheme}
        if jwt:
            record = jwt_record(body, RECEIVED_AT[-1])
            body = re.sub(r'((?:^|&)assertion=)[^&]*', r'\1<assertion>', body)
        capture.update({
            'method': request['method'],
            'path': request['path'],
            'query': request['query'],
            'content_type': request['content_type'],
            'body': body,
            'reply': reply or '',
        })
        if jwt:
            capture['jwt'] = record
        captures.append(capture)

    ccg = BoxCCGAuth(CCGConfig(CLIENT_ID, SECRET, enterprise_id=ENTERPRISE_ID))
    step('ccg', 'ccg_retrieve_enterprise', lambda: ccg.retrieve_token(network_session=session),
         token_json('ccg-enterprise'))
    ccg_user = ccg.with_user_subject(USER_ID)
    step('ccg', 'ccg_retrieve_user', lambda: ccg_user.retrieve_token(network_session=session),
         token_json('ccg-user'))
    step('ccg', 'ccg_downscope_resource', lambda: ccg.downscope_token(
        ['item_preview', 'item_upload'], resource=RESOURCE, network_session=session),
         token_json('ccg-downscoped'))
    step('ccg', 'ccg_revoke', lambda: ccg.revoke_token(network_session=session))

    with open(os.path.join(KEYS, 'pkcs8-sha1-des3.pem')) as pem, \
            open(os.path.join(KEYS, 'passphrase.txt')) as passphrase:
        jwt = BoxJWTAuth(JWTConfig(CLIENT_ID, SECRET, KEY_ID, pem.read(), passphrase.read().strip(),
                                   enterprise_id=ENTERPRISE_ID))
    step('jwt', 'jwt_retrieve_enterprise', lambda: jwt.retrieve_token(network_session=session),
         token_json('jwt-enterprise'), jwt=True)
    jwt_user = jwt.with_user_subject(USER_ID)
    step('jwt', 'jwt_retrieve_user', lambda: jwt_user.retrieve_token(network_session=session),
         token_json('jwt-user'), jwt=True)
    step('jwt', 'jwt_downscope_shared_link', lambda: jwt.downscope_token(
        ['item_preview'], shared_link=SHARED_LINK, network_session=session),
         token_json('jwt-downscoped'))
    step('jwt', 'jwt_revoke', lambda: jwt.revoke_token(network_session=session))

    oauth = BoxOAuth(OAuthConfig(CLIENT_ID, SECRET))
    step('oauth', 'oauth_exchange_code', lambda: oauth.get_tokens_authorization_code_grant(
        CODE, network_session=session), token_json('oauth-1', 'oauth-refresh-1'))
    step('oauth', 'oauth_refresh', lambda: oauth.refresh_token(network_session=session),
         token_json('oauth-2', 'oauth-refresh-2'))
    step('oauth', 'oauth_downscope_resource', lambda: oauth.downscope_token(
        ['item_preview', 'item_download', 'base_explorer'],
        resource='https://api.box.com/2.0/folders/0', network_session=session),
         token_json('oauth-downscoped'))
    step('oauth', 'oauth_revoke', lambda: oauth.revoke_token(network_session=session))

    developer = BoxDeveloperTokenAuth(
        'developer-token-1', config=DeveloperTokenConfig(client_id=CLIENT_ID, client_secret=SECRET))
    step('developer_token', 'developer_token_downscope_resource', lambda: developer.downscope_token(
        ['item_preview'], resource=RESOURCE, network_session=session), token_json('dev-downscoped'))
    step('developer_token', 'developer_token_revoke',
         lambda: developer.revoke_token(network_session=session))
    return captures


if __name__ == '__main__':
    main(sys.argv[1])
