// Stands in, in the Lambda bundles only, for packages Bolt loads for receivers Greenlight does not
// use on Lambda (Socket Mode, Express, the plain HTTP server, OAuth). Bolt requires them when its
// package loads, and they weigh ~1.3 MB (undici, iconv-lite, express); nothing calls them there.
// Anything that does call one fails loudly instead of quietly misbehaving.
function unavailable() {
  throw new Error('This part of @slack/bolt is not bundled for Lambda (infra/bundling/unused-receiver.cjs).');
}
module.exports = new Proxy(unavailable, { get: (target, key) => (key === '__esModule' ? false : target) });
