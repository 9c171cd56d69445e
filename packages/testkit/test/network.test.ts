import net from 'node:net';
import pg from 'pg';
import { TcpProxy, useTestRedis } from '../src';

describe('test network', () => {
  const redis = useTestRedis();

  it('when a test connects beyond loopback, then the connection is refused before it leaves the machine', () => {
    expect(() => net.connect(443, '203.0.113.10')).toThrow('tests may not open network connections beyond loopback (tried 203.0.113.10)');
    expect(() => net.connect({ host: 'api.telegram.org', port: 443 })).toThrow(/beyond loopback/);
  });

  it('when the proxy stops and starts again, then clients through it lose and regain the server', async () => {
    const proxy = await TcpProxy.forUrl(redis.url).start();
    const url = proxy.rewrite(redis.url);
    const ping = async () => {
      const socket = net.connect(proxy.port, '127.0.0.1');
      return new Promise<string>((resolve, reject) => {
        socket.once('error', reject);
        socket.once('data', (data) => {
          resolve(data.toString());
          socket.destroy();
        });
        socket.write('PING\r\n');
      });
    };
    expect(new URL(url).port).toBe(String(proxy.port));
    expect(await ping()).toBe('+PONG\r\n');
    await proxy.stop();
    await expect(ping()).rejects.toThrow(/ECONNREFUSED/);
    await proxy.start();
    expect(await ping()).toBe('+PONG\r\n');
    await proxy.stop();
  });

  it('when PostgreSQL is reached through the admin URL, then pgvector is installed', async () => {
    const client = new pg.Client({ connectionString: process.env.TEST_ADMIN_DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ default_version: string }>(
        `SELECT default_version FROM pg_available_extensions WHERE name = 'vector'`,
      );
      expect(rows[0]?.default_version).toMatch(/^0\.(8|9|\d{2,})\.|^[1-9]\d*\./);
    } finally {
      await client.end();
    }
  });
});
