// Runs the TypeScript sources directly in a plain Node process, without a build:
// `node -r ./test/support/register-ts.js apps/worker/src/main.ts`. Compiles each
// .ts file with SWC as Jest does (legacy decorators with metadata, CommonJS) and
// maps '@kepu/<lib>[/<path>]' to libs/<lib>/src[/<path>]. The ESM-only NestJS
// packages load through Node's own require(esm), which Node ≥ 20.19 enables.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const ROOT = path.resolve(__dirname, '..', '..');
const ALIAS = /^@kepu\/([a-z-]+)(?:\/(.*))?$/;

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveKepu(request, parent, isMain, options) {
  const match = ALIAS.exec(request);
  if (match) request = path.join(ROOT, 'libs', match[1], 'src', match[2] ?? '');
  return resolveFilename.call(this, request, parent, isMain, options);
};

require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
