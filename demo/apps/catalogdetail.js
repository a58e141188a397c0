// The seed's `catalogdetail` backend (REFERENCE §1): GET /catalogDetail answers the version
// and its vendors, GET /ping answers "Healthy". VERSION picks the behaviour; FAIL_RATE (0..1)
// and EXTRA_LATENCY_MS make a faulty release for demos and tests; COLD_REQUESTS makes a cold
// start: this process's first COLD_REQUESTS answers of /catalogDetail take COLD_LATENCY_MS
// (default 150) more, as a JIT or a cache warming up would. Listens on PORT.
import { createServer } from 'node:http';

const version = process.env.VERSION ?? '1';
const failRate = Number(process.env.FAIL_RATE ?? '0');
const extraLatencyMs = Number(process.env.EXTRA_LATENCY_MS ?? '0');
let coldRequests = Number(process.env.COLD_REQUESTS ?? '0');
const coldLatencyMs = Number(process.env.COLD_LATENCY_MS ?? '150');
const vendors = ['ABC.com', 'XYZ.com', 'PQR.com'];
if (Number(version) >= 2) vendors.push('SWITZERLAND.com');
if (Number(version) >= 3) vendors.push('NORWAY.com');

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/ping') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('Healthy');
    return;
  }
  if (path === '/catalogDetail' || path === '/catalogDetail/') {
    const answer = () => {
      if (Math.random() < failRate) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'internal error', version }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ version, vendors }));
    };
    const cold = coldRequests > 0 ? coldLatencyMs : 0;
    if (coldRequests > 0) coldRequests -= 1;
    const delay = cold + (extraLatencyMs > 0 ? extraLatencyMs * (0.5 + Math.random()) : 0);
    if (delay > 0) setTimeout(answer, delay);
    else answer();
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found');
});

server.listen(Number(process.env.PORT ?? '3000'), process.env.HOST ?? '127.0.0.1');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
