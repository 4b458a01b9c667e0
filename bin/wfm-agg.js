#!/usr/bin/env node
// Launcher: registers tsx's loader in this very process and runs the TypeScript CLI, so
// `npx wfm-agg` works right after `npm install` with no build step, and signals (SIGTERM drains
// a node) reach the CLI directly instead of a wrapper process.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
