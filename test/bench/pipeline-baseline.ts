/**
 * The bench's yardstick: the same pipeline (webhook → filter → transform → HTTP sink) as a bare
 * in-memory Node.js server — no validation beyond the required attributes, no database, no
 * durability. Started by pipeline.bench.ts: `tsx pipeline-baseline.ts <port> <sink url>`.
 */
import http from 'node:http';

const [port, sinkUrl] = process.argv.slice(2) as [string, string];
const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const queue: { id: string; body: string }[] = [];
let inFlight = 0;

function pump(): void {
  while (inFlight < 64 && queue.length > 0) {
    const item = queue.shift()!;
    inFlight += 1;
    const req = http.request(sinkUrl, { method: 'POST', agent, headers: { 'ce-id': item.id, 'content-type': 'application/json', 'content-length': Buffer.byteLength(item.body) } }, (res) => {
      res.resume();
      res.on('end', () => {
        inFlight -= 1;
        pump();
      });
    });
    req.on('error', () => {
      inFlight -= 1;
      queue.push(item);
    });
    req.end(item.body);
  }
}

http
  .createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = req.headers['ce-id'];
      let data: { bucket?: number; amount?: number };
      try {
        data = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof data;
      } catch {
        res.writeHead(400).end();
        return;
      }
      if (typeof id !== 'string' || !req.headers['ce-source'] || !req.headers['ce-type']) {
        res.writeHead(400).end();
        return;
      }
      if (typeof data.bucket === 'number' && data.bucket < 7) {
        queue.push({ id, body: JSON.stringify({ id, bucket: data.bucket, amount: data.amount }) });
        pump();
      }
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":1,"duplicates":0}');
    });
  })
  .listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
