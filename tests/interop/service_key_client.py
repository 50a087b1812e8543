"""An independent private_key_jwt client built from a flowgate service key.

Reads the service key (JSON, as `POST /admin/v1/accounts` with `generate`
answered it) from stdin; authlib signs the client assertion with the
service key's `key` and `key_id` (its `algorithm`), fetches a token from
BASE_URL/oauth2/token with the assertion's audience the `tokenurl`, and
prints the access token. Nothing but the service key is used.

usage: service_key_client.py BASE_URL < service-key.json
"""

import json
import sys

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc.jwk import ECKey, OKPKey


def main():
    base = sys.argv[1]
    key = json.load(sys.stdin)
    # authlib reads a PEM string as RSA; the key type follows `algorithm`.
    private = (ECKey if key["algorithm"] == "ES256" else OKPKey).import_key(key["key"])
    session = OAuth2Session(
        key["clientid"], private, token_endpoint_auth_method="private_key_jwt"
    )
    session.register_client_auth_method(
        PrivateKeyJWT(key["tokenurl"], headers={"kid": key["key_id"]}, alg=key["algorithm"])
    )
    token = session.fetch_token(f"{base}/oauth2/token", grant_type="client_credentials")
    assert token["token_type"].lower() == "bearer", token
    print(token["access_token"])


if __name__ == "__main__":
    main()
