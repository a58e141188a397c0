// The seed's `frontend` (REFERENCE §1): GET / calls BASE_URL (the backend's route on the
// Aviary router + /catalogDetail/) and renders a "Product Catalog Detail" page with the
// version and vendors; /ping answers; /metrics exposes Prometheus counters. Listens on PORT.
import { createServer, request } from 'node:http';

const baseUrl = process.env.BASE_URL ?? 'http://127.0.0.1:8080/catalogDetail/';
const counts = { pages: 0, backendErrors: 0, byVersion: new Map() };

function fetchCatalog() {
  return new Promise((resolve) => {
    const req = request(baseUrl, { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, detail: JSON.parse(body) });
        } catch {
          resolve({ status: res.statusCode ?? 0, detail: { error: body.slice(0, 200) } });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, detail: { error: err.message } }));
    req.end();
  });
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page({ status, detail }) {
  const ok = status === 200 && detail.version !== undefined;
  const body = ok
    ? `<p>Catalog version: <strong id="version">${escape(detail.version)}</strong></p>
       <ul id="vendors">${detail.vendors.map((v) => `<li>${escape(v)}</li>`).join('')}</ul>`
    : `<p id="error">The catalog is unavailable (${escape(status)}): ${escape(detail.error ?? '')}</p>`;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Product Catalog Detail</title>
<style>body{font-family:system-ui,sans-serif;margin:3rem;max-width:40rem}strong{color:#0b6}#error{color:#b00}</style>
</head><body><h1>Product Catalog Detail</h1>${body}<p><small>Refresh to see the versions mixed by their weights.</small></p></body></html>`;
}

const server = createServer(async (req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/ping') {
    res.end('Healthy');
    return;
  }
  if (path === '/metrics') {
    let text = '# TYPE frontend_pages_total counter\nfrontend_pages_total ' + counts.pages + '\n';
    text +=
      '# TYPE frontend_backend_errors_total counter\nfrontend_backend_errors_total ' +
      counts.backendErrors +
      '\n';
    text += '# TYPE frontend_catalog_version_total counter\n';
    for (const [v, n] of counts.byVersion) text += `frontend_catalog_version_total{version="${v}"} ${n}\n`;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(text);
    return;
  }
  if (path !== '/') {
    res.writeHead(404);
    res.end('not found');
    return;
  }
  const result = await fetchCatalog();
  counts.pages++;
  if (result.status !== 200) counts.backendErrors++;
  else counts.byVersion.set(result.detail.version, (counts.byVersion.get(result.detail.version) ?? 0) + 1);
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(page(result));
});

server.listen(Number(process.env.PORT ?? '9000'), process.env.HOST ?? '127.0.0.1');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
