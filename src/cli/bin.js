#!/usr/bin/env node
// scanmesh runs from its TypeScript sources: tsx compiles them on the fly, so a checkout needs no
// build step and `npx scanmesh` works as soon as `npm ci` has run.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
