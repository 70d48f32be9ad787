#!/usr/bin/env python3
"""Record what Box's official Python SDK (PyPI `boxsdk` 10.x, module `box_sdk_gen`) sends for every
AuthorizationManager operation and grant, so boxauth's tests can compare their own bytes with it.

Usage: python3 scripts/capture_python_sdk_wire.py OUT.json
Needs `boxsdk` installed (the CI script installs it in a venv). Prints nothing on success.
The inputs are fixed and mirror crates/boxauth/tests/wire_matches_python_sdk.rs.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from box_sdk_gen import (
    AuthorizationManager,
    AuthorizeUserResponseType,
    BaseUrls,
    NetworkSession,
    RequestAccessTokenActorTokenType,
    RequestAccessTokenBoxSubjectType,
    RequestAccessTokenGrantType,
    RequestAccessTokenSubjectTokenType,
)

CAPTURED = []
TOKEN = b'{"access_token":"T","expires_in":3600,"token_type":"bearer"}'


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
        if path == '/oauth2/token':
            payload, kind = TOKEN, 'application/json'
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
    server.shutdown()

    import box_sdk_gen.networking.version as version
    with open(out_path, 'w') as out:
        json.dump({'sdk': 'boxsdk ' + version.__version__, 'requests': CAPTURED}, out, indent=2)
        out.write('\n')


if __name__ == '__main__':
    main(sys.argv[1])
