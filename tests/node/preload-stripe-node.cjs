// Test-only preload (node --require, set through NODE_OPTIONS); never shipped.
//
// @stripe/mcp 0.2.x runs its tools locally through stripe-node, which always talks to
// https://api.stripe.com. This hooks Module._load so that every `require('stripe')` returns a
// constructor that injects host/port/protocol from MCP_GUARD_TEST_STRIPE_API (e.g.
// http://127.0.0.1:8123), pointing stripe-node at the tests' fake Stripe REST API.
//
// The documentation tool of 0.2.x fetches https://ai.stripe.com/search directly; fetch is wrapped
// so that it goes to <MCP_GUARD_TEST_STRIPE_API>/search instead, and any other URL is refused, so
// a test can never reach the network.
'use strict';

const Module = require('node:module');

const apiUrl = process.env.MCP_GUARD_TEST_STRIPE_API;
if (!apiUrl) {
  throw new Error('preload-stripe-node: MCP_GUARD_TEST_STRIPE_API is not set');
}
const api = new URL(apiUrl);
const override = {
  host: api.hostname,
  port: Number(api.port || (api.protocol === 'https:' ? 443 : 80)),
  protocol: api.protocol.replace(':', ''),
};

const patched = new WeakMap();

function patchStripe(Original) {
  if (typeof Original !== 'function') return Original;
  if (patched.has(Original)) return patched.get(Original);
  // stripe-node's constructor may be called with or without `new`; always build the real one.
  function TestStripe(key, config) {
    return new Original(key, { ...(config || {}), ...override });
  }
  Object.setPrototypeOf(TestStripe, Original); // keep static members (errors, webhooks, ...)
  TestStripe.prototype = Original.prototype;
  TestStripe.Stripe = TestStripe;
  TestStripe.default = TestStripe;
  patched.set(Original, TestStripe);
  return TestStripe;
}

const originalLoad = Module._load;
Module._load = function testLoad(request, parent, isMain) {
  const loaded = originalLoad.apply(this, arguments);
  return request === 'stripe' ? patchStripe(loaded) : loaded;
};

const originalFetch = globalThis.fetch;
globalThis.fetch = async function guardedTestFetch(input, init) {
  const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const url = new URL(href);
  if (url.origin === 'https://ai.stripe.com') {
    return originalFetch(new URL(url.pathname + url.search, api).href, init);
  }
  if (url.origin === api.origin) return originalFetch(input, init);
  throw new TypeError(`preload-stripe-node: refusing non-Stripe URL in a test: ${href}`);
};
