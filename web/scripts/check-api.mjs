// Fails when src/api/schema.d.ts is not what openapi-typescript makes of ../openapi.yaml today,
// so the SPA's API types cannot drift from the contract the Go server publishes.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const web = join(dirname(fileURLToPath(import.meta.url)), '..')
const spec = join(web, '..', 'openapi.yaml')
const committed = join(web, 'src', 'api', 'schema.d.ts')

if (!existsSync(spec)) {
  console.error(`check:api: ${spec} does not exist yet; nothing to compare against.`)
  process.exit(2)
}
if (!existsSync(committed)) {
  console.error('check:api: src/api/schema.d.ts is missing; run `npm run gen:api` and commit it.')
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'check-api-'))
try {
  const fresh = join(dir, 'schema.d.ts')
  const bin = join(web, 'node_modules', '.bin', process.platform === 'win32' ? 'openapi-typescript.cmd' : 'openapi-typescript')
  execFileSync(bin, [spec, '-o', fresh], { stdio: ['ignore', 'ignore', 'inherit'] })
  if (readFileSync(fresh, 'utf8') !== readFileSync(committed, 'utf8')) {
    console.error('check:api: src/api/schema.d.ts is stale; run `npm run gen:api` and commit the result.')
    process.exit(1)
  }
  console.log('check:api: src/api/schema.d.ts matches ../openapi.yaml')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
