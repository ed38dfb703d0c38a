// Lint: typescript-eslint's recommended rules plus the architecture's one-way boundaries
// (HOUSE-STYLE: surfaces import core through its index; core never imports Fastify or a surface;
// providers never import core).
import tseslint from 'typescript-eslint'

const noFramework = [
  { group: ['fastify', 'fastify/*', '@fastify/*'], message: 'core and providers know nothing of HTTP frameworks' },
]

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'web/**/dist/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.property.name=/^(only|skip|todo)$/][callee.object.name=/^(it|test|describe)$/]", message: 'no focused or skipped tests' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        ...noFramework,
        { group: ['**/surfaces/**', '**/app.ts', '**/main.ts'], message: 'core must not depend on surfaces or the app' },
      ] }],
    },
  },
  {
    files: ['src/providers/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        ...noFramework,
        { group: ['**/core/**', '**/surfaces/**', '**/db/**'], message: 'providers never import core, surfaces or the database' },
      ] }],
    },
  },
  {
    files: ['src/surfaces/**/*.ts'],
    ignores: ['src/surfaces/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/core/*/*', '!**/core/*/index.ts', '!**/core/errors.ts'], message: 'surfaces import a core domain only through its index.ts' },
        { group: ['**/providers/**', '**/db/**', 'kysely', 'pg'], message: 'surfaces call core services; they do not touch the database or providers' },
      ] }],
    },
  },
)
