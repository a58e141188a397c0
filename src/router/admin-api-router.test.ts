import { AdminServer } from '../api/admin-server.js';
import { proxyConfigSchema } from '../config/proxy-schema.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import { AdminApiRouter } from './admin-api-router.js';
import { runRouterConformance } from './conformance.js';

runRouterConformance({
  name: 'aviary-admin',
  create: async () => {
    const proxy = new ProxyServer(proxyConfigSchema.parse({ listeners: [{ port: 0 }] }));
    await proxy.start();
    const admin = new AdminServer(proxy, { port: 0, token: 'conformance-token' });
    const adminAddress = await admin.start();
    return {
      router: new AdminApiRouter({
        url: `http://127.0.0.1:${adminAddress.port}`,
        token: 'conformance-token',
      }),
      dataPlaneUrl: `http://127.0.0.1:${proxy.address().port}`,
      close: async () => {
        await admin.close();
        await proxy.close();
      },
    };
  },
});
