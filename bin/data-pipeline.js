#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so that the bin works from a plain `npm install`, with no build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/main.ts');
