import { Writable } from 'node:stream';
import { createLogger, redactUrl } from '../src';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  it('when a line is logged, then it is JSON with the service name', () => {
    const { lines, destination } = capture();
    createLogger('scheduler', { destination }).info({ jobId: '7' }, 'hello');
    expect(lines[0]).toMatchObject({ service: 'scheduler', level: 'info', jobId: '7', msg: 'hello' });
  });

  it('when secrets are logged, then they are redacted', () => {
    const { lines, destination } = capture();
    createLogger('finance-api', { destination }).info(
      {
        password: 'pw1',
        user: { password: 'pw2', email: 'a@b.c' },
        req: { headers: { authorization: 'Bearer abc' } },
        config: { apiKey: 'sk-123', token: 't' },
        TELEGRAM_BOT_TOKEN: '123:ABC',
        env: { SETTINGS_ENCRYPTION_KEY: 'key-bytes', DATABASE_URL: 'postgres://u:dbpw@h/d' },
        pool: { connectionString: 'postgres://u:poolpw@h/d' },
      },
      'login',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ['pw1', 'pw2', 'Bearer abc', 'sk-123', '123:ABC', 'key-bytes', 'dbpw', 'poolpw']) expect(text).not.toContain(secret);
    expect(text).toContain('a@b.c');
  });

  it('when a connection string is shown, then its password is removed', () => {
    expect(redactUrl('postgres://dd:s3cret@db:5432/dealdome')).toBe('postgres://dd:redacted@db:5432/dealdome');
  });
});
