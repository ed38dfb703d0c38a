// The process entry of `switchboard` (`npm start`, `npx switchboard`): the CLI lives in src/cli/.
import { runCli } from './cli/index.ts'

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, stdin: () => process.stdin, exit: (c) => process.exit(c) })
process.exit(code)
