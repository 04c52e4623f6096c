// vue-tsc type-checks the console's .vue files with the classic (JavaScript) TypeScript compiler, which
// TypeScript 7 (the native `typescript` this project uses) no longer ships: vue-tsc's own bin resolves
// `typescript/lib/tsc` and fails on TypeScript 7. This runs vue-tsc on `@typescript/typescript6` (the
// maintained TypeScript 6 API) instead, leaving `typescript` (7) for everything else.
// Usage: node scripts/vue-tsc.cjs --noEmit -p console
require('vue-tsc').run(require.resolve('@typescript/typescript6/lib/tsc'));
