"""Independent OAuth 2.0 and JWT clients against a running flowgate.

authlib obtains tokens with client_secret_basic, client_secret_post and
private_key_jwt (an RSA key made here by `cryptography`, registered through
the management API); pyjwt verifies every issued access token using nothing
but the published JWKS. Prints the tokens as JSON for the calling test to use
at a flow. Exits non-zero on any failure.

usage: oauth_clients.py BASE_URL ISSUER CLIENT_ID CLIENT_SECRET ADMIN_TOKEN
"""

import json
import sys

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def fetch(base, client_id, secret, method):
    session = OAuth2Session(client_id, secret, token_endpoint_auth_method=method)
    token = session.fetch_token(f"{base}/oauth2/token", grant_type="client_credentials")
    assert token["token_type"].lower() == "bearer", token
    assert token["expires_in"] > 0, token
    return token["access_token"]


def verify(base, issuer, token, client_id):
    jwks = requests.get(f"{base}/.well-known/jwks.json", timeout=10).json()
    keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(jwks).keys}
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt", header
    assert header["alg"] == "EdDSA", header
    key = keys[header["kid"]]
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["EdDSA"],
        audience=f"{issuer}/flows",
        issuer=issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    )
    assert claims["client_id"] == client_id == claims["sub"], claims
    # The same library must refuse a token whose payload was changed.
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
    try:
        jwt.decode(forged, key.key, algorithms=["EdDSA"], audience=f"{issuer}/flows", issuer=issuer)
    except jwt.PyJWTError:
        pass
    else:
        raise AssertionError("pyjwt accepted a forged token")
    return claims


def private_key_jwt(base, issuer, admin_token):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    created = requests.post(
        f"{base}/admin/v1/accounts",
        json={
            "name": "authlib-pkj",
            "credential_type": "private_key_jwt",
            "public_key": public_pem.decode(),
            "key_id": "authlib-1",
            "flows": ["orders"],
        },
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    client_id = created.json()["client_id"]
    # The assertion's audience is the token endpoint under the issuer's name,
    # while the request goes to wherever flowgate listens.
    session = OAuth2Session(client_id, private_pem, token_endpoint_auth_method="private_key_jwt")
    session.register_client_auth_method(
        PrivateKeyJWT(f"{issuer}/oauth2/token", headers={"kid": "authlib-1"})
    )
    token = session.fetch_token(f"{base}/oauth2/token", grant_type="client_credentials")
    verify(base, issuer, token["access_token"], client_id)
    return token["access_token"]


def main():
    base, issuer, client_id, secret, admin_token = sys.argv[1:6]
    tokens = {}
    for method in ("client_secret_basic", "client_secret_post"):
        token = fetch(base, client_id, secret, method)
        verify(base, issuer, token, client_id)
        tokens[method] = token
    tokens["private_key_jwt"] = private_key_jwt(base, issuer, admin_token)
    print(json.dumps(tokens))


if __name__ == "__main__":
    main()
