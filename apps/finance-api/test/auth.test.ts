import jwt from 'jsonwebtoken';
import { JWT_SECRET, useFinanceApi } from './harness';

const problemType = 'application/problem+json';

describe('finance-api auth', () => {
  const api = useFinanceApi({ LOGIN_RATE_LIMIT_MAX: '5' });

  describe('people', () => {
    it('when a member logs in with the right password, then a short-lived Bearer pair comes back and /v1/me knows them', async () => {
      const member = await api.userWithToken('member');
      const decoded = jwt.decode(member.accessToken, { complete: true }) as jwt.Jwt & { payload: jwt.JwtPayload };
      expect(decoded.header.alg).toBe('HS256');
      expect(decoded.payload).toMatchObject({ sub: member.user.id, iss: 'dealdome', aud: 'dealdome-api', role: 'member' });
      expect(decoded.payload.exp! - decoded.payload.iat!).toBe(900);

      const me = await api.request('GET', '/v1/me', { token: member.accessToken });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ kind: 'user', email: member.email, role: 'member', scopes: ['finance:read', 'finance:write', 'knowledge:write'] });
    });

    it('when the password or the email is wrong, then both answer the same 401 problem with no hint', async () => {
      const member = await api.userWithToken('member');
      const wrongPassword = await api.request('POST', '/v1/auth/login', { body: { email: member.email, password: 'nope' } });
      const unknownEmail = await api.request('POST', '/v1/auth/login', { body: { email: 'ghost@dealdome.test', password: 'nope' } });
      for (const res of [wrongPassword, unknownEmail]) {
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toContain(problemType);
      }
      expect(wrongPassword.body).toEqual(unknownEmail.body);
      expect(JSON.stringify(wrongPassword.body)).not.toMatch(/password|email|user/i);
    });

    it('when a refresh token is used, then it rotates; when the old one is replayed, then the whole family is revoked', async () => {
      const member = await api.userWithToken('member');
      const first = await api.request('POST', '/v1/auth/refresh', { body: { refreshToken: member.refreshToken } });
      expect(first.status).toBe(200);
      expect(first.body.refreshToken).not.toBe(member.refreshToken);

      const replay = await api.request('POST', '/v1/auth/refresh', { body: { refreshToken: member.refreshToken } });
      expect(replay.status).toBe(401);
      // The thief's replay also cut off the legitimate holder of the newest token.
      const newest = await api.request('POST', '/v1/auth/refresh', { body: { refreshToken: first.body.refreshToken } });
      expect(newest.status).toBe(401);

      const stored = await api.db.selectFrom('refresh_tokens').select(['token_hash', 'revoked_at']).where('user_id', '=', member.user.id).execute();
      expect(stored).toHaveLength(2);
      expect(stored.every((t) => t.revoked_at !== null)).toBe(true);
      expect(stored.map((t) => t.token_hash)).not.toContain(member.refreshToken);
    });

    it('when a person logs out, then their refresh token stops working', async () => {
      const member = await api.userWithToken('member');
      expect((await api.request('POST', '/v1/auth/logout', { body: { refreshToken: member.refreshToken } })).status).toBe(204);
      expect((await api.request('POST', '/v1/auth/refresh', { body: { refreshToken: member.refreshToken } })).status).toBe(401);
    });

    const claims = { iss: 'dealdome', aud: 'dealdome-api', role: 'admin' };
    const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    it.each([
      ['expired', (sub: string) => jwt.sign({ ...claims, sub, exp: Math.floor(Date.now() / 1000) - 10 }, JWT_SECRET, { algorithm: 'HS256' })],
      ['unsigned (alg none)', (sub: string) => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ ...claims, sub, exp: Math.floor(Date.now() / 1000) + 60 })}.`],
      ['signed with another key', (sub: string) => jwt.sign({ ...claims, sub }, 'another-secret-that-is-long-enough-0123456789', { algorithm: 'HS256', expiresIn: 60 })],
      ['for another audience', (sub: string) => jwt.sign({ ...claims, aud: 'someone-else', sub }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 60 })],
      ['from another issuer', (sub: string) => jwt.sign({ ...claims, iss: 'evil', sub }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 60 })],
      ['signed with HS512 instead of the pinned HS256', (sub: string) => jwt.sign({ ...claims, sub }, JWT_SECRET, { algorithm: 'HS512', expiresIn: 60 })],
    ])('when an access token is %s, then it is refused with 401', async (_name, make) => {
      const admin = await api.userWithToken('admin');
      // The same claims, correctly signed, are accepted: only the defect named above differs.
      const genuine = jwt.sign({ ...claims, sub: admin.user.id }, JWT_SECRET, { algorithm: 'HS256', expiresIn: 60 });
      expect((await api.request('GET', '/v1/me', { token: genuine })).status).toBe(200);

      const res = await api.request('GET', '/v1/me', { token: make(admin.user.id) });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toContain(problemType);
    });

    it('when there is no Authorization header or it is not Bearer, then 401', async () => {
      const member = await api.userWithToken('member');
      expect((await api.request('GET', '/v1/me')).status).toBe(401);
      const basic = await fetch(`${api.url}/v1/me`, { headers: { authorization: `Basic ${member.accessToken}` } });
      expect(basic.status).toBe(401);
    });
  });

  describe('roles and machines', () => {
    it('when a viewer or a member asks for admin routes, then 403; an admin gets through', async () => {
      const viewer = await api.userWithToken('viewer');
      const member = await api.userWithToken('member');
      const admin = await api.userWithToken('admin');
      for (const who of [viewer, member]) {
        const res = await api.request('POST', '/v1/api-tokens', { token: who.accessToken, body: { name: 'ci', scopes: ['finance:read'] } });
        expect(res.status).toBe(403);
        expect(res.headers.get('content-type')).toContain(problemType);
      }
      expect((await api.request('GET', '/v1/api-tokens', { token: admin.accessToken })).status).toBe(200);
    });

    it('when an admin creates an API token, then the secret is shown once, stored hashed, works for its scopes only, and last use is kept', async () => {
      const admin = await api.userWithToken('admin');
      const created = await api.request('POST', '/v1/api-tokens', { token: admin.accessToken, body: { name: 'dashboard reader', scopes: ['finance:read'] } });
      expect(created.status).toBe(201);
      const secret: string = created.body.token;
      expect(secret).toMatch(/^ddt_[A-Za-z0-9_-]{8}_[A-Za-z0-9_-]{43}$/);
      expect(secret.startsWith(created.body.prefix)).toBe(true);

      const stored = await api.db.selectFrom('api_tokens').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
      expect(stored.token_hash).not.toContain(secret);
      expect(stored.last_used_at).toBeNull();

      const me = await api.request('GET', '/v1/me', { token: secret });
      expect(me.body).toMatchObject({ kind: 'api_token', name: 'dashboard reader', scopes: ['finance:read'] });
      const used = await api.db.selectFrom('api_tokens').select('last_used_at').where('id', '=', created.body.id).executeTakeFirstOrThrow();
      expect(used.last_used_at).not.toBeNull();

      // finance:read does not reach admin routes.
      expect((await api.request('GET', '/v1/api-tokens', { token: secret })).status).toBe(403);

      const listed = await api.request('GET', '/v1/api-tokens', { token: admin.accessToken });
      const row = listed.body.data.find((t: { id: string }) => t.id === created.body.id);
      expect(row).toMatchObject({ name: 'dashboard reader', prefix: created.body.prefix });
      expect(JSON.stringify(listed.body)).not.toContain(secret);
    });

    it('when an API token is revoked, expired or altered, then it is refused', async () => {
      const admin = await api.userWithToken('admin');
      const created = await api.request('POST', '/v1/api-tokens', { token: admin.accessToken, body: { name: 'etl', scopes: ['finance:read', 'finance:write'] } });
      const secret: string = created.body.token;
      expect((await api.request('GET', '/v1/me', { token: secret })).status).toBe(200);

      const altered = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
      expect((await api.request('GET', '/v1/me', { token: altered })).status).toBe(401);

      expect((await api.request('DELETE', `/v1/api-tokens/${created.body.id}`, { token: admin.accessToken })).status).toBe(204);
      expect((await api.request('GET', '/v1/me', { token: secret })).status).toBe(401);

      const expiring = await api.request('POST', '/v1/api-tokens', { token: admin.accessToken, body: { name: 'short', scopes: ['finance:read'] } });
      await api.db.updateTable('api_tokens').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', expiring.body.id).execute();
      expect((await api.request('GET', '/v1/me', { token: expiring.body.token })).status).toBe(401);
    });

    it('when a token request is malformed, then 400 names the fields', async () => {
      const admin = await api.userWithToken('admin');
      const res = await api.request('POST', '/v1/api-tokens', { token: admin.accessToken, body: { name: '', scopes: ['root'] } });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.errors)).toEqual(expect.arrayContaining(['name', 'scopes.0']));
    });
  });

  describe('limits and malformed requests', () => {
    it('when login is attempted too often for one email, then 429 problem+json', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        statuses.push((await api.request('POST', '/v1/auth/login', { body: { email: 'target@dealdome.test', password: `guess-${i}` } })).status);
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toEqual([429, 429]);
    });

    it('when the body is not JSON, has the wrong content type or is too large, then 400, 415 and 413 problems', async () => {
      const broken = await api.request('POST', '/v1/auth/refresh', { raw: '{"refreshToken":' });
      expect(broken.status).toBe(400);
      expect(broken.headers.get('content-type')).toContain(problemType);
      expect((await api.request('POST', '/v1/auth/refresh', { raw: 'refreshToken=x', contentType: 'application/x-www-form-urlencoded' })).status).toBe(415);
      expect((await api.request('POST', '/v1/auth/refresh', { body: { refreshToken: 'x'.repeat(2_000_000) } })).status).toBe(413);
    });

    it('when a route does not exist, then 404 problem+json and a request id header', async () => {
      const res = await api.request('GET', '/v1/nothing-here');
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain(problemType);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
