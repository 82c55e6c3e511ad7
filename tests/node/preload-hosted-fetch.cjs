// Test-only preload (node --require, set through NODE_OPTIONS); never shipped.
//
// @stripe/mcp 0.3.x relays stdio to the hard-coded https://mcp.stripe.com and offers no flag to
// point it elsewhere. This wraps globalThis.fetch so that, inside the tests, requests to that
// origin go to mcp-guard's local sandbox (MCP_GUARD_TEST_HOSTED_URL, e.g.
// http://127.0.0.1:8123/mcp). Every other URL is refused, so a test can never reach the network.
//
// If MCP_GUARD_TEST_SEEN_AUTH_FILE is set, one JSON line per request is appended to it with a
// SHA-256 fingerprint of the bearer token the relay sent (never the token itself): the test
// compares it with the fingerprint of the fake key it configured, proving the key arrived by
// header.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');

const HOSTED_ORIGIN = 'https://mcp.stripe.com';
const target = process.env.MCP_GUARD_TEST_HOSTED_URL;
const seenAuthFile = process.env.MCP_GUARD_TEST_SEEN_AUTH_FILE;

if (!target) {
  throw new Error('preload-hosted-fetch: MCP_GUARD_TEST_HOSTED_URL is not set');
}

const originalFetch = globalThis.fetch;

function requestUrl(input) {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return input.url; // a Request
}

function rewrite(href) {
  const url = new URL(href);
  if (url.origin !== HOSTED_ORIGIN) return null;
  const out = new URL(target);
  if (url.pathname !== '/' && url.pathname !== '') out.pathname = url.pathname;
  out.search = url.search;
  return out.href;
}

function recordAuth(href, input, init) {
  if (!seenAuthFile) return;
  const fromRequest = input instanceof Request ? input.headers : undefined;
  const headers = new Headers(init && init.headers ? init.headers : fromRequest);
  const auth = headers.get('authorization') || '';
  const [scheme, token] = auth.includes(' ') ? auth.split(' ', 2) : ['', auth];
  const line = {
    url: href,
    method: (init && init.method) || (input instanceof Request ? input.method : 'GET'),
    scheme,
    token_sha256: token ? crypto.createHash('sha256').update(token).digest('hex') : null,
    stripe_account: headers.get('stripe-account'),
  };
  fs.appendFileSync(seenAuthFile, JSON.stringify(line) + '\n');
}

globalThis.fetch = async function guardedTestFetch(input, init) {
  const href = requestUrl(input);
  const rewritten = rewrite(href);
  if (rewritten === null) {
    throw new TypeError(`preload-hosted-fetch: refusing non-Stripe URL in a test: ${href}`);
  }
  recordAuth(rewritten, input, init);
  if (input instanceof Request) {
    return originalFetch(new Request(rewritten, input), init);
  }
  return originalFetch(rewritten, init);
};
