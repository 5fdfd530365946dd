#!/usr/bin/env node
// Makes a VAPID key pair (RFC 8292) for the relay's Web Push: P-256, base64url, the format
// `npx web-push generate-vapid-keys` prints.
//
//   node scripts/vapid.mjs
//
// Then: `npx wrangler secret put VAPID_PRIVATE_KEY` (the private key) and VAPID_PUBLIC_KEY in
// wrangler.toml [vars] (the public one). Changing them makes every device enable push again.
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

export function generateVapidKeys() {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  // The private scalar is 32 bytes; getPrivateKey drops leading zeros.
  const d = ecdh.getPrivateKey();
  const privateKey = Buffer.concat([Buffer.alloc(32 - d.length), d]).toString('base64url');
  return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { publicKey, privateKey } = generateVapidKeys();
  console.log(`VAPID_PUBLIC_KEY=${publicKey}\nVAPID_PRIVATE_KEY=${privateKey}`);
}
