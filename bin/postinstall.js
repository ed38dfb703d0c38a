#!/usr/bin/env node
// Runs after `npm install` of this project (plain JavaScript: it may run on any Node). npm warns
// EBADENGINE for switchboard itself when the machine's Node is older than `engines` asks, although
// every npm script and `npx switchboard` run on the Node 24 that the `node` development dependency
// installs. Say so, so that a newcomer knows the warning does not stop anything.
import { execFileSync } from 'node:child_process'

const machine = (() => {
  try {
    return execFileSync(process.env.npm_node_execpath || 'node', ['--version'], { encoding: 'utf8' }).trim()
  } catch {
    return undefined
  }
})()
const [major, minor] = (machine ?? 'v0.0').slice(1).split('.').map(Number)
const machineOld = machine !== undefined && (major < 22 || (major === 22 && minor < 12))
const bundled = Number(process.versions.node.split('.')[0]) >= 22

if (machineOld && bundled) {
  console.log(`switchboard: this machine's Node is ${machine}, which is why npm warned EBADENGINE above. Nothing to do: ` +
    `npm start, npm test, the other npm scripts and npx switchboard run on the bundled Node ${process.version} (the "node" development dependency).`)
} else if (machineOld) {
  console.log(`switchboard: this machine's Node is ${machine}; switchboard needs Node >= 22.12. Install the development dependencies ` +
    '(plain npm install) to get the bundled Node 24 for npm scripts, or install a newer Node.')
}
