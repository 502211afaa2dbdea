// A real OpenID provider for the identity tests (npm oidc-provider, OpenID-certified),
// listening on loopback. Configured from the environment by the test harness:
//   OP_PORT, OP_CLIENT_ID, OP_CLIENT_SECRET, OP_REDIRECT_URI
// Its development login form accepts any login name; the account's subject is that name
// and its email is `<name>` when the name contains "@", verified unless it starts with
// "unverified".
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OP_CLIENT_ID,
    client_secret: process.env.OP_CLIENT_SECRET,
    redirect_uris: [process.env.OP_REDIRECT_URI],
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name'] },
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({
      sub: id,
      email: id.includes('@') ? id : undefined,
      email_verified: !id.startsWith('unverified'),
      given_name: 'Federated',
      family_name: 'Person',
    }),
  }),
});
provider.on('server_error', (ctx, err) => console.error('op server_error', err));
provider.listen(port, '127.0.0.1', () => console.log(`op listening on ${issuer}`));
