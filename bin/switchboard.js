#!/usr/bin/env node
// The CLI entry for `npx switchboard`. The sources are TypeScript run by Node's own type stripping
// (Node >= 22.18 / 24), so there is no build step between a checkout and a running server.
import '../src/main.ts'
