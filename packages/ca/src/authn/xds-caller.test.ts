// xDS callers: the authenticated identity must match the node's claimed namespace and account.
import { describe, expect, it } from 'vitest';
import { BootstrapTokenAuthenticator } from './authenticator.js';
import { authenticateXdsCaller } from './xds-caller.js';

describe('authenticateXdsCaller', () => {
  const auth = [BootstrapTokenAuthenticator.parse('t shop web\n', 'cluster.local')];
  const creds = { metadata: { authorization: 'Bearer t' } };
  it('accepts a proxy whose identity matches its node metadata', async () => {
    await expect(
      authenticateXdsCaller(auth, creds, { namespace: 'shop', serviceAccount: 'web' }),
    ).resolves.toMatchObject({
      identity: 'spiffe://cluster.local/ns/shop/sa/web',
    });
  });
  it('refuses a proxy claiming another identity, and one without credentials', async () => {
    await expect(
      authenticateXdsCaller(auth, creds, { namespace: 'shop', serviceAccount: 'db' }),
    ).rejects.toThrow(
      'proxy authenticated as spiffe://cluster.local/ns/shop/sa/web claims namespace shop service account db',
    );
    await expect(
      authenticateXdsCaller(auth, { metadata: {} }, { namespace: 'shop', serviceAccount: 'web' }),
    ).rejects.toThrow(/no credentials/);
  });
});
