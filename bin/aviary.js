#!/usr/bin/env node
// Entry point of the `aviary` command: runs the compiled CLI (npm run build first).
import '../dist/cli/main.js';
