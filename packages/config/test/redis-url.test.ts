import { baseEnvSchema, EnvError, hashTag, parseEnv, parseRedisUrl, queuePrefixProblem } from '../src';

describe('REDIS_URL forms', () => {
  it('when the URL is redis:// or rediss://, then it is one server and the URL goes to the client as it is', () => {
    expect(parseRedisUrl('redis://:s3cret@cache:6380/2')).toEqual({ mode: 'standalone', url: 'redis://:s3cret@cache:6380/2' });
    expect(parseRedisUrl('rediss://cache')).toEqual({ mode: 'standalone', url: 'rediss://cache' });
  });

  it('when the URL is redis+cluster://, then every host is a seed node, 6379 unless given, with the credentials', () => {
    expect(parseRedisUrl('redis+cluster://app:p%40ss@h1:7000,h2:7001,10.0.0.3,[::1]:7002')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'h1', port: 7000 },
        { host: 'h2', port: 7001 },
        { host: '10.0.0.3', port: 6379 },
        { host: '::1', port: 7002 },
      ],
      username: 'app',
      password: 'p@ss',
      tls: false,
    });
    expect(parseRedisUrl('rediss+cluster://:pw@node.example:6379')).toMatchObject({ mode: 'cluster', tls: true, password: 'pw' });
  });

  it('when the URL is redis+sentinel://, then the hosts are sentinels (26379 unless given), the path names the master and the database', () => {
    expect(parseRedisUrl('redis+sentinel://:pw@s1:26379,s2,s3:26380/mymaster')).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: 's3', port: 26380 },
      ],
      masterName: 'mymaster',
      db: 0,
      password: 'pw',
      tls: false,
    });
    expect(parseRedisUrl('redis+sentinel://s1/mymaster/3?sentinelPassword=sp%26x')).toMatchObject({ db: 3, sentinelPassword: 'sp&x' });
    expect(parseRedisUrl('REDISS+SENTINEL://s1/m')).toMatchObject({ mode: 'sentinel', tls: true, masterName: 'm' });
  });

  it.each([
    ['http://cache:6379', /expected redis:\/\//],
    ['redis+cluster://', /at least one host/],
    ['redis+cluster://h1:7000,,h2', /host list/],
    ['redis+cluster://h1:99999', /between 1 and 65535/],
    ['redis+cluster://h1:7000/1', /only database 0/],
    ['redis+cluster://h1:7000?tls=1', /no query parameters/],
    ['redis+sentinel://s1:26379', /names the master/],
    ['redis+sentinel://s1/m/x', /database number/],
    ['redis+sentinel://s1/m?password=x', /only the sentinelPassword/],
    ['redis+sentinel://u:%zz@s1/m', /password is not valid percent-encoding/],
  ])('when REDIS_URL is %s, then it is refused: %s', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  it('when the environment holds a malformed REDIS_URL, then start-up lists it without echoing its password', () => {
    let error: unknown;
    try {
      parseEnv('svc', baseEnvSchema, { DATABASE_URL: 'postgres://db/x', REDIS_URL: 'redis+cluster://:hunter2@h1:7000/5' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EnvError);
    expect((error as EnvError).problems).toEqual(['REDIS_URL: Redis Cluster has only database 0: a cluster URL takes no path']);
    expect((error as EnvError).message).not.toContain('hunter2');
    expect(parseEnv('svc', baseEnvSchema, { DATABASE_URL: 'postgres://db/x', REDIS_URL: 'redis+sentinel://s1/m' }).REDIS_URL).toBe('redis+sentinel://s1/m');
  });
});

describe('hash tags and QUEUE_PREFIX', () => {
  it('when a key is hashed, then only a non-empty text between the first { and the next } counts, as Redis Cluster does', () => {
    expect(hashTag('{dealdome}:agent-turns:wait')).toBe('dealdome');
    expect(hashTag('dd{x}y{z}')).toBe('x');
    expect(hashTag('{}{dealdome}')).toBeUndefined();
    expect(hashTag('{dealdome')).toBeUndefined();
    expect(hashTag('dealdome')).toBeUndefined();
  });

  it('when the target is a cluster, then a prefix without a complete tag is a problem; elsewhere any prefix fits', () => {
    const cluster = parseRedisUrl('redis+cluster://h1:7000');
    expect(queuePrefixProblem(cluster, 'dealdome')).toMatch(/"\{dealdome\}"/);
    expect(queuePrefixProblem(cluster, 'prod:{dealdome')).toBeDefined();
    expect(queuePrefixProblem(cluster, '{}dealdome')).toBeDefined();
    expect(queuePrefixProblem(cluster, 'prod:{dealdome}')).toBeUndefined();
    expect(queuePrefixProblem(parseRedisUrl('redis+sentinel://s/m'), 'dealdome')).toBeUndefined();
    expect(queuePrefixProblem(parseRedisUrl('redis://h'), 'dealdome')).toBeUndefined();
  });
});
