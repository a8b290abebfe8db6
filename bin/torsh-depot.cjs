#!/usr/bin/env node
'use strict';
// The bundled CLI is built by `npm run build` (run automatically by `npm install`/`npm ci`).
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.cjs');
if (!fs.existsSync(bundle)) {
  process.stderr.write('torsh-depot: not built yet; run `npm run build` in the project folder first\n');
  process.exit(1);
}
require(bundle);
