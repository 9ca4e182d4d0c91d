import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/server.ts';
import { problemType } from '../src/problem.ts';
import { listen, silentLogger, testTls, useTestServer } from './helpers.ts';

/**
 * A raw TLS connection: `write` sends bytes once connected, `received` is everything
 * the server sends until it closes the connection.
 */
function rawConnection(port: number, ca: string): { write: (text: string) => void; received: Promise<string> } {
  const socket = connect({ host: '127.0.0.1', port, ca });
  const connected = new Promise<void>((resolve) => socket.once('secureConnect', () => resolve()));
  const received = new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'ECONNRESET') return; // the server closes after answering; close follows
      reject(error);
    });
  });
  return { write: (text) => void connected.then(() => socket.write(text)), received };
}

function exchange(port: number, ca: string, text: string): Promise<string> {
  const connection = rawConnection(port, ca);
  connection.write(text);
  return connection.received;
}

/** The JSON body that follows the head of the first response with `status`. */
function problemIn(raw: string, status: number): Record<string, unknown> {
  const start = raw.indexOf(`HTTP/1.1 ${status} `);
  expect(start, raw).toBeGreaterThanOrEqual(0);
  const response = raw.slice(start);
  const head = response.slice(0, response.indexOf('\r\n\r\n'));
  expect(head.toLowerCase()).toContain('content-type: application/problem+json');
  const body = response.slice(head.length + 4);
  return JSON.parse(body.slice(0, body.lastIndexOf('}') + 1)) as Record<string, unknown>;
}

const server = useTestServer();

describe('errors below the router are problems too', () => {
  it('a request that is not HTTP gets a 400 problem', async () => {
    const raw = await exchange(server.port, server.ca, 'THIS IS NOT HTTP\r\n\r\n');
    expect(problemIn(raw, 400)['type']).toBe(problemType('bad-request'));
  });

  it('oversized headers get a 431 problem', async () => {
    const raw = await exchange(server.port, server.ca, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(problemIn(raw, 431)['type']).toBe(problemType('headers-too-large'));
  });
});

describe('shutdown', () => {
  it('a request arriving while the server closes gets a 503 problem', async () => {
    const material = await testTls();
    const closingApp = await createHttpServer({ tls: material.server, logger: silentLogger() });
    const signal = () => {
      let fire!: () => void;
      const fired = new Promise<void>((resolve) => (fire = resolve));
      return { fire, fired };
    };
    const slowEntered = signal();
    const release = signal();
    const closeStarted = signal();
    const refused = signal();
    closingApp.get('/slow', async () => {
      slowEntered.fire();
      await release.fired;
      return { done: true };
    });
    closingApp.addHook('preClose', (done) => {
      closeStarted.fire();
      done();
    });
    closingApp.addHook('onError', (_request, _reply, error, done) => {
      if ((error as { code?: string }).code === 'service-unavailable') refused.fire();
      done();
    });
    const closingPort = await listen(closingApp);

    // The in-flight /slow request keeps the connection open while the server closes;
    // the second request arrives on it after close() has begun.
    const connection = rawConnection(closingPort, material.ca.cert);
    connection.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await slowEntered.fired;
    const closed = closingApp.close();
    await closeStarted.fired;
    connection.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await refused.fired;
    release.fire();
    const raw = await connection.received;
    await closed;

    expect(raw.startsWith('HTTP/1.1 200 ')).toBe(true);
    const problem = problemIn(raw, 503);
    expect(problem['type']).toBe(problemType('service-unavailable'));
    expect(problem['detail']).toBe('server: is shutting down');
  });
});
