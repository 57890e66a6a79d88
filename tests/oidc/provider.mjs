// A real OpenID Connect provider (the certified `oidc-provider` package) for Palier's tests.
//
// Listens on 127.0.0.1 (OIDC_PORT, default: a free port), then prints one JSON line on stdout:
// {"issuer": "http://127.0.0.1:<port>"}. One client is registered from the environment:
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS, OIDC_POST_LOGOUT_REDIRECT_URIS
//   (comma-separated). PKCE (S256) is required; userinfo answers a signed JWT (as ProConnect).
// Interaction: /interaction/<uid> asks which account to log in (any e-mail address: the
// account's `sub` is derived from it); consent is implied (first-party client).
// Misbehaviours for tests (a real provider, a misconfigured or attacked one):
//   OIDC_TOKEN_CLOCK_SKEW=-7200  the token endpoint runs with a clock late by that many seconds
//                               (its ID tokens arrive already expired);
//   OIDC_FOREIGN_JWKS=1          /jwks publishes another key under the same kid (every
//                               signature then fails to verify: a forged ID token).
import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const env = process.env;
const list = (value) => (value || '').split(',').map((s) => s.trim()).filter(Boolean);

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: 'palier-test-key', alg: 'RS256', use: 'sig' };
}

function publicJwk(jwk) {
  const { kty, n, e, kid, alg, use } = jwk;
  return { kty, n, e, kid, alg, use };
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function subjectOf(email) {
  return `pc-${crypto.createHash('sha256').update(email).digest('hex').slice(0, 16)}`;
}

const SCOPES = ['openid', 'email', 'given_name', 'usual_name', 'siret', 'uid'];

function configuration() {
  return {
    clients: [{
      client_id: env.OIDC_CLIENT_ID || 'palier-test',
      client_secret: env.OIDC_CLIENT_SECRET || 'palier-test-secret',
      redirect_uris: list(env.OIDC_REDIRECT_URIS),
      post_logout_redirect_uris: list(env.OIDC_POST_LOGOUT_REDIRECT_URIS),
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
      userinfo_signed_response_alg: 'RS256',
    }],
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      given_name: ['given_name'],
      usual_name: ['usual_name'],
      siret: ['siret'],
      uid: ['uid'],
    },
    scopes: SCOPES,
    async findAccount(ctx, id) {
      if (!id.includes('@')) return undefined;
      return {
        accountId: id,
        async claims() {
          return {
            sub: subjectOf(id),
            email: id,
            email_verified: true,
            given_name: 'Camille',
            usual_name: 'Martin',
            siret: '13002526500013',
            uid: subjectOf(id),
          };
        },
      };
    },
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(SCOPES.join(' '));
      await grant.save();
      return grant;
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page('Déconnexion du fournisseur d’identité', `${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Se déconnecter</button>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page('Vous êtes déconnecté du fournisseur d’identité', '');
        },
      },
    },
    cookies: { keys: ['palier-test-cookie-key'] },
    jwks: { keys: [signingKey()] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Erreur du fournisseur d’identité',
        `<pre>${escape(JSON.stringify(out))}</pre>`);
    },
  };
}

const server = http.createServer();
server.listen(Number(env.OIDC_PORT || 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration());
  const skew = Number(env.OIDC_TOKEN_CLOCK_SKEW || 0) * 1000;
  const foreign = env.OIDC_FOREIGN_JWKS === '1'
    ? { keys: [publicJwk(signingKey())] } : null;

  provider.use(async (ctx, next) => {
    if (foreign && ctx.path === '/jwks') {
      ctx.body = foreign;
      return;
    }
    const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (match) {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (ctx.method === 'GET') {
        ctx.type = 'html';
        ctx.body = page('Connexion au fournisseur d’identité de test', `
<form method="post" action="/interaction/${escape(details.uid)}/login">
  <label for="login">Adresse électronique du compte</label>
  <input id="login" name="login" type="email" required autofocus>
  <button type="submit">Se connecter</button>
</form>`);
        return;
      }
      const login = (await formBody(ctx.req)).get('login') || '';
      await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: login.trim().toLowerCase() } },
        { mergeWithLastSubmission: false });
      ctx.respond = false;
      return;
    }
    if (skew && ctx.path === '/token') {
      const realNow = Date.now;
      Date.now = () => realNow() + skew;
      try { await next(); } finally { Date.now = realNow; }
      return;
    }
    await next();
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
