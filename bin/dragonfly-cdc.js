#!/usr/bin/env node
'use strict';
// Runs the compiled CLI (npm ci / npm run build produce dist/).
require('../dist/cli/main.js');
