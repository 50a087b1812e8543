// panva's oidc-provider (OpenID Certified), configured as the peer of
// flowgate's token endpoint in bench/peers.sh: the client_credentials grant,
// client_secret_basic, and EdDSA-signed JWT access tokens for one resource
// server, the same work flowgate's /oauth2/token does. Tokens in JWT format
// are not stored, so the memory adapter is not on the hot path.
//
//   node oidc-provider.mjs PORT CLIENT_ID CLIENT_SECRET
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret] = process.argv.slice(2);
if (!port || !clientId || !clientSecret) {
  console.error('usage: node oidc-provider.mjs PORT CLIENT_ID CLIENT_SECRET');
  process.exit(2);
}
const resource = 'urn:flowgate:bench';
const { privateKey } = generateKeyPairSync('ed25519');
const key = { ...privateKey.export({ format: 'jwk' }), alg: 'EdDSA', use: 'sig', kid: 'bench' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'EdDSA',
  }],
  jwks: { keys: [key] },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      getResourceServerInfo: () => ({
        scope: 'orders',
        audience: resource,
        accessTokenTTL: 300,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'EdDSA' } },
      }),
    },
  },
});
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider ${process.env.npm_package_version ?? ''} listening on ${port}`);
});
