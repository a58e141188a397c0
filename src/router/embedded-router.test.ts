import { proxyConfigSchema } from '../config/proxy-schema.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import { runRouterConformance } from '../../test/conformance/router-conformance.js';
import { EmbeddedRouter } from './embedded-router.js';

runRouterConformance({
  name: 'embedded',
  create: async () => {
    const proxy = new ProxyServer(proxyConfigSchema.parse({ listeners: [{ port: 0 }] }));
    await proxy.start();
    const { port } = proxy.address();
    return {
      router: new EmbeddedRouter(proxy),
      dataPlaneUrl: `http://127.0.0.1:${port}`,
      close: () => proxy.close(),
    };
  },
});
