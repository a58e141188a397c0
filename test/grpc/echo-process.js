// The Echo service (echo.proto) as a process target's version: listens on PORT, answers its
// VERSION in every note, and answers every unary call UNAVAILABLE when FAIL is "unavailable".
import { fileURLToPath, URL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const proto = fileURLToPath(new URL('./echo.proto', import.meta.url));
const { Echo } = grpc.loadPackageDefinition(protoLoader.loadSync(proto, { keepCase: true, defaults: true }))
  .aviary.test;
const version = process.env.VERSION ?? 'unknown';
const failing = process.env.FAIL === 'unavailable';

const server = new grpc.Server();
server.addService(Echo.service, {
  Unary: (call, done) =>
    failing
      ? done({ code: grpc.status.UNAVAILABLE, details: `version ${version} is unavailable` })
      : done(null, { text: call.request.text, version }),
  ServerStream: (call) => call.end(),
  ClientStream: (call, done) => call.on('end', () => done(null, { text: '', version })),
  Bidi: (call) => call.on('end', () => call.end()),
});
server.bindAsync(`127.0.0.1:${process.env.PORT}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    console.error(err.message);
    process.exit(1);
  }
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
